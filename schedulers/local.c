/*
 * The local backend: jobs are processes on this machine, children of the
 * calib run that submitted them.  An array job's tasks run as `calib exec`
 * (told their index through CALIB_MEMBER_INDEX, like a batch job's), each
 * in its own process group, at most max_running at once; an update job
 * runs `calib update` once the jobs it depends on have ended.  Submitting
 * records the job; querying reaps children and starts what may start;
 * cancelling signals process groups.  A job's id is its journal name with
 * the driver's pid ("calib.1a2b3c4d.3@4242").
 *
 * Every child gets SIGTERM when its driver dies (PR_SET_PDEATHSIG, which
 * calib's front sets from CALIB_DRIVER_PID, and exits if its parent is no
 * longer that driver), so it stops its model and records that it was
 * interrupted.  Another process
 * (calib status, calib cancel) cannot see the children: it sees a job as
 * them through the file the driver keeps of its jobs' states
 * (output_dir/.local-jobs, rewritten before each wait when something
 * changed), which counts only while that driver, named in the run lock's
 * owner file, is alive; it cancels them by stopping that driver.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsio.h"
#include "lib/proc.h"
#include "lib/ranges.h"
#include "lib/runlock.h"
#include "lib/util.h"
#include "schedulers/scheduler.h"

/* The longest the states file lags behind the driver, seconds. */
#define SAVE_EVERY	0.5

struct ltask {
	long		 index;		/* array index; -1 for a single job */
	pid_t		 pid;
	enum job_phase	 phase;
	int		 cancelled;
	char		 state[64];
};

struct ljob {
	char		*id;
	char		**argv;
	char		*log;		/* log path pattern */
	long		 offset;
	long		 max_running;
	char		*after;		/* "id:id" it waits for */
	int		 after_ok;
	struct ltask	*t;
	size_t		 n;
};

struct local {
	struct sched	 base;		/* first: the common handle */
	struct ljob	*jobs;
	size_t		 njobs;
	int		 dirty;		/* states changed since .local-jobs */
	double		 saved;		/* when .local-jobs was last written */
	sigset_t	 oldmask;
};

static int	save_states(struct local *, char **);

static int
local_available(char **cause)
{
	(void)cause;
	return 0;
}

