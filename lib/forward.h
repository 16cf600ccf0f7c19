/* Running one member's forward model: what `calib exec` does. */
#ifndef CALIB_FORWARD_H
#define CALIB_FORWARD_H

#include "lib/config.h"
#include "lib/state.h"

/*
 * Run member `m` of iteration `it` in its directory, enforcing the timeout
 * on the model's whole process group, then check its output (d values: see
 * observations_count) and record the attempt in the member's status file.
 * Returns 0 when the attempt was recorded (st->success tells how it
 * ended), 1 when the member had succeeded already and force is 0 (st is
 * that attempt's status; nothing is run), and -1 with *cause set when the
 * member could not be run at all (nothing is recorded then).
 */
int	 forward_run(const struct experiment *, long it, long m, size_t d,
	    int force, struct member_status *st, char **cause);

/*
 * The model's program as calib runs it: a relative path with a '/' is
 * taken from the experiment's folder (*prog is replaced), a bare name is
 * looked up in PATH, an absolute path is left alone.
 */
void	 model_path(const struct experiment *, char **prog);

/*
 * Can this machine run the model's program?  It must be found (in the
 * experiment's folder or PATH, see model_path), be a regular file and be
 * executable.  -1 with *cause naming the experiment file, line and column
 * when it cannot.
 */
int	 model_check(const struct experiment *, char **cause);

/*
 * Whether a calib exec holds the member in folder dir now: 1 yes, 0 no,
 * -1 cannot tell.  (It holds the lock from before "running" is recorded
 * until the attempt's end is.)
 */
int	 member_locked(const char *dir);

/*
 * The member that an array task of a batch job stands for:
 * CALIB_MEMBER_INDEX, which the job script sets from its scheduler's array
 * index, plus CALIB_ARRAY_OFFSET.  Returns 0, or -1 with *cause set.
 */
int	 member_from_env(long *m, char **cause);

/*
 * The id of the job (of its array) this process runs in, from CALIB_JOB_ID
 * (set by the job script or the local backend), or "".
 */
void	 batch_job_id(char *buf, size_t len);

#endif
