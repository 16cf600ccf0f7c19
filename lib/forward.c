/*
 * One member's forward model.  The model runs in its own process group with
 * the signals calib cares about blocked in calib and waited for with
 * sigtimedwait: the child's exit, the timeout, and SIGTERM/SIGINT/SIGHUP
 * from a batch system cancelling the job, which are passed on to the group.
 *
 * Nothing the model starts outlives the attempt: calib exec is the
 * subreaper of the model's processes, so those that leave its group
 * (setsid) still come back to it as children, and are killed when the
 * model ends.  When calib exec itself is killed outright, the next calib
 * exec of the member on the same host finds what was left running by the
 * attempt's token in their environment (CALIB_ATTEMPT_ID) and kills it.
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/forward.h"
#include "lib/fsio.h"
#include "lib/proc.h"
#include "lib/util.h"

/* Seconds between SIGTERM and SIGKILL when stopping the model. */
#define KILL_GRACE	10.0

/*
 * The model's process, started by vfork: it shares calib exec's memory
 * until it executes the model, so it only makes system calls (no stdio,
 * no allocation, no environment changes: envp was built before).  errfd
 * (close-on-exec) carries the step that failed and its errno back to calib
 * exec when the model cannot be started, which writes the message.
 */
enum { START_CHDIR, START_EXEC };

