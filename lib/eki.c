/* The EKI update with CBLAS and LAPACKE (see eki.h for the algebra). */
#include <float.h>
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
		/* Whitening multiplies by 1/std: a division costs more. */
		nf->std = std;
		nf->inv = xmallocarray(d ? d : 1, sizeof *nf->inv);
		for (i = 0; i < d; i++)
			nf->inv[i] = 1 / std[i];
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
	free(nf->inv);
	memset(nf, 0, sizeof *nf);
}

/* Each row x of v becomes L^-1 x (CblasTrans: solve X L' = V) or L^-T x. */
static void
whiten(const struct noise_factor *nf, double *v, size_t rows,
    CBLAS_TRANSPOSE t)
{
	size_t	 r, k, d = nf->d;

	if (nf->chol != NULL) {
		cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, t,
		    CblasNonUnit, rows, d, 1.0, nf->chol, d, v, d);
		return;
	}
	for (r = 0; r < rows; r++)
		for (k = 0; k < d; k++)
			v[r * d + k] *= nf->inv[k];
}

void
noise_whiten(const struct noise_factor *nf, double *v, size_t rows)
{
	whiten(nf, v, rows, CblasTrans);
}

void
noise_whiten_t(const struct noise_factor *nf, double *v, size_t rows)
{
	whiten(nf, v, rows, CblasNoTrans);
}

double
data_misfit(const struct noise_factor *nf, const double *y, const double *g)
{
	double	*r, s = 0, x;
	size_t	 k;

	if (nf->chol == NULL) {
		for (k = 0; k < nf->d; k++) {
			x = (y[k] - g[k]) * nf->inv[k];
			s += x * x;
		}
		return s / nf->d;
	}
	r = xmallocarray(nf->d, sizeof *r);
	for (k = 0; k < nf->d; k++)
		r[k] = y[k] - g[k];
	noise_whiten(nf, r, 1);
	s = cblas_ddot(nf->d, r, 1, r, 1) / nf->d;
	free(r);
	return s;
}

/* The members that succeeded and their means. */
struct subset {
	size_t	 ns, *idx;
	double	*ubar, *gbar;
};

static int
subset_init(struct subset *s, size_t n, size_t p, size_t d, const double *u,
    const double *g, const int *ok, char **cause)
{
	size_t	 i, j;

	memset(s, 0, sizeof *s);
	s->idx = xmallocarray(n, sizeof *s->idx);
	for (j = 0; j < n; j++)
		if (ok[j])
			s->idx[s->ns++] = j;
	if (s->ns < 2) {
		free(s->idx);
		return failf(cause, "%zu successful members; the update needs at "
		    "least 2", s->ns);
	}
	s->ubar = xcalloc(p, sizeof *s->ubar);
	s->gbar = xcalloc(d, sizeof *s->gbar);
	for (i = 0; i < s->ns; i++) {
		cblas_daxpy(p, 1.0 / s->ns, u + s->idx[i] * p, 1, s->ubar, 1);
		if (g != NULL)
			cblas_daxpy(d, 1.0 / s->ns, g + s->idx[i] * d, 1, s->gbar,
			    1);
	}
	return 0;
}

static void
subset_release(struct subset *s)
{
	free(s->idx);
	free(s->ubar);
	free(s->gbar);
}

/* Rows (u_i - mean) * sc of the subset: ns x p. */
static double *
centred_u(const struct subset *s, size_t p, const double *u, double sc)
{
	double	*A = xmallocarray(s->ns * p, sizeof *A);
	size_t	 i, k;

	for (i = 0; i < s->ns; i++)
		for (k = 0; k < p; k++)
			A[i * p + k] = (u[s->idx[i] * p + k] - s->ubar[k]) * sc;
	return A;
}

/* Rows L^-1 (g_i - mean) * sc of the subset: ns x d. */
static double *
centred_g(const struct subset *s, size_t d, const double *g, double sc,
    const struct noise_factor *nf)
{
	double	*S = xmallocarray(s->ns * d, sizeof *S);
	size_t	 i, k;

	for (i = 0; i < s->ns; i++)
		for (k = 0; k < d; k++)
			S[i * d + k] = (g[s->idx[i] * d + k] - s->gbar[k]) * sc;
	noise_whiten(nf, S, s->ns);
	return S;
}

/*
 * The same rows in g's own storage, compacted to the first ns rows: row i
 * comes from row idx[i] >= i, so filling rows in order never overwrites a
 * row still to be read.  g is n x d and is not needed after.
 */
