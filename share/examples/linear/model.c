/*
 * A linear forward model G(u) = A u for calib's linear example: with a
 * Gaussian prior and Gaussian noise the posterior is known in closed form.
 * usage: model PARAMETERS OUTPUT, reading the env-format parameter file
 * (u=u1,u2,u3) and writing the 8 outputs, one per line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P 3
#define D 8

/* The matrix of the example; calib's tests use the same definition. */
static double
entry(int i, int j)
{
	return cos(0.7 * (i + 1) * (j + 1)) + (i % P == j ? 1.0 : 0.0);
}

int
main(int argc, char **argv)
{
	double	 u[P], g;
	char	 line[4096], *s, *end;
	FILE	*in, *out;
	int	 i, j, n = 0;

	if (argc == 2 && !strcmp(argv[1], "--matrix")) {
		for (i = 0; i < D; i++)
			for (j = 0; j < P; j++)
				printf("%.17g%c", entry(i, j), j == P - 1 ? '\n' : ' ');
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: model PARAMETERS OUTPUT\n");
		return 2;
	}
	if ((in = fopen(argv[1], "r")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	while (fgets(line, sizeof line, in))
		if (!strncmp(line, "u=", 2))
			for (s = line + 2; n < P; s = end + 1) {
				u[n++] = strtod(s, &end);
				if (*end != ',')
					break;
			}
	fclose(in);
	if (n != P) {
		fprintf(stderr, "model: expected u with %d values\n", P);
		return 1;
	}
	if ((out = fopen(argv[2], "w")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	for (i = 0; i < D; i++) {
		for (g = 0, j = 0; j < P; j++)
			g += entry(i, j) * u[j];
		fprintf(out, "%.17g\n", g);
	}
	return fclose(out) == 0 ? 0 : 1;
}
