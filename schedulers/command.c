/*
 * What the batch backends share: finding their commands and running them
 * without a shell, with errors that quote what the command said.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsio.h"
#include "lib/proc.h"
#include "lib/util.h"
#include "schedulers/scheduler.h"

/* Longest a scheduler command may take before it counts as hung, seconds. */
#define COMMAND_TIMEOUT	300

int
sched_on_path(const char *prog)
{
	const char	*path = getenv("PATH");
	char		*copy, *dir, *save, *f;
	int		 found = 0;

	if (path == NULL)
		return 0;
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir && !found;
	    dir = strtok_r(NULL, ":", &save)) {
		f = path_join(*dir ? dir : ".", prog);
		found = access(f, X_OK) == 0;
		free(f);
	}
	free(copy);
	return found;
}

/*
 * The last non-empty line of a command's output, for messages: what the
 * scheduler prints is escaped and cut, like any untrusted bytes.
 */
static char *
last_line(const char *s)
{
	const char	*end = s + strlen(s), *b;

	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	for (b = end; b > s && b[-1] != '\n'; b--)
		;
	return quote_bytes(b, end - b, 300);
}

int
sched_run(char *const argv[], int (*drop)(const char *), const int *accept,
    struct proc_result *r, char **cause)
{
	char	*cmd, *why;

	if (proc_run(argv, drop, COMMAND_TIMEOUT, r, cause) != 0)
		return -1;
	if (r->status == 0)
		return 0;
	for (; accept && *accept; accept++)
		if (r->status == *accept)
			return 0;
	cmd = proc_argv_string(argv);
	why = last_line(*r->err ? r->err : r->out);
	failf(cause, "'%s' failed (exit %d): %s", cmd, r->status, why);
	free(cmd);
	free(why);
	proc_result_release(r);
	return -1;
}

int
sched_unreachable(const char *cause, const char *const *phrases)
{
	if (cause == NULL)
		return 0;
	if (strstr(cause, "did not finish in") != NULL)
		return 1;
	for (; *phrases; phrases++)
		if (strstr(cause, *phrases) != NULL)
			return 1;
	return 0;
}

int
sched_failed_with(char **cause, const char *what)
{
	if (*cause == NULL || strstr(*cause, what) == NULL)
		return 0;
	free(*cause);
	*cause = NULL;
	return 1;
}

char *
sched_join(char *const *v, size_t n, const char *sep)
{
	struct buf	 b = BUF_INIT;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (i)
			buf_adds(&b, sep);
		buf_adds(&b, v[i]);
	}
	return buf_detach(&b);
}

void
sched_directive(struct buf *out, const char *prefix, const char *fmt, ...)
{
	va_list	 ap;
	char	*line;

	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	buf_addf(out, "%s %s\n", prefix, line);
	free(line);
}

void
sched_info_room(struct job_info **v, size_t n)
{
	/*
	 * Room for element n of an array whose room is 8, or the power of two
	 * at or above its length: doubling ahead, linear in the tasks.
	 */
	if (n == 0 || (n >= 8 && (n & (n - 1)) == 0))
		*v = xreallocarray(*v, n ? n * 2 : 8, sizeof **v);
}

void
sched_add_info(struct job_info **v, size_t *n, const char *id, long task,
    enum job_phase phase, const char *state)
{
	struct job_info	*x;

	sched_info_room(v, *n);
	x = &(*v)[(*n)++];
	x->id = xstrdup(id);
	x->task = task;
	x->phase = phase;
	snprintf(x->state, sizeof x->state, "%s", state);
}