static double *
centre_in_place(const struct subset *s, size_t d, double *g, double sc,
    const struct noise_factor *nf)
{
	size_t	 i, k;

	for (i = 0; i < s->ns; i++) {
		const double *gi = g + s->idx[i] * d;
		double *out = g + i * d;

		/* Diagonal noise: centred and whitened in one pass. */
		if (nf->chol == NULL)
			for (k = 0; k < d; k++)
				out[k] = (gi[k] - s->gbar[k]) * sc * nf->inv[k];
		else
			for (k = 0; k < d; k++)
				out[k] = (gi[k] - s->gbar[k]) * sc;
	}
	if (nf->chol != NULL)
		noise_whiten(nf, g, s->ns);
	return g;
}

/* sqrt(dt) L^-1 (y - mean g): the whitened innovation of the mean. */
static double *
mean_innovation(const struct subset *s, size_t d, const double *y,
    const struct noise_factor *nf, double dt)
{
	double	*r = xmallocarray(d, sizeof *r);
	size_t	 k;

	for (k = 0; k < d; k++)
		r[k] = (y[k] - s->gbar[k]) * sqrt(dt);
	noise_whiten(nf, r, 1);
	return r;
}

/*
 * Rows W_i = sqrt(dt) L^-1 (y - g_i) + xi_i, in xi's storage: row i of W
 * comes from row idx[i] >= i of xi, so filling rows in order never
 * overwrites a row still to be read.
 */
static double *
innovations(const struct subset *s, size_t d, const double *g,
    const double *y, const struct noise_factor *nf, double dt, double *xi)
{
	double	*r = xmallocarray(d, sizeof *r), sdt = sqrt(dt);
	size_t	 i, k;

	for (i = 0; i < s->ns; i++) {
		const double *gi = g + s->idx[i] * d, *xr = xi + s->idx[i] * d;

		for (k = 0; k < d; k++)
			r[k] = (y[k] - gi[k]) * sdt;
		noise_whiten(nf, r, 1);
		for (k = 0; k < d; k++)
			xi[i * d + k] = r[k] + xr[k];
	}
	free(r);
	return xi;
}

/* X = (I + S S')^-1 S W' (ns x ns), by one SYRK, one GEMM and dposv. */
static int
ensemble_solve(size_t ns, size_t d, const double *S, const double *W,
    double *X, char **cause)
{
	double	*K = xcalloc(ns * ns, sizeof *K);
	size_t	 i;
	int	 info;

	for (i = 0; i < ns; i++)
		K[i * ns + i] = 1;
	cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, ns, d, 1.0, S, d,
	    1.0, K, ns);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ns, ns, d, 1.0, S, d,
	    W, d, 0.0, X, ns);
	info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', ns, ns, K, ns, X, ns);
	free(K);
	if (info != 0)
		return failf(cause, "the ensemble-space system is singular "
		    "(dposv: %d)", info);
	return 0;
}

/* Add the rows of D (ns x p) to the subset's rows of u. */
static void
add_rows(const struct subset *s, size_t p, const double *D, double *u)
{
	size_t	 i;

	for (i = 0; i < s->ns; i++)
		cblas_daxpy(p, 1.0, D + i * p, 1, u + s->idx[i] * p, 1);
}

/*
 * F (ns x ns) with F F' = Q, Q = S S' (ns x ns, its lower triangle set, and
 * overwritten), by Cholesky with pivoting: Q is only semidefinite (its
 * rank is at most ns - 1, the outputs being centred).  P' Q P = L L' with
 * rank r, so F = P L, whose columns past r are zero.
 */
static double *
noise_square_root(size_t ns, double *Q, char **cause)
{
	double		*F;
	lapack_int	*piv = xmallocarray(ns, sizeof *piv), rank = 0;
	size_t		 i, k;
	int		 info;

	info = LAPACKE_dpstrf(LAPACK_ROW_MAJOR, 'L', ns, Q, ns, piv, &rank, -1);
	if (info < 0) {
		free(piv);
		failf(cause, "the ensemble-space factor of the perturbations "
		    "failed (dpstrf: %d)", info);
		return NULL;
	}
	F = xcalloc(ns * ns, sizeof *F);
	for (i = 0; i < ns; i++)
		for (k = 0; k <= i && k < (size_t)rank; k++)
			F[(piv[i] - 1) * ns + k] = Q[i * ns + k];
	free(piv);
	return F;
}

