/* The EKI update with CBLAS and LAPACKE (see eki.h for the algebra). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>

#include "lib/eki.h"
#include "lib/util.h"

int
noise_factor_init(struct noise_factor *nf, size_t d, const double *std,
    const double *cov, char **cause)
{
	size_t	 i, j;
	int	 info;

	memset(nf, 0, sizeof *nf);
	nf->d = d;
	if (std != NULL) {
		nf->std = std;
		return 0;
	}
	nf->chol = xmallocarray(d * d, sizeof *nf->chol);
	memcpy(nf->chol, cov, d * d * sizeof *nf->chol);
	for (i = 0; i < d; i++)
		for (j = 0; j < i; j++)
			if (fabs(cov[i * d + j] - cov[j * d + i]) >
			    1e-12 * (fabs(cov[i * d + j]) + fabs(cov[j * d + i]))) {
				noise_factor_release(nf);
				return failf(cause, "the noise covariance is not "
				    "symmetric (entries %zu,%zu and %zu,%zu)", i + 1,
				    j + 1, j + 1, i + 1);
			}
	info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', d, nf->chol, d);
	if (info != 0) {
		noise_factor_release(nf);
		return failf(cause, "the noise covariance is not positive definite "
		    "(Cholesky failed at row %d)", info);
	}
	for (i = 0; i < d; i++)
		for (j = i + 1; j < d; j++)
			nf->chol[i * d + j] = 0;
	return 0;
}

void
noise_factor_release(struct noise_factor *nf)
{
	free(nf->chol);
	memset(nf, 0, sizeof *nf);
}

void
noise_whiten(const struct noise_factor *nf, double *v, size_t rows)
{
	size_t	 r, k, d = nf->d;

	if (nf->chol != NULL) {
		/* Solve X L' = V: each row x = L^-1 v. */
		cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans,
		    CblasNonUnit, rows, d, 1.0, nf->chol, d, v, d);
		return;
	}
	for (r = 0; r < rows; r++)
		for (k = 0; k < d; k++)
			v[r * d + k] /= nf->std[k];
}

double
data_misfit(const struct noise_factor *nf, const double *y, const double *g)
{
	double	*r = xmallocarray(nf->d, sizeof *r), s;
	size_t	 k;

	for (k = 0; k < nf->d; k++)
		r[k] = y[k] - g[k];
	noise_whiten(nf, r, 1);
	s = cblas_ddot(nf->d, r, 1, r, 1) / nf->d;
	free(r);
	return s;
}

int
eki_update(size_t n, size_t p, size_t d, double *u, const double *g,
    const int *ok, const double *y, const struct noise_factor *nf, double dt,
    double *xi, char **cause)
{
	size_t	 ns = 0, i, j, k, *idx;
	double	*A, *S, *W, *K, *X, *ubar, *gbar, sc, sdt = sqrt(dt);
	int	 info, rc = -1;

	idx = xmallocarray(n, sizeof *idx);
	for (j = 0; j < n; j++)
		if (ok[j])
			idx[ns++] = j;
	if (ns < 2) {
		free(idx);
		return failf(cause, "%zu successful members; the update needs at "
		    "least 2", ns);
	}
	ubar = xcalloc(p, sizeof *ubar);
	gbar = xcalloc(d, sizeof *gbar);
	for (i = 0; i < ns; i++) {
		cblas_daxpy(p, 1.0 / ns, u + idx[i] * p, 1, ubar, 1);
		cblas_daxpy(d, 1.0 / ns, g + idx[i] * d, 1, gbar, 1);
	}
	A = xmallocarray(ns * p, sizeof *A);
	S = xmallocarray(ns * d, sizeof *S);
	sc = 1 / sqrt(ns - 1.0);
	for (i = 0; i < ns; i++) {
		const double *ui = u + idx[i] * p, *gi = g + idx[i] * d;

		for (k = 0; k < p; k++)
			A[i * p + k] = (ui[k] - ubar[k]) * sc;
		for (k = 0; k < d; k++)
			S[i * d + k] = (gi[k] - gbar[k]) * sc * sdt;
	}
	/*
	 * W reuses xi's storage: row i of W comes from row idx[i] >= i of xi,
	 * so filling rows in order never overwrites a row still to be read.
	 */
	W = xi;
	{
		double *r = xmallocarray(d, sizeof *r);

		for (i = 0; i < ns; i++) {
			const double *gi = g + idx[i] * d, *xr = xi + idx[i] * d;

			for (k = 0; k < d; k++)
				r[k] = (y[k] - gi[k]) * sdt;
			noise_whiten(nf, r, 1);
			for (k = 0; k < d; k++)
				W[i * d + k] = r[k] + xr[k];
		}
		free(r);
	}
	noise_whiten(nf, S, ns);

	K = xcalloc(ns * ns, sizeof *K);
	X = xmallocarray(ns * ns, sizeof *X);
	for (i = 0; i < ns; i++)
		K[i * ns + i] = 1;
	cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, ns, d, 1.0, S, d,
	    1.0, K, ns);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ns, ns, d, 1.0, S, d,
	    W, d, 0.0, X, ns);
	info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', ns, ns, K, ns, X, ns);
	if (info != 0) {
		failf(cause, "the ensemble-space system is singular (dposv: %d)",
		    info);
		goto out;
	}
	/* Delta U = Z' A, added in place to the successful members' rows. */
	{
		double *D = xcalloc(ns * p, sizeof *D);

		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ns, p, ns,
		    1.0, X, ns, A, p, 0.0, D, p);
		for (i = 0; i < ns; i++)
			cblas_daxpy(p, 1.0, D + i * p, 1, u + idx[i] * p, 1);
		free(D);
	}
	rc = 0;
out:
	free(idx);
	free(ubar);
	free(gbar);
	free(A);
	free(S);
	free(K);
	free(X);
	return rc;
}
