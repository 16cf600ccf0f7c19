/* calib amend: take into an experiment the changes that closed iterations allow. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/amend.h"
#include "lib/check.h"
#include "lib/fsio.h"
#include "lib/runlock.h"
#include "lib/util.h"

static const char usage_text[] = "usage: calib amend [-n] [experiment]\n";

static void
show(const struct change *c, FILE *fp)
{
	fprintf(fp, "  %s: %s -> %s", c->key, c->old ? c->old : "(none)",
	    c->new ? c->new : "(none)");
	if (c->refused)
		fprintf(fp, ": refused: %s", c->refused);
	fprintf(fp, "\n");
}

/*
 * What the state of the output directory says of a new iterations: not
 * below an iteration that exists, and not past a data_misfit stop.
 */
static int
iterations_ok(const struct experiment *e, char **cause)
{
	char	*why = NULL;
	long	 last;

	/* newest_iteration stops at e->iterations: look past it. */
	for (last = e->iterations; iteration_exists(e, last + 1); last++)
		;
	if (last > e->iterations)
		return failf(cause, "iterations: iteration %ld exists already; "
		    "iterations may not go below it", last);
	last = newest_iteration(e);
	if (last >= 0 && last < e->iterations && iteration_final(e, last,
	    &why)) {
		failf(cause, "iterations: the calibration stopped after "
		    "iteration %ld: %s; its data_misfit controller has "
		    "finished, and more iterations would not move the "
		    "ensemble (to go further, start a new experiment from "
		    "'calib export' of this one)", last, why);
		free(why);
		return -1;
	}
	return 0;
}

/* Print the changes; 0 when every one is allowed. */
static int
review(const struct experiment *e, const struct changes *c, char **cause)
{
	size_t	 i;
	int	 its = 0;

	for (i = 0; i < c->n; i++) {
		show(&c->v[i], c->v[i].refused ? stderr : stdout);
		its |= !strcmp(c->v[i].key, "iterations");
	}
	if (c->refused > 0)
		return failf(cause, "%s: %zu of the changes would change the "
		    "meaning of closed iterations; nothing was changed ('calib "
		    "init --force' starts over)", e->file, c->refused);
	if (its && e->alg.method == METHOD_ESMDA)
		return failf(cause, "iterations: esmda's inflation weights "
		    "are set for the number of iterations (their inverses sum "
		    "to 1): closed iterations used the old ones; nothing was "
		    "changed");
	return its ? iterations_ok(e, cause) : 0;
}

/*
 * Under the lock, what a detached chain may have done since the review:
 * an iteration past the new last one.
 */
static int
review_locked(const struct experiment *e, const struct changes *c,
    char **cause)
{
	size_t	 i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].key, "iterations") &&
		    iterations_ok(e, cause) != 0)
			return EXIT_USAGE;
	return EXIT_OK;
}

static int
amend(struct experiment *e, const char *arg, int dry)
{
	struct changes	 c;
	char		*cause = NULL, *frozen, *warning = NULL;
	int		 lock = -1, rc = EXIT_USAGE;

	frozen = path_join(e->output_dir, "experiment.yaml");
	if (changes_find(arg, frozen, &c, &cause) != 0)
		goto out;
	if (c.n == 0) {
		printf("%s: nothing to amend\n", arg);
		rc = EXIT_OK;
		goto out;
	}
	if (review(e, &c, &cause) != 0 ||
	    check_model(e, NULL, &warning, &cause) != 0)
		goto out;
	if (warning)
		fprintf(stderr, "calib: warning: %s\n", warning);
	if (dry) {
		printf("%s: would take %zu changes (-n: nothing changed)\n",
		    e->output_dir, c.n);
		rc = EXIT_OK;
		goto out;
	}
	rc = EXIT_FAIL;
	if ((lock = run_lock(e, "-", "calib amend", &cause)) < 0)
		goto out;
	if ((rc = review_locked(e, &c, &cause)) != EXIT_OK)
		goto out;
	rc = EXIT_FAIL;
	if (amend_apply(e, arg, &c, &cause) == 0) {
		printf("%s: took %zu changes, recorded in amendments; 'calib "
		    "run' goes on with them\n", e->output_dir, c.n);
		rc = EXIT_OK;
	}
out:
	if (cause)
		error_cause(cause);
	if (lock >= 0)
		close(lock);
	free(warning);
	free(frozen);
	changes_release(&c);
	return rc;
}

int
cmd_amend(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct experiment	 e;
	const char		*arg;
	char			*cause = NULL;
	int			 ch, rc, dry = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "hn", longopts, NULL)) != -1)
		switch (ch) {
		case 'n':
			dry = 1;
			break;
		case 'h':
			return usage(usage_text, 1);
		default:
			return usage(usage_text, 0);
		}
	if ((arg = experiment_operand(argc, argv)) == NULL)
		return usage(usage_text, 0);
	if (is_dir(arg)) {
		fprintf(stderr, "calib: %s: give the experiment file you "
		    "changed, not its output directory\n", arg);
		return EXIT_USAGE;
	}
	/* The new file must be valid as a whole. */
	if (config_load(arg, NULL, NULL, &e, &cause) != 0) {
		error_cause(cause);
		return EXIT_USAGE;
	}
	if (!experiment_initialised(&e)) {
		fprintf(stderr, "calib: %s: not initialised; 'calib init' takes "
		    "the file as it is\n", e.output_dir);
		rc = EXIT_FAIL;
	} else
		rc = amend(&e, arg, dry);
	experiment_release(&e);
	return finish_stdout(rc);
}
