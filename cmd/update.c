/* calib update: close an iteration and write the next one's ensemble. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "lib/util.h"

static const char usage_text[] =
    "usage: calib update [-i iteration] [experiment]\n";

int
cmd_update(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "iteration", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct experiment	 e;
	struct update_report	 rep;
	const char		*arg;
	char			*cause = NULL, *end;
	long			 it = -1;
	int			 ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "hi:", longopts, NULL)) != -1)
		switch (ch) {
		case 'i':
			errno = 0;
			it = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || errno || it < 0)
				return usage(usage_text, 0);
			break;
		case 'h':
			return usage(usage_text, 1);
		default:
			return usage(usage_text, 0);
		}
	if ((arg = experiment_operand(argc, argv)) == NULL)
		return usage(usage_text, 0);
	if ((rc = open_experiment(arg, &e)) != EXIT_OK)
		return rc;
	if (update_experiment(&e, it, &rep, &cause) != 0) {
		error_cause(cause);
		experiment_release(&e);
		return EXIT_FAIL;
	}
	if (!rep.done && rep.iteration < it)
		printf("iteration %ld: the calibration stopped after iteration "
		    "%ld (%s); nothing to do\n", it, rep.iteration, rep.stop);
	else if (!rep.done)
		printf("iteration %ld: already updated; nothing to do\n",
		    rep.iteration);
	else if (rep.stop[0] != '\0')
		printf("iteration %ld: %zu of %zu members succeeded, misfit %.6g "
		    "(std %.3g); stopped: %s\n", rep.iteration, rep.n_ok, rep.n,
		    rep.misfit_mean, rep.misfit_std, rep.stop);
	else
		printf("iteration %ld: %zu of %zu members succeeded, misfit %.6g "
		    "(std %.3g); %s\n", rep.iteration, rep.n_ok, rep.n,
		    rep.misfit_mean, rep.misfit_std, rep.final ?
		    "the last iteration, nothing follows" :
		    "wrote the next iteration");
	experiment_release(&e);
	return finish_stdout(EXIT_OK);
}