static void
child(char **argv, const char *dir, int logfd, int errfd,
    const sigset_t *old, char **envp)
{
	int	 why[2];

	setpgid(0, 0);
	/* If calib exec itself is killed outright, take the model with it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (chdir(dir) == -1) {
		why[0] = START_CHDIR;
		why[1] = errno;
		(void)!write(errfd, why, sizeof why);
		_exit(127);
	}
	dup2(logfd, STDOUT_FILENO);
	dup2(logfd, STDERR_FILENO);
	if (logfd > 2)
		close(logfd);
	sigprocmask(SIG_SETMASK, old, NULL);
	signal(SIGPIPE, SIG_DFL);
	execvpe(argv[0], argv, envp);
	why[0] = START_EXEC;
	why[1] = errno;
	(void)!write(errfd, why, sizeof why);
	_exit(127);
}

/*
 * The model's environment: calib exec's, with each NAME, value pair of
 * vars (NULL-terminated) set.
 */
static char **
model_env(char **vars)
{
	char	**envp, **e;
	size_t	 n = 0, k = 0, i, len;

	for (e = environ; e && *e; e++)
		n++;
	for (i = 0; vars[i]; i += 2)
		n++;
	envp = xcalloc(n + 1, sizeof *envp);
	for (e = environ; e && *e; e++) {
		for (i = 0; vars[i]; i += 2) {
			len = strlen(vars[i]);
			if (!strncmp(*e, vars[i], len) && (*e)[len] == '=')
				break;
		}
		if (vars[i] == NULL)
			envp[k++] = xstrdup(*e);
	}
	for (i = 0; vars[i]; i += 2)
		envp[k++] = xasprintf("%s=%s", vars[i], vars[i + 1]);
	envp[k] = NULL;
	return envp;
}

/* Wait for pid until deadline; 1 when it was reaped, into *wstatus. */
static int
wait_until(pid_t pid, double deadline, const sigset_t *set, int *wstatus,
    int *sig)
{
	struct timespec	 ts;
	double		 left;
	pid_t		 r;
	int		 s, ws;

	for (;;) {
		/*
		 * calib exec is the subreaper of the model's processes: reap
		 * the orphans that end meanwhile too, not only the model.
		 */
		while ((r = waitpid(-1, &ws, WNOHANG)) > 0)
			if (r == pid) {
				*wstatus = ws;
				return 1;
			}
		left = deadline - now();
		if (left <= 0)
			return 0;
		if (left > 1e6)
			left = 1e6;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
		s = sigtimedwait(set, NULL, &ts);
		if (s > 0 && s != SIGCHLD && sig && *sig == 0) {
			*sig = s;
			return 0;
		}
	}
}

static void
stop_group(pid_t pid, int signo, const sigset_t *set, int *wstatus)
{
	kill(-pid, signo);
	if (!wait_until(pid, now() + KILL_GRACE, set, wstatus, NULL)) {
		kill(-pid, SIGKILL);
		waitpid(pid, wstatus, 0);
	}
}

static int
lock_member(const char *dir, int *fd, char **cause)
{
	char		*path = path_join(dir, ".lock");
	struct timespec	 ts = { 0, 100 * 1000 * 1000 };
	double		 deadline;

	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	free(path);
	if (*fd == -1)
		return failf(cause, "%s: cannot lock: %s", dir, strerror(errno));
	/*
	 * An attempt being stopped (its driver was killed) holds the lock for
	 * up to KILL_GRACE seconds while it records how it ended: wait for it.
	 */
	deadline = now() + KILL_GRACE + 5;
	while (flock(*fd, LOCK_EX | LOCK_NB) == -1) {
		if (now() >= deadline) {
			close(*fd);
			return failf(cause, "%s: this member is being run by "
			    "another calib exec", dir);
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* One attempt at a member, from its checks to its status file. */
struct attempt {
	const struct experiment	*e;
	long			 it, m;
	size_t			 d;		/* observations */
	char			*dir, *pfile, *ofile;
	char			 itb[32], mb[32];
	char			**argv;
	int			 lockfd, logfd;
	sigset_t		 set, old;	/* held signals; the caller's */
	char			*note;		/* for model.log, or NULL */
	int			 start_errno;	/* why the model did not start */
	int			 force;		/* run it even if it succeeded */
};

/* May member m of iteration it run now? */
static int
runnable(const struct experiment *e, long it, long m, char **cause)
{
	char	*f;
	int	 found;

	if (m < 1 || m > e->ensemble_size)
		return failf(cause, "member %ld is out of range 1..%ld", m,
		    e->ensemble_size);
	if (!iteration_exists(e, it)) {
		f = iteration_file(e, it, "ensemble.h5");
		found = wait_file(f, fs_lag());
		free(f);
		if (!found)
			return failf(cause, "iteration %ld does not exist", it);
	}
	if (iteration_closed(e, it))
		return failf(cause, "iteration %ld is closed (results.h5 "
		    "exists); its members cannot run again", it);
	return 0;
}

/* A token no other attempt has, on any host: 128 random bits in hex. */
static int
new_attempt_id(char *id, char **cause)
{
	unsigned char	 r[ATTEMPT_ID_MAX / 2];
	size_t		 i;

	if (getentropy(r, sizeof r) == -1)
		return failf(cause, "getentropy: %s", strerror(errno));
	for (i = 0; i < sizeof r; i++)
		snprintf(id + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/* SIGKILL each of pids; those it may not kill are added to denied. */
static void
kill_each(const pid_t *pids, size_t n, struct buf *denied)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (kill(pids[i], SIGKILL) == -1 && errno == EPERM)
			buf_addf(denied, " %ld", (long)pids[i]);
}

static char *
pid_list(const pid_t *pids, size_t n)
{
	struct buf	 b = BUF_INIT;
	size_t		 i;

	for (i = 0; i < n; i++)
		buf_addf(&b, "%s%ld", i ? " " : "", (long)pids[i]);
	return buf_detach(&b);
}

/*
 * The previous attempt's calib exec was killed outright on this host (its
 * status still says running, and its lock is free): kill the processes it
 * left running, found by its token, before this attempt starts.
 */
static int
kill_stale(struct attempt *a, const struct member_status *prev, char **cause)
{
	struct timespec	 ts = { 0, 50 * 1000 * 1000 };
	struct buf	 denied = BUF_INIT;
	pid_t		*pids, *left;
	size_t		 n, k;
	double		 deadline = now() + KILL_GRACE;
	char		*list;
	int		 rc = 0;

	if ((n = proc_with_env("CALIB_ATTEMPT_ID", prev->attempt_id,
	    &pids)) == 0)
		return 0;
	kill_each(pids, n, &denied);
	while ((k = proc_with_env("CALIB_ATTEMPT_ID", prev->attempt_id,
	    &left)) > 0 && denied.len == 0 && now() < deadline) {
		kill_each(left, k, &denied);
		free(left);
		nanosleep(&ts, NULL);
	}
	list = pid_list(k ? left : pids, k ? k : n);
	if (denied.len > 0)
		rc = failf(cause, "%s: cannot kill what attempt %d left "
		    "running (pids%s): %s", a->dir, prev->attempt, denied.s,
		    strerror(EPERM));
	else if (k > 0)
		rc = failf(cause, "%s: process%s %s left running by attempt %d "
		    "did not die within %.0f s of SIGKILL", a->dir,
		    k == 1 ? "" : "es", list, prev->attempt, KILL_GRACE);
	else
		a->note = xasprintf("calib exec: killed %zu process%s left "
		    "running by attempt %d (CALIB_ATTEMPT_ID=%s): %s\n", n,
		    n == 1 ? "" : "es", prev->attempt, prev->attempt_id, list);
	free(list);
	free(left);
	free(pids);
	buf_release(&denied);
	return rc;
}

static int
unlink_kept(const char *dir, char **cause)
{
	char	*path = path_join(dir, MEMBER_KEPT);
	int	 rc = 0;

	if (unlink(path) == -1 && errno != ENOENT)
		rc = failf(cause, "%s: cannot remove: %s", path, strerror(errno));
	free(path);
	return rc;
}

/*
 * Take the member, clear the previous attempt's output and record that
 * this attempt runs.
 */
static int
prepare(struct attempt *a, struct member_status *st, char **cause)
{
	struct member_status	 prev;
	char			 host[sizeof st->host] = "";

	if (lock_member(a->dir, &a->lockfd, cause) != 0 ||
	    status_read(a->dir, &prev, cause) < 0)
		return -1;
	/* Under the member's lock: a success is never run over by accident. */
	if (!a->force && prev.outcome == OUTCOME_OK) {
		*st = prev;
		return 1;
	}
	gethostname(host, sizeof host - 1);
	if (prev.outcome == OUTCOME_RUNNING && prev.attempt_id[0] != '\0' &&
	    !strcmp(prev.host, host) && kill_stale(a, &prev, cause) != 0)
		return -1;
	a->pfile = path_join(a->dir, a->e->pfile);
	a->ofile = path_join(a->dir, a->e->output.path);
	if (!is_file(a->pfile))
		return failf(cause, "%s: parameter file missing", a->pfile);
	if (new_attempt_id(st->attempt_id, cause) != 0)
		return -1;
	st->attempt = prev.attempt + 1;
	st->start = st->end = now();
	st->exit_status = -1;
	st->outcome = OUTCOME_RUNNING;
	memcpy(st->host, host, sizeof st->host);
	batch_job_id(st->job, sizeof st->job);
	snprintf(st->reason, sizeof st->reason, "running (pid %ld)",
	    (long)getpid());
	/*
	 * "running" first: an attempt killed from here on is one that did not
	 * end, never an old success without its values.  Then the previous
	 * attempt's output and kept values go, so that neither passes for
	 * this one's.  "running" is made durable only over a success: a crash
	 * of the machine that loses it otherwise leaves the previous ending
	 * (none, failed, interrupted), which calib runs again anyway, and the
	 * attempt's own ending is made durable.
	 */
	if ((prev.outcome == OUTCOME_OK ? status_write(a->dir, st, cause) :
	    status_mark(a->dir, st, cause)) != 0)
		return -1;
	if (unlink(a->ofile) == -1 && errno != ENOENT)
		return failf(cause, "%s: cannot remove old output: %s",
		    a->ofile, strerror(errno));
	return unlink_kept(a->dir, cause);
}

void
model_path(const struct experiment *e, char **prog)
{
	char	*abs;
	const char *rel;

	if (**prog == '/' || strchr(*prog, '/') == NULL)
		return;
	for (rel = *prog; rel[0] == '.' && rel[1] == '/';)
		for (rel += 2; *rel == '/'; rel++)
			;
	abs = path_join(e->dir, rel);
	free(*prog);
	*prog = abs;
}

/* Where prog would be found in PATH, or NULL. */
static char *
in_path(const char *prog)
{
	const char	*path = getenv("PATH"), *p, *end;
	char		*dir, *f;

	for (p = path ? path : "/usr/bin:/bin"; *p; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ":");
		dir = end > p ? xasprintf("%.*s", (int)(end - p), p) :
		    xstrdup(".");
		f = path_join(dir, prog);
		free(dir);
		if (access(f, X_OK) == 0 && is_file(f))
			return f;
		free(f);
	}
	return NULL;
}

int
model_check(const struct experiment *e, char **cause)
{
	struct stat	 sb;
	const char	*vals[6];
	char		*prog = NULL, *mdir = member_dir(e, 0, 1), *why = NULL;
	int		 rc = -1;

	/* Any member's values do: the program's name rarely holds them. */
	vals[0] = e->dir;
	vals[1] = mdir;
	vals[2] = "0";
	vals[3] = "1";
	vals[4] = vals[5] = mdir;
	if (command_expand(e->command[0], vals, &prog, &why) != 0)
		failf(cause, "%s", why);
	else if (strchr(prog, '/') == NULL) {
		free(why);
		if ((why = in_path(prog)) != NULL)
			rc = 0;
		else
			failf(cause, "%s:%zu:%zu: 'forward_model.command': "
			    "program '%s' not found in PATH", e->file,
			    e->command_line, e->command_col, prog);
	} else {
		model_path(e, &prog);
		if (stat(prog, &sb) == -1)
			failf(cause, "%s:%zu:%zu: 'forward_model.command': "
			    "program '%s': %s", e->file, e->command_line,
			    e->command_col, prog, strerror(errno));
		else if (!S_ISREG(sb.st_mode) || access(prog, X_OK) == -1)
			failf(cause, "%s:%zu:%zu: 'forward_model.command': "
			    "program '%s' is not an executable file%s", e->file,
			    e->command_line, e->command_col, prog,
			    S_ISREG(sb.st_mode) ? " (chmod +x?)" : "");
		else
			rc = 0;
	}
	free(why);
	free(prog);
	free(mdir);
	return rc;
}

/* The model's command line, placeholders expanded. */
static int
expand_command(struct attempt *a, char **cause)
{
	const char	*vals[6];
	size_t		 i;

	snprintf(a->itb, sizeof a->itb, "%ld", a->it);
	snprintf(a->mb, sizeof a->mb, "%ld", a->m);
	vals[0] = a->e->dir;
	vals[1] = a->dir;
	vals[2] = a->itb;
	vals[3] = a->mb;
	vals[4] = a->pfile;
	vals[5] = a->ofile;
	a->argv = xcalloc(a->e->ncommand + 1, sizeof *a->argv);
	for (i = 0; i < a->e->ncommand; i++)
		if (command_expand(a->e->command[i], vals, &a->argv[i],
		    cause) != 0)
			return -1;
	model_path(a->e, &a->argv[0]);
	return 0;
}

/* Open model.log, say who runs, and start the model; *pid is its group. */
static int
launch(struct attempt *a, const struct member_status *st, pid_t *pid,
    char **cause)
{
	char	*log = path_join(a->dir, "model.log"), t[32];
	char	*env[18], **envp;
	size_t	 i = 0;
	ssize_t	 n;
	int	 p[2], why[2], err;

	a->logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (a->logfd == -1) {
		failf(cause, "%s: %s", log, strerror(errno));
		free(log);
		return -1;
	}
	free(log);
	fmt_time(t, st->start);
	dprintf(a->logfd, "calib exec: iteration %ld member %ld attempt %d on "
	    "%s at %s\n", a->it, a->m, st->attempt, st->host, t);
	if (a->note != NULL)
		dprintf(a->logfd, "%s", a->note);
	env[i++] = "CALIB_ITERATION"; env[i++] = a->itb;
	env[i++] = "CALIB_MEMBER"; env[i++] = a->mb;
	env[i++] = "CALIB_MEMBER_DIR"; env[i++] = a->dir;
	env[i++] = "CALIB_PARAMETERS"; env[i++] = a->pfile;
	env[i++] = "CALIB_OUTPUT"; env[i++] = a->ofile;
	env[i++] = "CALIB_EXPERIMENT_DIR"; env[i++] = a->e->dir;
	env[i++] = "CALIB_OUTPUT_DIR"; env[i++] = a->e->output_dir;
	env[i++] = "CALIB_ATTEMPT_ID"; env[i++] = (char *)st->attempt_id;
	env[i] = NULL;
	if (pipe2(p, O_CLOEXEC) == -1)
		return failf(cause, "pipe: %s", strerror(errno));
	envp = model_env(env);
	/*
	 * vfork, not fork: calib exec may run in the core, with its libraries
	 * mapped, whose page tables a fork would copy only for the model to
	 * replace them.
	 */
	if ((*pid = vfork()) == 0)
		child(a->argv, a->dir, a->logfd, p[1], &a->old, envp);
	err = errno;
	for (i = 0; envp[i]; i++)
		free(envp[i]);
	free(envp);
	if (*pid == -1) {
		close(p[0]);
		close(p[1]);
		return failf(cause, "vfork: %s", strerror(err));
	}
	setpgid(*pid, *pid);
	close(p[1]);
	/* The pipe closes at exec, or carries why there was none. */
	while ((n = read(p[0], why, sizeof why)) == -1 && errno == EINTR)
		;
	close(p[0]);
	a->start_errno = 0;
	if (n != (ssize_t)sizeof why)
		return 0;
	a->start_errno = why[1];
	if (why[0] == START_CHDIR)
		dprintf(a->logfd, "calib: %s: %s\n", a->dir, strerror(why[1]));
	else
		dprintf(a->logfd, "calib: cannot run '%s': %s\n", a->argv[0],
		    strerror(why[1]));
	return 0;
}

/* Add pid to the set *v of *n pids unless it is there. */
static void
pid_add(pid_t **v, size_t *n, pid_t pid)
{
	size_t	 i;

	for (i = 0; i < *n; i++)
		if ((*v)[i] == pid)
			return;
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = pid;
}

/*
 * What the model left behind after it ended and its group was killed:
 * calib exec is their subreaper, so they are its children now, even those
 * that left the group.  Kill and reap them, saying so in model.log.  When
 * nothing is left, as usual, waitpid says so at once and /proc is not read.
 */
static void
reap_leftovers(struct attempt *a)
{
	struct timespec	 ts = { 0, 20 * 1000 * 1000 };
	sigset_t	 chld;
	pid_t		*pids, *killed = NULL, r;
	size_t		 n, i, nkilled = 0;
	double		 deadline = now() + KILL_GRACE;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		while ((r = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (r == -1 || now() >= deadline)
			break;
		n = proc_children(getpid(), &pids);
		for (i = 0; i < n; i++)
			if (kill(pids[i], SIGKILL) == 0)
				pid_add(&killed, &nkilled, pids[i]);
		free(pids);
		sigtimedwait(&chld, NULL, &ts);
	}
	if (nkilled > 0)
		dprintf(a->logfd, "calib exec: killed %zu process%s the model "
		    "left behind\n", nkilled, nkilled == 1 ? "" : "es");
	if (r == 0)
		dprintf(a->logfd, "calib exec: processes the model left behind "
		    "did not die within %.0f s of SIGKILL\n", KILL_GRACE);
	free(killed);
}

/*
 * Wait for the model to end, its timeout, or a signal to calib exec; stop
 * its group in the last two cases.  *sig is the signal that arrived.
 */
static void
supervise(struct attempt *a, pid_t pid, struct member_status *st,
    int *wstatus, int *timed_out, int *sig)
{
	sigset_t	 pend;
	double		 deadline;

	deadline = a->e->timeout > 0 ? st->start + a->e->timeout : INFINITY;
	if (!wait_until(pid, deadline, &a->set, wstatus, sig)) {
		if (*sig == 0)
			*timed_out = 1;
		stop_group(pid, *sig ? *sig : SIGTERM, &a->set, wstatus);
	}
	/* Whatever the model left behind, in its group or not, goes too. */
	kill(-pid, SIGKILL);
	reap_leftovers(a);
	st->end = now();
	/*
	 * A batch system signals every process of the job at once: when the
	 * model died first, calib exec's own signal is still pending.
	 */
	if (*sig == 0 && !*timed_out) {
		sigpending(&pend);
		if (sigismember(&pend, SIGTERM))
			*sig = SIGTERM;
		else if (sigismember(&pend, SIGINT))
			*sig = SIGINT;
		else if (sigismember(&pend, SIGHUP))
			*sig = SIGHUP;
	}
}

/* How the attempt ended: the outcome, and the reason for people. */
static void
classify(struct attempt *a, struct member_status *st, int wstatus,
    int timed_out, int sig)
{
	char	*why = NULL;
	double	*g = NULL;

	if (WIFEXITED(wstatus))
		st->exit_status = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		st->signal = WTERMSIG(wstatus);
	st->outcome = OUTCOME_FAILED;
	if (timed_out) {
		st->outcome = OUTCOME_TIMEOUT;
		snprintf(st->reason, sizeof st->reason, "timeout after %.0f s",
		    a->e->timeout);
	} else if (sig) {
		st->outcome = OUTCOME_INTERRUPTED;
		snprintf(st->reason, sizeof st->reason, "interrupted by %s",
		    strsignal(sig));
	} else if (st->signal)
		snprintf(st->reason, sizeof st->reason, "killed by signal %d "
		    "(%s)", st->signal, strsignal(st->signal));
	else if (a->start_errno != 0)
		snprintf(st->reason, sizeof st->reason, "could not run '%s': %s",
		    a->argv[0], strerror(a->start_errno));
	else if (st->exit_status == 127)
		snprintf(st->reason, sizeof st->reason, "exit status 127 (could "
		    "not run '%s'? see model.log)", a->argv[0]);
	else if (st->exit_status != 0)
		snprintf(st->reason, sizeof st->reason, "exit status %d",
		    st->exit_status);
	else if (read_member_output(a->e, a->it, a->m, a->d, &g, &why) != 0) {
		st->outcome = OUTCOME_INVALID;
		snprintf(st->reason, sizeof st->reason, "%s", why);
	} else if (keep_member_output(a->dir, g, a->d, &why) != 0) {
		/* What the update would read is not there: not a success. */
		snprintf(st->reason, sizeof st->reason, "%s", why);
	} else {
		st->outcome = OUTCOME_OK;
		snprintf(st->reason, sizeof st->reason, "ok");
	}
	st->success = st->outcome == OUTCOME_OK;
	free(why);
	free(g);
}

static void
attempt_release(struct attempt *a)
{
	size_t	 i;

	for (i = 0; a->argv && i < a->e->ncommand; i++)
		free(a->argv[i]);
	free(a->argv);
	if (a->logfd != -1)
		close(a->logfd);
	if (a->lockfd != -1)
		close(a->lockfd);
	free(a->pfile);
	free(a->ofile);
	free(a->dir);
	free(a->note);
}

int
member_locked(const char *dir)
{
	char	*path = path_join(dir, ".lock");
	int	 fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		r = 0;
	else
		r = errno == EWOULDBLOCK ? 1 : -1;
	close(fd);
	return r;
}

int
forward_run(const struct experiment *e, long it, long m, size_t d, int force,
    struct member_status *st, char **cause)
{
	struct attempt	 a;
	pid_t		 pid;
	int		 wstatus = 0, sig = 0, timed_out = 0, rc = -1, r = -1;

	memset(st, 0, sizeof *st);
	memset(&a, 0, sizeof a);
	a.e = e;
	a.it = it;
	a.m = m;
	a.d = d;
	a.lockfd = a.logfd = -1;
	a.force = force;
	/*
	 * A batch system may cancel the job at any moment, even before the
	 * model starts: hold SIGTERM, SIGINT and SIGHUP from here until the
	 * attempt is recorded, so that "running" is never the last word.
	 */
	sigemptyset(&a.set);
	sigaddset(&a.set, SIGCHLD);
	sigaddset(&a.set, SIGTERM);
	sigaddset(&a.set, SIGINT);
	sigaddset(&a.set, SIGHUP);
	sigprocmask(SIG_BLOCK, &a.set, &a.old);
	/* The model's orphans, setsid or not, become calib exec's children. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	a.dir = member_dir(e, it, m);
	if (runnable(e, it, m, cause) == 0 && (r = prepare(&a, st, cause)) == 0 &&
	    expand_command(&a, cause) == 0 && launch(&a, st, &pid, cause) == 0) {
		supervise(&a, pid, st, &wstatus, &timed_out, &sig);
		classify(&a, st, wstatus, timed_out, sig);
		rc = status_write(a.dir, st, cause);
	} else if (r == 1)
		rc = 1;
	/* A signal still pending now ends calib exec, the attempt recorded. */
	sigprocmask(SIG_SETMASK, &a.old, NULL);
	attempt_release(&a);
	return rc;
}

int
member_from_env(long *m, char **cause)
{
	const char	*v, *off;
	char		*end;
	long		 idx, o = 0;

	if ((v = getenv("CALIB_MEMBER_INDEX")) == NULL || *v == '\0')
		return failf(cause, "no -m, and CALIB_MEMBER_INDEX is not set "
		    "(the job script sets it from the scheduler's array index; "
		    "see calib-templates(7))");
	errno = 0;
	idx = strtol(v, &end, 10);
	if (*end || errno || idx < 0)
		return failf(cause, "CALIB_MEMBER_INDEX='%s' is not an array "
		    "index", v);
	if ((off = getenv("CALIB_ARRAY_OFFSET")) != NULL) {
		errno = 0;
		o = strtol(off, &end, 10);
		if (*off == '\0' || *end || errno || o < 0)
			return failf(cause, "CALIB_ARRAY_OFFSET='%s' is not a "
			    "number", off);
	}
	if (idx > LONG_MAX - o)
		return failf(cause, "CALIB_MEMBER_INDEX='%s' plus "
		    "CALIB_ARRAY_OFFSET='%s' is out of range", v, off);
	*m = idx + o;
	return 0;
}

void
batch_job_id(char *buf, size_t len)
{
	const char	*v = getenv("CALIB_JOB_ID");
	size_t		 i;

	snprintf(buf, len, "%s", v ? v : "");
	/* The id goes into a status file line: keep it one printable line. */
	for (i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
}
