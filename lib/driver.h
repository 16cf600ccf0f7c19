/* Driving an experiment to its end through a backend: `calib run`. */
#ifndef CALIB_DRIVER_H
#define CALIB_DRIVER_H

#include "lib/calib.h"
#include "schedulers/scheduler.h"

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

/*
 * Run the experiment from wherever it stands until every iteration has run
 * and been closed: members through the backend (at most jobs at once), then
 * the update, and so on.  Members that already succeeded are not run again.
 * Returns 0, or -1 with *cause set.
 */
int	 drive(const struct experiment *, const struct scheduler *, int jobs,
	    const char *calib, const struct driver_hooks *, char **cause);

/*
 * Take the experiment's run lock (output_dir/.run.lock) so that only one
 * calib run drives it; the lock goes with the process.  Returns the fd.
 */
int	 run_lock(const struct experiment *, char **cause);

#endif
