/*
 * calib report: an HTML page and the figures of lib/figures.h, for a
 * calibration in progress or ended.  The page is written by hand (there
 * is no HTML in the figures' library); it needs no network and no script.
 */
#ifndef CALIB_REPORT_H
#define CALIB_REPORT_H

#include "lib/config.h"

/* The folder of the report by default: OUTPUT/report. */
char	*report_default_dir(const struct experiment *);

/*
 * Write the report of an initialised experiment into dir (created when
 * missing): the figures first, index.html last, every file atomically.
 * *index (when not NULL) is set to index.html's path.  Returns 0, or -1
 * with *cause set.
 */
int	 report_write(const struct experiment *, const char *dir, char **index,
	    char **cause);

#endif
