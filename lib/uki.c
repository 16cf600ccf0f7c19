/*
 * Unscented Kalman inversion (see eki.h).  The weights follow
 * EnsembleKalmanProcesses.jl: alpha = min(sqrt(4 / p), 1), lambda =
 * alpha^2 p - p, points at +-sqrt(p + lambda) times the columns of the
 * Cholesky factor, covariance weights 1 / (2 (p + lambda)); the mean of the
 * outputs is the central point's (the modified unscented transform), so the
 * central point adds nothing to any covariance.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>

#include "lib/eki.h"
#include "lib/util.h"

static double
uki_lambda(size_t p)
{
	double	 a = fmin(sqrt(4.0 / p), 1.0);

	return a * a * p - p;
}

int
uki_sigma_points(size_t p, const double *mean, const double *cov, double *u,
    char **cause)
{
	double	*L = xmallocarray(p * p, sizeof *L), c = sqrt(p + uki_lambda(p));
	size_t	 i, k;
	int	 info;

	memcpy(L, cov, p * p * sizeof *L);
	info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', p, L, p);
	if (info != 0) {
		free(L);
		return failf(cause, "the UKI covariance is not positive definite "
		    "(Cholesky failed at row %d)", info);
	}
	memcpy(u, mean, p * sizeof *u);
	for (i = 0; i < p; i++)
		for (k = 0; k < p; k++) {
			/* Column i of the lower factor. */
			double l = k >= i ? L[k * p + i] : 0;

			u[(1 + i) * p + k] = mean[k] + c * l;
			u[(1 + p + i) * p + k] = mean[k] - c * l;
		}
	free(L);
	return 0;
}

int
uki_predict(size_t p, struct uki_state *st, const double *r, double alpha,
    long update_freq, long k, double *u, char **cause)
{
	double	*m = xmallocarray(p, sizeof *m), *C = xmallocarray(p * p, sizeof *C);
	size_t	 i;
	int	 rc;

	if (update_freq > 0 && k % update_freq == 0)
		for (i = 0; i < p * p; i++)
			st->sigma_omega[i] = (2 - alpha * alpha) * st->cov[i];
	for (i = 0; i < p; i++)
		m[i] = alpha * st->mean[i] + (1 - alpha) * r[i];
	for (i = 0; i < p * p; i++)
		C[i] = alpha * alpha * st->cov[i] + st->sigma_omega[i];
	rc = uki_sigma_points(p, m, C, u, cause);
	free(m);
	free(C);
	return rc;
}

int
uki_analysis(size_t p, size_t d, const double *u, const double *g,
    const double *y, const struct noise_factor *nf, const double *r,
    const double *s0, struct uki_state *st, char **cause)
{
	size_t	 n = 2 * p, e = d + (s0 ? p : 0), j, k;
	double	 w = sqrt(1 / (2 * (p + uki_lambda(p))));
	double	*A, *S, *yt, *M, *Q, *b;
	lapack_int *piv;
	int	 info, rc = -1;

	/*
	 * Rows j = 1..2p, weighted: A_j = w (u_j - u_0), S_j = w [L^-1 (g_j -
	 * g_0); (u_j - u_0) / s0] and the whitened innovation
	 * yt = [L^-1 (y - g_0); (r - u_0) / s0].  Then with Sigma_nu = 2 Gamma:
	 * m = u_0 + A' (S S' + 2 I)^-1 S yt, C = A'A - A' (S S' + 2 I)^-1 S S' A.
	 */
	A = xmallocarray(n * p, sizeof *A);
	S = xcalloc(n * e, sizeof *S);
	yt = xmallocarray(e, sizeof *yt);
	for (j = 0; j < n; j++) {
		for (k = 0; k < p; k++)
			A[j * p + k] = w * (u[(j + 1) * p + k] - u[k]);
		for (k = 0; k < d; k++)
			S[j * e + k] = w * (g[(j + 1) * d + k] - g[k]);
	}
	for (k = 0; k < d; k++)
		yt[k] = y[k] - g[k];
	/* Whiten the output block of every row (stride e, not d). */
	{
		double *row = xmallocarray(d, sizeof *row);

		for (j = 0; j <= n; j++) {
			double *v = j < n ? S + j * e : yt;

			memcpy(row, v, d * sizeof *row);
			noise_whiten(nf, row, 1);
			memcpy(v, row, d * sizeof *row);
		}
		free(row);
	}
	if (s0 != NULL) {
		for (j = 0; j < n; j++)
			for (k = 0; k < p; k++)
				S[j * e + d + k] = A[j * p + k] / s0[k];
		for (k = 0; k < p; k++)
			yt[d + k] = (r[k] - u[k]) / s0[k];
	}
	M = gram_matrix(n, e, S);
	/* Right-hand sides [S yt | M A] (n x (1 + p)), solved with M + 2I. */
	Q = xmallocarray(n * (1 + p), sizeof *Q);
	b = xmallocarray(n, sizeof *b);
	cblas_dgemv(CblasRowMajor, CblasNoTrans, n, e, 1.0, S, e, yt, 1, 0.0, b,
	    1);
	for (j = 0; j < n; j++)
		Q[j * (1 + p)] = b[j];
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, p, n, 1.0, M, n,
	    A, p, 0.0, Q + 1, 1 + p);
	for (j = 0; j < n; j++)
		M[j * n + j] += 2;
	piv = xmallocarray(n, sizeof *piv);
	info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, n, 1 + p, M, n, piv, Q, 1 + p);
	if (info != 0) {
		failf(cause, "the UKI analysis system is singular (dgesv: %d)",
		    info);
		goto out;
	}
	/* m = u_0 + A' q_0; C = A'A - A' Q_rest. */
	memcpy(st->mean, u, p * sizeof *u);
	cblas_dgemv(CblasRowMajor, CblasTrans, n, p, 1.0, A, p, Q, 1 + p, 1.0,
	    st->mean, 1);
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, p, n, 1.0, A, p,
	    A, p, 0.0, st->cov, p);
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, p, n, -1.0, A, p,
	    Q + 1, 1 + p, 1.0, st->cov, p);
	for (j = 0; j < p; j++)
		for (k = 0; k < j; k++)
			st->cov[j * p + k] = st->cov[k * p + j] =
			    (st->cov[j * p + k] + st->cov[k * p + j]) / 2;
	rc = 0;
out:
	free(A);
	free(S);
	free(yt);
	free(M);
	free(Q);
	free(b);
	free(piv);
	return rc;
}
