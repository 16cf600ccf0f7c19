/*
 * The update methods on the linear-Gaussian problem G(u) = A u, prior
 * N(m0, P), noise N(0, Gamma): the posterior is N(m, C) with
 * C = (A' Gamma^-1 A + P^-1)^-1 and m = C (A' Gamma^-1 y + P^-1 m0),
 * computed here densely with LAPACKE.  Also each step against a dense
 * transcription of its formula, on small random problems (the localized
 * EKI step is in test_eki.c, beside the plain one).
 */
#include <math.h>
#include <lapacke.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "test/unit/testutil.h"
#include "lib/eki.h"
#include "lib/util.h"

#define P	3
#define D	8

struct linear {
	double	 A[D * P], y[D], std[D], gamma[D * D];
	double	 m0[P], s0[P];
	double	 mean[P], cov[P * P];	/* the posterior */
	struct noise_factor nf;
};

/* Solve the p x p SPD system M X = B in place (B is p x k). */
static void
spd_solve(size_t p, double *M, double *B, size_t k)
{
	assert_int_equal(LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', p, k, M, p, B, k), 0);
}

/*
 * The example's matrix (share/examples/linear/model.c), noise std 0.5 or a
 * full covariance, prior N(0.3, 2^2) per component.
 */
static void
linear_setup(struct linear *L, int full, gsl_rng *r)
{
	double	 prec[P * P], rhs[P], G[D * D], ut[P] = { 1, -0.5, 0.3 };
	size_t	 i, j, k;

	for (i = 0; i < D; i++)
		for (j = 0; j < P; j++)
			L->A[i * P + j] = cos(0.7 * (i + 1) * (j + 1)) +
			    (i % P == j ? 1.0 : 0.0);
	memset(L->gamma, 0, sizeof L->gamma);
	for (i = 0; i < D; i++) {
		L->std[i] = 0.5;
		L->gamma[i * D + i] = 0.25;
		if (full && i > 0)
			L->gamma[i * D + i - 1] = L->gamma[(i - 1) * D + i] = 0.1;
	}
	for (i = 0; i < D; i++) {
		L->y[i] = gsl_ran_gaussian(r, 0.5);
		for (j = 0; j < P; j++)
			L->y[i] += L->A[i * P + j] * ut[j];
	}
	for (j = 0; j < P; j++) {
		L->m0[j] = 0.3;
		L->s0[j] = 2;
	}
	assert_int_equal(noise_factor_init(&L->nf, D, full ? NULL : L->std,
	    full ? L->gamma : NULL, NULL), 0);
	/* Gamma^-1 A and Gamma^-1 y, densely. */
	memcpy(G, L->gamma, sizeof G);
	{
		double X[D * (P + 1)];

		for (i = 0; i < D; i++) {
			for (j = 0; j < P; j++)
				X[i * (P + 1) + j] = L->A[i * P + j];
			X[i * (P + 1) + P] = L->y[i];
		}
		spd_solve(D, G, X, P + 1);
		for (i = 0; i < P; i++) {
			rhs[i] = L->m0[i] / (L->s0[i] * L->s0[i]);
			for (j = 0; j < P; j++) {
				prec[i * P + j] = i == j ? 1 / (L->s0[i] * L->s0[i]) :
				    0;
				for (k = 0; k < D; k++)
					prec[i * P + j] += L->A[k * P + i] *
					    X[k * (P + 1) + j];
			}
			for (k = 0; k < D; k++)
				rhs[i] += L->A[k * P + i] * X[k * (P + 1) + P];
		}
	}
	/* C = prec^-1, m = C rhs. */
	for (i = 0; i < P; i++)
		for (j = 0; j < P; j++)
			L->cov[i * P + j] = i == j;
	{
		double M[P * P];

		memcpy(M, prec, sizeof M);
		spd_solve(P, M, L->cov, P);
		memcpy(M, prec, sizeof M);
		memcpy(L->mean, rhs, sizeof rhs);
		spd_solve(P, M, L->mean, 1);
	}
}

static void
forward(const struct linear *L, size_t n, const double *u, double *g)
{
	size_t	 i, k, j;

	for (i = 0; i < n; i++)
		for (k = 0; k < D; k++) {
			g[i * D + k] = 0;
			for (j = 0; j < P; j++)
				g[i * D + k] += L->A[k * P + j] * u[i * P + j];
		}
}

static void
sample_prior(const struct linear *L, size_t n, double *u, gsl_rng *r)
{
	size_t	 i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < P; k++)
			u[i * P + k] = L->m0[k] + gsl_ran_gaussian(r, L->s0[k]);
}

