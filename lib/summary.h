/*
 * Where an iteration stands, as calib status and calib report show it: its
 * members' outcomes and misfits, and its estimate of every calibrated
 * component in constrained space.
 *
 * For an ensemble method the estimate is the ensemble's own statistics
 * (mean, sample std, and quantiles by linear interpolation between order
 * statistics, numpy's default).  For uki it is UKI's Gaussian N(m, C) in
 * unconstrained space, mapped to constrained space component by component:
 * the mean is the image of m (as calib export writes it), the quantiles
 * are the images of the Gaussian's quantiles (exact: each map is monotone,
 * decreasing with an upper bound alone), and std is the standard
 * deviation of the mapped Gaussian (Gauss-Hermite quadrature; sqrt(C_kk)
 * for an unbounded component).  The sigma points' own spread is not UKI's
 * uncertainty: it depends on the number of components and alpha_reg.
 */
#ifndef CALIB_SUMMARY_H
#define CALIB_SUMMARY_H

#include <stddef.h>

#include "lib/calib.h"

/* The quantiles reported, in per cent. */
#define SUMMARY_NQ	3
extern const double summary_q[SUMMARY_NQ];	/* 0.05, 0.5, 0.95 */

/* How a member of an iteration stands, for the counts below. */
enum member_state {
	MS_DONE,		/* succeeded */
	MS_FAILED,		/* the model failed */
	MS_TIMEOUT,		/* the experiment's timeout stopped it */
	MS_INVALID,		/* succeeded, but its output was unusable */
	MS_NOTRUN,		/* closed without an attempt that ended */
	MS_PENDING,		/* not ended yet (open iteration) */
	MS_COUNT
};

/* The name of a state for people and JSON ("failed", "timeout", ...). */
const char	*member_state_name(enum member_state);

struct iter_summary {
	long		 iteration;
	int		 closed;	/* results.h5 exists */
	size_t		 n, p;
	double		*theta;		/* n x p, constrained */
	double		*mean, *std;	/* p each */
	double		*q;		/* p x SUMMARY_NQ */
	double		*misfit;	/* n; NaN where there is none */
	unsigned char	*state;		/* n, enum member_state */
	size_t		 count[MS_COUNT];
	double		 mmean, mstd;	/* of the finite misfits */
};

/*
 * Summarise iteration it of an initialised experiment.  An open
 * iteration's misfits come from its members' outputs (o and nf: the
 * experiment's observations and their noise factor; with o NULL, they are
 * left unknown).  Returns 0, or -1
 * with *cause set.
 */
struct observations;
struct noise_factor;
int	 iteration_summary(const struct experiment *, long it,
	    const struct observations *, const struct noise_factor *,
	    struct iter_summary *, char **cause);
void	 summary_release(struct iter_summary *);

/*
 * The iteration as `calib status --json` shows it, one JSON object
 * appended to b: iteration, members, failures, misfit and parameters.
 */
struct buf;
void	 summary_json(struct buf *, const struct experiment *,
	    const struct iter_summary *);

/* Members that did not succeed (everything but done and pending). */
size_t	 summary_failed(const struct iter_summary *);

#endif
