/*
 * The ensemble-space EKI update against a dense reference: covariances
 * formed explicitly and the d x d system (C_gg + Gamma/dt) x = y_j - g_j
 * solved with LAPACKE, on small random problems.
 */
#include <math.h>
#include <lapacke.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "test/unit/testutil.h"
#include "lib/eki.h"
#include "lib/util.h"

/*
 * u (n x p) updated in place by the textbook formula; with loc, C_ug is
 * multiplied entry by entry by loc->rho, or by SEC's |r|^alpha (0 where
 * the corrected correlation is at most the cutoff).
 */
static void
dense_eki(size_t n, size_t p, size_t d, double *u, const double *g,
    const int *ok, const double *y, const double *gamma, double dt,
    const double *xi, const struct localizer *loc)
{
	double	*ub = calloc(p, sizeof *ub), *gb = calloc(d, sizeof *gb);
	double	*cug = calloc(p * d, sizeof *cug), *cgg = calloc(d * d, sizeof *cgg);
	double	*L = malloc(d * d * sizeof *L), *M = malloc(d * d * sizeof *M);
	double	*rhs = malloc(d * sizeof *rhs), *du = calloc(n * p, sizeof *du);
	size_t	 ns = 0, i, j, k, a, b;

	for (j = 0; j < n; j++)
		ns += ok[j];
	for (j = 0; j < n; j++) {
		if (!ok[j])
			continue;
		for (a = 0; a < p; a++)
			ub[a] += u[j * p + a] / ns;
		for (a = 0; a < d; a++)
			gb[a] += g[j * d + a] / ns;
	}
	for (j = 0; j < n; j++) {
		if (!ok[j])
			continue;
		for (a = 0; a < p; a++)
			for (b = 0; b < d; b++)
				cug[a * d + b] += (u[j * p + a] - ub[a]) *
				    (g[j * d + b] - gb[b]) / (ns - 1);
		for (a = 0; a < d; a++)
			for (b = 0; b < d; b++)
				cgg[a * d + b] += (g[j * d + a] - gb[a]) *
				    (g[j * d + b] - gb[b]) / (ns - 1);
	}
	if (loc != NULL)
		for (a = 0; a < p; a++) {
			double su = 0;

			for (j = 0; j < n; j++)
				if (ok[j])
					su += (u[j * p + a] - ub[a]) *
					    (u[j * p + a] - ub[a]) / (ns - 1);
			for (b = 0; b < d; b++) {
				double r = cug[a * d + b] / sqrt(su *
				    cgg[b * d + b]), f = pow(fabs(r), loc->alpha);

				cug[a * d + b] *= loc->rho ? loc->rho[a * d + b] :
				    fabs(r * f) > loc->cutoff ? f : 0;
			}
		}
	memcpy(L, gamma, d * d * sizeof *L);
	assert_int_equal(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', d, L, d), 0);
	for (j = 0; j < n; j++) {
		if (!ok[j])
			continue;
		/* y_j = y + L xi_j / sqrt(dt): noise of covariance Gamma/dt. */
		for (a = 0; a < d; a++) {
			double s = 0;

			for (b = 0; b <= a; b++)
				s += L[a * d + b] * xi[j * d + b];
			rhs[a] = y[a] + s / sqrt(dt) - g[j * d + a];
		}
		for (a = 0; a < d * d; a++)
			M[a] = cgg[a] + gamma[a] / dt;
		assert_int_equal(LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', d, 1, M, d,
		    rhs, 1), 0);
		for (a = 0; a < p; a++)
			for (k = 0; k < d; k++)
				du[j * p + a] += cug[a * d + k] * rhs[k];
	}
	for (i = 0; i < n * p; i++)
		u[i] += du[i];
	free(ub); free(gb); free(cug); free(cgg); free(L); free(M); free(rhs);
	free(du);
}

