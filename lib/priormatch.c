/*
 * The moments of a bounded prior's constrained value, and the two-sided
 * constrained_gaussian, which has no closed form: GSL's Gauss-Hermite rule
 * gives the moments of the logit-normal and GSL's hybrid root finder
 * matches them to the requested mean and std.
 */
#include <math.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_multiroots.h>
#include <gsl/gsl_vector.h>

#include "lib/prior.h"
#include "lib/util.h"

#define GH_NODES 120

struct match {
	const struct prior		*p;
	gsl_integration_fixed_workspace	*gh;
};

/* Mean and std of to_constrained(u) for u ~ N(mu, sigma). */
static void
moments(const struct match *m, double mu, double sigma, double *mean, double *sd)
{
	const double	*x = gsl_integration_fixed_nodes(m->gh);
	const double	*w = gsl_integration_fixed_weights(m->gh);
	double		 s1 = 0, s2 = 0, c, var;
	size_t		 i, n = gsl_integration_fixed_n(m->gh);

	for (i = 0; i < n; i++) {
		c = to_constrained(m->p, mu + M_SQRT2 * sigma * x[i]);
		s1 += w[i] * c;
		s2 += w[i] * c * c;
	}
	*mean = s1 / sqrt(M_PI);
	var = s2 / sqrt(M_PI) - *mean * *mean;
	*sd = sqrt(var > 0 ? var : 0);
}

void
prior_pushforward(const struct prior *p, double mu, double sigma,
    double *mean, double *sd)
{
	struct match	 m = { p, NULL };

	if (!(sigma > 0) || (isinf(p->lower) && isinf(p->upper))) {
		*mean = to_constrained(p, mu);
		*sd = sigma > 0 ? sigma : 0;
		return;
	}
	m.gh = gsl_integration_fixed_alloc(gsl_integration_fixed_hermite,
	    GH_NODES, 0, 1, 0, 0);
	moments(&m, mu, sigma, mean, sd);
	gsl_integration_fixed_free(m.gh);
}

static int
match_f(const gsl_vector *v, void *arg, gsl_vector *f)
{
	const struct match	*m = arg;
	double			 mean, sd;

	moments(m, gsl_vector_get(v, 0), exp(gsl_vector_get(v, 1)), &mean, &sd);
	gsl_vector_set(f, 0, (mean - m->p->a) / m->p->b);
	gsl_vector_set(f, 1, (sd - m->p->b) / m->p->b);
	return GSL_SUCCESS;
}

int
prior_match(struct prior *p, char **cause)
{
	struct match		 m = { p, NULL };
	gsl_multiroot_function	 fn = { match_f, 2, &m };
	gsl_multiroot_fsolver	*s;
	gsl_vector		*x0;
	double			 q, mean, sd;
	int			 status = GSL_CONTINUE, iter, rc = -1;

	m.gh = gsl_integration_fixed_alloc(gsl_integration_fixed_hermite,
	    GH_NODES, 0, 1, 0, 0);
	q = (p->a - p->lower) / (p->upper - p->lower);
	x0 = gsl_vector_alloc(2);
	gsl_vector_set(x0, 0, log(q / (1 - q)));
	gsl_vector_set(x0, 1, log(p->b / ((p->upper - p->lower) * q * (1 - q))));
	s = gsl_multiroot_fsolver_alloc(gsl_multiroot_fsolver_hybrids, 2);
	gsl_multiroot_fsolver_set(s, &fn, x0);
	for (iter = 0; iter < 500 && status == GSL_CONTINUE; iter++) {
		if (gsl_multiroot_fsolver_iterate(s) != GSL_SUCCESS)
			break;
		status = gsl_multiroot_test_residual(s->f, 1e-12);
	}
	p->mu = gsl_vector_get(s->x, 0);
	p->sigma = exp(gsl_vector_get(s->x, 1));
	moments(&m, p->mu, p->sigma, &mean, &sd);
	if (fabs(mean - p->a) <= 1e-8 * p->b && fabs(sd - p->b) <= 1e-8 * p->b)
		rc = 0;
	else
		failf(cause, "cannot match mean %g and std %g inside (%g, %g) "
		    "(best: mean %g, std %g); use a smaller std", p->a, p->b,
		    p->lower, p->upper, mean, sd);
	gsl_multiroot_fsolver_free(s);
	gsl_vector_free(x0);
	gsl_integration_fixed_free(m.gh);
	return rc;
}