/* Sample mean and (n-1) covariance of the n rows of u. */
static void
moments(size_t n, const double *u, double *mean, double *cov)
{
	size_t	 i, a, b;

	memset(mean, 0, P * sizeof *mean);
	memset(cov, 0, P * P * sizeof *cov);
	for (i = 0; i < n; i++)
		for (a = 0; a < P; a++)
			mean[a] += u[i * P + a] / n;
	for (i = 0; i < n; i++)
		for (a = 0; a < P; a++)
			for (b = 0; b < P; b++)
				cov[a * P + b] += (u[i * P + a] - mean[a]) *
				    (u[i * P + b] - mean[b]) / (n - 1);
}

/*
 * Mean and covariance within z standard errors of the posterior for a
 * sample of n independent draws (fewer when they are correlated: the
 * caller passes the effective size).
 */
static void
assert_posterior(const struct linear *L, double n, const double *mean,
    const double *cov, double z)
{
	const double	*C = L->cov;
	size_t		 a, b;

	for (a = 0; a < P; a++) {
		double se = sqrt(C[a * P + a] / n);

		if (fabs(mean[a] - L->mean[a]) > z * se)
			fail_msg("mean[%zu] %g, posterior %g (%.1f se)", a,
			    mean[a], L->mean[a], (mean[a] - L->mean[a]) / se);
		for (b = a; b < P; b++) {
			se = sqrt((C[a * P + a] * C[b * P + b] + C[a * P + b] *
			    C[a * P + b]) / n);
			if (fabs(cov[a * P + b] - C[a * P + b]) > z * se)
				fail_msg("cov[%zu,%zu] %g, posterior %g (%.1f se)",
				    a, b, cov[a * P + b], C[a * P + b],
				    (cov[a * P + b] - C[a * P + b]) / se);
		}
	}
}

static void
assert_near(const double *a, const double *b, size_t n, double tol,
    const char *what)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (fabs(a[i] - b[i]) > tol * (1 + fabs(b[i])))
			fail_msg("%s[%zu]: %.12g, expected %.12g", what, i, a[i],
			    b[i]);
}

/*
 * UKI from the prior with alpha 1 and update_freq 1, to iteration `last`;
 * with impose_prior, the observations are extended by the prior.
 */
static void
uki_iterate(const struct linear *L, int impose_prior, long last,
    double *mean, double *cov)
{
	struct uki_state st;
	double		 om[P * P], u[(2 * P + 1) * P], g[(2 * P + 1) * D];
	size_t		 i;
	long		 k;

	memcpy(mean, L->m0, P * sizeof *mean);
	memset(cov, 0, P * P * sizeof *cov);
	memset(om, 0, sizeof om);
	for (i = 0; i < P; i++)
		cov[i * P + i] = om[i * P + i] = L->s0[i] * L->s0[i];
	st.mean = mean;
	st.cov = cov;
	st.sigma_omega = om;
	assert_int_equal(uki_predict(P, &st, L->m0, 1.0, 1, 1, u, NULL), 0);
	for (k = 2; k < last; k++) {
		forward(L, 2 * P + 1, u, g);
		assert_int_equal(uki_analysis(P, D, u, g, L->y, &L->nf,
		    impose_prior ? L->m0 : NULL, impose_prior ? L->s0 : NULL,
		    &st, NULL), 0);
		assert_int_equal(uki_predict(P, &st, L->m0, 1.0, 1, k, u, NULL),
		    0);
	}
}

/* UKI with impose_prior, alpha 1, update_freq 1: the exact posterior. */
static void
test_uki_exact_posterior(void **state)
{
	struct linear	 L;
	gsl_rng		*r = gsl_rng_alloc(gsl_rng_mt19937);
	double		 mean[P], cov[P * P];
	int		 full;

	(void)state;
	for (full = 0; full < 2; full++) {
		linear_setup(&L, full, r);
		uki_iterate(&L, 1, 40, mean, cov);
		assert_near(mean, L.mean, P, 1e-8, "uki mean");
		assert_near(cov, L.cov, P * P, 1e-8, "uki cov");
		noise_factor_release(&L.nf);
	}
	gsl_rng_free(r);
}

