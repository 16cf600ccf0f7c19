/*
 * Ensemble Kalman inversion with perturbed observations, in ensemble space.
 * With n members, d observations and p parameters it takes O(n^2 d) time and
 * O(n d) memory: no d x d matrix is formed for diagonal noise.
 */
#ifndef CALIB_EKI_H
#define CALIB_EKI_H

#include <stddef.h>

/* The noise covariance Gamma = L L', as per-observation std or a factor. */
struct noise_factor {
	size_t		 d;
	const double	*std;		/* diagonal noise: L = diag(std) */
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

/* (y - g)' Gamma^-1 (y - g) / d: about 1 for outputs as close as the noise. */
double	 data_misfit(const struct noise_factor *, const double *y,
	    const double *g);

/*
 * One EKI step of size dt on the members whose ok[j] is set (at least 2):
 *
 *   u_j += C_ug (C_gg + Gamma/dt)^-1 (y + sqrt(1/dt) L xi_j - g_j)
 *
 * computed as u_j += sum_i A_i Z_ij with A the centred, scaled parameters,
 * S = sqrt(dt) L^-1 (G - mean) / sqrt(n-1), W_j = sqrt(dt) L^-1 (y - g_j)
 * + xi_j and Z = (I + S S')^-1 S W' (one SYRK, one GEMM, one Cholesky solve,
 * one GEMM).  u is n x p and g, xi are n x d, one row per member; xi holds
 * standard normal draws and is overwritten.  Failed members keep their u.
 */
int	 eki_update(size_t n, size_t p, size_t d, double *u, const double *g,
	    const int *ok, const double *y, const struct noise_factor *,
	    double dt, double *xi, char **cause);

#endif
