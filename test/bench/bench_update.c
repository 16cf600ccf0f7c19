/*
 * make bench: time `calib update` on large ensembles beside its floor,
 * timed in this same process on the same files, and draw reports.
 *
 *   bench_update table CALIB WORK [N D]
 *                                    the update table: eki and etki at
 *                                    several sizes (or only N x D), 3
 *                                    paired runs each
 *   bench_update prepare DIR N D P [METHOD]
 *                                    an initialised experiment whose N
 *                                    members have succeeded with D outputs
 *   bench_update update CALIB DIR    run calib update, print wall seconds
 *                                    and peak resident MiB
 *   bench_update history DIR N D P IT
 *                                    an experiment of P scalar parameters
 *                                    that went through IT updates (the
 *                                    files written directly), for timing
 *                                    calib report
 *   bench_update time CALIB ARGS...  run calib ARGS, print wall seconds
 *                                    and peak resident MiB
 */
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cblas.h>
#include <lapacke.h>
#include <gsl/gsl_rng.h>

#include "lib/buf.h"
#include "lib/calib.h"
#include "lib/fsio.h"
#include "lib/util.h"

/*
 * Member m's status (ok, with an attempt token) and kept values, as calib
 * exec leaves them; with from set, the values are a hard link to from's.
 */
static int
prepare_member(const struct experiment *e, long m, const double *g, size_t d,
    const char *from, char **cause)
{
	struct member_status	 st = { .success = 1, .attempt = 1,
	    .outcome = OUTCOME_OK };
	char			*mdir = member_dir(e, 0, m), *path, *src;
	int			 rc;

	snprintf(st.attempt_id, sizeof st.attempt_id, "%016lx", (long)m);
	path = path_join(mdir, MEMBER_KEPT);
	if (from != NULL) {
		src = xasprintf("%s/output/iteration_000/%s/%s", from,
		    strrchr(mdir, '/') + 1, MEMBER_KEPT);
		rc = link(src, path) == 0 ? 0 : failf(cause, "link %s", src);
		free(src);
	} else
		rc = write_file_unsynced(path, g, d * sizeof *g, cause);
	if (rc == 0)
		rc = status_write(mdir, &st, cause);
	free(path);
	free(mdir);
	return rc;
}

/*
 * An initialised experiment in dir: its calib.yaml (yaml, len bytes) and
 * its d observations obs.f64.
 */
static int
bench_experiment(const char *dir, const char *yaml, size_t len,
    const double *obs, long d, struct experiment *e, char **cause)
{
	char	*path;
	int	 rc;

	mkdirs(dir, NULL);
	path = path_join(dir, "obs.f64");
	rc = write_file_atomic(path, obs, d * sizeof *obs, cause);
	free(path);
	path = path_join(dir, "calib.yaml");
	if (rc == 0)
		rc = write_file_atomic(path, yaml, len, cause) != 0 ||
		    config_load(path, NULL, NULL, e, cause) != 0 ||
		    init_experiment(e, 1, cause) != 0 ? -1 : 0;
	free(path);
	return rc;
}

static int
prepare_from(const char *dir, long n, long d, long p, const char *method,
    const char *from)
{
	struct experiment	 e;
	gsl_rng			*r = gsl_rng_alloc(gsl_rng_mt19937);
	double			*g = xmallocarray(d, sizeof *g);
	char			*cause = NULL, *yaml;
	long			 m, k;
	int			 rc;

	yaml = xasprintf("name: bench\nensemble_size: %ld\niterations: 1\n"
	    "parameters:\n  u:\n    prior: {normal: {mean: 0, std: 1}}\n"
	    "    size: %ld\nobservations:\n  values: obs.f64\n"
	    "  noise: {std: 0.5}\nforward_model:\n  command: [/bin/false]\n"
	    "  output: {file: out.f64}\nalgorithm: {method: %s}\n", n, p,
	    method);
	for (k = 0; k < d; k++)
		g[k] = (gsl_rng_uniform(r) - 0.5);
	rc = bench_experiment(dir, yaml, strlen(yaml), g, d, &e, &cause);
	free(yaml);
	if (rc != 0)
		goto fail;
	for (m = 1; m <= n; m++) {
		for (k = 0; from == NULL && k < d; k++)
			g[k] = (gsl_rng_uniform(r) - 0.5);
		if (prepare_member(&e, m, g, d, from, &cause) != 0)
			goto fail;
	}
	if (sync_filesystem(dir, &cause) != 0)
		goto fail;
	experiment_release(&e);
	free(g);
	gsl_rng_free(r);
	return 0;
fail:
	fprintf(stderr, "bench: %s\n", cause);
	return 1;
}

