/*
 * Priors and transforms.  The two-sided constrained_gaussian has no closed
 * form: lib/priormatch.c matches it.
 */
#include <math.h>
#include <string.h>
#include <gsl/gsl_randist.h>

#include "lib/prior.h"
#include "lib/util.h"

/* Only the reference is weak, not priormatch.c's definition: see prior.h. */
#pragma weak prior_match

static double
clamp_inside(double c, double lo, double hi)
{
	if (c <= lo)
		c = nextafter(lo, INFINITY);
	if (c >= hi)
		c = nextafter(hi, -INFINITY);
	return c;
}

double
to_constrained(const struct prior *p, double u)
{
	double	 c;

	if (isinf(p->lower) && isinf(p->upper))
		return u;
	if (isinf(p->upper))
		c = p->lower + exp(u);
	else if (isinf(p->lower))
		c = p->upper - exp(u);
	else if (u >= 0)
		c = p->lower + (p->upper - p->lower) / (1 + exp(-u));
	else
		c = p->upper - (p->upper - p->lower) / (1 + exp(u));
	return clamp_inside(c, p->lower, p->upper);
}

double
to_unconstrained(const struct prior *p, double c)
{
	if (isinf(p->lower) && isinf(p->upper))
		return c;
	if (isinf(p->upper))
		return log(c - p->lower);
	if (isinf(p->lower))
		return log(p->upper - c);
	return log((c - p->lower) / (p->upper - c));
}

int
prior_setup(struct prior *p, char **cause)
{
	double	 d, s2;

	switch (p->kind) {
	case PRIOR_NORMAL:
		if (!isfinite(p->a) || !(p->b > 0) || !isfinite(p->b))
			return failf(cause, "needs a finite mean and a positive std");
		p->lower = -INFINITY;
		p->upper = INFINITY;
		p->mu = p->a;
		p->sigma = p->b;
		return 0;
	case PRIOR_LOGNORMAL:
		if (!isfinite(p->a) || !(p->b > 0) || !isfinite(p->b))
			return failf(cause, "needs a finite mu and a positive sigma");
		p->lower = 0;
		p->upper = INFINITY;
		p->mu = p->a;
		p->sigma = p->b;
		return 0;
	case PRIOR_UNIFORM:
		if (!isfinite(p->a) || !isfinite(p->b) || !(p->a < p->b))
			return failf(cause, "needs finite bounds with lower < upper");
		p->lower = p->a;
		p->upper = p->b;
		/* The logistic law of u, matched to a Gaussian in its moments. */
		p->mu = 0;
		p->sigma = M_PI / sqrt(3);
		return 0;
	case PRIOR_CGAUSS:
		if (!isfinite(p->a) || !(p->b > 0) || !isfinite(p->b))
			return failf(cause, "needs a finite mean and a positive std");
		if (!(p->lower < p->upper) || (isinf(p->lower) && p->lower > 0) ||
		    (isinf(p->upper) && p->upper < 0))
			return failf(cause, "needs lower < upper");
		if (!(p->a > p->lower && p->a < p->upper))
			return failf(cause, "mean %g is not inside the bounds "
			    "(%g, %g)", p->a, p->lower, p->upper);
		if (isinf(p->lower) && isinf(p->upper)) {
			p->mu = p->a;
			p->sigma = p->b;
			return 0;
		}
		if (isinf(p->lower) || isinf(p->upper)) {
			/* c - lower (or upper - c) is lognormal: match exactly. */
			d = isinf(p->upper) ? p->a - p->lower : p->upper - p->a;
			s2 = log1p(p->b * p->b / (d * d));
			p->sigma = sqrt(s2);
			p->mu = log(d) - s2 / 2;
			return 0;
		}
		if (p->b * p->b >= (p->a - p->lower) * (p->upper - p->a))
			return failf(cause, "std %g is too large for mean %g in "
			    "(%g, %g): it must be below %g", p->b, p->a, p->lower,
			    p->upper, sqrt((p->a - p->lower) * (p->upper - p->a)));
		/*
		 * calib's front, which runs members and samples no prior, does
		 * not link priormatch.c (cmd/main.c).
		 */
		if (prior_match == NULL) {
			p->mu = p->sigma = NAN;
			return 0;
		}
		return prior_match(p, cause);
	case PRIOR_FIXED:
		return 0;
	}
	return failf(cause, "unknown prior");
}

double
prior_sample_u(const struct prior *p, gsl_rng *r)
{
	double	 c;

	if (p->kind == PRIOR_UNIFORM) {
		c = p->lower + (p->upper - p->lower) * gsl_rng_uniform_pos(r);
		return to_unconstrained(p, clamp_inside(c, p->lower, p->upper));
	}
	return p->mu + gsl_ran_gaussian_ziggurat(r, p->sigma);
}