/*
 * Without impose_prior and with update_freq 1, UKI's fixed point is the
 * posterior under a flat prior: C^-1 = A' Gamma^-1 A.
 */
static void
test_uki_flat_prior(void **state)
{
	struct linear	 L;
	gsl_rng		*r = gsl_rng_alloc(gsl_rng_mt19937);
	double		 mean[P], cov[P * P], prec[P * P], inv[P * P];
	size_t		 i, j, k;

	(void)state;
	linear_setup(&L, 0, r);
	uki_iterate(&L, 0, 60, mean, cov);
	for (i = 0; i < P; i++)
		for (j = 0; j < P; j++) {
			prec[i * P + j] = 0;
			for (k = 0; k < D; k++)
				prec[i * P + j] += L.A[k * P + i] * L.A[k * P + j] /
				    0.25;
			inv[i * P + j] = i == j;
		}
	spd_solve(P, prec, inv, P);
	assert_near(cov, inv, P * P, 1e-8, "uki flat-prior cov");
	noise_factor_release(&L.nf);
	gsl_rng_free(r);
}

/* The sigma points reproduce the mean and covariance they are drawn from. */
static void
test_uki_sigma_points(void **state)
{
	double	 m[5] = { 1, 2, 3, 4, 5 }, C[25], u[11 * 5], mean[5], cov[25];
	double	 lam = 4 - 5.0, w = 1 / (2 * (5 + lam));
	size_t	 i, j, k;

	(void)state;
	for (i = 0; i < 5; i++)
		for (j = 0; j < 5; j++)
			C[i * 5 + j] = (i == j ? 2.0 : 0.0) + 0.3 / (1 + i + j);
	assert_int_equal(uki_sigma_points(5, m, C, u, NULL), 0);
	assert_near(u, m, 5, 0, "central point");
	memset(mean, 0, sizeof mean);
	memset(cov, 0, sizeof cov);
	for (k = 1; k < 11; k++)
		for (i = 0; i < 5; i++) {
			mean[i] += (u[k * 5 + i] - m[i]) / 10;
			for (j = 0; j < 5; j++)
				cov[i * 5 + j] += w * (u[k * 5 + i] - m[i]) *
				    (u[k * 5 + j] - m[j]);
		}
	for (i = 0; i < 5; i++)
		assert_true(fabs(mean[i]) < 1e-12);
	assert_near(cov, C, 25, 1e-12, "sigma covariance");
	C[0] = -1;
	assert_int_equal(uki_sigma_points(5, m, C, u, NULL), -1);
}

/*
 * EKS and ALDI sample the posterior: time averages after burn-in, with the
 * step 0.05 / |D| that keeps the scheme's own bias near 1% (see eki.h).
 */
