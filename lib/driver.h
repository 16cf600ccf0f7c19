/*
 * The one driver of `calib run`, for every backend: members as array jobs,
 * one update job per iteration, every job recorded in the journal before
 * and after its submission, one query per poll, and for each member a
 * decision (lib/decide.h) from the journal, the scheduler and its status
 * file.  Attached, it runs the calibration to its end, reattaching to the
 * jobs in the journal; detached on a backend whose jobs outlive calib
 * (SCHED_CHAINS), it submits the remaining iterations as a dependency
 * chain and returns.
 */
#ifndef CALIB_DRIVER_H
#define CALIB_DRIVER_H

#include "lib/calib.h"
#include "lib/journal.h"
#include "schedulers/scheduler.h"

struct buf;

struct progress {
	long		 iteration;
	size_t		 n;		/* members in the iteration */
	size_t		 done, failed, running, queued;
	size_t		 kept;		/* succeeded before this run started */
};

struct driver_hooks {
	/* Called whenever the members' counts change. */
	void	(*members)(const struct progress *, void *);
	/* Called when an iteration is closed (or found closed). */
	void	(*updated)(const struct experiment *, const struct update_report *,
		    void *);
	/* A line worth telling the user: a submission, a retry. */
	void	(*note)(const char *, void *);
	void	*arg;
};

struct drive_opts {
	const char	*calib;		/* calib binary the jobs run */
	long		 max_running;	/* array tasks at once; 0: the backend's */
	int		 chain;		/* submit the whole chain and return */
	int		 verbose;	/* note every poll */
	int		 retry_failed;	/* run again what failed before */
	int		 dry;		/* say what would be submitted, as a
					   chain; change nothing */
};

/*
 * Run the experiment through sc from wherever it stands: to its end, or
 * (o->chain) as far as submitting its chain.  Returns 0, or -1 with *cause.
 */
int	 drive(const struct experiment *, const struct scheduler *sc,
	    const struct drive_opts *, const struct driver_hooks *,
	    char **cause);

/* A job of the journal as its backend sees it now. */
struct job_summary {
	const struct jentry *entry;
	int		 live;		/* the backend still runs or queues it */
	size_t		 queued, running, ended;
	char		 state[64];	/* of a single job, or of the first task */
};

/*
 * The experiment's jobs from the journal, with their states from one query
 * to their backend (the backend of the journal's newest record).  *sc is
 * set to that backend, or NULL when the journal is empty.
 */
int	 driver_jobs(const struct experiment *, struct journal *,
	    const struct scheduler **sc, struct job_summary **, size_t *n,
	    char **cause);

/*
 * The journal's live jobs (of iteration it and covering member m, where
 * these are not negative), for the commands that must not run beside
 * them: their ids into b (":"-joined), their backend's name into *backend
 * when there are any.  Returns how many, or -1 with *cause when the
 * backend cannot be asked.
 */
long	 driver_live(const struct experiment *, long it, long m,
	    const char **backend, struct buf *b, char **cause);

/*
 * The first member of iteration it that a calib exec still runs (holds),
 * or 0 when none does.
 */
long	 member_running(const struct experiment *, long it);

/*
 * calib cancel: cancel every live job of the experiment, recording each in
 * the journal first.  *n is set to the number of jobs cancelled.  A calib
 * run of a backend whose jobs die with it (local) is stopped too, even
 * between jobs: *stopped is its pid, or 0.
 */
int	 driver_cancel(const struct experiment *, size_t *n, long *stopped,
	    char **cause);

#endif
