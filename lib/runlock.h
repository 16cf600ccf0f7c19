/*
 * One calib command changes an experiment at a time: calib run for as long
 * as it drives it, calib init while it writes it, calib update and calib
 * exec run by hand (not from calib's own jobs) while they work.  The holder
 * takes an exclusive flock on the lock file beside the output folder
 * (PARENT/.NAME.lock for output_dir PARENT/NAME) and writes into it who it
 * is (pid, host, process start, command), so that others can name it, tell
 * whether it still runs, and stop it.  See calib-state(5).
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

/* The lock file's path, for e's output folder. */
char	*run_lock_path(const struct experiment *);
/*
 * Take the experiment's lock for command (backend: the driver's backend,
 * or "-") and record this process as its holder; the lock goes with the
 * process (and its children that keep the descriptor).  Returns the fd,
 * or -1 with *cause naming the holder, or the filesystem that cannot lock.
 */
int	 run_lock(const struct experiment *, const char *backend,
	    const char *command, char **cause);
/* Record this process as the holder again (after a fork). */
int	 run_owner_write(const struct experiment *, const char *backend,
	    const char *command, char **cause);
/*
 * The holder recorded in the lock file, when it is still alive on this
 * host (1); 0 when there is none or it is gone.
 */
int	 run_owner_read(const struct experiment *, struct run_owner *);
/*
 * Stop the live driver pid (SIGTERM) and wait, for up to a minute, until
 * it is gone; its local members stop with it.  Returns 0, or -1.
 */
int	 run_owner_stop(const struct experiment *, long pid, char **cause);

#endif