static int
prepare(const char *dir, long n, long d, long p, const char *method)
{
	return prepare_from(dir, n, d, p, method, NULL);
}

/* Run argv (calib and its arguments): wall seconds and peak MiB. */
static int
run_timed(char **argv, double *secs, double *mib)
{
	struct rusage	 ru;
	double		 t0 = now();
	pid_t		 pid;
	int		 st;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		freopen("/dev/null", "w", stdout);
		execv(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench: %s %s failed\n", argv[0], argv[1]);
		return 1;
	}
	*secs = now() - t0;
	*mib = ru.ru_maxrss / 1024.0;
	return 0;
}

static int
timed(char **argv)
{
	double	 secs, mib;

	if (run_timed(argv, &secs, &mib) != 0)
		return 1;
	printf("%.3f %.0f\n", secs, mib);
	return 0;
}

static int
update(const char *calib, const char *dir)
{
	char	*argv[] = { (char *)calib, "update", (char *)dir, NULL };

	return timed(argv);
}

/*
 * The floor of one update, on the files it reads: one sequential read of
 * every member's kept values into an n x d array, one dsyrk of it, and the
 * ensemble-space work the method cannot avoid (eki: the pivoted Cholesky
 * of S S', the solve with n right-hand sides and the n^3 product with the
 * n x n normals; etki: the eigendecomposition of S S').
 */
struct floor {
	double	 read, syrk, ens;
};

static int
floor_time(const char *dir, long n, long d, int eki, struct floor *f)
{
	double		*S = xmallocarray_large((size_t)n * d, sizeof *S), t;
	double		*K = xcalloc((size_t)n * n, sizeof *K);
	double		*Q = xmallocarray((size_t)n * n, sizeof *Q);
	double		*X = xmallocarray((size_t)n * n, sizeof *X);
	lapack_int	*piv = xmallocarray(n, sizeof *piv), rank;
	char		*path;
	long		 m, i;
	int		 fd, rc = 0;

	t = now();
	for (m = 1; m <= n && rc == 0; m++) {
		path = xasprintf("%s/output/iteration_000/member_%0*ld/%s", dir,
		    n >= 1000 ? 4 : 3, m, MEMBER_KEPT);	/* member_dir's */
		if ((fd = open(path, O_RDONLY)) == -1 ||
		    read(fd, S + (m - 1) * d, d * sizeof *S) !=
		    (ssize_t)(d * sizeof *S))
			rc = failf(NULL, "bench: %s", path);
		if (fd != -1)
			close(fd);
		free(path);
	}
	f->read = now() - t;
	t = now();
	cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, d, 1.0, S, d,
	    0.0, K, n);
	f->syrk = now() - t;
	free(S);
	t = now();
	memcpy(Q, K, (size_t)n * n * sizeof *Q);
	for (i = 0; i < n * n; i++)
		X[i] = (double)(i % 97) / 97 - 0.5;
	if (eki) {
		LAPACKE_dpstrf(LAPACK_ROW_MAJOR, 'L', n, Q, n, piv, &rank, -1);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n,
		    1.0, Q, n, X, n, 1.0, X, n);
		for (i = 0; i < n; i++)
			K[i * n + i] += 1;
		LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', n, n, K, n, X, n);
	} else
		LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'L', n, K, n, X);
	f->ens = now() - t;
	free(K);
	free(Q);
	free(X);
	free(piv);
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define REPS	3

/* Min and median of REPS values, sorted in place. */
static void
min_median(double *v, double *min, double *med)
{
	qsort(v, REPS, sizeof *v, cmp_double);
	*min = v[0];
	*med = v[REPS / 2];
}

/*
 * One row of the table: REPS pairs of (floor, calib update) on the same
 * files, the update's state reset between runs.
 */
