/*
 * Priors and the constrained <-> unconstrained transforms of
 * EnsembleKalmanProcesses.jl: with a lower bound a, u = log(c - a); with an
 * upper bound b, u = log(b - c); with both, u = log((c - a) / (b - c)).
 * The ensemble update works on u.
 */
#ifndef CALIB_PRIOR_H
#define CALIB_PRIOR_H

#include <gsl/gsl_rng.h>

enum prior_kind {
	PRIOR_NORMAL,		/* mean, std; unbounded */
	PRIOR_LOGNORMAL,	/* mu, sigma of log c; c > 0 */
	PRIOR_UNIFORM,		/* lower, upper */
	PRIOR_CGAUSS,		/* constrained_gaussian: mean, std, lower, upper */
	PRIOR_FIXED
};

struct prior {
	enum prior_kind	 kind;
	double		 a, b;		/* the distribution's two numbers */
	double		 lower, upper;	/* -inf / +inf when unbounded */
	double		 mu, sigma;	/* Gaussian in unconstrained space */
};

/*
 * Set lower/upper and the unconstrained Gaussian (mu, sigma) from kind, a, b
 * (and lower, upper for PRIOR_CGAUSS, which must be set by the caller).
 * Returns -1 with *cause set when the prior is improper or cannot be matched.
 */
int	 prior_setup(struct prior *, char **cause);

/*
 * The two-sided PRIOR_CGAUSS's (mu, sigma), matched to its mean and std
 * (lib/priormatch.c).  prior_setup reaches it through a weak reference
 * (prior.c): calib's front, which samples no prior, does not link it, and
 * there such a prior's mu and sigma are NaN.
 */
int	 prior_match(struct prior *, char **cause);

/* Draw one value in unconstrained space. */
double	 prior_sample_u(const struct prior *, gsl_rng *);

double	 to_constrained(const struct prior *, double u);
double	 to_unconstrained(const struct prior *, double c);

/*
 * Mean and standard deviation, in constrained space, of to_constrained(u)
 * for u ~ N(mu, sigma^2) (Gauss-Hermite quadrature; exact when unbounded).
 */
void	 prior_pushforward(const struct prior *, double mu, double sigma,
	    double *mean, double *sd);

#endif
