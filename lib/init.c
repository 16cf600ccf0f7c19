/* calib init: validate, sample the prior ensemble, publish the output dir. */
#include <sys/stat.h>
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
			failf(cause, "%s: noise value %zu is %g; it must be "
			    "positive and finite", no->src.path ? no->src.path :
			    "observations.noise", i + 1, v[i]);
			free(v);
			return -1;
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
			}
		}
	ensemble_constrain(e, en);
}

void
prior_moments(const struct experiment *e, double *m0, double *s0)
{
	size_t	 i, j;

	for (i = 0; i < e->nparams; i++) {
		const struct param *p = &e->params[i];

		for (j = 0; !p->fixed && j < p->size; j++) {
			m0[p->offset + j] = p->prior.mu;
			s0[p->offset + j] = p->prior.sigma;
		}
	}
}

void
ensemble_constrain(const struct experiment *e, struct ensemble *en)
{
	size_t	 m, i, j, c;

	for (m = 0; m < en->n; m++)
		for (i = 0; i < e->nparams; i++) {
			const struct param *p = &e->params[i];

			for (j = 0; !p->fixed && j < p->size; j++) {
				c = m * en->p + p->offset + j;
				en->theta[c] = to_constrained(&p->prior, en->u[c]);
			}
		}
}

/* UKI's first sigma points, from the prior: m_0, C_0 = P. */
static int
uki_start(const struct experiment *e, struct ensemble *en, char **cause)
{
	size_t	 p = en->p, i;
	double	*s0 = xmallocarray(p, sizeof *s0), a = e->alg.alpha_reg;
	struct uki_state st;
	int	 rc;

	en->uki_mean = xmallocarray(p, sizeof *en->uki_mean);
	en->uki_cov = xcalloc(p * p, sizeof *en->uki_cov);
	en->uki_sigma_omega = xcalloc(p * p, sizeof *en->uki_sigma_omega);
	prior_moments(e, en->uki_mean, s0);
	for (i = 0; i < p; i++) {
		en->uki_cov[i * p + i] = s0[i] * s0[i];
		en->uki_sigma_omega[i * p + i] = (2 - a * a) * s0[i] * s0[i];
	}
	st.mean = en->uki_mean;
	st.cov = en->uki_cov;
	st.sigma_omega = en->uki_sigma_omega;
	rc = uki_predict(p, &st, en->uki_mean, a, e->alg.update_freq, 1, en->u,
	    cause);
	free(s0);
	if (rc == 0)
		ensemble_constrain(e, en);
	return rc;
}

/* The user's localization matrix: p x d finite values, frozen at init. */
static int
load_localization(const struct experiment *e, struct observations *o,
    char **cause)
{
	const struct vsource *src = &e->alg.loc_matrix;
	size_t	 n, i;

	if (vec_read(src, &o->loc, &n, cause) != 0)
		return -1;
	if (n != e->ncalib * o->d)
		return failf(cause, "%s: %zu localization values, expected %zu x "
		    "%zu = %zu (calibrated components x observations)",
		    src->path, n, e->ncalib, o->d, e->ncalib * o->d);
	for (i = 0; i < n; i++)
		if (!isfinite(o->loc[i]) || o->loc[i] < 0)
			return failf(cause, "%s: localization value %zu (row %zu, "
			    "column %zu) is %g; values must be finite and not "
			    "negative", src->path, i + 1, i / o->d + 1,
			    i % o->d + 1, o->loc[i]);
	return 0;
}

/*
 * The first ensemble: prior samples (or UKI's sigma points); the parameter
 * file template is read and rendered once, so a bad one fails here.
 */
static int
first_ensemble(struct experiment *e, struct observations *obs,
    struct ensemble *en, char **tmpl, char **cause)
{
	char	*text = NULL;

