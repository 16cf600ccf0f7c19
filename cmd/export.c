/* calib export: an iteration's estimate, or one member, as a parameter file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lib/export.h"
#include "lib/fsio.h"
#include "lib/util.h"

static const char usage_text[] =
    "usage: calib export [-i iteration] [--mean | -m member] [-f format] "
    "[-o file] [experiment]\n";

/* The parameter-file formats, in enum param_format's order. */
static int
format_of(const char *s)
{
	static const char *const names[] = { "toml", "json", "yaml", "env",
	    "template", NULL };
	int	 i;

	for (i = 0; names[i]; i++)
		if (!strcmp(s, names[i]))
			return i;
	fprintf(stderr, "calib: unknown format '%s' (toml, json, yaml, env or "
	    "template)\n", s);
	return -1;
}

/* Write text to stdout, or to file in one atomic step. */
static int
put(const char *file, const char *text)
{
	char	*cause = NULL;

	if (file == NULL) {
		fputs(text, stdout);
		return finish_stdout(EXIT_OK);
	}
	if (write_file_atomic(file, text, strlen(text), &cause) != 0) {
		error_cause(cause);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int
cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "iteration", required_argument, NULL, 'i' },
		{ "mean", no_argument, NULL, 'M' },
		{ "member", required_argument, NULL, 'm' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct export_opts	 o = { -1, 0, -1 };
	struct experiment	 e;
	const char		*arg, *file = NULL;
	char			*cause = NULL, *text = NULL;
	int			 ch, rc, mean = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "f:hi:m:o:", longopts,
	    NULL)) != -1)
		switch (ch) {
		case 'i':
			if (cmd_number(optarg, &o.iteration) != 0)
				return usage(usage_text, 0);
			break;
		case 'M':
			mean = 1;
			break;
		case 'm':
			if (cmd_number(optarg, &o.member) != 0 || o.member < 1)
				return usage(usage_text, 0);
			break;
		case 'f':
			if ((o.format = format_of(optarg)) < 0)
				return EXIT_USAGE;
			break;
		case 'o':
			file = optarg;
			break;
		case 'h':
			return usage(usage_text, 1);
		default:
			return usage(usage_text, 0);
		}
	if ((mean && o.member > 0) ||
	    (arg = experiment_operand(argc, argv)) == NULL)
		return usage(usage_text, 0);
	if ((rc = open_experiment(arg, &e)) != EXIT_OK)
		return rc;
	if (!experiment_initialised(&e)) {
		fprintf(stderr, "calib: %s: not initialised\n", e.output_dir);
		rc = EXIT_FAIL;
	} else if (paramfile_export(&e, &o, &text, &cause) != 0) {
		error_cause(cause);
		rc = EXIT_FAIL;
	} else
		rc = put(file, text);
	free(text);
	experiment_release(&e);
	return rc;
}
