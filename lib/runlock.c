/* The run lock and its owner (see runlock.h). */
#include <sys/file.h>
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
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

/*
 * The lock file sits beside the output folder, not in it: calib init
 * replaces the folder as a whole, and a fresh experiment has none yet.
 */
char *
run_lock_path(const struct experiment *e)
{
	char	*dir = path_dir(e->output_dir), *name, *p;
	const char *base = strrchr(e->output_dir, '/');

	name = xasprintf(".%s.lock", base ? base + 1 : e->output_dir);
	p = path_join(dir, name);
	free(name);
	free(dir);
	return p;
}

int
run_owner_read(const struct experiment *e, struct run_owner *o)
{
	char	*path = run_lock_path(e), *buf, host[256];
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

/*
 * The holder's record fills a fixed size, in one write: a reader sees the
 * old record or the new one, never a longer old one's tail.  (The lock
 * file is never renamed: its inode is the lock.)
 */
#define OWNER_SIZE	1024

int
run_owner_write(const struct experiment *e, const char *backend,
    const char *command, char **cause)
{
	char	*path = run_lock_path(e), *text, rec[OWNER_SIZE], host[256];
	int	 fd, rc = 0;
	size_t	 n;

	memset(host, 0, sizeof host);
	gethostname(host, sizeof host - 1);
	text = xasprintf("pid=%ld\nhost=%s\nstart=%llu\nsince=%.3f\n"
	    "backend=%s\ncommand=%s\n", (long)getpid(), host,
	    process_start((long)getpid()), now(), backend, command);
	memset(rec, '\n', sizeof rec);
	n = strlen(text) < sizeof rec ? strlen(text) : sizeof rec;
	memcpy(rec, text, n);
	free(text);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1 ||
	    pwrite(fd, rec, sizeof rec, 0) != (ssize_t)sizeof rec)
		rc = failf(cause, "%s: %s", path, strerror(errno));
	else if (ftruncate(fd, sizeof rec) == -1)
		rc = failf(cause, "%s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
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

/* "another calib command holds ... (calib run -b slurm, pid 123 ...)" */
static int
held(const struct experiment *e, char **cause)
{
	struct run_owner	 o;
	struct timespec		 ts = { 0, 20 * 1000 * 1000 };
	double			 deadline = now() + 1.0;
	char			 t[32], here[256];
	int			 alive;

	memset(here, 0, sizeof here);
	gethostname(here, sizeof here - 1);
	/*
	 * The holder writes who it is just after it takes the lock; one on
	 * another host cannot be told alive from here, but is named anyway.
	 */
	while (!(alive = run_owner_read(e, &o)) && now() < deadline) {
		if (o.pid > 0 && strcmp(o.host, here) != 0)
			break;
		nanosleep(&ts, NULL);
	}
	if (!alive && (o.pid <= 0 || strcmp(o.host, here) == 0))
		return failf(cause, "%s: another calib command is using this "
		    "experiment", e->output_dir);
	fmt_time(t, o.since);
	return failf(cause, "%s: another calib command is using this "
	    "experiment: '%s' (pid %ld on %s since %s)", e->output_dir,
	    o.command, o.pid, o.host, t);
}

/* The mount that holds path, and its type, from /proc/self/mounts. */
static void
mount_of(const char *path, char *mnt, size_t mlen, char *type, size_t tlen)
{
	struct mntent	*m;
	FILE		*f;
	size_t		 best = 0, k;
	char		*real = realpath(path, NULL);

	snprintf(mnt, mlen, "?");
	snprintf(type, tlen, "?");
	if (real == NULL || (f = setmntent("/proc/self/mounts", "r")) == NULL) {
		free(real);
		return;
	}
	while ((m = getmntent(f)) != NULL) {
		k = strlen(m->mnt_dir);
		if (k < best || strncmp(real, m->mnt_dir, k) != 0 ||
		    (real[k] != '/' && real[k] != '\0' && k > 1))
			continue;
		best = k;
		snprintf(mnt, mlen, "%s", m->mnt_dir);
		snprintf(type, tlen, "%s", m->mnt_type);
	}
	endmntent(f);
	free(real);
}

/* flock failed for another reason than contention: say where. */
static int
unlockable(const char *path, int err, char **cause)
{
	char	*dir = path_dir(path), mnt[512], type[64];

	mount_of(dir, mnt, sizeof mnt, type, sizeof type);
	free(dir);
	return failf(cause, "%s: cannot lock (%s): the filesystem mounted on "
	    "%s (%s) does not provide flock locks; mount it with flock "
	    "support (Lustre: -o flock) or put output_dir on another "
	    "filesystem", path, strerror(err), mnt, type);
}

int
run_lock(const struct experiment *e, const char *backend,
    const char *command, char **cause)
{
	char	*path = run_lock_path(e), *dir = path_dir(path);
	int	 fd, err;

	if (mkdirs(dir, cause) != 0) {
		free(dir);
		free(path);
		return -1;
	}
	free(dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, file_mode());
	if (fd == -1) {
		failf(cause, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		err = errno;
		if (err == EWOULDBLOCK)
			held(e, cause);
		else
			unlockable(path, err, cause);
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	if (run_owner_write(e, backend, command, cause) != 0) {
		close(fd);
		return -1;
	}
	/*
	 * The experiment is ours: sweep what writers killed mid-file left
	 * (output_dir, iteration and member folders).  Only files older
	 * than STALE_AGE: a job of a detached chain may be writing one now.
	 */
	if (is_dir(e->output_dir))
		sweep_temps(e->output_dir, 2, STALE_AGE);
	return fd;
}
