/* The table of backends and the wrappers for optional operations. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include "lib/util.h"
#include "schedulers/scheduler.h"

const struct scheduler *const schedulers[] = {
	&sched_local,
	&sched_slurm,
	&sched_pbs,
	&sched_torque,
	NULL
};

const struct scheduler *
scheduler_find(const char *name)
{
	size_t	 i;

	for (i = 0; schedulers[i]; i++)
		if (!strcmp(schedulers[i]->name, name))
			return schedulers[i];
	return NULL;
}

int
sched_available(const struct scheduler *s, char **cause)
{
	return s->available(cause);
}

int
sched_has(const struct scheduler *s, unsigned int feature)
{
	return (s->features & feature) == feature;
}

int
sched_find(struct sched *s, char *const *names, size_t n, char ***ids,
    char **cause)
{
	if (!sched_has(s->ops, SCHED_FIND)) {
		*ids = xcalloc(n + 1, sizeof **ids);
		return 0;
	}
	return s->ops->find(s, names, n, ids, cause);
}

int
sched_history(struct sched *s, char *const *ids, size_t n,
    struct job_info **v, size_t *nv, char **cause)
{
	*v = NULL;
	*nv = 0;
	if (!sched_has(s->ops, SCHED_HISTORY))
		return 1;
	return s->ops->history(s, ids, n, v, nv, cause);
}

void
sched_sleep(struct sched *s, double seconds)
{
	struct timespec	 ts;

	(void)s;
	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void
job_info_free(struct job_info *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}
