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

#endif
