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

int
cmd_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "job", no_argument, NULL, 'J' },
		{ "iteration", required_argument, NULL, 'i' },
		{ "member", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct experiment	 e;
	struct member_status	 st;
	const char		*arg;
	char			*cause = NULL, *what;
	long			 it = -1, m = -1;
	int			 ch, rc, force = 0, job = 0, lock;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "fhi:m:", longopts, NULL)) != -1)
		switch (ch) {
		case 'f':
			force = 1;
			break;
		case 'J':
			job = 1;
			break;
		case 'i':
			if (cmd_number(optarg, &it) != 0)
				return usage(usage_text, 0);
			break;
		case 'm':
			if (cmd_number(optarg, &m) != 0 || m < 1)
				return usage(usage_text, 0);
			break;
		case 'h':
			return usage(usage_text, 1);
		default:
			return usage(usage_text, 0);
		}
	if (it < 0 || (arg = experiment_operand(argc, argv)) == NULL)
		return usage(usage_text, 0);
	/* In an array job, the member comes from the task index. */
	if (m < 0 && (member_from_env(&m, &cause) != 0 || m < 1)) {
		if (cause == NULL)
			cause = xasprintf("array index gives member %ld", m);
		error_cause(cause);
		return EXIT_USAGE;
	}
	if ((rc = open_experiment(arg, &e)) != EXIT_OK)
		return rc;
	if (stopped_before(&e, it)) {
		experiment_release(&e);
		return EXIT_OK;
	}
	what = xasprintf("calib exec -i %ld -m %ld", it, m);
	rc = hand_lock(&e, it, m, what, job, &lock);
	free(what);
	if (rc != EXIT_OK) {
		experiment_release(&e);
		return rc;
	}
	/*
	 * A member that succeeded is not run again (a job requeued after a
	 * node failure, a member run by hand meanwhile) unless asked to.
	 */
	if ((rc = forward_run(&e, it, m, force, &st, &cause)) == 1) {
		printf("calib exec: iteration %ld member %ld already succeeded "
		    "(attempt %d%s%s); not running it again (-f runs it "
		    "anyway)\n", it, m, st.attempt, st.job[0] ? ", job " : "",
		    st.job);
		rc = EXIT_OK;
	} else if (rc != 0) {
		error_cause(cause);
		rc = EXIT_FAIL;
	} else if (!st.success) {
		failed(&e, it, m, &st);
		rc = EXIT_FAIL;
	}
	if (lock != -1)
		close(lock);
	experiment_release(&e);
	return rc;
}
