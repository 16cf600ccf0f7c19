/* The table of backends and the wrappers for optional operations. */
#include <stdlib.h>
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
	if (s->available == NULL)
		return 0;
	return s->available(cause);
}

int
sched_cancel(struct sched *s, const char *id, char **cause)
{
	if (s->ops->cancel == NULL)
		return failf(cause, "backend '%s' cannot cancel jobs", s->ops->name);
	return s->ops->cancel(s, id, cause);
}

void
job_info_free(struct job_info *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}