static struct sched *
local_open(const struct experiment *e, char **cause)
{
	struct local	*l = xcalloc(1, sizeof *l);
	sigset_t	 set;

	(void)cause;
	l->base.ops = &sched_local;
	l->base.exp = e;
	/* SIGCHLD is waited for with sigtimedwait, so keep it pending. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &l->oldmask);
	return &l->base;
}

/*
 * An update job goes on after its iteration is closed, to send the
 * experiment's notifications: let it end rather than stop it with this
 * driver's end, for as long as they may take (each event at most its
 * endpoint's timeout), then stop it.
 */
static void
let_end(struct local *l, struct ltask *t)
{
	const struct experiment	*e = l->base.exp;
	struct timespec		 ts;
	sigset_t		 set;
	double			 start = now(), deadline = start + 30, left;
	size_t			 k;
	int			 said = 0;

	for (k = 0; k < e->nnotify; k++)
		deadline += NOTIFY_NEVENTS * e->notify[k].timeout;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	while (waitpid(t->pid, NULL, WNOHANG) == 0) {
		if (!said && now() - start >= 1) {
			fprintf(stderr, "calib: waiting for update job %ld to "
			    "end (it may be sending notifications)\n",
			    (long)t->pid);
			said = 1;
		}
		if ((left = deadline - now()) <= 0) {
			fprintf(stderr, "calib: stopping update job %ld\n",
			    (long)t->pid);
			killpg(t->pid, SIGTERM);
			waitpid(t->pid, NULL, 0);
			return;
		}
		ts.tv_sec = (time_t)fmin(left, 1);
		ts.tv_nsec = (long)((fmin(left, 1) - ts.tv_sec) * 1e9);
		sigtimedwait(&set, NULL, &ts);
	}
}

static void
local_close(struct sched *s)
{
	struct local	*l = (struct local *)s;
	struct ltask	*t;
	size_t		 i, k;

	for (i = 0; i < l->njobs; i++)
		for (k = 0; k < l->jobs[i].n; k++) {
			t = &l->jobs[i].t[k];
			if (t->phase == PHASE_RUNNING && t->index < 0)
				let_end(l, t);
		}
	for (i = 0; i < l->njobs; i++) {
		for (k = 0; l->jobs[i].argv[k]; k++)
			free(l->jobs[i].argv[k]);
		free(l->jobs[i].argv);
		free(l->jobs[i].id);
		free(l->jobs[i].log);
		free(l->jobs[i].after);
		free(l->jobs[i].t);
	}
	free(l->jobs);
	sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
	free(l);
}

static char *
local_log_name(int kind, int width, const char *id)
{
	(void)id;
	switch (kind) {
	case LOG_MEMBER:
		/* %3a: the index zero-padded, as in member_001 */
		return xasprintf("member_%%%da/exec.log", width);
	case LOG_ARRAY:
		return xstrdup("exec-%a.log");
	default:
		return xstrdup("update.log");
	}
}

static long
local_max_index(struct sched *s, char **cause)
{
	(void)s;
	(void)cause;
	return LONG_MAX;
}

/* The log path of task t: %Na and %a become the index, N digits wide. */
static char *
task_log(const struct ljob *j, const struct ltask *t)
{
	struct buf	 b = BUF_INIT;
	const char	*p = j->log;
	char		*end;
	long		 w;

	while (*p) {
		if (*p == '%') {
			w = strtol(p + 1, &end, 10);
			if (*end == 'a' && w >= 0 && w < 20) {
				buf_addf(&b, "%0*ld", (int)w, t->index);
				p = end + 1;
				continue;
			}
		}
		buf_addc(&b, *p++);
	}
	return buf_detach(&b);
}

/* NAME=value for the task's environment. */
static void
env_add(char ***env, size_t *n, const char *name, const char *fmt, ...)
{
	va_list	 ap;
	char	*v;

	va_start(ap, fmt);
	v = xvasprintf(fmt, ap);
	va_end(ap);
	*env = xreallocarray(*env, *n + 2, sizeof **env);
	(*env)[(*n)++] = xasprintf("%s=%s", name, v);
	(*env)[*n] = NULL;
	free(v);
}

/* Is environment entry e one of the variables a task gets from here? */
static int
ours(const char *e)
{
	static const char *const names[] = { "CALIB_JOB_ID",
	    "CALIB_MEMBER_INDEX", "CALIB_ARRAY_OFFSET", "CALIB_DRIVER_PID",
	    NULL };
	size_t	 i, len = strcspn(e, "=");

	for (i = 0; names[i]; i++)
		if (strlen(names[i]) == len && !strncmp(e, names[i], len))
			return 1;
	return 0;
}

/*
 * Start task t by posix_spawn, which neither copies this process's memory
 * nor runs anything of it in the child: in its own process group, its
 * input from /dev/null, its output to its log, told its job, index and
 * driver.  The driver's pid makes it die with the driver: calib's front
 * sets PR_SET_PDEATHSIG from it (cmd/main.c).
 */
static int
spawn(struct local *l, struct ljob *j, struct ltask *t)
{
	extern char			**environ;
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 at;
	char				**env = NULL, *log = task_log(j, t);
	size_t				 n = 0, i;
	pid_t				 pid;
	int				 err, fd;

	for (i = 0; environ[i]; i++)
		if (!ours(environ[i])) {
			env = xreallocarray(env, n + 2, sizeof *env);
			env[n++] = xstrdup(environ[i]);
			env[n] = NULL;
		}
	env_add(&env, &n, "CALIB_JOB_ID", "%s", j->id);
	env_add(&env, &n, "CALIB_DRIVER_PID", "%ld", (long)getpid());
	if (t->index >= 0) {
		env_add(&env, &n, "CALIB_MEMBER_INDEX", "%ld", t->index);
		env_add(&env, &n, "CALIB_ARRAY_OFFSET", "%ld", j->offset);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log,
	    O_WRONLY | O_CREAT | O_APPEND, 0666);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &l->oldmask);
	fflush(NULL);
	err = posix_spawn(&pid, j->argv[0], &fa, &at, j->argv, env);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	for (i = 0; i < n; i++)
		free(env[i]);
	free(env);
	if (err == EAGAIN || err == ENOMEM) {
		/* Out of processes or memory for now: a later query retries. */
		free(log);
		return 0;
	}
	l->dirty = 1;
	if (err != 0) {
		/*
		 * Its log or its program cannot be opened: the task ends as a
		 * node failure does on a cluster, which the driver's retry
		 * policy answers; the reason goes to its log when it can.
		 */
		fprintf(stderr, "calib: cannot start '%s' with its output to "
		    "%s: %s\n", j->argv[0], log, strerror(err));
		if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0666)) != -1) {
			dprintf(fd, "calib: cannot start '%s': %s\n", j->argv[0],
			    strerror(err));
			close(fd);
		}
		free(log);
		t->phase = PHASE_SYSTEM;
		snprintf(t->state, sizeof t->state, "NODE_FAIL cannot start: %s",
		    strerror(err));
		return 0;
	}
	free(log);
	t->pid = pid;
	t->phase = PHASE_RUNNING;
	snprintf(t->state, sizeof t->state, "RUNNING pid %ld", (long)pid);
	return 1;
}