static int
table_row(const char *calib, const char *dir, long n, long d,
    const char *method)
{
	struct floor	 f[REPS];
	double		 up[REPS], ratio[REPS], mib[REPS], v[REPS], a, b, c, e;
	char		*out = path_join(dir, "output"), *reset;
	char		*argv[] = { (char *)calib, "update", out, NULL };
	int		 k;

	/*
	 * The next iteration is moved aside, not deleted, until the row is
	 * done: ext4 searches its recently deleted inodes when it creates
	 * files, which a real update's fresh folders do not meet.
	 */
	reset = xasprintf("mkdir -p '%s/../old' && rm -f "
	    "'%s/iteration_000/results.h5' && { ! test -e "
	    "'%s/iteration_001' || mv '%s/iteration_001' \"$(mktemp -d "
	    "'%s/../old/XXXXXX')\"; }", out, out, out, out, out);
	for (k = 0; k < REPS; k++) {
		if (system(reset) != 0 ||
		    floor_time(dir, n, d, !strcmp(method, "eki"), &f[k]) != 0 ||
		    run_timed(argv, &up[k], &mib[k]) != 0)
			return 1;
		ratio[k] = up[k] / (f[k].read + f[k].syrk + f[k].ens);
	}
	printf("%-5s %5ld %8ld", method, n, d);
	min_median(up, &a, &b);
	printf("  %6.2f %6.2f", a, b);
	for (k = 0; k < REPS; k++)
		v[k] = f[k].read + f[k].syrk + f[k].ens;
	min_median(v, &a, &b);
	printf("  %6.2f %6.2f", a, b);
	for (k = 0; k < REPS; k++)
		v[k] = f[k].read;
	min_median(v, &a, &c);
	for (k = 0; k < REPS; k++)
		v[k] = f[k].syrk;
	min_median(v, &b, &c);
	for (k = 0; k < REPS; k++)
		v[k] = f[k].ens;
	min_median(v, &c, &e);
	printf("  %5.2f+%5.2f+%5.2f", a, b, c);
	min_median(ratio, &a, &b);
	printf("  %5.2f %5.2f", a, b);
	min_median(mib, &a, &b);
	printf("  %7.0f %5.2f\n", b, b / (8.0 * n * d / 1048576));
	free(out);
	free(reset);
	return 0;
}

static int
table(const char *calib, const char *work, long only_n, long only_d)
{
	static const long cases[][2] = {
		{ 1000, 10000 }, { 1000, 100000 }, { 1000, 1000000 },
		{ 250, 100000 }, { 500, 100000 },
	};
	char	*eki, *etki, *clean;
	size_t	 i;

	printf("%-5s %5s %8s  %13s  %13s  %17s  %11s  %7s %5s\n", "", "",
	    "", "update s", "floor s", "floor parts s", "ratio", "peak", "");
	printf("%-5s %5s %8s  %6s %6s  %6s %6s  %17s  %5s %5s  %7s %5s\n",
	    "meth", "N", "d", "min", "median", "min", "median",
	    "read+syrk+ens", "min", "med", "MiB", "/data");
	eki = path_join(work, "eki");
	etki = path_join(work, "etki");
	clean = xasprintf("rm -rf '%s'", work);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		long n = cases[i][0], d = cases[i][1];

		if (only_n && (n != only_n || d != only_d))
			continue;
		if (system(clean) != 0 ||
		    prepare_from(eki, n, d, 100, "eki", NULL) != 0 ||
		    prepare_from(etki, n, d, 100, "etki", eki) != 0 ||
		    table_row(calib, eki, n, d, "eki") != 0 ||
		    table_row(calib, etki, n, d, "etki") != 0)
			return 1;
	}
	(void)system(clean);
	free(clean);
	free(eki);
	free(etki);
	return 0;
}

