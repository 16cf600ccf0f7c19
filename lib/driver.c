/* The loop of `calib run`: members, update, next iteration, to the end. */
#include <sys/file.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/driver.h"
#include "lib/fsio.h"
#include "lib/util.h"

/* Longest wait between progress refreshes, in seconds. */
#define REFRESH	1.0

int
run_lock(const struct experiment *e, char **cause)
{
	char	*path = path_join(e->output_dir, ".run.lock");
	int	 fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		failf(cause, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		return failf(cause, "%s: another 'calib run' is driving this "
		    "experiment", e->output_dir);
	}
	return fd;
}

/* Members of iteration it without a successful status, into *list. */
static int
pending_members(const struct experiment *e, long it, long **list, size_t *n,
    size_t *kept, char **cause)
{
	struct member_status	 st;
	char			*dir;
	long			 m;
	int			 r;

	*list = xmallocarray(e->ensemble_size, sizeof **list);
	*n = 0;
	*kept = 0;
	for (m = 1; m <= e->ensemble_size; m++) {
		dir = member_dir(e, it, m);
		r = status_read(dir, &st, cause);
		free(dir);
		if (r < 0)
			return -1;
		if (r == 1 && st.success)
			(*kept)++;
		else
			(*list)[(*n)++] = m;
	}
	return 0;
}

static int
run_members(const struct experiment *e, struct sched *s, long it, int jobs,
    const char *calib, const struct driver_hooks *h, char **cause)
{
	struct sched_array	 a;
	struct task_state	*ts = NULL;
	struct progress		 p, last;
	long			*list = NULL;
	size_t			 n, i;
	char			*id = NULL;
	int			 rc = -1;

	if (pending_members(e, it, &list, &n, &p.kept, cause) != 0)
		goto out;
	memset(&last, 0xff, sizeof last);
	p.iteration = it;
	p.n = e->ensemble_size;
	if (n == 0) {
		p.done = p.failed = p.running = p.queued = 0;
		if (h->members)
			h->members(&p, h->arg);
		rc = 0;
		goto out;
	}
	a.iteration = it;
	a.members = list;
	a.n = n;
	a.max_running = jobs;
	a.calib = calib;
	if (s->ops->submit_array(s, &a, &id, cause) != 0)
		goto out;
	ts = xcalloc(n, sizeof *ts);
	for (;;) {
		if (s->ops->poll(s, id, ts, n, cause) != 0)
			goto out;
		p.done = p.failed = p.running = p.queued = 0;
		for (i = 0; i < n; i++)
			switch (ts[i].state) {
			case JOB_QUEUED: p.queued++; break;
			case JOB_RUNNING: p.running++; break;
			case JOB_DONE: p.done++; break;
			case JOB_FAILED: p.failed++; break;
			}
		if (h->members && memcmp(&p, &last, sizeof p) != 0)
			h->members(&p, h->arg);
		last = p;
		if (p.queued == 0 && p.running == 0)
			break;
		s->ops->wait(s, REFRESH);
	}
	rc = 0;
out:
	free(ts);
	free(list);
	free(id);
	return rc;
}

int
drive(const struct experiment *e, const struct scheduler *sc, int jobs,
    const char *calib, const struct driver_hooks *h, char **cause)
{
	struct update_report	 rep;
	struct sched		*s;
	long			 it;
	int			 rc = -1;

	if ((s = sc->open(e, cause)) == NULL)
		return -1;
	for (;;) {
		it = newest_iteration(e);
		if (it < 0) {
			failf(cause, "%s: not initialised", e->output_dir);
			break;
		}
		if (!iteration_closed(e, it) &&
		    run_members(e, s, it, jobs, calib, h, cause) != 0)
			break;
		if (update_experiment(e, it, &rep, cause) != 0)
			break;
		if (h->updated)
			h->updated(e, &rep, h->arg);
		if (rep.final) {
			rc = 0;
			break;
		}
	}
	sc->close(s);
	return rc;
}
