/*
 * The ensemble Kalman updates: EKI with perturbed observations (also ES-MDA,
 * which is EKI with dt = 1/alpha), ETKI, EKS and ALDI, and UKI.  Every one
 * works in ensemble space on outputs whitened by the noise factor: with n
 * members, d observations and p parameters each takes O(n^2 d) time and
 * O(n d) memory, and no d x d matrix is formed for diagonal noise.
 *
 * Matrices are row-major with one row per member: u is n x p, g is n x d.
 * ok[j] marks the members that succeeded; the others keep their row.
 */
#ifndef CALIB_EKI_H
#define CALIB_EKI_H

#include <stddef.h>

/* The noise covariance Gamma = L L', as per-observation std or a factor. */
struct noise_factor {
	size_t		 d;
	const double	*std;		/* diagonal noise: L = diag(std) */
	double		*inv;		/* diagonal noise: 1 / std */
	double		*chol;		/* full noise: lower factor, d x d */
};

/*
 * Prepare L from a diagonal (std, d values) or full (cov, d x d) noise;
 * the covariance is factored once.  Fails when it is not positive definite.
 */
int	 noise_factor_init(struct noise_factor *, size_t d, const double *std,
	    const double *cov, char **cause);
void	 noise_factor_release(struct noise_factor *);

/* Replace each of the `rows` rows of v (rows x d) with L^-1 times it. */
void	 noise_whiten(const struct noise_factor *, double *v, size_t rows);
/* Same with L^-T: together, Gamma^-1 = L^-T L^-1. */
void	 noise_whiten_t(const struct noise_factor *, double *v, size_t rows);

/* S S' (n x n, full) of the n rows of S (n x d), by one SYRK. */
double	*gram_matrix(size_t n, size_t d, const double *S);

/* (y - g)' Gamma^-1 (y - g) / d: about 1 for outputs as close as the noise. */
double	 data_misfit(const struct noise_factor *, const double *y,
	    const double *g);

/*
 * One EKI step of size dt on the members whose ok[j] is set (at least 2):
 *
 *   u_j += C_ug (C_gg + Gamma/dt)^-1 (y + sqrt(1/dt) L xi_j - g_j)
 *
 * computed as u_j += sum_i A_i X_ij with A the centred, scaled parameters,
 * S = sqrt(dt) L^-1 (G - mean) / sqrt(n-1), W_j = sqrt(dt) L^-1 (y - g_j)
 * + xi_j and X = (I + S S')^-1 S W'.
 *
 * S W' needs no second product of size n^2 d.  Its deterministic part is
 * S R' with R_j = r - sqrt(n-1) S_j, r = sqrt(dt) L^-1 (y - mean g), that
 * is (S r) 1' - sqrt(n-1) S S'.  Its random part S Xi', Xi the n x d
 * standard normals, has column j equal to S xi_j: given the outputs, these
 * are independent N(0, S S').  So S Xi' has the law of F H with F F' =
 * S S' and H an n x n matrix of independent standard normals, whose
 * columns F h_j are independent N(0, F F').  The step draws H, not Xi: n^2
 * normals instead of n d, and F costs n^3/3 (pivoted Cholesky, S S' being
 * singular).  The updated ensemble has exactly the law of the step with
 * Xi; the random stream, and so each draw, differs.  In all: one SYRK, one
 * GEMV and O(n^3) work in ensemble space.
 *
 * u is n x p; g is n x d, one row per member, and is overwritten (S is
 * formed in its storage, so that the update needs no second n x d
 * array); h holds n x n standard normals, one row per member, of which
 * the first ns entries of each successful member's row are used.  Failed
 * members keep their u.
 */
int	 eki_update(size_t n, size_t p, size_t d, double *u, double *g,
	    const int *ok, const double *y, const struct noise_factor *,
	    double dt, const double *h, char **cause);

/*
 * Localization of EKI's parameter-output covariance C_ug (p x d) by a Schur
 * product: a fixed matrix rho (p x d), or the sampling-error correction of
 * Lee (2021), rho_ik = |r_ik|^alpha with r the sample correlation, entries
 * whose corrected correlation is at most cutoff set to 0.  C_gg is not
 * localized (that would need a d x d matrix).
 */
struct localizer {
	const double	*rho;		/* p x d, or NULL for SEC */
	double		 alpha, cutoff;
};

/*
 * The localized EKI step: u_j += (rho o C_ug) (C_gg + Gamma/dt)^-1 r_j with
 * r_j = y + sqrt(1/dt) L xi_j - g_j, the inverse applied in ensemble space
 * by the Woodbury identity.  Here the d-dimensional draws xi (n x d,
 * overwritten) are needed: the localized gain acts on each r_j in data
 * space, so the n x n shortcut of eki_update does not apply.  g is left
 * as it is.
 */
int	 eki_update_localized(size_t n, size_t p, size_t d, double *u,
	    const double *g, const int *ok, const double *y,
	    const struct noise_factor *, double dt, double *xi,
	    const struct localizer *, char **cause);

