/*
 * One calib run drives an experiment at a time: it holds an exclusive
 * flock on output_dir/.run.lock for as long as it lives, and says who it is
 * in output_dir/.run.owner (pid, host, process start, command), so that
 * others can name it, tell whether it still runs, and stop it.
 */
#ifndef CALIB_RUNLOCK_H
#define CALIB_RUNLOCK_H

#include "lib/config.h"

struct run_owner {
	long		 pid;
	char		 host[256];
	unsigned long long start;	/* the process's start, in clock ticks */
	double		 since;		/* when it took the lock */
	char		 backend[32];
	char		 command[256];
};

/*
 * Take the experiment's run lock; the lock goes with the process (and its
 * children that keep the descriptor).  Returns the fd, or -1 with *cause
 * naming the holder.
 */
int	 run_lock(const struct experiment *, char **cause);
/* Record this process as the driver: call once it holds the lock. */
int	 run_owner_write(const struct experiment *, const char *backend,
	    const char *command, char **cause);
/*
 * The driver recorded in .run.owner, when it is still alive on this host
 * (1); 0 when there is none or it is gone.
 */
int	 run_owner_read(const struct experiment *, struct run_owner *);
/*
 * Stop the live driver pid (SIGTERM) and wait, for up to a minute, until
 * it is gone; its local members stop with it.  Returns 0, or -1.
 */
int	 run_owner_stop(const struct experiment *, long pid, char **cause);

#endif
