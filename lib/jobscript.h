/* Job scripts for the backends that run them (SCHED_SCRIPTS). */
#ifndef CALIB_JOBSCRIPT_H
#define CALIB_JOBSCRIPT_H

#include "lib/journal.h"
#include "schedulers/scheduler.h"

/*
 * Render the script of a member or update job of iteration it from the
 * backend's template (calib-templates(7)).  Returns 0, or -1 with *cause.
 */
int	 job_script(const struct experiment *, const struct scheduler *,
	    const char *calib, enum jkind, long it, char **text, char **cause);

#endif
