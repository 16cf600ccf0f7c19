/* calib exec: run one member's forward model and record how it ended. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/forward.h"
#include "lib/fsio.h"
#include "lib/util.h"
#include "lib/vecio.h"

static const char usage_text[] =
    "usage: calib exec [-f] [--job] -i iteration [-m member] [experiment]\n";

/*
 * A job of a detached chain that comes after an early stop finds its
 * iteration missing: say so and succeed, so that the chain drains.
 */
static int
stopped_before(const struct experiment *e, long it)
{
	long	 last;
	char	*why;

	if (iteration_exists(e, it) || (last = newest_iteration(e)) < 0 ||
	    last >= it || !iteration_final(e, last, &why))
		return 0;
	printf("calib exec: the calibration stopped after iteration %ld (%s); "
	    "iteration %ld will not run\n", last, why, it);
	free(why);
	return 1;
}

/* Why member m failed, with the end of its model.log. */
static void
failed(const struct experiment *e, long it, long m,
    const struct member_status *st)
{
	char	*dir = member_dir(e, it, m), *log = path_join(dir, "model.log");
	char	*tail = file_tail(log, 3);

	fprintf(stderr, "calib: iteration %ld member %ld failed: %s\n", it, m,
	    st->reason);
	print_tail(log, tail);
	free(tail);
	free(log);
	free(dir);
}

struct exec_args {
	long		 it, m;
	int		 force, job, help;
	const char	*experiment;
};

/* 0 when argv is right, -1 when it is not (said on stderr unless quiet). */
static int
parse_args(int argc, char **argv, struct exec_args *a, int quiet)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "job", no_argument, NULL, 'J' },
		{ "iteration", required_argument, NULL, 'i' },
		{ "member", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch;

	memset(a, 0, sizeof *a);
	a->it = a->m = -1;
	/*
	 * 0, not 1: glibc's full reset, since the front may have parsed argv
	 * before the core does, and stopped inside a cluster of options.
	 */
	optind = 0;
	opterr = !quiet;
	while ((ch = getopt_long(argc, argv, "fhi:m:", longopts, NULL)) != -1)
		switch (ch) {
		case 'f':
			a->force = 1;
			break;
		case 'J':
			a->job = 1;
			break;
		case 'i':
			if (cmd_number(optarg, &a->it) != 0)
				return -1;
			break;
		case 'm':
			if (cmd_number(optarg, &a->m) != 0 || a->m < 1)
				return -1;
			break;
		case 'h':
			a->help = 1;
			return 0;
		default:
			return -1;
		}
	if (a->it < 0 || (a->experiment = experiment_operand(argc, argv)) == NULL)
		return -1;
	return 0;
}

/* Run member m of iteration it (d observations): the exit status. */
static int
run_member(const struct experiment *e, long it, long m, size_t d, int force)
{
	struct member_status	 st;
	char			*cause = NULL;
	int			 rc;

	/*
	 * A member that succeeded is not run again (a job requeued after a
	 * node failure, a member run by hand meanwhile) unless asked to.
	 */
	if ((rc = forward_run(e, it, m, d, force, &st, &cause)) == 1) {
		printf("calib exec: iteration %ld member %ld already succeeded "
		    "(attempt %d%s%s); not running it again (-f runs it "
		    "anyway)\n", it, m, st.attempt, st.job[0] ? ", job " : "",
		    st.job);
		return EXIT_OK;
	}
	if (rc != 0) {
		error_cause(cause);
		return EXIT_FAIL;
	}
	if (!st.success) {
		failed(e, it, m, &st);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/*
 * calib's jobs run members through the front, which loads neither HDF5 nor
 * BLAS (cmd/main.c): what that takes is known here beforehand.  Anything
 * else (run by hand, an experiment file changed, an iteration missing, an
 * HDF5 output, observations not counted in observations.count, a usage
 * error) goes to the core's cmd_exec, before anything is done.
 */
int
exec_light(int argc, char **argv)
{
	struct exec_args	 a;
	struct experiment	 e;
	const char		*id = getenv("CALIB_JOB_ID");
	char			*cause = NULL;
	size_t			 d;
	int			 rc = -1, differs;

	if (parse_args(argc, argv, &a, 1) != 0 || a.help ||
	    (!a.job && (id == NULL || *id == '\0')))
		return -1;
	if (a.m < 0 && (member_from_env(&a.m, &cause) != 0 || a.m < 1)) {
		free(cause);
		return -1;
	}
	if (experiment_open(a.experiment, &e, &differs, &cause) != 0) {
		free(cause);
		return -1;
	}
	if (!differs && iteration_exists(&e, a.it) &&
	    e.output.format != VF_HDF5 &&
	    observations_count_known(&e, &d))
		rc = run_member(&e, a.it, a.m, d, a.force);
	experiment_release(&e);
	return rc;
}

int
cmd_exec(int argc, char **argv)
{
	struct exec_args	 a;
	struct experiment	 e;
	char			*cause = NULL, *what;
	size_t			 d;
	int			 rc, lock;

	if (parse_args(argc, argv, &a, 0) != 0)
		return usage(usage_text, 0);
	if (a.help)
		return usage(usage_text, 1);
	/* In an array job, the member comes from the task index. */
	if (a.m < 0 && (member_from_env(&a.m, &cause) != 0 || a.m < 1)) {
		if (cause == NULL)
			cause = xasprintf("array index gives member %ld", a.m);
		error_cause(cause);
		return EXIT_USAGE;
	}
	if ((rc = open_experiment(a.experiment, &e)) != EXIT_OK)
		return rc;
	if (stopped_before(&e, a.it)) {
		experiment_release(&e);
		return EXIT_OK;
	}
	what = xasprintf("calib exec -i %ld -m %ld", a.it, a.m);
	rc = hand_lock(&e, a.it, a.m, what, a.job, &lock);
	free(what);
	if (rc != EXIT_OK) {
		experiment_release(&e);
		return rc;
	}
	/* Not initialised: forward_run says which iteration is missing. */
	d = 0;
	if (experiment_initialised(&e) &&
	    observations_count(&e, &d, &cause) != 0) {
		error_cause(cause);
		rc = EXIT_FAIL;
	} else
		rc = run_member(&e, a.it, a.m, d, a.force);
	if (lock != -1)
		close(lock);
	experiment_release(&e);
	return rc;
}