double *
gram_matrix(size_t n, size_t d, const double *S)
{
	double	*Q = xcalloc(n * n, sizeof *Q);
	size_t	 i, j;

	cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, d, 1.0, S, d,
	    0.0, Q, n);
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			Q[j * n + i] = Q[i * n + j];
	return Q;
}

/*
 * What eki and etki share: the successful members s, their centred
 * parameters A / sqrt(ns - 1), the whitened innovation of the mean r, and
 * S in g's storage; then Q = S S', the one product of size ns^2 d.
 */
static int
transform_setup(struct subset *s, size_t n, size_t p, size_t d,
    const double *u, double *g, const int *ok, const double *y,
    const struct noise_factor *nf, double dt, double **A, double **r,
    double **Q, char **cause)
{
	if (subset_init(s, n, p, d, u, g, ok, cause) != 0)
		return -1;
	*A = centred_u(s, p, u, 1 / sqrt(s->ns - 1.0));
	*r = mean_innovation(s, d, y, nf, dt);
	centre_in_place(s, d, g, sqrt(dt / (s->ns - 1.0)), nf);
	*Q = gram_matrix(s->ns, d, g);
	return 0;
}

int
eki_update(size_t n, size_t p, size_t d, double *u, double *g,
    const int *ok, const double *y, const struct noise_factor *nf, double dt,
    const double *h, char **cause)
{
	struct subset	 s;
	double		*A, *S, *r, *K, *Q, *F, *X, *D;
	size_t		 ns, i, j;
	int		 info, rc = -1;

	if (transform_setup(&s, n, p, d, u, g, ok, y, nf, dt, &A, &r, &Q,
	    cause) != 0)
		return -1;
	ns = s.ns;
	S = g;
	/* K = I + Q. */
	K = xmallocarray(ns * ns, sizeof *K);
	memcpy(K, Q, ns * ns * sizeof *K);
	for (i = 0; i < ns; i++)
		K[i * ns + i] += 1;
	/*
	 * S W' = S r 1' - sqrt(ns - 1) Q + S Xi', and S Xi' has the law of
	 * F H (see eki.h): X = b 1' - sqrt(ns - 1) Q + F H, b = S r.
	 */
	D = xmallocarray(ns, sizeof *D);
	cblas_dgemv(CblasRowMajor, CblasNoTrans, ns, d, 1.0, S, d, r, 1, 0.0,
	    D, 1);
	X = xmallocarray(ns * ns, sizeof *X);
	for (i = 0; i < ns; i++)
		for (j = 0; j < ns; j++)
			X[i * ns + j] = D[i] - sqrt(ns - 1.0) * Q[i * ns + j];
	if ((F = noise_square_root(ns, Q, cause)) == NULL) {
		free(D);
		goto out;
	}
	/* H: column j is member idx[j]'s row of h, its first ns entries. */
	for (i = 0; i < ns; i++)
		for (j = 0; j < ns; j++)
			Q[i * ns + j] = h[s.idx[j] * n + i];
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ns, ns, ns, 1.0,
	    F, ns, Q, ns, 1.0, X, ns);
	info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', ns, ns, K, ns, X, ns);
	free(D);
	if (info != 0) {
		failf(cause, "the ensemble-space system is singular (dposv: %d)",
		    info);
		goto out;
	}
	/* Delta U = X' A, added to the successful members' rows. */
	D = xmallocarray(ns * p, sizeof *D);
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ns, p, ns,
	    1.0, X, ns, A, p, 0.0, D, p);
	add_rows(&s, p, D, u);
	free(D);
	rc = 0;
out:
	subset_release(&s);
	free(A);
	free(r);
	free(Q);
	free(K);
	free(F);
	free(X);
	return rc;
}

/* Sampling-error correction of one correlation (Lee 2021). */
static double
sec_factor(double r, double alpha, double cutoff)
{
	double	 f = pow(fabs(r), alpha);

	return fabs(r * f) > cutoff ? f : 0;
}

