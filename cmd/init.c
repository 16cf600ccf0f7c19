/* calib init: check an experiment, sample the prior, write member files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/buf.h"
#include "lib/check.h"
#include "lib/driver.h"
#include "lib/fsio.h"
#include "lib/runlock.h"
#include "lib/util.h"

static const char usage_text[] =
    "usage: calib init [--force] [experiment]\n";

/*
 * Initialise under the experiment's lock: never beside a calib run, and
 * --force never under jobs still queued or running.
 */
static int
take_and_init(struct experiment *e, int force, char **cause)
{
	struct buf	 ids = BUF_INIT;
	const char	*backend;
	long		 n = 0;
	int		 lock, rc = EXIT_FAIL;

	if ((lock = run_lock(e, "-", force ? "calib init --force" :
	    "calib init", cause)) < 0)
		return EXIT_FAIL;
	if (force && experiment_initialised(e) &&
	    (n = driver_live(e, -1, -1, &backend, &ids, cause)) < 0)
		;
	else if (n > 0)
		failf(cause, "%s: %ld jobs of backend '%s' are still queued or "
		    "running (%s): stop them with 'calib cancel' before "
		    "starting over", e->output_dir, n, backend, ids.s);
	else
		rc = init_experiment(e, force, cause);
	buf_release(&ids);
	close(lock);
	return rc;
}

int
cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct experiment	 e;
	const char		*arg;
	char			*cause = NULL, *src = NULL, *nl, *warning = NULL;
	int			 ch, force = 0, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "fh", longopts, NULL)) != -1)
		switch (ch) {
		case 'f':
			force = 1;
			break;
		case 'h':
			return usage(usage_text, 1);
		default:
			return usage(usage_text, 0);
		}
	if ((arg = experiment_operand(argc, argv)) == NULL)
		return usage(usage_text, 0);
	if (is_dir(arg)) {
		/* An output directory: start over from the file it came from. */
		char *f = path_join(arg, "source");

		rc = read_file(f, &src, NULL, &cause);
		free(f);
		if (rc != 0) {
			error_cause(cause);
			return EXIT_USAGE;
		}
		if ((nl = strchr(src, '\n')) != NULL)
			*nl = '\0';
		arg = src;
	}
	if (config_load(arg, NULL, NULL, &e, &cause) != 0 ||
	    check_model(&e, NULL, &warning, &cause) != 0) {
		error_cause(cause);
		if (e.file != NULL)
			experiment_release(&e);
		free(src);
		return EXIT_USAGE;
	}
	if (warning != NULL) {
		fprintf(stderr, "calib: warning: %s\n", warning);
		free(warning);
	}
	rc = take_and_init(&e, force, &cause);
	if (rc != EXIT_OK)
		error_cause(cause);
	else
		printf("initialised %s: %ld members, %zu calibrated values, "
		    "%ld iterations\n", e.output_dir, e.ensemble_size, e.ncalib,
		    e.iterations);
	experiment_release(&e);
	free(src);
	return finish_stdout(rc);
}