static void
eks_run(int aldi)
{
	struct linear	 L;
	gsl_rng		*r = gsl_rng_alloc(gsl_rng_mt19937);
	size_t		 J = 200, i, a, kept = 0;
	double		*u = malloc(J * P * sizeof *u), *g = malloc(J * D * sizeof *g);
	double		*xi = malloc(J * J * sizeof *xi);
	double		 mean[P], cov[P * P], am[P] = { 0 }, ac[P * P] = { 0 };
	double		 dt, t = 0;
	int		*ok = malloc(J * sizeof *ok);
	long		 it;

	gsl_rng_set(r, 7 + aldi);
	linear_setup(&L, 0, r);
	sample_prior(&L, J, u, r);
	for (i = 0; i < J; i++)
		ok[i] = 1;
	for (it = 0; it < 3000; it++) {
		forward(&L, J, u, g);
		dt = eks_timestep(J, D, g, ok, L.y, &L.nf, 0.05);
		assert_true(dt > 0 && isfinite(dt));
		for (i = 0; i < J * J; i++)
			xi[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
		assert_int_equal(eks_update(J, P, D, u, g, ok, L.y, &L.nf, L.m0,
		    L.s0, aldi, dt, xi, NULL), 0);
		t += dt;
		/* Average every 100th ensemble after time 5. */
		if (t > 5 && it % 100 == 0) {
			moments(J, u, mean, cov);
			for (a = 0; a < P; a++)
				am[a] += mean[a];
			for (a = 0; a < P * P; a++)
				ac[a] += cov[a];
			kept++;
		}
	}
	assert_true(kept >= 10);
	for (a = 0; a < P; a++)
		am[a] /= kept;
	for (a = 0; a < P * P; a++)
		ac[a] /= kept;
	/*
	 * Snapshots 100 steps apart are taken as independent: J * kept
	 * draws; 5 standard errors allow for their remaining correlation and
	 * for EKS's O(p/J) bias.
	 */
	assert_posterior(&L, (double)J * kept, am, ac, 5);
	free(u);
	free(g);
	free(xi);
	free(ok);
	noise_factor_release(&L.nf);
	gsl_rng_free(r);
}

static void
test_eks_samples_posterior(void **state)
{
	(void)state;
	eks_run(0);
}

static void
test_aldi_samples_posterior(void **state)
{
	(void)state;
	eks_run(1);
}

/* One EKS step against EnsembleKalmanProcesses.jl's formula, densely. */
static void
test_eks_matches_dense(void **state)
{
	struct linear	 L;
	gsl_rng		*r = gsl_rng_alloc(gsl_rng_mt19937);
	size_t		 J = 6, i, j, a, b, k;
	double		 u[6 * P], ref[6 * P], g[6 * D], xi[36], um[P] = { 0 };
	double		 gm[D] = { 0 }, Cuu[P * P] = { 0 }, Dm[36], Gi[D * D];
	double		 M[P * P], B[P * 6], dt;
	int		 ok[6] = { 1, 1, 0, 1, 1, 1 }, aldi;

	(void)state;
	linear_setup(&L, 1, r);
	for (aldi = 0; aldi < 2; aldi++) {
		size_t idx[5] = { 0, 1, 3, 4, 5 }, n = 5;

		sample_prior(&L, J, u, r);
		forward(&L, J, u, g);
		for (i = 0; i < 36; i++)
			xi[i] = gsl_ran_gaussian(r, 1.0);
		memcpy(ref, u, sizeof u);
		dt = eks_timestep(J, D, g, ok, L.y, &L.nf, 1.0);
		/* Dense: Gamma^-1, means, (1/J) covariance, D. */
		memset(um, 0, sizeof um);
		memset(gm, 0, sizeof gm);
		memset(Cuu, 0, sizeof Cuu);
		for (i = 0; i < n; i++) {
			for (a = 0; a < P; a++)
				um[a] += u[idx[i] * P + a] / n;
			for (a = 0; a < D; a++)
				gm[a] += g[idx[i] * D + a] / n;
		}
		for (i = 0; i < n; i++)
			for (a = 0; a < P; a++)
				for (b = 0; b < P; b++)
					Cuu[a * P + b] += (u[idx[i] * P + a] -
					    um[a]) * (u[idx[i] * P + b] - um[b]) / n;
		for (a = 0; a < D * D; a++)
			Gi[a] = a % (D + 1) == 0;
		{
			double G[D * D];

			memcpy(G, L.gamma, sizeof G);
			spd_solve(D, G, Gi, D);
		}
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++) {
				double s = 0;

				for (a = 0; a < D; a++)
					for (b = 0; b < D; b++)
						s += (g[idx[i] * D + a] - gm[a]) *
						    Gi[a * D + b] *
						    (g[idx[j] * D + b] - L.y[b]);
				Dm[i * n + j] = s / n;
			}
		{
			double fro = 0;

			for (i = 0; i < n * n; i++)
				fro += Dm[i] * Dm[i];
			assert_true(fabs(dt - 1 / (sqrt(fro) + 2.220446049250313e-16))
			    < 1e-10 * dt);
		}
		/* (I + dt C P^-1) x_j = u_j - dt sum_i (u_i - m) D_ij + ... */
		for (a = 0; a < P; a++)
			for (b = 0; b < P; b++)
				M[a * P + b] = (a == b) + dt * Cuu[a * P + b] /
				    (L.s0[b] * L.s0[b]);
		for (j = 0; j < n; j++)
			for (a = 0; a < P; a++) {
				double s = u[idx[j] * P + a];

				for (i = 0; i < n; i++)
					s -= dt * (u[idx[i] * P + a] - um[a]) *
					    Dm[i * n + j];
				for (b = 0; b < P; b++)
					s += dt * Cuu[a * P + b] * L.m0[b] /
					    (L.s0[b] * L.s0[b]);
				if (aldi)
					s += dt * (P + 1.0) / n *
					    (u[idx[j] * P + a] - um[a]);
				B[a * n + j] = s;
			}
		{
			lapack_int piv[P];

			assert_int_equal(LAPACKE_dgesv(LAPACK_ROW_MAJOR, P, n, M,
			    P, piv, B, n), 0);
		}
		for (j = 0; j < n; j++)
			for (a = 0; a < P; a++) {
				double s = B[a * n + j];

				for (k = 0; k < n; k++)
					s += sqrt(2 * dt / n) * (u[idx[k] * P + a] -
					    um[a]) * xi[k * n + j];
				ref[idx[j] * P + a] = s;
			}
		assert_int_equal(eks_update(J, P, D, u, g, ok, L.y, &L.nf, L.m0,
		    L.s0, aldi, dt, xi, NULL), 0);
		assert_near(u, ref, J * P, 1e-10, aldi ? "aldi" : "eks");
	}
	noise_factor_release(&L.nf);
	gsl_rng_free(r);
}

