/* What the commands share to read their arguments and report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"

void
error_cause(char *cause)
{
	fprintf(stderr, "calib: %s\n", cause ? cause : "unknown error");
	free(cause);
}

int
usage(const char *text, int ok)
{
	fputs(text, ok ? stdout : stderr);
	return ok ? finish_stdout(EXIT_OK) : EXIT_USAGE;
}

int
finish_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "calib: cannot write to standard output: %s\n",
		    strerror(errno));
		return EXIT_FAIL;
	}
	return status;
}

const char *
experiment_operand(int argc, char **argv)
{
	extern int	 optind;

	if (argc - optind > 1)
		return NULL;
	return argc - optind == 1 ? argv[optind] : "calib.yaml";
}

void
print_tail(const char *what, char *tail)
{
	char	*line, *save;

	if (tail == NULL)
		return;
	fprintf(stderr, "calib: the end of %s:\n", what);
	for (line = strtok_r(tail, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "  %s\n", line);
}

int
cmd_number(const char *s, long *out)
{
	char	*end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return *s == '\0' || *end != '\0' || errno || *out < 0 ? -1 : 0;
}