	en->n = e->ensemble_size;
	en->p = e->ncalib;
	en->u = xmallocarray(en->n * en->p, sizeof *en->u);
	en->theta = xmallocarray(en->n * en->p, sizeof *en->theta);
	en->rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(en->rng, e->seed);
	if (e->alg.loc == LOC_MATRIX && load_localization(e, obs, cause) != 0)
		return -1;
	if (e->alg.method == METHOD_UKI) {
		if (uki_start(e, en, cause) != 0)
			return -1;
	} else
		sample_prior(e, en);
	if (e->pformat == PF_TEMPLATE &&
	    read_file(e->ptemplate, tmpl, NULL, cause) != 0)
		return -1;
	if (paramfile_render(e, en->theta, 0, 1, *tmpl, &text, cause) != 0)
		return -1;
	free(text);
	return 0;
}

int
init_check(struct experiment *e, char **cause)
{
	struct observations	 obs;
	struct ensemble		 en;
	char			*tmpl = NULL;
	int			 rc = EXIT_USAGE;

	memset(&en, 0, sizeof en);
	if (load_observations(e, &obs, cause) != 0)
		return EXIT_USAGE;
	if (first_ensemble(e, &obs, &en, &tmpl, cause) == 0)
		rc = EXIT_OK;
	free(tmpl);
	ensemble_release(&en);
	observations_release(&obs);
	return rc;
}

/* Everything init publishes, written into the staging folder dir. */
static int
stage(struct experiment *e, const char *dir, struct observations *obs,
    struct ensemble *en, const char *tmpl, char **cause)
{
	char	*f = path_join(dir, "experiment.yaml"), *src, *text;
	int	 rc;

	rc = copy_file(e->file, f, cause);
	free(f);
	if (rc != 0)
		return -1;
	f = path_join(dir, "source");
	src = path_abs(e->file);
	text = xasprintf("%s\n", src);
	rc = write_file_atomic(f, text, strlen(text), cause);
	free(text);
	free(src);
	free(f);
	if (rc == 0 && e->pformat == PF_TEMPLATE) {
		f = path_join(dir, "parameter_template");
		rc = write_file_atomic(f, tmpl, strlen(tmpl), cause);
		free(f);
	}
	if (rc != 0)
		return -1;
	if (observations_write(e, obs, cause) != 0 ||
	    write_parameter_files(e, en, cause) != 0 ||
	    ensemble_write(e, en, cause) != 0)
		return -1;
	return 0;
}

/* Move any old directory aside, rename the staged one in, drop the old. */
static int
publish(const char *tmp, const char *final, char **cause)
{
	char	*old = NULL;
	int	 rc = -1;

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
	rc = 0;
	if (old != NULL && remove_tree(old, cause) != 0)
		rc = 1;
out:
	free(old);
	return rc;
}

int
init_experiment(struct experiment *e, int force, char **cause)
{
	struct observations	 obs;
	struct ensemble		 en;
	char			*final = e->output_dir, *tmp = NULL, *tmpl = NULL;
	char			*parent = path_dir(final);
	int			 rc = EXIT_USAGE, r;

	memset(&en, 0, sizeof en);
	if (load_observations(e, &obs, cause) != 0) {
		free(parent);
		return EXIT_USAGE;
	}
	if (first_ensemble(e, &obs, &en, &tmpl, cause) != 0)
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
		goto out;
	}
	/* mkdtemp makes it 0700: the output directory follows the umask. */
	if (chmod(tmp, dir_mode()) == -1) {
		failf(cause, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	e->output_dir = tmp;
	if (stage(e, tmp, &obs, &en, tmpl, cause) != 0)
		goto out;
	if ((r = publish(tmp, final, cause)) >= 0) {
		free(tmp);
		tmp = NULL;
	}
	if (r == 0)
		rc = EXIT_OK;
out:
	if (tmp != NULL) {
		remove_tree(tmp, NULL);
		free(tmp);
	}
	e->output_dir = final;
	free(tmpl);
	free(parent);
	ensemble_release(&en);
	observations_release(&obs);
	return rc;
}
