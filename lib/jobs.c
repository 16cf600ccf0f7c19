/*
 * The experiment's jobs as their backend sees them, for calib status and
 * calib cancel (see driver.h): one query for every job of the journal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/driver.h"
#include "lib/forward.h"
#include "lib/ranges.h"
#include "lib/runlock.h"
#include "lib/util.h"

/* Count the tasks the scheduler listed for each journal entry. */
static void
summarise(struct journal *j, const struct job_info *info, size_t ni,
    struct job_summary *v)
{
	size_t	 i, k;

	for (i = 0; i < j->n; i++) {
		v[i].entry = &j->v[i];
		for (k = 0; k < ni; k++) {
			if (!j->v[i].id || strcmp(info[k].id, j->v[i].id))
				continue;
			if (v[i].state[0] == '\0')
				snprintf(v[i].state, sizeof v[i].state, "%s",
				    info[k].state);
			if (info[k].phase == PHASE_QUEUED)
				v[i].queued++;
			else if (info[k].phase == PHASE_RUNNING)
				v[i].running++;
			else
				v[i].ended++;
		}
		v[i].live = v[i].queued + v[i].running > 0;
	}
}

int
driver_jobs(const struct experiment *e, struct journal *j,
    const struct scheduler **scp, struct job_summary **out, size_t *n,
    char **cause)
{
	const struct scheduler	*sc;
	struct job_info		*info = NULL;
	struct sched		*s;
	char			**ids;
	size_t			 i, ni = 0, nids = 0;
	int			 rc;

	*out = NULL;
	*n = 0;
	*scp = NULL;
	if (j->n == 0)
		return 0;
	if ((sc = scheduler_find(j->v[j->n - 1].backend)) == NULL)
		return failf(cause, "%s: jobs of unknown backend '%s'", j->path,
		    j->v[j->n - 1].backend);
	*scp = sc;
	ids = xcalloc(j->n + 1, sizeof *ids);
	for (i = 0; i < j->n; i++)
		if (j->v[i].id && !strcmp(j->v[i].backend, sc->name))
			ids[nids++] = j->v[i].id;
	if ((s = sc->open(e, cause)) == NULL) {
		free(ids);
		return -1;
	}
	rc = sc->query(s, ids, nids, &info, &ni, cause);
	sc->close(s);
	free(ids);
	if (rc != 0)
		return -1;
	*out = xcalloc(j->n, sizeof **out);
	summarise(j, info, ni, *out);
	job_info_free(info, ni);
	*n = j->n;
	return 0;
}

long
driver_live(const struct experiment *e, long it, long m,
    const char **backend, struct buf *b, char **cause)
{
	const struct scheduler	*sc;
	const struct jentry	*x;
	struct job_summary	*v;
	struct journal		 j;
	size_t			 nv, i;
	long			 n = 0;

	*backend = NULL;
	if (journal_load(e, &j, cause) != 0)
		return -1;
	if (driver_jobs(e, &j, &sc, &v, &nv, cause) != 0) {
		journal_release(&j);
		return -1;
	}
	for (i = 0; i < nv; i++) {
		x = v[i].entry;
		/* A member's job, or the update that will read it. */
		if (!v[i].live || (it >= 0 && x->iteration != it) ||
		    (m > 0 && x->kind == JOB_MEMBERS &&
		    !ranges_contain(x->members, m)))
			continue;
		buf_addsep(b, ":", x->id);
		*backend = sc->name;
		n++;
	}
	free(v);
	journal_release(&j);
	return n;
}

long
member_running(const struct experiment *e, long it)
{
	char	*dir;
	long	 m;
	int	 r;

	for (m = 1; m <= e->ensemble_size; m++) {
		dir = member_dir(e, it, m);
		r = member_locked(dir);
		free(dir);
		if (r == 1)
			return m;
	}
	return 0;
}

/* Stop the live driver of a backend whose jobs die with it. */
static int
stop_owner(const struct experiment *e, long *stopped, char **cause)
{
	const struct scheduler	*sc;
	struct run_owner	 o;

	*stopped = 0;
	if (!run_owner_read(e, &o) || o.pid == (long)getpid() ||
	    (sc = scheduler_find(o.backend)) == NULL ||
	    sched_has(sc, SCHED_CHAINS))
		return 0;
	*stopped = o.pid;
	return run_owner_stop(e, o.pid, cause);
}

int
driver_cancel(const struct experiment *e, size_t *n, long *stopped,
    char **cause)
{
	const struct scheduler	*sc;
	struct job_summary	*v;
	struct journal		 j;
	struct sched		*s;
	char			**ids;
	size_t			 nv, i, k = 0;
	int			 rc = -1;

	*n = 0;
	if (journal_load(e, &j, cause) != 0)
		return -1;
	if (driver_jobs(e, &j, &sc, &v, &nv, cause) != 0) {
		journal_release(&j);
		return -1;
	}
	ids = xcalloc(nv + 1, sizeof *ids);
	for (i = 0; i < nv; i++)
		if (v[i].live)
			ids[k++] = v[i].entry->id;
	if (k == 0)
		rc = 0;
	else if ((s = sc->open(e, cause)) != NULL) {
		/* Record first: the decision knows calib cancelled them. */
		for (i = 0, rc = 0; i < k && rc == 0; i++)
			rc = journal_cancel(&j, ids[i], cause);
		if (rc == 0)
			rc = sc->cancel_jobs(s, ids, k, cause);
		sc->close(s);
		if (rc == 0)
			*n = k;
	}
	free(ids);
	free(v);
	journal_release(&j);
	if (rc == 0)
		rc = stop_owner(e, stopped, cause);
	return rc;
}
