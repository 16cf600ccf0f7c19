/* The estimate or a member as a parameter file (see export.h). */
#include <stdlib.h>
#include <string.h>

#include "lib/calib.h"
#include "lib/export.h"
#include "lib/fsio.h"
#include "lib/paramfile.h"
#include "lib/prior.h"
#include "lib/state.h"
#include "lib/util.h"

/*
 * The values to export into theta (e->ncalib): a member's row, or the
 * mean.  UKI's estimate is its own mean, not the sigma points' average in
 * constrained space (the constraints are not linear).
 */
static int
export_values(const struct experiment *e, const struct ensemble *en,
    long member, double *theta, char **cause)
{
	size_t	 k, i, j;
	double	 sd;

	if (member > 0) {
		if ((size_t)member > en->n)
			return failf(cause, "member %ld is out of range 1..%zu",
			    member, en->n);
		memcpy(theta, en->theta + (member - 1) * en->p,
		    en->p * sizeof *theta);
		return 0;
	}
	if (en->uki_mean != NULL) {
		for (i = 0; i < e->nparams; i++)
			for (j = 0; !e->params[i].fixed &&
			    j < e->params[i].size; j++) {
				k = e->params[i].offset + j;
				theta[k] = to_constrained(&e->params[i].prior,
				    en->uki_mean[k]);
			}
		return 0;
	}
	/* As calib status computes it. */
	for (k = 0; k < en->p; k++)
		mean_std(en->theta + k, en->n, en->p, &theta[k], &sd, NULL);
	return 0;
}

int
paramfile_export(const struct experiment *e, const struct export_opts *o,
    char **out, char **cause)
{
	struct experiment	 as = *e;
	struct ensemble		 en;
	double			*theta = NULL;
	char			*tmpl = NULL;
	long			 it = o->iteration;
	int			 rc = -1;

	if (it < 0 && (it = newest_iteration(e)) < 0)
		return failf(cause, "%s: not initialised", e->output_dir);
	if (o->format >= 0)
		as.pformat = o->format;
	if (as.pformat == PF_TEMPLATE && e->ptemplate == NULL)
		return failf(cause, "%s: the experiment has no parameter "
		    "template (forward_model.parameter_file.template)",
		    e->output_dir);
	if (!iteration_exists(e, it))
		return failf(cause, "iteration %ld does not exist", it);
	memset(&en, 0, sizeof en);
	if (ensemble_read(e, it, &en, cause) != 0)
		return -1;
	theta = xcalloc(en.p + 1, sizeof *theta);
	if (export_values(e, &en, o->member, theta, cause) == 0 &&
	    (as.pformat != PF_TEMPLATE ||
	    read_file(e->ptemplate, &tmpl, NULL, cause) == 0))
		rc = paramfile_render(&as, theta, it, o->member, tmpl, out,
		    cause);
	free(tmpl);
	free(theta);
	ensemble_release(&en);
	return rc;
}