static struct ljob *
job_by_id(struct local *l, const char *id, size_t len)
{
	size_t	 i;

	for (i = 0; i < l->njobs; i++)
		if (strlen(l->jobs[i].id) == len &&
		    !strncmp(l->jobs[i].id, id, len))
			return &l->jobs[i];
	return NULL;
}

static size_t
count(const struct ljob *j, enum job_phase ph)
{
	size_t	 k, n = 0;

	for (k = 0; k < j->n; k++)
		n += j->t[k].phase == ph;
	return n;
}

/*
 * May job j start?  1 yes, 0 not yet, -1 never (an afterok dependency
 * failed).  A job this process does not know has ended long ago.
 */
static int
ready(struct local *l, const struct ljob *j)
{
	const char	*p = j->after, *q;
	struct ljob	*d;
	int		 r = 1;

	while (p && *p) {
		q = p + strcspn(p, ":");
		if ((d = job_by_id(l, p, q - p)) != NULL) {
			if (count(d, PHASE_QUEUED) + count(d, PHASE_RUNNING))
				r = r < 0 ? r : 0;
			else if (j->after_ok && count(d, PHASE_COMPLETED) < d->n)
				r = -1;
		}
		p = *q ? q + 1 : q;
	}
	return r;
}

static void
reaped(struct local *l, pid_t pid, int ws)
{
	struct ltask	*t;
	size_t		 i, k;

	for (i = 0; i < l->njobs; i++)
		for (k = 0; k < l->jobs[i].n; k++) {
			t = &l->jobs[i].t[k];
			if (t->pid != pid || t->phase != PHASE_RUNNING)
				continue;
			if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
				t->phase = PHASE_COMPLETED;
				snprintf(t->state, sizeof t->state, "COMPLETED");
			} else if (WIFEXITED(ws)) {
				t->phase = PHASE_FAILED;
				snprintf(t->state, sizeof t->state, "FAILED "
				    "exit %d", WEXITSTATUS(ws));
			} else {
				t->phase = t->cancelled ? PHASE_CANCELLED :
				    PHASE_SYSTEM;
				snprintf(t->state, sizeof t->state, "%s by "
				    "signal %d", t->cancelled ? "CANCELLED" :
				    "KILLED", WTERMSIG(ws));
			}
			return;
		}
}

/* Reap what ended, then start what may start, in submission order. */
static void
advance(struct local *l)
{
	struct ljob	*j;
	size_t		 i, k, running = 0, limit = 0, mine;
	pid_t		 pid;
	int		 ws, r;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		reaped(l, pid, ws);
		l->dirty = 1;
	}
	for (i = 0; i < l->njobs; i++) {
		running += count(&l->jobs[i], PHASE_RUNNING);
		if ((size_t)l->jobs[i].max_running > limit)
			limit = l->jobs[i].max_running;
	}
	for (i = 0; i < l->njobs; i++) {
		j = &l->jobs[i];
		if (count(j, PHASE_QUEUED) == 0 || (r = ready(l, j)) == 0)
			continue;
		mine = count(j, PHASE_RUNNING);
		for (k = 0; k < j->n; k++) {
			if (j->t[k].phase != PHASE_QUEUED)
				continue;
			if (r < 0) {
				j->t[k].phase = PHASE_CANCELLED;
				snprintf(j->t[k].state, sizeof j->t[k].state,
				    "CANCELLED DependencyNeverSatisfied");
				continue;
			}
			/* An update (no index) never waits for a slot. */
			if (j->t[k].index >= 0 && (running >= limit ||
			    mine >= (size_t)j->max_running))
				break;
			if (spawn(l, j, &j->t[k])) {
				running++;
				mine++;
			}
		}
	}
}

