/* Per-member parameter files, in the format the experiment names. */
#ifndef CALIB_PARAMFILE_H
#define CALIB_PARAMFILE_H

#include "lib/config.h"

/*
 * Render one member's parameter file.  theta holds the constrained values of
 * the calibrated components (e->ncalib), in parameter order; fixed parameters
 * come from the experiment.  tmpl is the template text for PF_TEMPLATE.
 * The string returned in *out is the caller's.
 */
int	 paramfile_render(const struct experiment *, const double *theta,
	    long iteration, long member, const char *tmpl, char **out,
	    char **cause);

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
