/* calib update: close an iteration and write the next one's ensemble. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/driver.h"
#include "lib/util.h"

static const char usage_text[] =
    "usage: calib update [--job] [-i iteration] [experiment]\n";

/*
 * Hold what closing iteration *it needs: the experiment's lock when run by
 * hand, and no member still running.
 */
static int
take_iteration(const struct experiment *e, long *it, int job, int *lock)
{
	char	*what;
	long	 m;
	int	 rc;

	if (*it < 0)
		*it = newest_iteration(e);
	what = xasprintf("calib update -i %ld", *it);
	rc = hand_lock(e, *it, -1, what, job, lock);
	free(what);
	if (rc != EXIT_OK || *it < 0 || iteration_closed(e, *it) ||
	    (m = member_running(e, *it)) == 0)
		return rc;
	fprintf(stderr, "calib: iteration %ld: member %ld is still running "
	    "(its calib exec holds it): the iteration cannot be closed "
	    "before its members end\n", *it, m);
	if (*lock != -1)
		close(*lock);
	*lock = -1;
	return EXIT_FAIL;
}

int
cmd_update(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "iteration", required_argument, NULL, 'i' },
		{ "job", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct experiment	 e;
	struct update_report	 rep;
	const char		*arg;
	char			*cause = NULL, *end;
	long			 it = -1;
	int			 ch, rc, lock, job = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "hi:", longopts, NULL)) != -1)
		switch (ch) {
		case 'i':
			errno = 0;
			it = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || errno || it < 0)
				return usage(usage_text, 0);
			break;
		case 'J':
			job = 1;
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
	if ((rc = take_iteration(&e, &it, job, &lock)) != EXIT_OK) {
		experiment_release(&e);
		return rc;
	}
	rc = update_experiment(&e, it, &rep, &cause);
	if (lock != -1)
		close(lock);
	if (rc != 0) {
		error_cause(cause);
		experiment_release(&e);
		return EXIT_FAIL;
	}
	if (rep.n_unreadable > 0)
		fprintf(stderr, "calib: warning: iteration %ld: %zu of the "
		    "members whose status says ok counted as failed; %s\n",
		    rep.iteration, rep.n_unreadable, rep.unreadable);
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