/* "calib exec -i 0 OUTPUT, as tasks 1-10 (2 at once)" */
static char *
local_describe(struct sched *s, const struct job_request *q)
{
	struct buf	 b = BUF_INIT;
	char		*cmd = proc_argv_string(q->command);

	(void)s;
	buf_addf(&b, "%s", cmd);
	free(cmd);
	if (q->array)
		buf_addf(&b, ", once for each task %s with CALIB_MEMBER_INDEX "
		    "set to it", q->array);
	if (q->array && q->max_running > 0)
		buf_addf(&b, ", at most %ld at once", q->max_running);
	if (q->after_ok)
		buf_addf(&b, ", once this succeeds: %s", q->after_ok);
	if (q->after_any)
		buf_addf(&b, ", once these end: %s", q->after_any);
	return buf_detach(&b);
}

static int
local_submit(struct sched *s, const struct job_request *q, char **id,
    char **cause)
{
	struct local	*l = (struct local *)s;
	struct ljob	*j;
	long		*idx = NULL;
	size_t		 n = 1, k;
	long		 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char		*why = NULL;

	if (q->command == NULL)
		return failf(cause, "the local backend needs the job's command");
	if (q->array && ranges_parse(q->array, &idx, &n) != 0)
		return failf(cause, "bad array '%s'", q->array);
	l->jobs = xreallocarray(l->jobs, l->njobs + 1, sizeof *l->jobs);
	j = &l->jobs[l->njobs++];
	memset(j, 0, sizeof *j);
	j->id = xasprintf("%s@%ld", q->name, (long)getpid());
	for (k = 0; q->command[k]; k++)
		;
	j->argv = xcalloc(k + 1, sizeof *j->argv);
	for (k = 0; q->command[k]; k++)
		j->argv[k] = xstrdup(q->command[k]);
	j->log = xstrdup(q->log ? q->log : "/dev/null");
	j->offset = q->offset;
	j->max_running = q->max_running > 0 ? q->max_running :
	    (ncpu > 0 ? ncpu : 1);
	j->after = q->after_any ? xstrdup(q->after_any) :
	    q->after_ok ? xstrdup(q->after_ok) : NULL;
	j->after_ok = q->after_any == NULL && q->after_ok != NULL;
	j->n = n;
	j->t = xcalloc(n, sizeof *j->t);
	for (k = 0; k < n; k++) {
		j->t[k].index = idx ? idx[k] : -1;
		j->t[k].phase = PHASE_QUEUED;
		snprintf(j->t[k].state, sizeof j->t[k].state, "PENDING");
	}
	free(idx);
	*id = xstrdup(j->id);
	/*
	 * The job is recorded; its tasks start at the next query, which the
	 * driver makes at once, after it has journaled the job's id: a
	 * driver killed in between leaves an intent that nothing ran from.
	 * A task that cannot start then for want of processes or memory
	 * starts at a later query.
	 */
	if (save_states(l, &why) != 0)
		free(why);
	return 0;
}

/*
 * Jobs of another process: what its driver last wrote of them, while that
 * driver (the ids' pid) is the live owner of the experiment's run lock.
 */
static int
foreign_driver(struct local *l, const char *id, long *pid)
{
	struct run_owner	 o;
	const char		*at = strrchr(id, '@');

	if (at == NULL || !run_owner_read(l->base.exp, &o))
		return 0;
	*pid = strtol(at + 1, NULL, 10);
	return *pid == o.pid && *pid != (long)getpid();
}

/* The states file: "id task phase state" lines. */
static int
save_states(struct local *l, char **cause)
{
	struct buf	 b = BUF_INIT;
	struct ljob	*j;
	char		*path;
	size_t		 i, k;
	int		 rc;

	for (i = 0; i < l->njobs; i++)
		for (j = &l->jobs[i], k = 0; k < j->n; k++)
			buf_addf(&b, "%s %ld %d %s\n", j->id, j->t[k].index,
			    (int)j->t[k].phase, j->t[k].state);
	path = path_join(l->base.exp->output_dir, ".local-jobs");
	rc = write_file_atomic(path, b.s, b.len, cause);
	free(path);
	buf_release(&b);
	if (rc == 0) {
		l->dirty = 0;
		l->saved = now();
	}
	return rc;
}

static void
foreign_states(struct local *l, char *const *ids, size_t n,
    struct job_info **v, size_t *nv)
{
	struct run_owner	 o;
	char			*path, *buf = NULL, *line, *save, *id, *end;
	char			*st, *at, *seen;
	long			 task;
	int			 phase;
	size_t			 i;