int
eki_update_localized(size_t n, size_t p, size_t d, double *u, const double *g,
    const int *ok, const double *y, const struct noise_factor *nf, double dt,
    double *xi, const struct localizer *loc, char **cause)
{
	struct subset	 s;
	double		*A, *E, *S, *W, *X, *C, *D, *su, *sg;
	size_t		 i, k, ns;
	int		 rc = -1;

	if (subset_init(&s, n, p, d, u, g, ok, cause) != 0)
		return -1;
	ns = s.ns;
	A = centred_u(&s, p, u, 1 / sqrt(ns - 1.0));
	/* Raw centred outputs for C_ug, then their whitened copy S. */
	E = xmallocarray(ns * d, sizeof *E);
	for (i = 0; i < ns; i++)
		for (k = 0; k < d; k++)
			E[i * d + k] = (g[s.idx[i] * d + k] - s.gbar[k]) /
			    sqrt(ns - 1.0);
	S = xmallocarray(ns * d, sizeof *S);
	memcpy(S, E, ns * d * sizeof *S);
	cblas_dscal(ns * d, sqrt(dt), S, 1);
	noise_whiten(nf, S, ns);
	W = innovations(&s, d, g, y, nf, dt, xi);
	X = xmallocarray(ns * ns, sizeof *X);
	C = xmallocarray(p * d, sizeof *C);
	if (ensemble_solve(ns, d, S, W, X, cause) != 0)
		goto out;
	/*
	 * V = sqrt(dt) (W - X' S) L^-T, in W's storage: row j is
	 * (C_gg + Gamma/dt)^-1 r_j by the Woodbury identity.
	 */
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ns, d, ns, -1.0,
	    X, ns, S, d, 1.0, W, d);
	noise_whiten_t(nf, W, ns);
	cblas_dscal(ns * d, sqrt(dt), W, 1);
	/* C_ug = A' E (p x d), localized entry by entry. */
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, d, ns, 1.0, A, p,
	    E, d, 0.0, C, d);
	if (loc->rho != NULL) {
		for (i = 0; i < p * d; i++)
			C[i] *= loc->rho[i];
	} else {
		su = xcalloc(p, sizeof *su);
		sg = xcalloc(d, sizeof *sg);
		for (i = 0; i < ns; i++) {
			for (k = 0; k < p; k++)
				su[k] += A[i * p + k] * A[i * p + k];
			for (k = 0; k < d; k++)
				sg[k] += E[i * d + k] * E[i * d + k];
		}
		for (i = 0; i < p; i++)
			for (k = 0; k < d; k++) {
				double sd = sqrt(su[i] * sg[k]);

				if (sd > 0)
					C[i * d + k] *= sec_factor(C[i * d + k] /
					    sd, loc->alpha, loc->cutoff);
			}
		free(su);
		free(sg);
	}
	/* Delta U = V C' (ns x p). */
	D = xmallocarray(ns * p, sizeof *D);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ns, p, d, 1.0, W, d,
	    C, d, 0.0, D, p);
	add_rows(&s, p, D, u);
	free(D);
	rc = 0;
out:
	subset_release(&s);
	free(A);
	free(E);
	free(S);
	free(X);
	free(C);
	return rc;
}

int
etki_update(size_t n, size_t p, size_t d, double *u, double *g,
    const int *ok, const double *y, const struct noise_factor *nf, double dt,
    char **cause)
{
	struct subset	 s;
	double		*X, *S, *K, *lam, *V, *T, *b, *w, *r, *D, f;
	size_t		 i, j, k, ns;
	int		 info, rc = -1;

	if (transform_setup(&s, n, p, d, u, g, ok, y, nf, dt, &X, &r, &K,
	    cause) != 0)
		return -1;
	ns = s.ns;
	S = g;
	/* K = S S', then K = V diag(lam) V'. */
	lam = xmallocarray(ns, sizeof *lam);
	V = NULL;
	T = xmallocarray(ns * ns, sizeof *T);
	b = xcalloc(ns, sizeof *b);
	w = xcalloc(ns, sizeof *w);
	info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'L', ns, K, ns, lam);
	if (info != 0) {
		failf(cause, "the ensemble-space eigenproblem failed (dsyevd: %d)",
		    info);
		goto out;
	}
	V = K;				/* columns are the eigenvectors */
	/* b = S sqrt(dt) L^-1 (y - mean g); w = Omega b. */
	cblas_dgemv(CblasRowMajor, CblasNoTrans, ns, d, 1.0, S, d, r, 1, 0.0,
	    b, 1);
	/* T = V diag(1/(1+lam)) V' b 1' + sqrt(ns-1) V diag(1/sqrt(1+lam)) V'. */
	{
		double *Vb = xcalloc(ns, sizeof *Vb);
		double *VS = xmallocarray(ns * ns, sizeof *VS);

		cblas_dgemv(CblasRowMajor, CblasTrans, ns, ns, 1.0, V, ns, b, 1,
		    0.0, Vb, 1);
		for (k = 0; k < ns; k++) {
			/* Clip rounding below 0: S S' is semidefinite. */
			double l = lam[k] > 0 ? lam[k] : 0;

			Vb[k] /= 1 + l;
			for (i = 0; i < ns; i++)
				VS[i * ns + k] = V[i * ns + k] / sqrt(1 + l);
		}
		cblas_dgemv(CblasRowMajor, CblasNoTrans, ns, ns, 1.0, V, ns, Vb, 1,
		    0.0, w, 1);
		f = sqrt(ns - 1.0);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ns, ns, ns,
		    f, VS, ns, V, ns, 0.0, T, ns);
		for (i = 0; i < ns; i++)
			for (j = 0; j < ns; j++)
				T[i * ns + j] += w[i];
		free(Vb);
		free(VS);
	}
	/* New rows: mean u + T' X. */
	D = xmallocarray(ns * p, sizeof *D);
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ns, p, ns, 1.0, T,
	    ns, X, p, 0.0, D, p);
	for (i = 0; i < ns; i++)
		for (k = 0; k < p; k++)
			u[s.idx[i] * p + k] = s.ubar[k] + D[i * p + k];
	free(D);
	rc = 0;
