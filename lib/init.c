/* calib init: validate, sample the prior ensemble, publish the output dir. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_rng.h>

#include "lib/calib.h"
#include "lib/eki.h"
#include "lib/fsio.h"
#include "lib/paramfile.h"
#include "lib/util.h"

static int
noise_values(const struct experiment *e, size_t d, struct observations *o,
    char **cause)
{
	const struct noise	*no = &e->noise;
	struct noise_factor	 nf;
	double			*v;
	size_t			 n, i, rows, cols;

	if (no->kind == NOISE_COVARIANCE) {
		if (mat_read_h5(no->src.path, no->src.dataset, &o->cov, &rows,
		    &cols, cause) != 0)
			return -1;
		if (rows != d || cols != d)
			return failf(cause, "%s: the noise covariance is %zux%zu, "
			    "expected %zux%zu (the number of observations)",
			    no->src.path, rows, cols, d, d);
		if (noise_factor_init(&nf, d, NULL, o->cov, NULL) != 0)
			return failf(cause, "%s: the noise covariance is not "
			    "symmetric positive definite", no->src.path);
		noise_factor_release(&nf);
		return 0;
	}
	o->std = xmallocarray(d, sizeof *o->std);
	if (no->scalar) {
		for (i = 0; i < d; i++)
			o->std[i] = no->kind == NOISE_STD ? no->value : sqrt(no->value);
		return 0;
	}
	if (vec_read(&no->src, &v, &n, cause) != 0)
		return -1;
	if (n != d) {
		free(v);
		return failf(cause, "%s: %zu noise values, expected %zu (the number "
		    "of observations)", no->src.path ? no->src.path :
		    "observations.noise", n, d);
	}
	for (i = 0; i < d; i++) {
		if (!(v[i] > 0) || !isfinite(v[i])) {
			free(v);
			return failf(cause, "%s: noise value %zu is %g; it must be "
			    "positive and finite", no->src.path ? no->src.path :
			    "observations.noise", i + 1, v[i]);
		}
		o->std[i] = no->kind == NOISE_STD ? v[i] : sqrt(v[i]);
	}
	free(v);
	return 0;
}

int
load_observations(const struct experiment *e, struct observations *o,
    char **cause)
{
	size_t	 i;

	memset(o, 0, sizeof *o);
	if (vec_read(&e->obs, &o->y, &o->d, cause) != 0)
		goto bad;
	if (o->d == 0) {
		failf(cause, "%s: no observations", e->obs.path ? e->obs.path :
		    "observations.values");
		goto bad;
	}
	for (i = 0; i < o->d; i++)
		if (!isfinite(o->y[i])) {
			failf(cause, "%s: observation %zu is not finite",
			    e->obs.path ? e->obs.path : "observations.values",
			    i + 1);
			goto bad;
		}
	if (noise_values(e, o->d, o, cause) != 0)
		goto bad;
	return 0;
bad:
	observations_release(o);
	return -1;
}

static int
copy_file(const char *from, const char *to, char **cause)
{
	char	*buf;
	size_t	 len;
	int	 rc;

	if (read_file(from, &buf, &len, cause) != 0)
		return -1;
	rc = write_file_atomic(to, buf, len, cause);
	free(buf);
	return rc;
}

static void
sample_prior(const struct experiment *e, struct ensemble *en)
{
	size_t	 m, i, j, col;

	for (m = 0; m < en->n; m++)
		for (i = 0; i < e->nparams; i++) {
			const struct param *p = &e->params[i];

			if (p->fixed)
				continue;
			for (j = 0; j < p->size; j++) {
				col = m * en->p + p->offset + j;
				en->u[col] = prior_sample_u(&p->prior, en->rng);
				en->theta[col] = to_constrained(&p->prior, en->u[col]);
			}
		}
}

int
init_experiment(struct experiment *e, int force, char **cause)
{
	struct observations	 obs;
	struct ensemble		 en;
	char			*final = e->output_dir, *tmp = NULL, *old = NULL;
	char			*f = NULL, *src = NULL, *text = NULL, *tmpl = NULL;
	char			*parent = path_dir(final);
	int			 rc = EXIT_USAGE;

	memset(&en, 0, sizeof en);
	if (load_observations(e, &obs, cause) != 0) {
		free(parent);
		return EXIT_USAGE;
	}
	en.n = e->ensemble_size;
	en.p = e->ncalib;
	en.u = xmallocarray(en.n * en.p, sizeof *en.u);
	en.theta = xmallocarray(en.n * en.p, sizeof *en.theta);
	en.rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(en.rng, e->seed);
	sample_prior(e, &en);
	if (e->pformat == PF_TEMPLATE &&
	    read_file(e->ptemplate, &tmpl, NULL, cause) != 0)
		goto out;
	if (paramfile_render(e, en.theta, 0, 1, tmpl, &text, cause) != 0)
		goto out;

	rc = EXIT_FAIL;
	if ((is_dir(final) || is_file(final)) && !force) {
		failf(cause, "%s: output directory exists; use --force to replace "
		    "it", final);
		goto out;
	}
	if (mkdirs(parent, cause) != 0)
		goto out;
	tmp = xasprintf("%s/.%s.initXXXXXX", parent, strrchr(final, '/') + 1);
	if (mkdtemp(tmp) == NULL) {
		failf(cause, "%s: cannot create: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	e->output_dir = tmp;
	f = path_join(tmp, "experiment.yaml");
	if (copy_file(e->file, f, cause) != 0)
		goto out;
	free(f);
	f = path_join(tmp, "source");
	src = path_abs(e->file);
	free(text);
	text = xasprintf("%s\n", src);
	if (write_file_atomic(f, text, strlen(text), cause) != 0)
		goto out;
	if (e->pformat == PF_TEMPLATE) {
		free(f);
		f = path_join(tmp, "parameter_template");
		if (write_file_atomic(f, tmpl, strlen(tmpl), cause) != 0)
			goto out;
	}
	if (observations_write(e, &obs, cause) != 0 ||
	    write_parameter_files(e, &en, cause) != 0 ||
	    ensemble_write(e, &en, cause) != 0)
		goto out;
	/* Publish: move any old directory aside, rename the new one in. */
	if (is_dir(final) || is_file(final)) {
		old = xasprintf("%s.old", tmp);
		if (rename_durable(final, old, cause) != 0)
			goto out;
	}
	if (rename_durable(tmp, final, cause) != 0) {
		if (old != NULL)
			rename(old, final);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if (old != NULL && remove_tree(old, cause) != 0)
		goto out;
	rc = EXIT_OK;
out:
	if (tmp != NULL) {
		remove_tree(tmp, NULL);
		free(tmp);
	}
	e->output_dir = final;
	free(old);
	free(f);
	free(src);
	free(text);
	free(tmpl);
	free(parent);
	ensemble_release(&en);
	observations_release(&obs);
	return rc;
}
