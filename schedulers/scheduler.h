/*
 * Backends that run an iteration's members: one interface for every
 * backend (local processes, Slurm, PBS), one file per backend, a registry.
 * One driver (lib/driver.c) runs every backend the same way: it submits
 * jobs, records them in the journal, queries them, cancels them.  What a
 * backend can do beyond that is advertised in `features`; the driver asks
 * the features, never whether an operation is NULL, and the optional
 * operations are reached through the sched_* wrappers.
 */
#ifndef CALIB_SCHEDULER_H
#define CALIB_SCHEDULER_H

#include <stddef.h>

#include "lib/config.h"

enum { LOG_MEMBER, LOG_ARRAY, LOG_UPDATE };

/* What a backend can do beyond submit, query and cancel. */
enum {
	/* Jobs run scripts rendered from templates/<template_dir>/. */
	SCHED_SCRIPTS		= 1 << 0,
	/* Jobs outlive calib, with their dependencies: --detach submits the
	   whole chain; otherwise it runs the driver in the background. */
	SCHED_CHAINS		= 1 << 1,
	/* find: live jobs by name, for intents whose id was never recorded. */
	SCHED_FIND		= 1 << 2,
	/* history: finished jobs from accounting. */
	SCHED_HISTORY		= 1 << 3,
	/* Arrays must be one range "a-b" (PBS Pro's -J), not a list. */
	SCHED_RANGES_ONLY	= 1 << 4,
	/* Jobs run on this machine: what they wrote is there when they end,
	   with no shared filesystem's lag. */
	SCHED_SAME_HOST		= 1 << 5,
};

/* One submission: an array of members, or an update job. */
struct job_request {
	const char	*script;	/* the rendered job script (SCHED_SCRIPTS) */
	char *const	*command;	/* what the job runs, for backends
					   without scripts */
	const char	*name;		/* job name, unique in the journal */
	const char	*array;		/* indices "1-20,25"; NULL: a single job */
	long		 max_running;	/* array tasks at once; 0: no limit */
	const char	*after_any;	/* "id:id": start once these ended */
	const char	*after_ok;	/* "id:id": start once these succeeded */
	const char	*log;		/* log path pattern overriding the script's */
	long		 offset;	/* exported as CALIB_ARRAY_OFFSET when > 0 */
};

/* How a batch job or array task stands, in the scheduler's words mapped. */
enum job_phase {
	PHASE_QUEUED,
	PHASE_RUNNING,
	PHASE_COMPLETED,	/* exited 0 */
	PHASE_FAILED,		/* exited non-zero, timed out, out of memory */
	PHASE_CANCELLED,	/* cancelled by a user or a dependency */
	PHASE_SYSTEM,		/* node failure, boot failure, preemption */
};

struct job_info {
	char		*id;		/* the job id as submitted (the array's) */
	long		 task;		/* array index; -1 for a single job */
	enum job_phase	 phase;
	char		 state[64];	/* the scheduler's own state and reason */
};

/* The common handle; a backend's private state embeds it first. */
struct sched {
	const struct scheduler		*ops;
	const struct experiment		*exp;
};

struct scheduler {
	const char	*name;
	const char	*summary;
	unsigned int	 features;	/* SCHED_* */
	/* 0 when usable here; else -1 with what to install or load. */
	int		(*available)(char **cause);
	struct sched	*(*open)(const struct experiment *, char **cause);
	void		(*close)(struct sched *);

