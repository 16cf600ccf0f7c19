/*
 * What calib checks of an experiment before it creates or submits
 * anything: calib check runs all of it, calib init and calib run the parts
 * that concern them.  Nothing here writes into the experiment.
 */
#ifndef CALIB_CHECK_H
#define CALIB_CHECK_H

#include "lib/config.h"
#include "lib/state.h"
#include "schedulers/scheduler.h"

/*
 * The model's program, for jobs of backend sc (NULL: not known yet, as for
 * calib init).  Not found here is an error where the model must run here
 * (the local backend), and a warning (*warning set, 0 returned) where jobs
 * load modules or run setup lines first, which may bring it.  Returns 0,
 * or -1 with *cause.
 */
int	 check_model(const struct experiment *, const struct scheduler *sc,
	    char **warning, char **cause);

/*
 * The job scripts of backend sc for a member and for the update, rendered
 * from its templates as calib run would (nothing for backends without
 * scripts).  Returns 0, or -1 with *cause.
 */
int	 check_scripts(const struct experiment *, const struct scheduler *sc,
	    const char *calib, char **cause);

/*
 * Run one member at the centre of the prior (each component's
 * unconstrained mean, mapped to constrained space) as calib exec would,
 * in a temporary folder removed afterwards, with the experiment's timeout.
 * *st says how it ended; *log is the end of its model.log (or NULL).
 * Returns 0 when it could be run at all, or -1 with *cause.
 */
int	 check_smoke(const struct experiment *, struct member_status *st,
	    char **log, char **cause);

#endif