/*
 * ETKI is a square-root filter: on any ensemble, its mean and covariance
 * are the Kalman update of the ensemble's own mean and covariance, exactly.
 */
static void
etki_exact(size_t n, size_t d, int full, gsl_rng *r)
{
	double	*u = malloc(n * P * sizeof *u), *g = malloc(n * d * sizeof *g);
	double	*gam = calloc(d * d, sizeof *gam), *sd = malloc(d * sizeof *sd);
	double	*y = malloc(d * sizeof *y), *cug = calloc(P * d, sizeof *cug);
	double	*cgg = calloc(d * d, sizeof *cgg), *K = malloc(P * d * sizeof *K);
	double	 um[P], uc[P * P], am[P], ac[P * P], em[P], ec[P * P], *gm;
	double	 dt = 0.7;
	int	*ok = malloc(n * sizeof *ok);
	struct noise_factor nf;
	size_t	 i, j, a, b;

	for (i = 0; i < n * P; i++)
		u[i] = gsl_ran_gaussian(r, 1.0);
	for (i = 0; i < n * d; i++)
		g[i] = gsl_ran_gaussian(r, 1.0) + u[(i / d) * P + i % P];
	for (i = 0; i < d; i++) {
		y[i] = gsl_ran_gaussian(r, 1.0);
		sd[i] = 0.5 + 0.1 * i;
		gam[i * d + i] = sd[i] * sd[i];
		if (full && i > 0)
			gam[i * d + i - 1] = gam[(i - 1) * d + i] = 0.05;
	}
	for (i = 0; i < n; i++)
		ok[i] = 1;
	assert_int_equal(noise_factor_init(&nf, d, full ? NULL : sd,
	    full ? gam : NULL, NULL), 0);
	moments(n, u, um, uc);
	gm = calloc(d, sizeof *gm);
	for (i = 0; i < n; i++)
		for (a = 0; a < d; a++)
			gm[a] += g[i * d + a] / n;
	for (i = 0; i < n; i++) {
		for (a = 0; a < P; a++)
			for (b = 0; b < d; b++)
				cug[a * d + b] += (u[i * P + a] - um[a]) *
				    (g[i * d + b] - gm[b]) / (n - 1);
		for (a = 0; a < d; a++)
			for (b = 0; b < d; b++)
				cgg[a * d + b] += (g[i * d + a] - gm[a]) *
				    (g[i * d + b] - gm[b]) / (n - 1);
	}
	/* K' = (C_gg + Gamma/dt)^-1 C_gu. */
	for (a = 0; a < d * d; a++)
		cgg[a] += gam[a] / dt;
	for (a = 0; a < d; a++)
		for (b = 0; b < P; b++)
			K[a * P + b] = cug[b * d + a];
	{
		double *M = malloc(d * d * sizeof *M);

		memcpy(M, cgg, d * d * sizeof *M);
		spd_solve(d, M, K, P);
		free(M);
	}
	for (a = 0; a < P; a++) {
		em[a] = um[a];
		for (b = 0; b < d; b++)
			em[a] += K[b * P + a] * (y[b] - gm[b]);
		for (j = 0; j < P; j++) {
			ec[a * P + j] = uc[a * P + j];
			for (b = 0; b < d; b++)
				ec[a * P + j] -= cug[a * d + b] * K[b * P + j];
		}
	}
	assert_int_equal(etki_update(n, P, d, u, g, ok, y, &nf, dt, NULL), 0);
	moments(n, u, am, ac);
	assert_near(am, em, P, 1e-10, "etki mean");
	assert_near(ac, ec, P * P, 1e-10, "etki cov");
	noise_factor_release(&nf);
	free(u); free(g); free(gam); free(sd); free(y); free(cug); free(cgg);
	free(K); free(gm); free(ok);
}

