/*
 * The local backend: members run as `calib exec` child processes of
 * `calib run`, at most max_running at once.  Each child gets SIGTERM if
 * calib run dies, so it stops its model and records that it was interrupted.
 */
#include <sys/prctl.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "schedulers/scheduler.h"

struct local_task {
	long		 member;
	pid_t		 pid;
	enum job_state	 state;
};

struct local {
	struct sched		 base;		/* first: the common handle */
	struct local_task	*tasks;
	size_t			 n;
	long			 iteration;
	int			 max_running;
	char			*calib;
	sigset_t		 oldmask;
};

static struct sched *
local_open(const struct experiment *e, char **cause)
{
	struct local	*l = xcalloc(1, sizeof *l);
	sigset_t	 set;

	l->base.ops = &sched_local;
	l->base.exp = e;
	/* SIGCHLD is waited for with sigtimedwait, so keep it pending. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &l->oldmask);
	return &l->base;
}

static void
local_close(struct sched *s)
{
	struct local	*l = (struct local *)s;

	sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
	free(l->tasks);
	free(l->calib);
	free(l);
}

static int
spawn(struct local *l, struct local_task *t, char **cause)
{
	char	 it[32], mem[32];
	pid_t	 pid, parent = getpid();
	char	*argv[] = { l->calib, "exec", "-i", it, "-m", mem,
	    (char *)l->base.exp->output_dir, NULL };

	snprintf(it, sizeof it, "%ld", l->iteration);
	snprintf(mem, sizeof mem, "%ld", t->member);
	fflush(NULL);
	if ((pid = fork()) == -1)
		return failf(cause, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
		execv(argv[0], argv);
		fprintf(stderr, "calib: cannot run '%s': %s\n", argv[0],
		    strerror(errno));
		_exit(1);
	}
	t->pid = pid;
	t->state = JOB_RUNNING;
	return 0;
}

static int
local_submit(struct sched *s, const struct sched_array *a, char **id,
    char **cause)
{
	struct local	*l = (struct local *)s;
	size_t		 i;

	if (l->tasks != NULL)
		return failf(cause, "the local backend runs one array at a time");
	l->tasks = xcalloc(a->n, sizeof *l->tasks);
	l->n = a->n;
	l->iteration = a->iteration;
	l->max_running = a->max_running > 0 ? a->max_running : 1;
	l->calib = xstrdup(a->calib);
	for (i = 0; i < a->n; i++) {
		l->tasks[i].member = a->members[i];
		l->tasks[i].state = JOB_QUEUED;
	}
	*id = xasprintf("local-%ld", (long)getpid());
	return 0;
}

static int
local_poll(struct sched *s, const char *id, struct task_state *out, size_t n,
    char **cause)
{
	struct local	*l = (struct local *)s;
	size_t		 i;
	int		 running = 0, ws;
	pid_t		 pid;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
		for (i = 0; i < l->n; i++)
			if (l->tasks[i].pid == pid && l->tasks[i].state ==
			    JOB_RUNNING) {
				l->tasks[i].state = WIFEXITED(ws) &&
				    WEXITSTATUS(ws) == 0 ? JOB_DONE : JOB_FAILED;
				break;
			}
	for (i = 0; i < l->n; i++)
		running += l->tasks[i].state == JOB_RUNNING;
	for (i = 0; i < l->n && running < l->max_running; i++)
		if (l->tasks[i].state == JOB_QUEUED) {
			if (spawn(l, &l->tasks[i], cause) != 0)
				return -1;
			running++;
		}
	for (i = 0; i < n && i < l->n; i++) {
		out[i].member = l->tasks[i].member;
		out[i].state = l->tasks[i].state;
	}
	if (running == 0) {
		/* Everything ended: the next array may be submitted. */
		free(l->tasks);
		l->tasks = NULL;
		l->n = 0;
		free(l->calib);
		l->calib = NULL;
	}
	return 0;
}

static void
local_wait(struct sched *s, double seconds)
{
	struct timespec	 ts;
	sigset_t	 set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - ts.tv_sec) * 1e9);
	sigtimedwait(&set, NULL, &ts);
}

static int
local_cancel(struct sched *s, const char *id, char **cause)
{
	struct local	*l = (struct local *)s;
	size_t		 i;

	for (i = 0; i < l->n; i++)
		if (l->tasks[i].state == JOB_RUNNING)
			kill(l->tasks[i].pid, SIGTERM);
		else if (l->tasks[i].state == JOB_QUEUED)
			l->tasks[i].state = JOB_FAILED;
	return 0;
}

const struct scheduler sched_local = {
	.name = "local",
	.summary = "run members as processes on this machine",
	.available = NULL,
	.open = local_open,
	.close = local_close,
	.submit_array = local_submit,
	.poll = local_poll,
	.wait = local_wait,
	.cancel = local_cancel,
};