static void
compare(size_t n, size_t p, size_t d, int full, int failures, double dt,
    gsl_rng *r)
{
	double	*u = malloc(n * p * sizeof *u), *ref = malloc(n * p * sizeof *ref);
	double	*g = malloc(n * d * sizeof *g), *y = malloc(d * sizeof *y);
	double	*xi = malloc(n * d * sizeof *xi), *xi2 = malloc(n * d * sizeof *xi2);
	double	*gc = malloc(n * d * sizeof *gc), *h = calloc(n * n, sizeof *h);
	double	*gamma = calloc(d * d, sizeof *gamma), *std = malloc(d * sizeof *std);
	double	*B = malloc(d * d * sizeof *B);
	int	*ok = malloc(n * sizeof *ok);
	struct noise_factor nf;
	char	*cause = NULL;
	size_t	 i, j, k;
	double	 scale = 0;

	for (i = 0; i < n * p; i++)
		u[i] = ref[i] = gsl_ran_gaussian(r, 1.0);
	for (i = 0; i < n * d; i++) {
		g[i] = gsl_ran_gaussian(r, 2.0) + 1;
		xi[i] = xi2[i] = gsl_ran_gaussian(r, 1.0);
	}
	for (i = 0; i < d; i++) {
		y[i] = gsl_ran_gaussian(r, 1.0);
		std[i] = 0.2 + gsl_rng_uniform(r);
	}
	if (full) {
		/* Gamma = B B' + diag: symmetric positive definite. */
		for (i = 0; i < d * d; i++)
			B[i] = gsl_ran_gaussian(r, 0.5);
		for (i = 0; i < d; i++)
			for (j = 0; j < d; j++) {
				for (k = 0; k < d; k++)
					gamma[i * d + j] += B[i * d + k] * B[j * d + k];
				if (i == j)
					gamma[i * d + j] += 0.5;
			}
	} else
		for (i = 0; i < d; i++)
			gamma[i * d + i] = std[i] * std[i];
	for (j = 0; j < n; j++)
		ok[j] = !(failures && j % 4 == 1);
	assert_int_equal(noise_factor_init(&nf, d, full ? NULL : std,
	    full ? gamma : NULL, &cause), 0);
	/*
	 * The deterministic part, draw by draw: with no perturbation (h and
	 * xi zero), the ensemble-space step is the dense formula.  The
	 * random part has its own test (test_perturbation_law).
	 */
	for (i = 0; i < n * d; i++)
		xi2[i] = 0;
	memcpy(gc, g, n * d * sizeof *gc);
	assert_int_equal(eki_update(n, p, d, u, gc, ok, y, &nf, dt, h, &cause),
	    0);
	dense_eki(n, p, d, ref, g, ok, y, gamma, dt, xi2, NULL);
	for (i = 0; i < n * p; i++)
		if (fabs(ref[i]) > scale)
			scale = fabs(ref[i]);
	for (i = 0; i < n * p; i++)
		assert_close(u[i], ref[i], 1e-10 * scale);
	/* The misfit against its dense definition. */
	{
		double dense = 0, *res = malloc(d * sizeof *res);
		double *M = malloc(d * d * sizeof *M);

		for (i = 0; i < d; i++)
			res[i] = y[i] - g[i];
		memcpy(M, gamma, d * d * sizeof *M);
		assert_int_equal(LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', d, 1, M, d,
		    res, 1), 0);
		for (i = 0; i < d; i++)
			dense += (y[i] - g[i]) * res[i];
		assert_close(data_misfit(&nf, y, g), dense / d, 1e-10 * dense / d);
		free(res);
		free(M);
	}
	noise_factor_release(&nf);
	free(u); free(ref); free(g); free(y); free(xi); free(xi2); free(gamma);
	free(std); free(B); free(ok); free(gc); free(h);
}

static void
test_update_matches_dense(void **state)
{
	gsl_rng	*r = gsl_rng_alloc(gsl_rng_mt19937);
	int	 t;

	gsl_rng_set(r, 2024);
	for (t = 0; t < 24; t++) {
		size_t n = 5 + gsl_rng_uniform_int(r, 30);
		size_t p = 1 + gsl_rng_uniform_int(r, 6);
		size_t d = 1 + gsl_rng_uniform_int(r, 40);

		compare(n, p, d, t % 2, t % 3 == 0, t % 4 ? 1.0 : 0.3, r);
	}
	gsl_rng_free(r);
}

static void
test_more_observations_than_members(void **state)
{
	gsl_rng	*r = gsl_rng_alloc(gsl_rng_mt19937);

	gsl_rng_set(r, 7);
	compare(8, 3, 200, 0, 0, 1.0, r);
	compare(8, 3, 60, 1, 1, 2.0, r);
	gsl_rng_free(r);
}

/*
 * The localized step against the dense formula, with full noise and a
 * failed member: SEC's rho from the sample correlations, and a given rho.
 */
