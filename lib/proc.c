/* Running the batch system's commands: fork, exec, collect both outputs. */
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/proc.h"
#include "lib/util.h"

extern char **environ;

struct sink {
	int	 fd;
	char	*buf;
	size_t	 len, cap;
};

static void
sink_read(struct sink *s)
{
	ssize_t	 n;

	if (s->cap - s->len < 4096) {
		s->cap = s->cap * 2 + 4096;
		s->buf = xreallocarray(s->buf, s->cap, 1);
	}
	n = read(s->fd, s->buf + s->len, s->cap - s->len - 1);
	if (n > 0)
		s->len += n;
	else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		close(s->fd);
		s->fd = -1;
	}
	s->buf[s->len] = '\0';
}

static char **
child_env(int (*drop)(const char *))
{
	char	**env;
	size_t	 n = 0, i, k = 0;

	while (environ[n])
		n++;
	env = xcalloc(n + 1, sizeof *env);
	for (i = 0; i < n; i++)
		if (drop == NULL || !drop(environ[i]))
			env[k++] = environ[i];
	return env;
}

int
proc_run(char *const argv[], int (*drop)(const char *), double timeout,
    struct proc_result *r, char **cause)
{
	struct sink	 s[2] = { { -1, NULL, 0, 0 }, { -1, NULL, 0, 0 } };
	struct pollfd	 pfd[2];
	char		**env = child_env(drop), *cmd;
	double		 end = now() + timeout;
	int		 p1[2], p2[2], ws, nfd, i, killed = 0;
	pid_t		 pid;