/* One closed iteration's results: 1% of the members failed. */
static int
history_results(const struct experiment *e, long it, size_t d, gsl_rng *r,
    char **cause)
{
	struct results	 res = { .iteration = it, .n = e->ensemble_size, .d = d };
	size_t		 m, k;
	int		 rc;

	char		*mdir, *path;
	double		*g = xmallocarray(d, sizeof *g);

	res.ok = xcalloc(res.n, sizeof *res.ok);
	res.checksum = xcalloc(res.n, sizeof *res.checksum);
	res.misfit = xmallocarray(res.n, sizeof *res.misfit);
	for (m = 0, rc = 0; m < res.n && rc == 0; m++) {
		res.ok[m] = m % 100 != 7;
		res.misfit[m] = res.ok[m] ? 1 + 100 * exp(-(double)it) *
		    gsl_rng_uniform(r) : NAN;
		if (!res.ok[m])
			continue;
		/* The kept values results.h5 names by checksum. */
		for (k = 0; k < d; k++)
			g[k] = gsl_rng_uniform(r);
		res.checksum[m] = output_checksum(g, d);
		mdir = member_dir(e, it, m + 1);
		path = path_join(mdir, MEMBER_KEPT);
		rc = mkdirs(mdir, cause) != 0 ||
		    write_file_unsynced(path, g, d * sizeof *g, cause) != 0;
		free(path);
		free(mdir);
	}
	if (rc == 0)
		rc = results_write(e, &res, cause);
	free(g);
	free(res.checksum);
	free(res.ok);
	free(res.misfit);
	return rc;
}

static int
history(const char *dir, long n, long d, long p, long iterations)
{
	struct experiment	 e;
	struct ensemble		 en;
	struct buf		 y = BUF_INIT;
	gsl_rng			*r = gsl_rng_alloc(gsl_rng_mt19937);
	double			*obs = xcalloc(d, sizeof *obs);
	char			*cause = NULL, *path;
	long			 it, k;
	size_t			 i;
	int			 rc;

	buf_addf(&y, "name: bench\nensemble_size: %ld\niterations: %ld\n"
	    "parameters:\n", n, iterations);
	for (k = 1; k <= p; k++)
		buf_addf(&y, "  p%ld: {prior: {normal: {mean: %ld, std: 1}}}\n",
		    k, k);
	buf_addf(&y, "observations:\n  values: obs.f64\n  noise: {std: 0.5}\n"
	    "forward_model:\n  command: [/bin/false]\n  output: {file: out.f64}\n");
	rc = bench_experiment(dir, y.s, y.len, obs, d, &e, &cause);
	buf_release(&y);
	if (rc != 0)
		goto fail;
	for (it = 0; it <= iterations; it++) {
		if (history_results(&e, it, d, r, &cause) != 0)
			goto fail;
		if (it == iterations)
			break;
		if (ensemble_read(&e, it, &en, &cause) != 0)
			goto fail;
		/* The spread shrinks towards the centre: enough for pictures. */
		for (i = 0; i < en.n * en.p; i++)
			en.u[i] = 0.8 * en.u[i] + 0.1 * (double)(i % en.p);
		ensemble_constrain(&e, &en);
		en.iteration = it + 1;
		path = iteration_dir(&e, it + 1);
		if (mkdirs(path, &cause) != 0 ||
		    ensemble_write(&e, &en, &cause) != 0)
			goto fail;
		ensemble_release(&en);
		free(path);
	}
	experiment_release(&e);
	gsl_rng_free(r);
	free(obs);
	return 0;
fail:
	fprintf(stderr, "bench: %s\n", cause);
	return 1;
}

int
main(int argc, char **argv)
{
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "prepare"))
		return prepare(argv[2], atol(argv[3]), atol(argv[4]), atol(argv[5]),
		    argc == 7 ? argv[6] : "eki");
	if (argc == 4 && !strcmp(argv[1], "update"))
		return update(argv[2], argv[3]);
	if ((argc == 4 || argc == 6) && !strcmp(argv[1], "table"))
		return table(argv[2], argv[3], argc == 6 ? atol(argv[4]) : 0,
		    argc == 6 ? atol(argv[5]) : 0);
	if (argc == 7 && !strcmp(argv[1], "history"))
		return history(argv[2], atol(argv[3]), atol(argv[4]),
		    atol(argv[5]), atol(argv[6]));
	if (argc >= 4 && !strcmp(argv[1], "time"))
		return timed(argv + 2);
	fprintf(stderr, "usage: bench_update prepare DIR N D P [METHOD] | update CALIB DIR"
	    " | table CALIB WORK [N D] | history DIR N D P IT | time CALIB ARGS...\n");
	return 2;
}
