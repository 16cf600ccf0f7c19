/* calib cancel: cancel every live job of an experiment. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "lib/driver.h"

static const char usage_text[] = "usage: calib cancel [experiment]\n";

int
cmd_cancel(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct experiment	 e;
	const char		*arg;
	char			*cause = NULL;
	size_t			 n;
	long			 stopped;
	int			 ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		switch (ch) {
		case 'h':
			return usage(usage_text, 1);
		default:
			return usage(usage_text, 0);
		}
	if ((arg = experiment_operand(argc, argv)) == NULL)
		return usage(usage_text, 0);
	if ((rc = open_experiment(arg, &e)) != EXIT_OK)
		return rc;
	if (!experiment_initialised(&e)) {
		fprintf(stderr, "calib: %s: not initialised: there are no "
		    "jobs\n", e.output_dir);
		experiment_release(&e);
		return EXIT_FAIL;
	}
	if (driver_cancel(&e, &n, &stopped, &cause) != 0) {
		error_cause(cause);
		rc = EXIT_FAIL;
	} else {
		if (n == 0)
			printf("no live jobs\n");
		else
			printf("cancelled %zu job%s\n", n, n == 1 ? "" : "s");
		if (stopped)
			printf("stopped calib run (pid %ld)\n", stopped);
	}
	experiment_release(&e);
	return finish_stdout(rc);
}