out:
	subset_release(&s);
	free(X);
	free(K);
	free(lam);
	free(T);
	free(b);
	free(w);
	free(r);
	return rc;
}

/* D = (1/J) Ew Rw' with Ew, Rw the whitened g - mean g and g - y rows. */
static double *
eks_drift(const struct subset *s, size_t d, const double *g, const double *y,
    const struct noise_factor *nf)
{
	size_t	 J = s->ns, i, k;
	double	*E = centred_g(s, d, g, 1.0, nf);
	double	*R = xmallocarray(J * d, sizeof *R);
	double	*D = xmallocarray(J * J, sizeof *D);

	for (i = 0; i < J; i++)
		for (k = 0; k < d; k++)
			R[i * d + k] = g[s->idx[i] * d + k] - y[k];
	noise_whiten(nf, R, J);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, J, J, d, 1.0 / J, E,
	    d, R, d, 0.0, D, J);
	free(E);
	free(R);
	return D;
}

double
eks_timestep(size_t n, size_t d, const double *g, const int *ok,
    const double *y, const struct noise_factor *nf, double step)
{
	struct subset	 s;
	double		*D, norm;

	if (subset_init(&s, n, 0, d, g, g, ok, NULL) != 0)
		return NAN;
	D = eks_drift(&s, d, g, y, nf);
	norm = cblas_dnrm2(s.ns * s.ns, D, 1);
	free(D);
	subset_release(&s);
	return step / (norm + DBL_EPSILON);
}

