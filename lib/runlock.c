/* The run lock and its owner (see runlock.h). */
#include <sys/file.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsio.h"
#include "lib/runlock.h"
#include "lib/util.h"

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks. */
static unsigned long long
process_start(long pid)
{
	char			 path[64], *buf, *p;
	unsigned long long	 t = 0;
	int			 i;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if (read_file(path, &buf, NULL, NULL) != 0)
		return 0;
	/* The command name may hold blanks and ')': skip past the last. */
	if ((p = strrchr(buf, ')')) != NULL) {
		for (i = 2; i < 22 && p; i++)
			p = strchr(p + 1, ' ');
		if (p)
			t = strtoull(p + 1, NULL, 10);
	}
	free(buf);
	return t;
}

int
run_owner_read(const struct experiment *e, struct run_owner *o)
{
	char	*path = path_join(e->output_dir, ".run.owner"), *buf, host[256];
	char	*line, *save, *eq;

	memset(o, 0, sizeof *o);
	if (!is_file(path) || read_file(path, &buf, NULL, NULL) != 0) {
		free(path);
		return 0;
	}
	free(path);
	for (line = strtok_r(buf, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq++ = '\0';
		if (!strcmp(line, "pid"))
			o->pid = strtol(eq, NULL, 10);
		else if (!strcmp(line, "host"))
			snprintf(o->host, sizeof o->host, "%s", eq);
		else if (!strcmp(line, "start"))
			o->start = strtoull(eq, NULL, 10);
		else if (!strcmp(line, "since"))
			o->since = atof(eq);
		else if (!strcmp(line, "backend"))
			snprintf(o->backend, sizeof o->backend, "%s", eq);
		else if (!strcmp(line, "command"))
			snprintf(o->command, sizeof o->command, "%s", eq);
	}
	free(buf);
	memset(host, 0, sizeof host);
	gethostname(host, sizeof host - 1);
	/* Alive: same host, and the pid is still the process that wrote it. */
	return o->pid > 0 && !strcmp(o->host, host) && o->start != 0 &&
	    process_start(o->pid) == o->start;
}

int
run_owner_write(const struct experiment *e, const char *backend,
    const char *command, char **cause)
{
	char	*path = path_join(e->output_dir, ".run.owner"), *text, host[256];
	int	 rc;

	memset(host, 0, sizeof host);
	gethostname(host, sizeof host - 1);
	text = xasprintf("pid=%ld\nhost=%s\nstart=%llu\nsince=%.3f\n"
	    "backend=%s\ncommand=%s\n", (long)getpid(), host,
	    process_start((long)getpid()), now(), backend, command);
	rc = write_file_atomic(path, text, strlen(text), cause);
	free(text);
	free(path);
	return rc;
}

/* A temporary file this much older is left from a writer that died. */
#define STALE_AGE	600.0

/* How long run_owner_stop waits for a driver to stop, seconds. */
#define STOP_PATIENCE	60.0

int
run_owner_stop(const struct experiment *e, long pid, char **cause)
{
	struct run_owner	 o;
	struct timespec		 ts = { 0, 50 * 1000 * 1000 };
	double			 deadline = now() + STOP_PATIENCE;

	if (kill((pid_t)pid, SIGTERM) == -1 && errno != ESRCH)
		return failf(cause, "cannot stop calib run (pid %ld): %s", pid,
		    strerror(errno));
	while (run_owner_read(e, &o) && o.pid == pid) {
		if (now() > deadline)
			return failf(cause, "calib run (pid %ld) has not "
			    "stopped after %.0f s", pid, STOP_PATIENCE);
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* "another 'calib run' (pid 123 on node1 since ...)" */
static int
held(const struct experiment *e, char **cause)
{
	struct run_owner	 o;
	char			 t[32];

	if (!run_owner_read(e, &o))
		return failf(cause, "%s: another 'calib run' is driving this "
		    "experiment", e->output_dir);
	fmt_time(t, o.since);
	return failf(cause, "%s: another 'calib run' is driving this "
	    "experiment (%s, pid %ld on %s since %s)", e->output_dir,
	    o.command, o.pid, o.host, t);
}

int
run_lock(const struct experiment *e, char **cause)
{
	char	*path = path_join(e->output_dir, ".run.lock");
	int	 fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd == -1) {
		failf(cause, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			held(e, cause);
		else
			failf(cause, "%s: cannot lock (%s): the filesystem may "
			    "not support flock", path, strerror(errno));
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	/*
	 * The experiment is ours: sweep what writers killed mid-file left
	 * (output_dir, iteration and member folders).  Only files older
	 * than STALE_AGE: a job of a detached chain may be writing one now.
	 */
	sweep_temps(e->output_dir, 2, STALE_AGE);
	return fd;
}
