/* calib check: find what would fail before anything is created or queued. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/check.h"
#include "lib/fsio.h"
#include "lib/util.h"

static const char usage_text[] =
    "usage: calib check [-b backend] [--smoke] [experiment]\n";

/* The smoke run: one member at the prior's centre, as calib exec runs it. */
static int
smoke(const struct experiment *e)
{
	struct member_status	 st;
	char			*cause = NULL, *log = NULL;

	if (check_smoke(e, &st, &log, &cause) != 0) {
		error_cause(cause);
		return EXIT_USAGE;
	}
	if (st.success) {
		printf("smoke run: a member at the prior's centre ran in %.1f s "
		    "and its output passed the checks\n", st.end - st.start);
		free(log);
		return EXIT_OK;
	}
	fprintf(stderr, "calib: smoke run: a member at the prior's centre "
	    "failed: %s\n", st.reason);
	print_tail("its model.log", log);
	free(log);
	return EXIT_USAGE;
}

/* Everything but the smoke run; prints what failed, returns the status. */
static int
checks(struct experiment *e, const struct scheduler *sc, const char *self)
{
	char	*cause = NULL, *warning = NULL;
	int	 rc;

	if ((rc = init_check(e, &cause)) != EXIT_OK) {
		error_cause(cause);
		return rc;
	}
	printf("the experiment, its observations, noise and prior are valid\n");
	if (check_model(e, sc, &warning, &cause) != 0) {
		error_cause(cause);
		return EXIT_USAGE;
	}
	if (warning != NULL) {
		fprintf(stderr, "calib: warning: %s\n", warning);
		free(warning);
	} else
		printf("the model's program is found and executable\n");
	if (check_scripts(e, sc, e->backend.calib ? e->backend.calib : self,
	    &cause) != 0) {
		error_cause(cause);
		return EXIT_USAGE;
	}
	if (sched_has(sc, SCHED_SCRIPTS))
		printf("the %s job scripts render\n", sc->name);
	if (sched_available(sc, &cause) != 0) {
		error_cause(cause);
		return EXIT_USAGE;
	}
	printf("backend '%s' is usable here\n", sc->name);
	return EXIT_OK;
}

int
cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "smoke", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct scheduler	*sc = &sched_local;
	struct experiment	 e;
	const char		*arg;
	char			*cause = NULL, self[PATH_MAX];
	ssize_t			 len;
	int			 ch, rc, run_smoke = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "b:h", longopts, NULL)) != -1)
		switch (ch) {
		case 'b':
			if ((sc = scheduler_find(optarg)) == NULL)
				return unknown_backend(optarg);
			break;
		case 's':
			run_smoke = 1;
			break;
		case 'h':
			return usage(usage_text, 1);
		default:
			return usage(usage_text, 0);
		}
	if ((arg = experiment_operand(argc, argv)) == NULL)
		return usage(usage_text, 0);
	if ((len = readlink("/proc/self/exe", self, sizeof self - 1)) < 0)
		len = 0;
	self[len] = '\0';
	/* The experiment file as it is now, not an output folder's copy. */
	if (config_load(arg, NULL, NULL, &e, &cause) != 0) {
		error_cause(cause);
		return EXIT_USAGE;
	}
	rc = checks(&e, sc, self);
	if (rc == EXIT_OK && run_smoke)
		rc = smoke(&e);
	if (rc == EXIT_OK)
		printf("%s: ok; nothing was written\n", arg);
	experiment_release(&e);
	return finish_stdout(rc);
}
