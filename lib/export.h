/* calib export: an iteration's estimate or one member as a parameter file. */
#ifndef CALIB_EXPORT_H
#define CALIB_EXPORT_H

#include "lib/config.h"

/* Which values calib export writes. */
struct export_opts {
	long		 iteration;	/* -1: the newest */
	long		 member;	/* 0: the ensemble's mean */
	int		 format;	/* enum param_format; -1: the experiment's */
};

/*
 * The parameter file of an initialised experiment's iteration: its
 * ensemble's mean in constrained space (for uki, its own mean, uki_mean,
 * constrained), or one member's values.  *out is the caller's.
 */
int	 paramfile_export(const struct experiment *, const struct export_opts *,
	    char **out, char **cause);

#endif
