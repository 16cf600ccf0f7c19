/*
 * calib's core: the command table, global options and dispatch by exact
 * name.  It is built as calib-core.so, which calib's front (cmd/main.c)
 * loads for every command but the members it runs itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/amend.h"
#include "lib/buf.h"
#include "lib/driver.h"
#include "lib/fsio.h"
#include "lib/runlock.h"
#include "lib/util.h"

static const struct command {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*summary;
} commands[] = {
	{ "check", cmd_check, "find what would fail, before anything is "
	    "created or queued" },
	{ "init", cmd_init, "check an experiment and sample its prior ensemble" },
	{ "run", cmd_run, "drive the calibration to its end" },
	{ "exec", cmd_exec, "run one member's forward model" },
	{ "update", cmd_update, "perform the ensemble update of an iteration" },
	{ "status", cmd_status, "show members, misfit and estimates per "
	    "iteration" },
	{ "amend", cmd_amend, "take changes of the experiment file that "
	    "closed iterations allow" },
	{ "report", cmd_report, "draw the figures and page of where a "
	    "calibration stands" },
	{ "export", cmd_export, "write an iteration's estimate or a member "
	    "as a parameter file" },
	{ "cancel", cmd_cancel, "cancel every live batch job of an "
	    "experiment" },
	{ "backends", cmd_backends, "list the backends and whether they are "
	    "usable here" },
	{ NULL, NULL, NULL }
};

static const char main_usage[] =
    "usage: calib [--version] [-h] command [args ...]\n";

/*
 * The experiment file differs from its frozen copy: say which keys, and
 * whether calib amend can take them.
 */
static void
changed(const char *arg, const struct experiment *e)
{
	struct changes	 c;
	char		*frozen = path_join(e->output_dir, "experiment.yaml");
	char		*cause = NULL;
	size_t		 i;

	fprintf(stderr, "calib: warning: %s has changed since 'calib init'; "
	    "using the frozen copy in %s\n", arg, e->output_dir);
	if (changes_find(arg, frozen, &c, &cause) != 0) {
		free(cause);
		free(frozen);
		return;
	}
	for (i = 0; i < c.n; i++)
		fprintf(stderr, "calib:   %s: %s\n", c.v[i].key,
		    c.v[i].refused ? "'calib amend' cannot take it (only "
		    "'calib init --force', starting over)" :
		    "'calib amend' takes it");
	changes_release(&c);
	free(frozen);
}

int
open_experiment(const char *arg, struct experiment *e)
{
	char	*cause = NULL;
	int	 differs;

	if (experiment_open(arg, e, &differs, &cause) != 0) {
		error_cause(cause);
		return EXIT_USAGE;
	}
	if (differs)
		changed(arg, e);
	return EXIT_OK;
}

int
open_initialised(const char *arg, struct experiment *e)
{
	int	 rc;

	if ((rc = open_experiment(arg, e)) != EXIT_OK)
		return rc;
	if (!experiment_initialised(e)) {
		fprintf(stderr, "calib: %s: not initialised; run 'calib init'\n",
		    e->output_dir);
		experiment_release(e);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int
hand_lock(const struct experiment *e, long it, long m, const char *what,
    int job, int *lock)
{
	struct buf	 ids = BUF_INIT;
	const char	*backend, *id;
	char		*cause = NULL;
	long		 n;

	*lock = -1;
	/*
	 * Member scripts set CALIB_JOB_ID: those rendered before --job
	 * existed, still queued, are calib's jobs too.
	 */
	if (job || ((id = getenv("CALIB_JOB_ID")) != NULL && *id != '\0'))
		return EXIT_OK;
	if ((*lock = run_lock(e, "-", what, &cause)) < 0) {
		error_cause(cause);
		return EXIT_FAIL;
	}
	if ((n = driver_live(e, it, m, &backend, &ids, &cause)) == 0)
		return EXIT_OK;
	if (n > 0)
		failf(&cause, "%s: %ld jobs of backend '%s' for %s are still "
		    "queued or running (%s): let them end, or stop them with "
		    "'calib cancel'", e->output_dir, n, backend, m > 0 ?
		    "this member" : "this iteration", ids.s);
	buf_release(&ids);
	error_cause(cause);
	close(*lock);
	*lock = -1;
	return EXIT_FAIL;
}

static void
list_commands(FILE *fp)
{
	const struct command	*c;

	fputs(main_usage, fp);
	fputs("\ncommands:\n", fp);
	for (c = commands; c->name; c++)
		fprintf(fp, "   %-8s %s\n", c->name, c->summary);
	fputs("\n'calib help COMMAND' or 'calib COMMAND -h' shows a command's "
	    "usage; see calib(1).\n", fp);
}

static const struct command *
find(const char *name)
{
	const struct command	*c;

	for (c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* "unknown command 'stat' (did you mean 'status'?); see 'calib -h'" */
static int
unknown_command(const char *name)
{
	const struct command	*c, *best = NULL;
	size_t			 d, bestd = 3;

	for (c = commands; c->name; c++)
		if ((d = edit_distance(c->name, name)) < bestd) {
			bestd = d;
			best = c;
		}
	if (best)
		fprintf(stderr, "calib: unknown command '%s' (did you mean "
		    "'%s'?); see 'calib -h'\n", name, best->name);
	else
		fprintf(stderr, "calib: unknown command '%s'; see 'calib -h'\n",
		    name);
	return EXIT_USAGE;
}

int
calib_core_main(int argc, char **argv, const char *version)
{
	const struct command	*c;
	char			*hargv[] = { NULL, "-h", NULL };

	/* Another version's core: a partial install, say. */
	if (strcmp(version, CALIB_VERSION) != 0) {
		fprintf(stderr, "calib: the calib binary (%s) and its "
		    "calib-core.so (%s) are different versions; reinstall "
		    "calib\n", version, CALIB_VERSION);
		return EXIT_FAIL;
	}
	if (argc < 2) {
		list_commands(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("calib %s\n", CALIB_VERSION);
		return finish_stdout(EXIT_OK);
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		list_commands(stdout);
		return finish_stdout(EXIT_OK);
	}
	if (!strcmp(argv[1], "help")) {
		if (argc == 2) {
			list_commands(stdout);
			return finish_stdout(EXIT_OK);
		}
		if ((c = find(argv[2])) == NULL)
			return unknown_command(argv[2]);
		hargv[0] = argv[2];
		return c->fn(2, hargv);
	}
	if ((c = find(argv[1])) == NULL)
		return unknown_command(argv[1]);
	return c->fn(argc - 1, argv + 1);
}
