/*
 * One member's forward model.  The model runs in its own process group with
 * the signals calib cares about blocked in calib and waited for with
 * sigtimedwait: the child's exit, the timeout, and SIGTERM/SIGINT/SIGHUP
 * from a batch system cancelling the job, which are passed on to the group.
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <ctype.h>
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

#include "lib/forward.h"
#include "lib/fsio.h"
#include "lib/util.h"

/* Seconds between SIGTERM and SIGKILL when stopping the model. */
#define KILL_GRACE	10.0

static void
child(char **argv, const char *dir, int logfd, const sigset_t *old,
    char **env)
{
	size_t	 i;

	setpgid(0, 0);
	/* If calib exec itself is killed outright, take the model with it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (chdir(dir) == -1) {
		dprintf(logfd, "calib: %s: %s\n", dir, strerror(errno));
		_exit(127);
	}
	for (i = 0; env[i]; i += 2)
		setenv(env[i], env[i + 1], 1);
	dup2(logfd, STDOUT_FILENO);
	dup2(logfd, STDERR_FILENO);
	if (logfd > 2)
		close(logfd);
	sigprocmask(SIG_SETMASK, old, NULL);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	fprintf(stderr, "calib: cannot run '%s': %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Wait for pid until deadline; 1 when it was reaped, into *wstatus. */
static int
wait_until(pid_t pid, double deadline, const sigset_t *set, int *wstatus,
    int *sig)
{
	struct timespec	 ts;
	double		 left;
	int		 s;

	for (;;) {
		if (waitpid(pid, wstatus, WNOHANG) == pid)
			return 1;
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

	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
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

int
forward_run(const struct experiment *e, long it, long m,
    struct member_status *st, char **cause)
{
	struct member_status	 prev;
	sigset_t		 set, old;
	char			*dir, *pfile = NULL, *ofile = NULL, *log = NULL;
	char			**argv = NULL, *env[16], itb[32], mb[32], *why = NULL;
	const char		*vals[6];
	double			*g = NULL, deadline;
	pid_t			 pid;
	int			 lockfd = -1, logfd = -1, wstatus = 0, sig = 0;
	int			 timed_out = 0, rc = -1;
	size_t			 i, d;

	memset(st, 0, sizeof *st);
	/*
	 * A batch system may cancel the job at any moment, even before the
	 * model starts: hold SIGTERM, SIGINT and SIGHUP from here until the
	 * attempt is recorded, so that "running" is never the last word.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	dir = member_dir(e, it, m);
	if (m < 1 || m > e->ensemble_size) {
		failf(cause, "member %ld is out of range 1..%ld", m,
		    e->ensemble_size);
		goto out;
	}
	if (!iteration_exists(e, it)) {
		char *f = iteration_file(e, it, "ensemble.h5");
		int found = wait_file(f, fs_lag());

		free(f);
		if (!found) {
			failf(cause, "iteration %ld does not exist", it);
			goto out;
		}
	}
	if (iteration_closed(e, it)) {
		failf(cause, "iteration %ld is closed (results.h5 exists); its "
		    "members cannot run again", it);
		goto out;
	}
	if (observations_count(e, &d, cause) != 0 ||
	    lock_member(dir, &lockfd, cause) != 0)
		goto out;
	if (status_read(dir, &prev, cause) < 0)
		goto out;
	pfile = path_join(dir, e->pfile);
	ofile = path_join(dir, e->output.path);
	if (!is_file(pfile)) {
		failf(cause, "%s: parameter file missing", pfile);
		goto out;
	}
	/* The previous attempt's output must not pass for this one's. */
	if (unlink(ofile) == -1 && errno != ENOENT) {
		failf(cause, "%s: cannot remove old output: %s", ofile,
		    strerror(errno));
		goto out;
	}

	st->attempt = prev.attempt + 1;
	st->start = now();
	st->exit_status = -1;
	gethostname(st->host, sizeof st->host - 1);
	batch_job_id(st->job, sizeof st->job);
	snprintf(st->reason, sizeof st->reason, "running (pid %ld)",
	    (long)getpid());
	st->end = st->start;
	if (status_write(dir, st, cause) != 0)
		goto out;

	snprintf(itb, sizeof itb, "%ld", it);
	snprintf(mb, sizeof mb, "%ld", m);
	vals[0] = e->dir;
	vals[1] = dir;
	vals[2] = itb;
	vals[3] = mb;
	vals[4] = pfile;
	vals[5] = ofile;
	argv = xcalloc(e->ncommand + 1, sizeof *argv);
	for (i = 0; i < e->ncommand; i++)
		if (command_expand(e->command[i], vals, &argv[i], cause) != 0)
			goto out;
	i = 0;
	env[i++] = "CALIB_ITERATION"; env[i++] = itb;
	env[i++] = "CALIB_MEMBER"; env[i++] = mb;
	env[i++] = "CALIB_MEMBER_DIR"; env[i++] = dir;
	env[i++] = "CALIB_PARAMETERS"; env[i++] = pfile;
	env[i++] = "CALIB_OUTPUT"; env[i++] = ofile;
	env[i++] = "CALIB_EXPERIMENT_DIR"; env[i++] = e->dir;
	env[i++] = "CALIB_OUTPUT_DIR"; env[i++] = e->output_dir;
	env[i] = NULL;

	log = path_join(dir, "model.log");
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd == -1) {
		failf(cause, "%s: %s", log, strerror(errno));
		goto out;
	}
	{
		char t[32];

		fmt_time(t, st->start);
		dprintf(logfd, "calib exec: iteration %ld member %ld attempt %d on "
		    "%s at %s\n", it, m, st->attempt, st->host, t);
	}
	if ((pid = fork()) == -1) {
		failf(cause, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		fflush(NULL);
		close(lockfd);
		child(argv, dir, logfd, &old, env);
	}
	setpgid(pid, pid);
	deadline = e->timeout > 0 ? st->start + e->timeout : INFINITY;
	if (!wait_until(pid, deadline, &set, &wstatus, &sig)) {
		if (sig == 0)
			timed_out = 1;
		stop_group(pid, sig ? sig : SIGTERM, &set, &wstatus);
	}
	/* Whatever the model left behind in its group goes too. */
	kill(-pid, SIGKILL);
	st->end = now();
	/*
	 * A batch system signals every process of the job at once: when the
	 * model died first, calib exec's own signal is still pending.
	 */
	if (sig == 0 && !timed_out) {
		sigset_t pend;

		sigpending(&pend);
		if (sigismember(&pend, SIGTERM))
			sig = SIGTERM;
		else if (sigismember(&pend, SIGINT))
			sig = SIGINT;
		else if (sigismember(&pend, SIGHUP))
			sig = SIGHUP;
	}

	if (WIFEXITED(wstatus))
		st->exit_status = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		st->signal = WTERMSIG(wstatus);
	if (timed_out)
		snprintf(st->reason, sizeof st->reason, "timeout after %.0f s",
		    e->timeout);
	else if (sig)
		snprintf(st->reason, sizeof st->reason, "interrupted by %s",
		    strsignal(sig));
	else if (st->signal)
		snprintf(st->reason, sizeof st->reason, "killed by signal %d "
		    "(%s)", st->signal, strsignal(st->signal));
	else if (st->exit_status == 127)
		snprintf(st->reason, sizeof st->reason, "exit status 127 (could "
		    "not run '%s'? see model.log)", argv[0]);
	else if (st->exit_status != 0)
		snprintf(st->reason, sizeof st->reason, "exit status %d",
		    st->exit_status);
	else if (read_member_output(e, it, m, d, &g, &why) != 0)
		snprintf(st->reason, sizeof st->reason, "%s", why);
	else {
		st->success = 1;
		snprintf(st->reason, sizeof st->reason, "ok");
	}
	rc = 0;
out:
	free(why);
	free(g);
	if (rc == 0 && status_write(dir, st, cause) != 0)
		rc = -1;
	/* A signal still pending now ends calib exec, the attempt recorded. */
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (argv)
		for (i = 0; i < e->ncommand; i++)
			free(argv[i]);
	free(argv);
	if (logfd != -1)
		close(logfd);
	if (lockfd != -1)
		close(lockfd);
	free(log);
	free(pfile);
	free(ofile);
	free(dir);
	return rc;
}

int
member_from_env(long *m, char **cause)
{
	/* CALIB_ARRAY_INDEX: a one-member PBS Pro job, not an array. */
	static const char *const vars[] = { "SLURM_ARRAY_TASK_ID",
	    "PBS_ARRAY_INDEX", "PBS_ARRAYID", "CALIB_ARRAY_INDEX", NULL };
	const char	*v, *off;
	char		*end;
	long		 idx, o = 0;
	size_t		 i;

	for (i = 0; vars[i] && (v = getenv(vars[i])) == NULL; i++)
		;
	if (vars[i] == NULL)
		return failf(cause, "no -m, and not an array job task (none of "
		    "SLURM_ARRAY_TASK_ID, PBS_ARRAY_INDEX, PBS_ARRAYID, "
		    "CALIB_ARRAY_INDEX is set)");
	errno = 0;
	idx = strtol(v, &end, 10);
	if (*v == '\0' || *end || errno || idx < 0)
		return failf(cause, "%s='%s' is not an array index", vars[i], v);
	if ((off = getenv("CALIB_ARRAY_OFFSET")) != NULL) {
		o = strtol(off, &end, 10);
		if (*off == '\0' || *end || o < 0)
			return failf(cause, "CALIB_ARRAY_OFFSET='%s' is not a "
			    "number", off);
	}
	*m = idx + o;
	return 0;
}

void
batch_job_id(char *buf, size_t len)
{
	static const char *const vars[] = { "SLURM_ARRAY_JOB_ID",
	    "SLURM_JOB_ID", "PBS_ARRAY_ID", "PBS_JOBID", NULL };
	const char	*v = NULL;
	size_t		 i;

	const char	*br;

	for (i = 0; vars[i] && (v = getenv(vars[i])) == NULL; i++)
		;
	/*
	 * Torque gives a task only its own id, "1234[7].server"; the array
	 * is "1234[].server", as qsub printed it.
	 */
	if (v && (br = strchr(v, '[')) != NULL && isdigit((unsigned char)br[1]))
		snprintf(buf, len, "%.*s[%s", (int)(br - v), v,
		    br + 1 + strspn(br + 1, "0123456789"));
	else
		snprintf(buf, len, "%s", v ? v : "");
}
