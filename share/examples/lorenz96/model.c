/*
 * The Lorenz-96 system for calib's lorenz96 example:
 *
 *   dx_k/dt = (x_{k+1} - x_{k-2}) x_{k-1} - damping x_k + F,  k = 1..36
 *
 * integrated with RK4 and summarised by time-averaged statistics over four
 * sectors of 9 variables: the mean of x, of x^2, of x_k x_{k+1} and of
 * x_k x_{k+2} (16 numbers).
 *
 * usage: model PARAMETERS OUTPUT [SEED]
 * PARAMETERS is the TOML file calib writes (a [name] table with `value` per
 * parameter: F, damping and dt are read).  SEED changes the initial state,
 * as a different realisation of the same climate.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K	36
#define SECTORS	4
#define SPINUP	20.0
#define SPAN	200.0

static double F = NAN, damping = NAN, dt = NAN;

static void
tendency(const double *x, double *dx)
{
	int	 k;

	for (k = 0; k < K; k++)
		dx[k] = (x[(k + 1) % K] - x[(k + K - 2) % K]) * x[(k + K - 1) % K] -
		    damping * x[k] + F;
}

static void
step(double *x)
{
	double	 k1[K], k2[K], k3[K], k4[K], t[K];
	int	 k;

	tendency(x, k1);
	for (k = 0; k < K; k++)
		t[k] = x[k] + dt / 2 * k1[k];
	tendency(t, k2);
	for (k = 0; k < K; k++)
		t[k] = x[k] + dt / 2 * k2[k];
	tendency(t, k3);
	for (k = 0; k < K; k++)
		t[k] = x[k] + dt * k3[k];
	tendency(t, k4);
	for (k = 0; k < K; k++)
		x[k] += dt / 6 * (k1[k] + 2 * k2[k] + 2 * k3[k] + k4[k]);
}

/* Read `value = x` of the tables [F], [damping] and [dt]. */
static int
read_toml(const char *path)
{
	char	 line[1024], table[64] = "";
	double	*dst = NULL;
	FILE	*fp = fopen(path, "r");

	if (fp == NULL) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof line, fp)) {
		if (sscanf(line, "[%63[^]]]", table) == 1) {
			dst = !strcmp(table, "F") ? &F : !strcmp(table, "damping") ?
			    &damping : !strcmp(table, "dt") ? &dt : NULL;
			continue;
		}
		if (dst && !strncmp(line, "value = ", 8))
			*dst = strtod(line + 8, NULL);
	}
	fclose(fp);
	if (isnan(F) || isnan(damping) || isnan(dt)) {
		fprintf(stderr, "model: %s: F, damping and dt are needed\n", path);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	double	 x[K], stat[SECTORS][4] = { { 0 } };
	long	 n, steps, spin, seed = argc > 3 ? atol(argv[3]) : 0;
	int	 k, s;
	FILE	*out;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: model PARAMETERS OUTPUT [SEED]\n");
		return 2;
	}
	if (read_toml(argv[1]) != 0)
		return 1;
	if (!(dt > 0) || dt > 0.05) {
		fprintf(stderr, "model: dt %g is out of range (0, 0.05]\n", dt);
		return 1;
	}
	for (k = 0; k < K; k++)
		x[k] = F * (k == 0 ? 1.001 : 1.0) + 0.01 * sin(1.3 * k + seed);
	spin = (long)(SPINUP / dt);
	steps = (long)(SPAN / dt);
	for (n = 0; n < spin; n++)
		step(x);
	for (n = 0; n < steps; n++) {
		step(x);
		for (k = 0; k < K; k++) {
			s = k / (K / SECTORS);
			stat[s][0] += x[k];
			stat[s][1] += x[k] * x[k];
			stat[s][2] += x[k] * x[(k + 1) % K];
			stat[s][3] += x[k] * x[(k + 2) % K];
		}
	}
	for (k = 0; k < K; k++)
		if (!isfinite(x[k])) {
			fprintf(stderr, "model: the integration blew up\n");
			return 1;
		}
	if ((out = fopen(argv[2], "w")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	for (s = 0; s < SECTORS; s++)
		for (k = 0; k < 4; k++)
			fprintf(out, "%.17g\n", stat[s][k] / (steps * (K / SECTORS)));
	return fclose(out) == 0 ? 0 : 1;
}