static void
test_localization_dense(void **state)
{
	gsl_rng	*r = gsl_rng_alloc(gsl_rng_mt19937);
	size_t	 n = 9, p = 3, d = 7, i, a, b;
	double	 u[27], ref[27], g[63], xi[63], x1[63], y[7], gam[49], rho[21];
	double	 dt = 0.8;
	int	 ok[9], mode;
	struct noise_factor nf;
	struct localizer loc;

	for (i = 0; i < n; i++)
		ok[i] = i != 2;
	memset(gam, 0, sizeof gam);
	for (i = 0; i < d; i++) {
		gam[i * d + i] = 0.3;
		if (i > 0)
			gam[i * d + i - 1] = gam[(i - 1) * d + i] = 0.08;
	}
	for (a = 0; a < p; a++)
		for (b = 0; b < d; b++)
			rho[a * d + b] = 0.1 * (1 + a + b);
	assert_int_equal(noise_factor_init(&nf, d, NULL, gam, NULL), 0);
	for (mode = 0; mode < 2; mode++) {
		for (i = 0; i < n * p; i++)
			u[i] = ref[i] = gsl_ran_gaussian(r, 1.0);
		for (i = 0; i < n * d; i++) {
			g[i] = gsl_ran_gaussian(r, 0.5) + u[(i / d) * p + i % p];
			xi[i] = x1[i] = gsl_ran_gaussian(r, 1.0);
		}
		for (i = 0; i < d; i++)
			y[i] = gsl_ran_gaussian(r, 1.0);
		/* mode 0: SEC alpha 1.5, cutoff 0.05; mode 1: the given rho */
		loc.rho = mode == 1 ? rho : NULL;
		loc.alpha = 1.5;
		loc.cutoff = 0.05;
		dense_eki(n, p, d, ref, g, ok, y, gam, dt, xi, &loc);
		assert_int_equal(eki_update_localized(n, p, d, u, g, ok, y, &nf,
		    dt, x1, &loc, NULL), 0);
		for (i = 0; i < n * p; i++)
			assert_close(u[i], ref[i], 1e-10 * (1 + fabs(ref[i])));
	}
	noise_factor_release(&nf);
	gsl_rng_free(r);
}

/*
 * The law of the perturbed step.  Given the outputs, EKI's update is
 * affine in the perturbations: u_j' = m_j + B xi_j, the same B for every
 * member, so each member is Gaussian with mean m_j and covariance B B',
 * and members are independent.  m_j and the columns of B come from the
 * dense formula (xi = 0, then xi_j = e_k); over many draws both the
 * ensemble-space step (n x n normals) and the dense step with data-space
 * draws (n x d) must show these moments, within 5 standard errors.
 */
#define LAW_DRAWS	20000

struct law {
	size_t		 n, p, d;
	double		*u, *g, *y, *gamma, dt;
	int		*ok;
	double		*m, *cov;	/* n x p means; p x p covariance */
	double		*sum, *sq, *cross;
};

static void
law_closed_form(struct law *w)
{
	size_t	 n = w->n, p = w->p, d = w->d, j = 0, k, a, b;
	double	*xi = calloc(n * d, sizeof *xi), *v = malloc(n * p * sizeof *v);

	memcpy(w->m, w->u, n * p * sizeof *v);
	dense_eki(n, p, d, w->m, w->g, w->ok, w->y, w->gamma, w->dt, xi, NULL);
	while (!w->ok[j])
		j++;
	for (k = 0; k < d; k++) {
		memcpy(v, w->u, n * p * sizeof *v);
		xi[j * d + k] = 1;
		dense_eki(n, p, d, v, w->g, w->ok, w->y, w->gamma, w->dt, xi,
		    NULL);
		xi[j * d + k] = 0;
		for (a = 0; a < p; a++)
			for (b = 0; b < p; b++)
				w->cov[a * p + b] += (v[j * p + a] - w->m[j * p + a]) *
				    (v[j * p + b] - w->m[j * p + b]);
	}
	free(xi);
	free(v);
}

static void
law_add(struct law *w, const double *v)
{
	size_t	 n = w->n, p = w->p, j, a, b;

	for (j = 0; j < n; j++)
		for (a = 0; a < p; a++) {
			double da = v[j * p + a] - w->m[j * p + a];

			w->sum[j * p + a] += da;
			for (b = 0; b < p; b++)
				w->sq[(j * p + a) * p + b] += da *
				    (v[j * p + b] - w->m[j * p + b]);
			/* member j against member j + 1 (mod n) */
			w->cross[j * p + a] += da *
			    (v[((j + 1) % n) * p + a] - w->m[((j + 1) % n) * p + a]);
		}
}

static void
law_check(const struct law *w)
{
	size_t	 n = w->n, p = w->p, j, a, b;
	double	 M = LAW_DRAWS, c, se;

	for (j = 0; j < n; j++) {
		int both = w->ok[j] && w->ok[(j + 1) % n];

		for (a = 0; a < p; a++) {
			double vaa = w->cov[a * p + a];

			if (!w->ok[j]) {
				assert_true(w->sum[j * p + a] == 0);
				continue;
			}
			assert_true(fabs(w->sum[j * p + a] / M) <
			    5 * sqrt(vaa / M));
			for (b = 0; b < p; b++) {
				c = w->sq[(j * p + a) * p + b] / M;
				se = sqrt((vaa * w->cov[b * p + b] +
				    w->cov[a * p + b] * w->cov[a * p + b]) / M);
				assert_true(fabs(c - w->cov[a * p + b]) < 5 * se);
			}
			if (both)
				assert_true(fabs(w->cross[j * p + a] / M) <
				    5 * vaa / sqrt(M));
		}
	}
}

