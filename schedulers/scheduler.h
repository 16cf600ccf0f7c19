/*
 * Backends that run an iteration's members: one interface, one file per
 * backend, a registry.  Optional operations may be NULL; callers use the
 * sched_* wrappers, which answer "not supported" instead.
 */
#ifndef CALIB_SCHEDULER_H
#define CALIB_SCHEDULER_H

#include <stddef.h>

#include "lib/config.h"

enum job_state {
	JOB_QUEUED,
	JOB_RUNNING,
	JOB_DONE,	/* calib exec exited 0: the member succeeded */
	JOB_FAILED,	/* calib exec exited non-zero, or the job died */
};

/* One iteration's members, submitted together (an array job). */
struct sched_array {
	long		 iteration;
	const long	*members;	/* 1-based member numbers */
	size_t		 n;
	int		 max_running;	/* at most this many at once; 0: no limit */
	const char	*calib;		/* absolute path of the calib binary */
};

struct task_state {
	long		 member;
	enum job_state	 state;
};

/* The common handle; a backend's private state embeds it first. */
struct sched {
	const struct scheduler		*ops;
	const struct experiment		*exp;
};

struct scheduler {
	const char	*name;
	const char	*summary;
	/* 0 when usable here; else -1 with what to install or load. */
	int		(*available)(char **cause);
	struct sched	*(*open)(const struct experiment *, char **cause);
	void		(*close)(struct sched *);
	/* Submit an array; *id names it for poll and cancel. */
	int		(*submit_array)(struct sched *, const struct sched_array *,
			    char **id, char **cause);
	/* Fill the state of each of the array's n tasks. */
	int		(*poll)(struct sched *, const char *id,
			    struct task_state *, size_t n, char **cause);
	/* Block until something may have changed, or at most `seconds`. */
	void		(*wait)(struct sched *, double seconds);
	int		(*cancel)(struct sched *, const char *id, char **cause);
};

/* The backend called name, or NULL. */
const struct scheduler	*scheduler_find(const char *name);
/* The NULL-terminated list of every backend. */
extern const struct scheduler *const schedulers[];

int	 sched_available(const struct scheduler *, char **cause);
int	 sched_cancel(struct sched *, const char *id, char **cause);

extern const struct scheduler sched_local;

#endif
