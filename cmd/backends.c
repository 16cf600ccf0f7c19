/* calib backends: list every backend and whether it is usable here. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "schedulers/scheduler.h"

static const char usage_text[] = "usage: calib backends\n";

int
cmd_backends(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char	*cause;
	size_t	 i;
	int	 ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		switch (ch) {
		case 'h':
			return usage(usage_text, 1);
		default:
			return usage(usage_text, 0);
		}
	if (optind != argc)
		return usage(usage_text, 0);
	for (i = 0; schedulers[i]; i++) {
		cause = NULL;
		if (sched_available(schedulers[i], &cause) == 0)
			printf("%-8s usable       %s\n", schedulers[i]->name,
			    schedulers[i]->summary);
		else {
			printf("%-8s not usable   %s\n", schedulers[i]->name,
			    schedulers[i]->summary);
			printf("%-8s              %s\n", "", cause ? cause :
			    "unknown reason");
		}
		free(cause);
	}
	return finish_stdout(EXIT_OK);
}