/*
 * One ETKI step (Huang et al. 2022): deterministic, with the transform
 * Omega = (I + S S')^-1 from one SYRK of the whitened centred outputs S and
 * a symmetric eigendecomposition that gives Omega and its square root:
 *
 *   u_j = mean(u) + sum_i X_i [w + sqrt(n-1) Omega^1/2]_ij,
 *   w = Omega S sqrt(dt) L^-1 (y - mean(g)).
 *
 * g is overwritten: S is formed in its storage.
 */
int	 etki_update(size_t n, size_t p, size_t d, double *u, double *g,
	    const int *ok, const double *y, const struct noise_factor *,
	    double dt, char **cause);

/*
 * The ensemble Kalman sampler (Garbuno-Inigo et al. 2020), one step with
 * the implicit prior split of EnsembleKalmanProcesses.jl:
 *
 *   u_j <- (I + dt C P^-1)^-1 (u_j - dt sum_i (u_i - m) D_ij
 *            + dt C P^-1 m0 [+ dt (p+1)/J (u_j - m)]) + sqrt(2 dt) C^1/2 xi_j
 *
 * with m, C the mean and (1/J) covariance of the J members, D = (1/J)
 * (G - mean G) Gamma^-1 (G - y)', prior N(m0, P) with P diagonal (prior_std),
 * and C^1/2 xi_j = sum_i (u_i - m) xi_ij / sqrt(J), so that no p x p factor
 * is needed.  The bracketed term is ALDI's finite-ensemble correction
 * (Garbuno-Inigo, Nuesken and Reich 2020).  xi: J x J standard normals.
 */
int	 eks_update(size_t n, size_t p, size_t d, double *u, const double *g,
	    const int *ok, const double *y, const struct noise_factor *,
	    const double *prior_mean, const double *prior_std, int aldi,
	    double dt, const double *xi, char **cause);
/*
 * EKS's stable step dt = step / (|D|_F + eps).  On a linear problem the
 * scheme's stationary covariance exceeds the posterior's by about
 * 1 / (1 - dt a / 2) along a direction relaxing at rate a, where dt a is
 * near `step`: step 1 (as in EnsembleKalmanProcesses.jl) spreads the
 * ensemble wider than the posterior, small steps sample it closely.
 */
double	 eks_timestep(size_t n, size_t d, const double *g, const int *ok,
	    const double *y, const struct noise_factor *, double step);

/*
 * The data-misfit controller of Iglesias and Yang (2021) from the members'
 * misfits (per observation, as data_misfit returns them): with
 * Phi_j = d misfit_j / 2, the step is min(max(d / (2 mean Phi),
 * sqrt(d / (2 var Phi))), T - t).  Returns 1 (stop) when the time t
 * already reached T, else 0 with *dt set.
 */
int	 dmc_timestep(size_t n, size_t d, const double *misfit, const int *ok,
	    double t, double T, double *dt);

/*
 * Inflation after an update, on the members marked ok: the deviations from
 * the mean are scaled so that the covariance grows by `mult`, then each
 * member gets N(0, add P) with P = diag(prior_std^2).  z: n x p normals.
 */
void	 inflate(size_t n, size_t p, double *u, const int *ok, double mult,
	    double add, const double *prior_std, const double *z);

/*
 * The failures handler "resample": each member not ok is drawn from the
 * Gaussian with the mean and covariance of the ok members, as
 * mean + sum_i A_i z_i with A the centred ok members over sqrt(k-1), so that
 * a rank-deficient covariance needs no factor.  z: n x n normals.
 */
void	 resample_failed(size_t n, size_t p, double *u, const int *ok,
	    const double *z);

/*
 * Unscented Kalman inversion (Huang, Schneider and Stuart 2022) on
 * 2p + 1 sigma points with the modified unscented transform of
 * EnsembleKalmanProcesses.jl (the mean output is the central point's).
 */
struct uki_state {
	double		*mean;		/* p, the analysed mean m_n */
	double		*cov;		/* p x p, the analysed covariance C_n */
	double		*sigma_omega;	/* p x p, the evolution covariance */
};

/* Sigma points (2p+1 rows) of N(mean, cov); fails if cov is not SPD. */
int	 uki_sigma_points(size_t p, const double *mean, const double *cov,
	    double *u, char **cause);
/*
 * The prediction step before iteration k (k = 1 for the first sigma
 * points): update Sigma_omega every update_freq steps, then
 * m = alpha m_n + (1 - alpha) r, C = alpha^2 C_n + Sigma_omega; writes the
 * sigma points of N(m, C) to u.
 */
int	 uki_predict(size_t p, struct uki_state *, const double *r,
	    double alpha, long update_freq, long k, double *u, char **cause);
/*
 * The analysis step from the sigma points u and their outputs g: the new
 * m_n and C_n with Sigma_nu = 2 Gamma.  With prior_std set (impose_prior),
 * the observations are extended by the prior mean r with noise P, so that
 * the fixed point is the Bayesian posterior.
 */
int	 uki_analysis(size_t p, size_t d, const double *u, const double *g,
	    const double *y, const struct noise_factor *, const double *r,
	    const double *prior_std, struct uki_state *, char **cause);

#endif