int
eks_update(size_t n, size_t p, size_t d, double *u, const double *g,
    const int *ok, const double *y, const struct noise_factor *nf,
    const double *m0, const double *s0, int aldi, double dt, const double *xi,
    char **cause)
{
	struct subset	 s;
	double		*A, *D, *C, *M, *B, *N, *prior_drift, sJ;
	size_t		 J, i, j, k;
	lapack_int	*piv;
	int		 info, rc = -1;

	if (subset_init(&s, n, p, d, u, g, ok, cause) != 0)
		return -1;
	J = s.ns;
	sJ = sqrt((double)J);
	A = centred_u(&s, p, u, 1.0);		/* u_i - m, J x p */
	D = eks_drift(&s, d, g, y, nf);
	/* C = A'A / J; M = I + dt C P^-1 (p x p). */
	C = xcalloc(p * p, sizeof *C);
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, p, J, 1.0 / J, A, p,
	    0.0, C, p);
	for (i = 0; i < p; i++)
		for (k = 0; k < i; k++)
			C[i * p + k] = C[k * p + i];
	M = xmallocarray(p * p, sizeof *M);
	for (i = 0; i < p; i++)
		for (k = 0; k < p; k++)
			M[i * p + k] = (i == k) + dt * C[i * p + k] /
			    (s0[k] * s0[k]);
	/* Right-hand sides, one row per member: B = U - dt D' A + ... */
	B = xmallocarray(J * p, sizeof *B);
	for (i = 0; i < J; i++)
		memcpy(B + i * p, u + s.idx[i] * p, p * sizeof *B);
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, J, p, J, -dt, D, J,
	    A, p, 1.0, B, p);
	prior_drift = xcalloc(p, sizeof *prior_drift);
	for (i = 0; i < p; i++)
		for (k = 0; k < p; k++)
			prior_drift[i] += dt * C[i * p + k] * m0[k] / (s0[k] * s0[k]);
	for (j = 0; j < J; j++)
		for (k = 0; k < p; k++)
			B[j * p + k] += prior_drift[k] + (aldi ? dt * (p + 1.0) / J *
			    A[j * p + k] : 0);
	/* Solve M x_j = b_j for every row: X' = M^-1 B', i.e. X = B M^-T. */
	piv = xmallocarray(p, sizeof *piv);
	{
		double *Bt = xmallocarray(p * J, sizeof *Bt);

		for (j = 0; j < J; j++)
			for (k = 0; k < p; k++)
				Bt[k * J + j] = B[j * p + k];
		info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, p, J, M, p, piv, Bt, J);
		for (j = 0; j < J; j++)
			for (k = 0; k < p; k++)
				B[j * p + k] = Bt[k * J + j];
		free(Bt);
	}
	if (info != 0) {
		failf(cause, "the implicit EKS step is singular (dgesv: %d)", info);
		goto out;
	}
	/* Noise sqrt(2 dt) sum_i A_i xi_ij / sqrt(J): N = xi' A. */
	N = xmallocarray(J * p, sizeof *N);
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, J, p, J,
	    sqrt(2 * dt) / sJ, xi, J, A, p, 0.0, N, p);
	for (j = 0; j < J; j++)
		for (k = 0; k < p; k++)
			u[s.idx[j] * p + k] = B[j * p + k] + N[j * p + k];
	free(N);
	rc = 0;
out:
	subset_release(&s);
	free(A);
	free(D);
	free(C);
	free(M);
	free(B);
	free(prior_drift);
	free(piv);
	return rc;
}

int
dmc_timestep(size_t n, size_t d, const double *misfit, const int *ok,
    double t, double T, double *dt)
{
	double	 m = 0, v = 0, phi, q;
	size_t	 j, k = 0;

	if (t >= T * (1 - 1e-12))
		return 1;
	for (j = 0; j < n; j++)
		if (ok[j]) {
			m += d * misfit[j] / 2;
			k++;
		}
	m /= k;
	for (j = 0; j < n; j++)
		if (ok[j]) {
			phi = d * misfit[j] / 2;
			v += (phi - m) * (phi - m);
		}
	v = k > 1 ? v / (k - 1) : 0;
	/* A zero mean or spread asks for no regularisation: go to T at once. */
	q = fmax(m > 0 ? d / (2 * m) : INFINITY, v > 0 ? sqrt(d / (2 * v)) :
	    INFINITY);
	*dt = fmin(q, T - t);
	return 0;
}

void
inflate(size_t n, size_t p, double *u, const int *ok, double mult, double add,
    const double *s0, const double *z)
{
	struct subset	 s;
	size_t		 i, k;
	double		 f = sqrt(mult), x;

	if (subset_init(&s, n, p, 0, u, NULL, ok, NULL) != 0)
		return;
	for (i = 0; i < s.ns; i++)
		for (k = 0; k < p; k++) {
			x = u[s.idx[i] * p + k];
			x = s.ubar[k] + f * (x - s.ubar[k]);
			u[s.idx[i] * p + k] = x + sqrt(add) * s0[k] *
			    z[s.idx[i] * p + k];
		}
	subset_release(&s);
}

void
resample_failed(size_t n, size_t p, double *u, const int *ok, const double *z)
{
	struct subset	 s;
	double		*A;
	size_t		 j;

	if (subset_init(&s, n, p, 0, u, NULL, ok, NULL) != 0)
		return;
	A = centred_u(&s, p, u, 1 / sqrt(s.ns - 1.0));
	for (j = 0; j < n; j++) {
		if (ok[j])
			continue;
		memcpy(u + j * p, s.ubar, p * sizeof *u);
		/* u_j += A' z_j, with z_j the first ns entries of row j. */
		cblas_dgemv(CblasRowMajor, CblasTrans, s.ns, p, 1.0, A, p,
		    z + j * n, 1, 1.0, u + j * p, 1);
	}
	free(A);
	subset_release(&s);
}