	const char	*template_dir;		/* SCHED_SCRIPTS */
	const char	*script_suffix;		/* ".sbatch" */
	/*
	 * The log file of a job, relative to the iteration folder: of a member
	 * job (in its member folder, whose number has `width` digits), of an
	 * array whose indices are not member numbers, of an update job.  With
	 * id NULL, the pattern the scheduler fills in itself (Slurm's %j);
	 * with the job's id, the name of that job's log.
	 */
	char		*(*log_name)(int kind, int width, const char *id);
	/* The largest array index the scheduler accepts. */
	long		(*max_index)(struct sched *, char **cause);
	/*
	 * Directive lines for a job asking for r, logging to log; -1 with a
	 * cause when r asks for what this scheduler cannot express.
	 */
	int		(*directives)(const struct resources *r, const char *log,
			    char **out, char **cause);
	/*
	 * Submit one job; 0 with *id, -1 with *cause, or 1 with *cause when
	 * the scheduler could not be reached (the driver tries again, for as
	 * long as it waits for an unanswered poll).
	 */
	int		(*submit)(struct sched *, const struct job_request *,
			    char **id, char **cause);
	/* The command submit would run for q, for calib run --dry-run. */
	char		*(*describe)(struct sched *, const struct job_request *);
	/*
	 * The state of jobs ids[0..n) and all of their array tasks, in one
	 * call to the scheduler.  Jobs it no longer knows are left out.
	 */
	int		(*query)(struct sched *, char *const *ids, size_t n,
			    struct job_info **, size_t *ninfo, char **cause);
	int		(*cancel_jobs)(struct sched *, char *const *ids, size_t n,
			    char **cause);
	/* Block until something may have changed, or at most `seconds`. */
	void		(*wait)(struct sched *, double seconds);
	/* SCHED_FIND: live jobs by name; (*ids)[i] NULL when not found. */
	int		(*find)(struct sched *, char *const *names, size_t n,
			    char ***ids, char **cause);
	/*
	 * SCHED_HISTORY: finished jobs from accounting (sacct); 1 when the
	 * cluster keeps no accounting.
	 */
	int		(*history)(struct sched *, char *const *ids, size_t n,
			    struct job_info **, size_t *ninfo, char **cause);
};

void	 job_info_free(struct job_info *, size_t);

/* The backend called name, or NULL. */
const struct scheduler	*scheduler_find(const char *name);
/* The NULL-terminated list of every backend. */
extern const struct scheduler *const schedulers[];

int	 sched_available(const struct scheduler *, char **cause);
int	 sched_has(const struct scheduler *, unsigned int feature);
/* find, or every id NULL when the backend cannot find jobs by name. */
int	 sched_find(struct sched *, char *const *names, size_t n, char ***ids,
	    char **cause);
/* history, or 1 (no accounting) when the backend keeps none. */
int	 sched_history(struct sched *, char *const *ids, size_t n,
	    struct job_info **, size_t *ninfo, char **cause);
/* Sleep for seconds; for backends with nothing better to wait on. */
void	 sched_sleep(struct sched *, double seconds);

extern const struct scheduler sched_local;
extern const struct scheduler sched_slurm;
extern const struct scheduler sched_pbs;
extern const struct scheduler sched_torque;

/* sacct -P output (JobID|State|ExitCode) to job_info, for the tests too. */
int	 slurm_parse_sacct(const char *text, struct job_info **, size_t *n,
	    char **cause);
/* squeue -o '%i|%T|%r' output likewise. */
int	 slurm_parse_squeue(const char *text, struct job_info **, size_t *n,
	    char **cause);

/*
 * For the batch backends (schedulers/command.c).  sched_run runs argv
 * without a shell; an exit status other than 0 and those in the
 * 0-terminated accept list is an error quoting the command's last line,
 * and then r is released.
 */
struct proc_result;
int	 sched_on_path(const char *prog);
int	 sched_run(char *const argv[], int (*drop)(const char *),
	    const int *accept, struct proc_result *r, char **cause);
/*
 * Does the error of a failed command say that its server could not be
 * reached (one of the NULL-terminated phrases, or no answer in time)?
 */
int	 sched_unreachable(const char *cause, const char *const *phrases);
/* Did the failed command end by saying what?  Then forget the error. */
int	 sched_failed_with(char **cause, const char *what);
char	*sched_join(char *const *v, size_t n, const char *sep);
/* Append the directive line "<prefix> <option>\n" to *out. */
struct buf;
void	 sched_directive(struct buf *out, const char *prefix, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Room for element n of a job_info array grown by these two. */
void	 sched_info_room(struct job_info **, size_t n);
void	 sched_add_info(struct job_info **, size_t *, const char *id,
	    long task, enum job_phase, const char *state);

/* qstat -f -F json (PBS Pro) and qstat -x (Torque) documents likewise. */
int	 pbs_parse_json(const char *text, struct job_info **, size_t *n,
	    char **cause);
int	 torque_parse_xml(const char *text, struct job_info **, size_t *n,
	    char **cause);
/* The qsub command line for q; NULL-terminated, free with argv_free. */
char	**pbs_qsub_argv(const struct scheduler *, const struct job_request *q);
void	 argv_free(char **);

#endif