static void
test_perturbation_law(void **state)
{
	gsl_rng	*r = gsl_rng_alloc(gsl_rng_mt19937);
	struct law w = { .n = 7, .p = 2, .d = 15, .dt = 0.7 };
	struct law x;
	struct noise_factor nf;
	size_t	 n = w.n, p = w.p, d = w.d, i, j, t;
	double	*v = malloc(n * p * sizeof *v), *gc = malloc(n * d * sizeof *gc);
	double	*h = malloc(n * d * sizeof *h);
	int	 ok[7] = { 1, 1, 1, 0, 1, 1, 1 };

	gsl_rng_set(r, 99);
	w.u = malloc(n * p * sizeof *w.u);
	w.g = malloc(n * d * sizeof *w.g);
	w.y = malloc(d * sizeof *w.y);
	w.gamma = calloc(d * d, sizeof *w.gamma);
	w.ok = ok;
	w.m = malloc(n * p * sizeof *w.m);
	w.cov = calloc(p * p, sizeof *w.cov);
	for (i = 0; i < n * p; i++)
		w.u[i] = gsl_ran_gaussian(r, 1.0);
	for (i = 0; i < n * d; i++)
		w.g[i] = gsl_ran_gaussian(r, 1.0) + 2 * w.u[(i / d) * p + i % p];
	for (i = 0; i < d; i++) {
		w.y[i] = gsl_ran_gaussian(r, 1.0);
		w.gamma[i * d + i] = 0.2 + 0.05 * i;
		if (i > 0)
			w.gamma[i * d + i - 1] = w.gamma[(i - 1) * d + i] = 0.05;
	}
	assert_int_equal(noise_factor_init(&nf, d, NULL, w.gamma, NULL), 0);
	law_closed_form(&w);
	x = w;
	for (t = 0; t < 2; t++) {
		x.sum = calloc(n * p, sizeof *x.sum);
		x.sq = calloc(n * p * p, sizeof *x.sq);
		x.cross = calloc(n * p, sizeof *x.cross);
		for (i = 0; i < LAW_DRAWS; i++) {
			memcpy(v, w.u, n * p * sizeof *v);
			/* t 0: ensemble space, n x n; t 1: data space, n x d */
			for (j = 0; j < (t ? n * d : n * n); j++)
				h[j] = gsl_ran_gaussian_ziggurat(r, 1.0);
			if (t == 0) {
				memcpy(gc, w.g, n * d * sizeof *gc);
				assert_int_equal(eki_update(n, p, d, v, gc, ok, w.y,
				    &nf, w.dt, h, NULL), 0);
			} else
				dense_eki(n, p, d, v, w.g, ok, w.y, w.gamma, w.dt,
				    h, NULL);
			law_add(&x, v);
		}
		law_check(&x);
		free(x.sum);
		free(x.sq);
		free(x.cross);
	}
	noise_factor_release(&nf);
	free(v); free(gc); free(h); free(w.u); free(w.g); free(w.y);
	free(w.gamma); free(w.m); free(w.cov);
	gsl_rng_free(r);
}

static void
test_too_few_members(void **state)
{
	double	 u[3] = { 1, 2, 3 }, g[3] = { 1, 2, 3 }, y = 0, xi[3] = { 0 };
	double	 std = 1;
	int	 ok[3] = { 1, 0, 0 };
	struct noise_factor nf;
	char	*cause = NULL;

	noise_factor_init(&nf, 1, &std, NULL, NULL);
	assert_int_equal(eki_update(3, 1, 1, u, g, ok, &y, &nf, 1, xi, &cause), -1);
	assert_string_equal(cause, "1 successful members; the update needs at "
	    "least 2");
	free(cause);
	noise_factor_release(&nf);
}

static void
test_noise_not_positive_definite(void **state)
{
	double	 cov[4] = { 1, 2, 2, 1 };
	struct noise_factor nf;
	char	*cause = NULL;

	assert_int_equal(noise_factor_init(&nf, 2, NULL, cov, &cause), -1);
	assert_non_null(strstr(cause, "not positive definite"));
	free(cause);
	cov[1] = 0.5;
	cause = NULL;
	assert_int_equal(noise_factor_init(&nf, 2, NULL, cov, &cause), -1);
	assert_non_null(strstr(cause, "not symmetric"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_matches_dense),
		cmocka_unit_test(test_more_observations_than_members),
		cmocka_unit_test(test_localization_dense),
		cmocka_unit_test(test_perturbation_law),
		cmocka_unit_test(test_too_few_members),
		cmocka_unit_test(test_noise_not_positive_definite),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
