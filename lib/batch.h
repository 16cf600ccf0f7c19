/*
 * Driving an experiment through a batch system (Slurm, PBS): job scripts
 * from templates, one array job per iteration and one update job, every
 * job recorded in the journal before and after submission, one query per
 * poll, retries of members that died for reasons outside the model.
 */
#ifndef CALIB_BATCH_H
#define CALIB_BATCH_H

#include "lib/driver.h"
#include "lib/journal.h"

struct batch_opts {
	const char	*calib;		/* calib binary the jobs run */
	long		 max_running;	/* array tasks at once; 0: no limit */
	int		 detach;	/* submit the whole chain and return */
	int		 verbose;	/* note every poll */
};

/*
 * Attached: run the experiment to its end through sc, reattaching to the
 * jobs in the journal.  Detached: submit every remaining iteration as a
 * dependency chain and return.  Returns 0, or -1 with *cause set.
 */
int	 batch_drive(const struct experiment *, const struct scheduler *,
	    const struct batch_opts *, const struct driver_hooks *,
	    char **cause);

/* A job of the journal as the scheduler sees it now. */
struct job_summary {
	const struct jentry *entry;
	int		 live;		/* the scheduler still runs or queues it */
	size_t		 queued, running, ended;
	char		 state[64];	/* of a single job, or of the first task */
};

/*
 * The experiment's jobs from the journal, with their states from one query
 * to their backend (the backend of the journal's newest record).  *sc is
 * set to that backend, or NULL when the journal is empty.
 */
int	 batch_jobs(const struct experiment *, struct journal *,
	    const struct scheduler **sc, struct job_summary **, size_t *n,
	    char **cause);

/*
 * calib cancel: cancel every live job of the experiment and record it in
 * the journal.  *n is set to the number of jobs cancelled.
 */
int	 batch_cancel(const struct experiment *, size_t *n, char **cause);

/* Render the script of a member or update job for iteration it. */
int	 batch_script(const struct experiment *, const struct scheduler *,
	    const char *calib, enum jkind, long it, char **text, char **cause);

#endif
