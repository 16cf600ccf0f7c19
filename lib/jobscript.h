/* Job scripts for the backends that run them (SCHED_SCRIPTS). */
#ifndef CALIB_JOBSCRIPT_H
#define CALIB_JOBSCRIPT_H

#include "lib/journal.h"
#include "schedulers/scheduler.h"

/*
 * Can calib write job scripts for e here?  Paths that go into scripts and
 * their directive lines (the output directory, the calib binary) must be
 * one line without blanks or quotes.  Returns 0, or -1 with *cause.
 */
int	 job_script_check(const struct experiment *, const char *calib,
	    char **cause);

/*
 * Render the script of a member or update job of iteration it from the
 * backend's template (calib-templates(7)).  Returns 0, or -1 with *cause.
 */
int	 job_script(const struct experiment *, const struct scheduler *,
	    const char *calib, enum jkind, long it, char **text, char **cause);

#endif