	if (!run_owner_read(l->base.exp, &o) || o.pid == (long)getpid())
		return;
	seen = xcalloc(n + 1, 1);
	path = path_join(l->base.exp->output_dir, ".local-jobs");
	if (is_file(path))
		read_file(path, &buf, NULL, NULL);
	free(path);
	for (line = buf ? strtok_r(buf, "\n", &save) : NULL; line;
	    line = strtok_r(NULL, "\n", &save)) {
		id = line;
		if ((end = strchr(line, ' ')) == NULL)
			continue;
		*end++ = '\0';
		task = strtol(end, &end, 10);
		phase = (int)strtol(end, &st, 10);
		if (st == end || *st != ' ' || phase < PHASE_QUEUED ||
		    phase > PHASE_SYSTEM)
			continue;
		if ((at = strrchr(id, '@')) == NULL ||
		    strtol(at + 1, NULL, 10) != o.pid)
			continue;
		for (i = 0; i < n; i++)
			if (!strcmp(ids[i], id)) {
				sched_add_info(v, nv, id, task, phase, st + 1);
				seen[i] = 1;
			}
	}
	free(buf);
	/* Submitted since the driver last wrote the file: live. */
	for (i = 0; i < n; i++)
		if (!seen[i] && (at = strrchr(ids[i], '@')) != NULL &&
		    strtol(at + 1, NULL, 10) == o.pid)
			sched_add_info(v, nv, ids[i], -1, PHASE_QUEUED,
			    "PENDING submitted by calib run");
	free(seen);
}

static int
local_query(struct sched *s, char *const *ids, size_t n, struct job_info **v,
    size_t *nv, char **cause)
{
	struct local	*l = (struct local *)s;
	struct ljob	*j;
	size_t		 i, k, nforeign = 0;

	*v = NULL;
	*nv = 0;
	advance(l);
	for (i = 0; i < n; i++) {
		if ((j = job_by_id(l, ids[i], strlen(ids[i]))) == NULL) {
			nforeign++;
			continue;
		}
		for (k = 0; k < j->n; k++)
			sched_add_info(v, nv, j->id, j->t[k].index,
			    j->t[k].phase, j->t[k].state);
	}
	if (nforeign > 0)
		foreign_states(l, ids, n, v, nv);
	return 0;
}

static int
local_cancel_jobs(struct sched *s, char *const *ids, size_t n, char **cause)
{
	struct local	*l = (struct local *)s;
	struct ljob	*j;
	size_t		 i, k;
	long		 pid, stopped = 0;

	for (i = 0; i < n; i++) {
		if ((j = job_by_id(l, ids[i], strlen(ids[i]))) == NULL) {
			if (foreign_driver(l, ids[i], &pid) && pid != stopped) {
				if (run_owner_stop(l->base.exp, pid, cause) != 0)
					return -1;
				stopped = pid;
			}
			continue;
		}
		for (k = 0; k < j->n; k++)
			if (j->t[k].phase == PHASE_RUNNING) {
				j->t[k].cancelled = 1;
				kill(-j->t[k].pid, SIGTERM);
			} else if (j->t[k].phase == PHASE_QUEUED) {
				j->t[k].phase = PHASE_CANCELLED;
				snprintf(j->t[k].state, sizeof j->t[k].state,
				    "CANCELLED");
			}
	}
	return 0;
}

/* Sleep until a child ends (SIGCHLD, held pending) or the time is up. */
static void
local_wait(struct sched *s, double seconds)
{
	struct local	*l = (struct local *)s;
	struct timespec	 ts;
	sigset_t	 set;
	char		*cause = NULL;

	/*
	 * Others see the states as of this wait, written at most every
	 * SAVE_EVERY seconds however fast members end; a write failing is
	 * not the calibration's failure, and the next wait tries again.
	 */
	if (l->dirty && now() - l->saved >= SAVE_EVERY) {
		if (save_states(l, &cause) != 0)
			free(cause);
	} else if (l->dirty && seconds > l->saved + SAVE_EVERY - now())
		seconds = l->saved + SAVE_EVERY - now();
	if (seconds <= 0)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - ts.tv_sec) * 1e9);
	sigtimedwait(&set, NULL, &ts);
}

const struct scheduler sched_local = {
	.name = "local",
	.summary = "run members as processes on this machine",
	.features = SCHED_SAME_HOST,
	.available = local_available,
	.open = local_open,
	.close = local_close,
	.log_name = local_log_name,
	.max_index = local_max_index,
	.submit = local_submit,
	.describe = local_describe,
	.query = local_query,
	.cancel_jobs = local_cancel_jobs,
	.wait = local_wait,
};
