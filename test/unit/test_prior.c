/*
 * Priors and transforms: the transforms against their formulas, the
 * one-sided moment match against lognormal moments in closed form, the
 * two-sided match against moments integrated independently (GSL's adaptive
 * QAGI rather than the Gauss-Hermite rule calib uses), and sampling.
 */
#include <math.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_rng.h>

#include "test/unit/testutil.h"
#include "lib/prior.h"

static struct prior
cg(double mean, double std, double lo, double hi)
{
	struct prior	 p = { .kind = PRIOR_CGAUSS, .a = mean, .b = std,
	    .lower = lo, .upper = hi };
	char		*cause = NULL;

	if (prior_setup(&p, &cause) != 0) {
		print_error("%s\n", cause);
		fail();
	}
	return p;
}

static void
test_transforms(void **state)
{
	struct prior	 lo = cg(3, 1, 1, INFINITY), hi = cg(-3, 1, -INFINITY, 2);
	struct prior	 both = cg(0.3, 0.1, 0, 1), none = cg(5, 2, -INFINITY, INFINITY);
	double		 c;

	/* EnsembleKalmanProcesses.jl's formulas. */
	assert_close(to_unconstrained(&lo, 4), log(4 - 1), 1e-15);
	assert_close(to_unconstrained(&hi, -1), log(2 - -1), 1e-15);
	assert_close(to_unconstrained(&both, 0.25), log(0.25 / 0.75), 1e-15);
	assert_close(to_unconstrained(&none, 7), 7, 0);
	for (c = -3; c <= 3; c += 0.25) {
		assert_close(to_unconstrained(&lo, to_constrained(&lo, c)), c, 1e-12);
		assert_close(to_unconstrained(&hi, to_constrained(&hi, c)), c, 1e-12);
		assert_close(to_unconstrained(&both, to_constrained(&both, c)), c,
		    1e-12);
	}
	/* Far out, values stay strictly inside the bounds. */
	assert_true(to_constrained(&both, 800) < 1);
	assert_true(to_constrained(&both, -800) > 0);
	assert_true(to_constrained(&lo, -800) > 1);
	assert_true(to_constrained(&hi, -800) < 2);
}

static void
test_one_sided_match(void **state)
{
	struct prior	 p = cg(10, 3, 0, INFINITY), q = cg(-2, 0.5, -INFINITY, 1);

	/* c - lower ~ LogNormal(mu, sigma): mean e^(mu+s^2/2), var (e^s^2-1)e^(2mu+s^2). */
	assert_close(exp(p.mu + p.sigma * p.sigma / 2), 10, 1e-12);
	assert_close(sqrt((exp(p.sigma * p.sigma) - 1) *
	    exp(2 * p.mu + p.sigma * p.sigma)), 3, 1e-12);
	assert_close(1 - exp(q.mu + q.sigma * q.sigma / 2), -2, 1e-12);
	assert_close(sqrt((exp(q.sigma * q.sigma) - 1) *
	    exp(2 * q.mu + q.sigma * q.sigma)), 0.5, 1e-12);
}

struct moment {
	const struct prior	*p;
	int			 power;
	double			 centre;
};

static double
integrand(double u, void *arg)
{
	const struct moment	*m = arg;
	double			 z = (u - m->p->mu) / m->p->sigma;
	double			 c = to_constrained(m->p, u) - m->centre;

	return pow(c, m->power) * exp(-z * z / 2) / (m->p->sigma * sqrt(2 * M_PI));
}

static void
check_two_sided(double mean, double std, double lo, double hi)
{
	struct prior			 p = cg(mean, std, lo, hi);
	gsl_integration_workspace	*w = gsl_integration_workspace_alloc(1000);
	struct moment			 m = { &p, 1, 0 };
	gsl_function			 f = { integrand, &m };
	double				 mu, var, err;

	assert_int_equal(gsl_integration_qagi(&f, 0, 1e-12, 1000, w, &mu, &err), 0);
	m.power = 2;
	m.centre = mu;
	assert_int_equal(gsl_integration_qagi(&f, 0, 1e-12, 1000, w, &var, &err), 0);
	assert_close(mu, mean, 1e-7 * std);
	assert_close(sqrt(var), std, 1e-7 * std);
	gsl_integration_workspace_free(w);
}

static void
test_two_sided_match(void **state)
{
	check_two_sided(0.5, 0.1, 0, 1);
	check_two_sided(0.9, 0.05, 0, 1);
	check_two_sided(3, 2, -1, 10);
	check_two_sided(1.2, 0.3, 0.5, 2);
}

static void
test_sampling(void **state)
{
	struct prior	 u = { .kind = PRIOR_UNIFORM, .a = 0.5, .b = 2 };
	struct prior	 n = { .kind = PRIOR_NORMAL, .a = 3, .b = 2 };
	struct prior	 b = cg(0.95, 0.04, 0, 1);
	gsl_rng		*r = gsl_rng_alloc(gsl_rng_mt19937);
	double		 s = 0, s2 = 0, c;
	int		 i, N = 200000;

	assert_int_equal(prior_setup(&u, NULL), 0);
	assert_int_equal(prior_setup(&n, NULL), 0);
	for (i = 0; i < N; i++) {
		c = to_constrained(&u, prior_sample_u(&u, r));
		assert_true(c > 0.5 && c < 2);
		s += c;
		s2 += c * c;
	}
	/* Uniform(0.5, 2): mean 1.25, std 1.5/sqrt(12); 5 standard errors. */
	assert_close(s / N, 1.25, 5 * 1.5 / sqrt(12) / sqrt(N));
	assert_close(sqrt(s2 / N - (s / N) * (s / N)), 1.5 / sqrt(12), 0.01);
	for (s = s2 = 0, i = 0; i < N; i++) {
		c = to_constrained(&n, prior_sample_u(&n, r));
		s += c;
		s2 += c * c;
	}
	assert_close(s / N, 3, 5 * 2 / sqrt(N));
	assert_close(sqrt(s2 / N - (s / N) * (s / N)), 2, 0.02);
	for (s = 0, i = 0; i < N; i++) {
		c = to_constrained(&b, prior_sample_u(&b, r));
		assert_true(c > 0 && c < 1);
		s += c;
	}
	assert_close(s / N, 0.95, 5 * 0.04 / sqrt(N));
	gsl_rng_free(r);
}

static void
test_improper(void **state)
{
	struct prior	 p = { .kind = PRIOR_CGAUSS, .a = 0.5, .b = 0.5,
	    .lower = 0, .upper = 1 };
	char		*cause = NULL;

	assert_int_equal(prior_setup(&p, &cause), -1);
	assert_non_null(strstr(cause, "too large"));
	free(cause);
	cause = NULL;
	p.a = 2;
	p.b = 0.1;
	assert_int_equal(prior_setup(&p, &cause), -1);
	assert_non_null(strstr(cause, "not inside the bounds"));
	free(cause);
	cause = NULL;
	p = (struct prior){ .kind = PRIOR_LOGNORMAL, .a = 0, .b = 0 };
	assert_int_equal(prior_setup(&p, &cause), -1);
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transforms),
		cmocka_unit_test(test_one_sided_match),
		cmocka_unit_test(test_two_sided_match),
		cmocka_unit_test(test_sampling),
		cmocka_unit_test(test_improper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
