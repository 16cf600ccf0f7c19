/* calib report: figures and an HTML page of where a calibration stands. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "lib/report.h"
#include "lib/util.h"

static const char usage_text[] =
    "usage: calib report [-o directory] [experiment]\n";

int
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct experiment	 e;
	const char		*arg, *out = NULL;
	char			*dir, *index = NULL, *cause = NULL;
	int			 ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1)
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			return usage(usage_text, 1);
		default:
			return usage(usage_text, 0);
		}
	if ((arg = experiment_operand(argc, argv)) == NULL)
		return usage(usage_text, 0);
	if ((rc = open_initialised(arg, &e)) != EXIT_OK)
		return rc;
	dir = out ? xstrdup(out) : report_default_dir(&e);
	if (report_write(&e, dir, &index, &cause) != 0) {
		error_cause(cause);
		rc = EXIT_FAIL;
	} else {
		printf("%s\n", index);
		rc = finish_stdout(EXIT_OK);
	}
	free(index);
	free(dir);
	experiment_release(&e);
	return rc;
}