	memset(r, 0, sizeof *r);
	if (pipe2(p1, O_CLOEXEC) == -1 || pipe2(p2, O_CLOEXEC) == -1) {
		free(env);
		return failf(cause, "pipe: %s", strerror(errno));
	}
	if ((pid = fork()) == -1) {
		free(env);
		close(p1[0]); close(p1[1]); close(p2[0]); close(p2[1]);
		return failf(cause, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int	 null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(p1[1], 1);
		dup2(p2[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execvpe(argv[0], argv, env);
		_exit(127);
	}
	free(env);
	close(p1[1]);
	close(p2[1]);
	s[0].fd = p1[0];
	s[1].fd = p2[0];
	while (s[0].fd != -1 || s[1].fd != -1) {
		nfd = 0;
		for (i = 0; i < 2; i++)
			if (s[i].fd != -1) {
				pfd[nfd].fd = s[i].fd;
				pfd[nfd++].events = POLLIN;
			}
		if (now() > end && !killed) {
			kill(pid, SIGKILL);
			killed = 1;
		}
		if (poll(pfd, nfd, 1000) == -1 && errno != EINTR)
			break;
		for (i = 0; i < nfd; i++)
			if (pfd[i].revents)
				sink_read(pfd[i].fd == s[0].fd ? &s[0] : &s[1]);
	}
	for (i = 0; i < 2; i++)
		if (s[i].fd != -1)
			close(s[i].fd);
	while (waitpid(pid, &ws, 0) == -1 && errno == EINTR)
		;
	r->out = s[0].buf ? s[0].buf : xstrdup("");
	r->err = s[1].buf ? s[1].buf : xstrdup("");
	r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	if (killed || (WIFEXITED(ws) && WEXITSTATUS(ws) == 127 &&
	    r->out[0] == '\0' && r->err[0] == '\0')) {
		cmd = proc_argv_string(argv);
		if (killed)
			failf(cause, "'%s' did not finish in %.0f s", cmd, timeout);
		else
			failf(cause, "cannot run '%s': command not found", argv[0]);
		free(cmd);
		proc_result_release(r);
		return -1;
	}
	return 0;
}

void
proc_result_release(struct proc_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

static int	 probing;

int
proc_probe(int (*fn)(void *, char **), void *arg, const char *what,
    char **cause)
{
	char	 msg[1024], *why = NULL;
	size_t	 len = 0;
	ssize_t	 n;
	pid_t	 pid;
	int	 p[2], ws, r;

	if (probing)
		return 0;
	if (pipe2(p, O_CLOEXEC) == -1)
		return failf(cause, "pipe: %s", strerror(errno));
	fflush(NULL);
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return failf(cause, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		probing = 1;
		close(p[0]);
		r = fn(arg, &why);
		if (r != 0 && why != NULL)
			(void)!write(p[1], why, strlen(why));
		_exit(r == 0 ? 0 : 1);
	}
	close(p[1]);
	while (len < sizeof msg - 1 && ((n = read(p[0], msg + len,
	    sizeof msg - 1 - len)) > 0 || (n == -1 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	msg[len] = '\0';
	close(p[0]);
	while (waitpid(pid, &ws, 0) == -1 && errno == EINTR)
		;
	if (WIFSIGNALED(ws))
		return failf(cause, "%s: damaged: reading it crashed the HDF5 "
		    "library (signal %d)", what, WTERMSIG(ws));
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		return failf(cause, "%s", len ? msg : "cannot read it");
	return 0;
}

/* Up to size - 1 bytes of a /proc file into buf; the length, -1 if none. */
static ssize_t
proc_read(pid_t pid, const char *file, char *buf, size_t size)
{
	char	 path[64];
	ssize_t	 r, len = 0;
	int	 fd;

	snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((size_t)len < size - 1 &&
	    (r = read(fd, buf + len, size - 1 - len)) > 0)
		len += r;
	close(fd);
	buf[len] = '\0';
	return len;
}

/* Every pid in /proc but ours for which keep(pid, arg) says 1. */
static size_t
proc_scan(int (*keep)(pid_t, const void *), const void *arg, pid_t **pids)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 n = 0, cap = 0;
	char		*end;
	long		 v;

	*pids = NULL;
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		errno = 0;
		v = strtol(de->d_name, &end, 10);
		if (*end != '\0' || errno || v <= 0 || v == (long)getpid() ||
		    !keep((pid_t)v, arg))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			*pids = xreallocarray(*pids, cap, sizeof **pids);
		}
		(*pids)[n++] = (pid_t)v;
	}
	closedir(d);
	return n;
}

/* Is pid a live child of *parent?  (comm, in parentheses, may hold ')'.) */
static int
child_of(pid_t pid, const void *parent)
{
	char	 buf[512], *p, state;
	long	 ppid;

	if (proc_read(pid, "stat", buf, sizeof buf) <= 0 ||
	    (p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %c %ld", &state, &ppid) != 2)
		return 0;
	return ppid == (long)*(const pid_t *)parent && state != 'Z' &&
	    state != 'X';
}

size_t
proc_children(pid_t parent, pid_t **pids)
{
	return proc_scan(child_of, &parent, pids);
}

/* Does pid's environment hold the entry want ("NAME=value")? */
static int
env_has(pid_t pid, const void *want)
{
	char	*buf, *p;
	size_t	 size = 1 << 16;
	ssize_t	 len;
	int	 found = 0;

	/* Environments are bounded by the kernel; grow until it all fits. */
	for (;;) {
		buf = xmalloc(size);
		len = proc_read(pid, "environ", buf, size);
		if (len < 0 || (size_t)len < size - 1 || size >= (1 << 28))
			break;
		free(buf);
		size *= 2;
	}
	for (p = buf; len > 0 && p < buf + len; p += strlen(p) + 1)
		if (!strcmp(p, want)) {
			found = 1;
			break;
		}
	free(buf);
	return found;
}

size_t
proc_with_env(const char *name, const char *value, pid_t **pids)
{
	char	*want = xasprintf("%s=%s", name, value);
	size_t	 n;

	n = proc_scan(env_has, want, pids);
	free(want);
	return n;
}

char *
proc_argv_string(char *const argv[])
{
	struct buf	 b = BUF_INIT;
	size_t		 i;

	for (i = 0; argv[i]; i++) {
		if (i)
			buf_addc(&b, ' ');
		if (argv[i][strcspn(argv[i], " \t'\"$\\")] != '\0' ||
		    argv[i][0] == '\0')
			buf_addf(&b, "'%s'", argv[i]);
		else
			buf_adds(&b, argv[i]);
	}
	return buf_detach(&b);
}
