/*
 * make bench: time `calib update` on large ensembles beside its floor, one
 * dsyrk of the whitened outputs S (n x d), which the ensemble-space update
 * cannot avoid.
 *
 *   bench_update prepare DIR N D P [METHOD]
 *                                    an initialised experiment whose N
 *                                    members have succeeded with D outputs
 *   bench_update update CALIB DIR    run calib update, print wall seconds
 *                                    and peak resident MiB
 *   bench_update syrk N D            best-of-3 seconds of one dsyrk
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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>
#include <cblas.h>
#include <gsl/gsl_rng.h>

#include "lib/buf.h"
#include "lib/calib.h"
#include "lib/fsio.h"
#include "lib/util.h"

static int
prepare(const char *dir, long n, long d, long p, const char *method)
{
	struct experiment	 e;
	struct member_status	 st = { .success = 1, .attempt = 1 };
	gsl_rng			*r = gsl_rng_alloc(gsl_rng_mt19937);
	double			*g = xmallocarray(d, sizeof *g);
	char			*cause = NULL, *yaml, *path, *mdir;
	long			 m, k;

	mkdirs(dir, NULL);
	yaml = xasprintf("name: bench\nensemble_size: %ld\niterations: 1\n"
	    "parameters:\n  u:\n    prior: {normal: {mean: 0, std: 1}}\n"
	    "    size: %ld\nobservations:\n  values: obs.f64\n"
	    "  noise: {std: 0.5}\nforward_model:\n  command: [/bin/false]\n"
	    "  output: {file: out.f64}\nalgorithm: {method: %s}\n", n, p,
	    method);
	path = path_join(dir, "calib.yaml");
	write_file_atomic(path, yaml, strlen(yaml), NULL);
	free(yaml);
	for (k = 0; k < d; k++)
		g[k] = (gsl_rng_uniform(r) - 0.5);
	free(path);
	path = path_join(dir, "obs.f64");
	write_file_atomic(path, g, d * sizeof *g, NULL);
	free(path);
	path = path_join(dir, "calib.yaml");
	if (config_load(path, NULL, NULL, &e, &cause) != 0 ||
	    init_experiment(&e, 1, &cause) != 0) {
		fprintf(stderr, "bench: %s\n", cause);
		return 1;
	}
	free(path);
	for (m = 1; m <= n; m++) {
		for (k = 0; k < d; k++)
			g[k] = (gsl_rng_uniform(r) - 0.5);
		mdir = member_dir(&e, 0, m);
		path = path_join(mdir, "out.f64");
		if (write_file_atomic(path, g, d * sizeof *g, &cause) != 0 ||
		    status_write(mdir, &st, &cause) != 0) {
			fprintf(stderr, "bench: %s\n", cause);
			return 1;
		}
		free(path);
		free(mdir);
	}
	experiment_release(&e);
	free(g);
	gsl_rng_free(r);
	return 0;
}

/* Run argv (calib and its arguments): wall seconds and peak MiB. */
static int
timed(char **argv)
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
	printf("%.3f %.0f\n", now() - t0, ru.ru_maxrss / 1024.0);
	return 0;
}

static int
update(const char *calib, const char *dir)
{
	char	*argv[] = { (char *)calib, "update", (char *)dir, NULL };

	return timed(argv);
}

/* One closed iteration's results: 1% of the members failed. */
static int
history_results(const struct experiment *e, long it, size_t d, gsl_rng *r,
    char **cause)
{
	struct results	 res = { .iteration = it, .n = e->ensemble_size, .d = d };
	size_t		 m, k;
	int		 rc;

	res.g = xmallocarray(res.n * d, sizeof *res.g);
	res.ok = xcalloc(res.n, sizeof *res.ok);
	res.misfit = xmallocarray(res.n, sizeof *res.misfit);
	for (m = 0; m < res.n; m++) {
		res.ok[m] = m % 100 != 7;
		res.misfit[m] = res.ok[m] ? 1 + 100 * exp(-(double)it) *
		    gsl_rng_uniform(r) : NAN;
		for (k = 0; k < d; k++)
			res.g[m * d + k] = res.ok[m] ? gsl_rng_uniform(r) : NAN;
	}
	rc = results_write(e, &res, cause);
	free(res.g);
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

	mkdirs(dir, NULL);
	buf_addf(&y, "name: bench\nensemble_size: %ld\niterations: %ld\n"
	    "parameters:\n", n, iterations);
	for (k = 1; k <= p; k++)
		buf_addf(&y, "  p%ld: {prior: {normal: {mean: %ld, std: 1}}}\n",
		    k, k);
	buf_addf(&y, "observations:\n  values: obs.f64\n  noise: {std: 0.5}\n"
	    "forward_model:\n  command: [/bin/false]\n  output: {file: out.f64}\n");
	path = path_join(dir, "calib.yaml");
	write_file_atomic(path, y.s, y.len, NULL);
	buf_release(&y);
	free(path);
	path = path_join(dir, "obs.f64");
	write_file_atomic(path, obs, d * sizeof *obs, NULL);
	free(path);
	path = path_join(dir, "calib.yaml");
	if (config_load(path, NULL, NULL, &e, &cause) != 0 ||
	    init_experiment(&e, 1, &cause) != 0)
		goto fail;
	free(path);
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

static int
syrk(long n, long d)
{
	double	*S = xmallocarray((size_t)n * d, sizeof *S);
	double	*K = xcalloc((size_t)n * n, sizeof *K), best = INFINITY, t;
	long	 i;
	int	 rep;

	for (i = 0; i < n * d; i++)
		S[i] = (double)(i % 1000) / 1000 - 0.5;
	for (rep = 0; rep < 3; rep++) {
		t = now();
		cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, d, 1.0, S,
		    d, 1.0, K, n);
		t = now() - t;
		if (t < best)
			best = t;
	}
	printf("%.3f\n", best);
	free(S);
	free(K);
	return 0;
}

int
main(int argc, char **argv)
{
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "prepare"))
		return prepare(argv[2], atol(argv[3]), atol(argv[4]), atol(argv[5]),
		    argc == 7 ? argv[6] : "eki");
	if (argc == 4 && !strcmp(argv[1], "update"))
		return update(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "syrk"))
		return syrk(atol(argv[2]), atol(argv[3]));
	if (argc == 7 && !strcmp(argv[1], "history"))
		return history(argv[2], atol(argv[3]), atol(argv[4]),
		    atol(argv[5]), atol(argv[6]));
	if (argc >= 4 && !strcmp(argv[1], "time"))
		return timed(argv + 2);
	fprintf(stderr, "usage: bench_update prepare DIR N D P [METHOD] | update CALIB DIR"
	    " | syrk N D | history DIR N D P IT | time CALIB ARGS...\n");
	return 2;
}