static void
test_etki_square_root(void **state)
{
	gsl_rng	*r = gsl_rng_alloc(gsl_rng_mt19937);

	(void)state;
	etki_exact(10, 6, 0, r);
	etki_exact(10, 6, 1, r);
	etki_exact(5, 40, 0, r);	/* more observations than members */
	etki_exact(30, 4, 1, r);
	gsl_rng_free(r);
}

/*
 * From one large prior ensemble, one step with dt = 1 of ETKI and of EKI
 * both give the posterior, and agree with each other.
 */
static void
test_etki_eki_large_ensemble(void **state)
{
	struct linear	 L;
	gsl_rng		*r = gsl_rng_alloc(gsl_rng_mt19937);
	size_t		 n = 3000, i;
	double		*u0 = malloc(n * P * sizeof *u0), *ue = malloc(n * P * sizeof *ue);
	double		*ut = malloc(n * P * sizeof *ut), *g = malloc(n * D * sizeof *g);
	double		*xi = malloc(n * n * sizeof *xi);
	double		*g2 = malloc(n * D * sizeof *g2);
	double		 em[P], ec[P * P], tm[P], tc[P * P];
	int		*ok = malloc(n * sizeof *ok);

	(void)state;
	linear_setup(&L, 1, r);
	sample_prior(&L, n, u0, r);
	forward(&L, n, u0, g);
	for (i = 0; i < n; i++)
		ok[i] = 1;
	for (i = 0; i < n * n; i++)
		xi[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
	memcpy(ue, u0, n * P * sizeof *ue);
	memcpy(ut, u0, n * P * sizeof *ut);
	memcpy(g2, g, n * D * sizeof *g2);
	assert_int_equal(eki_update(n, P, D, ue, g, ok, L.y, &L.nf, 1.0, xi,
	    NULL), 0);
	assert_int_equal(etki_update(n, P, D, ut, g2, ok, L.y, &L.nf, 1.0, NULL),
	    0);
	moments(n, ue, em, ec);
	moments(n, ut, tm, tc);
	assert_posterior(&L, n, em, ec, 5);
	assert_posterior(&L, n, tm, tc, 5);
	/* Both come from the same prior sample: closer to each other. */
	for (i = 0; i < P; i++)
		assert_true(fabs(em[i] - tm[i]) < 3 * sqrt(L.cov[i * P + i] / n));
	free(u0); free(ue); free(ut); free(g); free(g2); free(xi); free(ok);
	noise_factor_release(&L.nf);
	gsl_rng_free(r);
}

/*
 * From a fresh prior sample of n members, EKI steps of sizes dt[0..k-1],
 * each with its own perturbations; then the ensemble is within 5 standard
 * errors of the posterior.
 */
static void
eki_steps_to_posterior(const struct linear *L, size_t n, const double *dt,
    size_t k, gsl_rng *r)
{
	double	*u = malloc(n * P * sizeof *u), *g = malloc(n * D * sizeof *g);
	double	*xi = malloc(n * n * sizeof *xi), m[P], c[P * P];
	int	*ok = malloc(n * sizeof *ok);
	size_t	 i, s;

	for (i = 0; i < n; i++)
		ok[i] = 1;
	sample_prior(L, n, u, r);
	for (s = 0; s < k; s++) {
		forward(L, n, u, g);
		for (i = 0; i < n * n; i++)
			xi[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
		assert_int_equal(eki_update(n, P, D, u, g, ok, L->y, &L->nf,
		    dt[s], xi, NULL), 0);
	}
	moments(n, u, m, c);
	assert_posterior(L, n, m, c, 5);
	free(u); free(g); free(xi); free(ok);
}

/*
 * ES-MDA with the single weight 1 is an EKI step with dt = 1 / 1: drawn
 * from independent prior ensembles and perturbations, both give the
 * posterior in distribution.
 */
static void
test_esmda_single_weight(void **state)
{
	struct linear	 L;
	gsl_rng		*r = gsl_rng_alloc(gsl_rng_mt19937);
	double		 weights[1] = { 1 }, esmda = 1 / weights[0], eki = 1.0;

	(void)state;
	linear_setup(&L, 0, r);
	eki_steps_to_posterior(&L, 4000, &esmda, 1, r);
	eki_steps_to_posterior(&L, 4000, &eki, 1, r);
	noise_factor_release(&L.nf);
	gsl_rng_free(r);
}

/*
 * ES-MDA with several weights (sum of 1/alpha = 1) also reaches the
 * posterior on a linear problem (Emerick and Reynolds 2013).
 */
static void
test_esmda_weights(void **state)
{
	struct linear	 L;
	gsl_rng		*r = gsl_rng_alloc(gsl_rng_mt19937);
	double		 w[4] = { 9.333, 7, 4, 2 }, dt[4], inv = 0;
	size_t		 k;

	(void)state;
	linear_setup(&L, 0, r);
	for (k = 0; k < 4; k++)
		inv += 1 / w[k];
	for (k = 0; k < 4; k++)
		dt[k] = 1 / (w[k] * inv);
	eki_steps_to_posterior(&L, 4000, dt, 4, r);
	noise_factor_release(&L.nf);
	gsl_rng_free(r);
}

/*
 * Localization by a matrix of ones, or SEC with alpha 0, changes nothing:
 * compared without perturbations, which the localized step draws in data
 * space and eki_update in ensemble space (same law, other draws).
 */
static void
test_localization_identity(void **state)
{
	gsl_rng	*r = gsl_rng_alloc(gsl_rng_mt19937);
	size_t	 n = 12, p = 4, d = 30, i;
	double	*u = malloc(n * p * sizeof *u), *u1 = malloc(n * p * sizeof *u1);
	double	*u2 = malloc(n * p * sizeof *u2), *g = malloc(n * d * sizeof *g);
	double	*xi = malloc(n * d * sizeof *xi), *x1 = malloc(n * d * sizeof *x1);
	double	*y = malloc(d * sizeof *y), *sd = malloc(d * sizeof *sd);
	double	*ones = malloc(p * d * sizeof *ones);
	int	*ok = malloc(n * sizeof *ok);
	struct noise_factor nf;
	struct localizer loc = { NULL, 0, 0 };

	(void)state;
	for (i = 0; i < n * p; i++)
		u[i] = gsl_ran_gaussian(r, 1.0);
	for (i = 0; i < n * d; i++) {
		g[i] = gsl_ran_gaussian(r, 1.0) + u[(i / d) * p + i % p];
		xi[i] = 0;
	}
	for (i = 0; i < d; i++) {
		y[i] = gsl_ran_gaussian(r, 1.0);
		sd[i] = 0.3 + 0.01 * i;
	}
	for (i = 0; i < p * d; i++)
		ones[i] = 1;
	for (i = 0; i < n; i++)
		ok[i] = i != 4;
	assert_int_equal(noise_factor_init(&nf, d, sd, NULL, NULL), 0);
	memcpy(u1, u, n * p * sizeof *u);
	memcpy(x1, g, n * d * sizeof *g);
	assert_int_equal(eki_update(n, p, d, u1, x1, ok, y, &nf, 0.5, xi, NULL),
	    0);
	memcpy(u2, u, n * p * sizeof *u);
	memcpy(x1, xi, n * d * sizeof *xi);
	assert_int_equal(eki_update_localized(n, p, d, u2, g, ok, y, &nf, 0.5, x1,
	    &loc, NULL), 0);
	assert_near(u2, u1, n * p, 1e-10, "sec alpha 0");
	memcpy(u2, u, n * p * sizeof *u);
	memcpy(x1, xi, n * d * sizeof *xi);
	loc.rho = ones;
	assert_int_equal(eki_update_localized(n, p, d, u2, g, ok, y, &nf, 0.5, x1,
	    &loc, NULL), 0);
	assert_near(u2, u1, n * p, 1e-10, "matrix of ones");
	noise_factor_release(&nf);
	free(u); free(u1); free(u2); free(g); free(xi); free(x1); free(y);
	free(sd); free(ones); free(ok);
	gsl_rng_free(r);
}

/* The data-misfit controller against its closed form. */
static void
test_data_misfit_controller(void **state)
{
	double	 mis[4] = { 2.0, 4.0, 6.0, 100 }, dt, phi[3], m, v;
	int	 ok[4] = { 1, 1, 1, 0 };
	size_t	 d = 10, i;

	(void)state;
	for (i = 0, m = 0; i < 3; i++)
		m += (phi[i] = d * mis[i] / 2) / 3;
	for (i = 0, v = 0; i < 3; i++)
		v += (phi[i] - m) * (phi[i] - m) / 2;
	assert_int_equal(dmc_timestep(4, d, mis, ok, 0, 1, &dt), 0);
	assert_true(fabs(dt - fmax(d / (2 * m), sqrt(d / (2 * v)))) < 1e-15);
	/* Capped by the time left, then stop once it is used up. */
	assert_int_equal(dmc_timestep(4, d, mis, ok, 0.95, 1, &dt), 0);
	assert_true(fabs(dt - 0.05) < 1e-15);
	assert_int_equal(dmc_timestep(4, d, mis, ok, 1.0, 1, &dt), 1);
	assert_int_equal(dmc_timestep(4, d, mis, ok, 3.0, 2.5, &dt), 1);
	/* Outputs that fit exactly leave no reason to regularise. */
	mis[0] = mis[1] = mis[2] = 0;
	assert_int_equal(dmc_timestep(4, d, mis, ok, 0.25, 1, &dt), 0);
	assert_true(fabs(dt - 0.75) < 1e-15);
}

/* Multiplicative inflation scales the covariance exactly; mean kept. */
static void
test_inflation(void **state)
{
	gsl_rng	*r = gsl_rng_alloc(gsl_rng_mt19937);
	double	 u[20 * P], before[P * P], after[P * P], m0[P], m1[P], z[20 * P];
	double	 s0[P] = { 1, 2, 3 };
	int	 ok[20];
	size_t	 i;

	(void)state;
	for (i = 0; i < 20 * P; i++) {
		u[i] = gsl_ran_gaussian(r, 1.0);
		z[i] = gsl_ran_gaussian(r, 1.0);
	}
	for (i = 0; i < 20; i++)
		ok[i] = 1;
	moments(20, u, m0, before);
	inflate(20, P, u, ok, 1.5, 0, s0, z);
	moments(20, u, m1, after);
	assert_near(m1, m0, P, 1e-12, "mean");
	for (i = 0; i < P * P; i++)
		before[i] *= 1.5;
	assert_near(after, before, P * P, 1e-12, "covariance");
	/* Additive: member j moves by sqrt(a) s0 z_j. */
	memcpy(before, u, sizeof before);
	inflate(20, P, u, ok, 1, 0.04, s0, z);
	for (i = 0; i < 3; i++)
		assert_true(fabs(u[i] - before[i] - 0.2 * s0[i] * z[i]) < 1e-12);
	gsl_rng_free(r);
}

/* Resampled members lie at mean + A' z from the successful ones. */
static void
test_resample(void **state)
{
	double	 u[5 * 2] = { 1, 2, 3, 4, 99, 99, 5, 0, -1, 7 };
	double	 z[5 * 5] = { 0 }, a0, a1;
	int	 ok[5] = { 1, 1, 0, 1, 1 };

	(void)state;
	/* Failed member 2 gets z = e_1 (the second successful one). */
	z[2 * 5 + 1] = 1;
	resample_failed(5, 2, u, ok, z);
	/* mean (2, 13/4); second successful row (3, 4); scale 1/sqrt(3). */
	a0 = 2 + (3 - 2) / sqrt(3);
	a1 = 13.0 / 4 + (4 - 13.0 / 4) / sqrt(3);
	assert_true(fabs(u[4] - a0) < 1e-12);
	assert_true(fabs(u[5] - a1) < 1e-12);
	assert_true(u[0] == 1 && u[9] == 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uki_sigma_points),
		cmocka_unit_test(test_uki_exact_posterior),
		cmocka_unit_test(test_uki_flat_prior),
		cmocka_unit_test(test_eks_matches_dense),
		cmocka_unit_test(test_eks_samples_posterior),
		cmocka_unit_test(test_aldi_samples_posterior),
		cmocka_unit_test(test_etki_square_root),
		cmocka_unit_test(test_etki_eki_large_ensemble),
		cmocka_unit_test(test_esmda_single_weight),
		cmocka_unit_test(test_esmda_weights),
		cmocka_unit_test(test_localization_identity),
		cmocka_unit_test(test_data_misfit_controller),
		cmocka_unit_test(test_inflation),
		cmocka_unit_test(test_resample),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
