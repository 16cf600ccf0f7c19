/* The report's data and its HTML page (see report.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <libxml/entities.h>

#include "lib/buf.h"
#include "lib/eki.h"
#include "lib/figures.h"
#include "lib/fsio.h"
#include "lib/prior.h"
#include "lib/report.h"
#include "lib/util.h"

/* Draws from UKI's Gaussians, which have no ensemble to scatter. */
#define UKI_DRAWS	500

char *
report_default_dir(const struct experiment *e)
{
	return path_join(e->output_dir, "report");
}

/* The prior's centre and +-1, +-2 sigma, mapped to constrained space. */
static void
prior_bands(const struct experiment *e, double *band)
{
	double	*m0 = xcalloc(e->ncalib + 1, sizeof *m0);
	double	*s0 = xcalloc(e->ncalib + 1, sizeof *s0);
	size_t	 i, j, k;
	int	 w;

	prior_moments(e, m0, s0);
	for (i = 0; i < e->nparams; i++)
		for (j = 0; !e->params[i].fixed && j < e->params[i].size; j++) {
			k = e->params[i].offset + j;
			for (w = -2; w <= 2; w++)
				band[k * 5 + w + 2] = to_constrained(
				    &e->params[i].prior, m0[k] + w * s0[k]);
		}
	free(m0);
	free(s0);
}

/*
 * UKI_DRAWS points of N(mean, cov) (unconstrained, p x p), mapped to
 * constrained space; the seed is the experiment's, so a report drawn again
 * is the same.  Returns NULL when cov is not positive definite.
 */
static double *
gaussian_draws(const struct experiment *e, const double *mean,
    const double *cov)
{
	size_t		 p = e->ncalib, i, j, k;
	gsl_matrix	*l = gsl_matrix_alloc(p, p);
	gsl_vector_const_view mu = gsl_vector_const_view_array(mean, p);
	gsl_vector	*x = gsl_vector_alloc(p);
	gsl_rng		*rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_error_handler_t *old;
	double		*pts = NULL;
	int		 bad;

	memcpy(l->data, cov, p * p * sizeof *cov);
	gsl_rng_set(rng, e->seed);
	/* A covariance that is not positive definite is no error here. */
	old = gsl_set_error_handler_off();
	bad = gsl_linalg_cholesky_decomp1(l) != 0;
	gsl_set_error_handler(old);
	if (!bad) {
		pts = xmallocarray(UKI_DRAWS * p, sizeof *pts);
		for (i = 0; i < UKI_DRAWS; i++) {
			gsl_ran_multivariate_gaussian(rng, &mu.vector, l, x);
			for (j = 0; j < e->nparams; j++)
				for (k = 0; !e->params[j].fixed &&
				    k < e->params[j].size; k++)
					pts[i * p + e->params[j].offset + k] =
					    to_constrained(&e->params[j].prior,
					    gsl_vector_get(x,
					    e->params[j].offset + k));
		}
	}
	gsl_rng_free(rng);
	gsl_vector_free(x);
	gsl_matrix_free(l);
	return pts;
}

/* The points of figure 3: samples of the prior and of the newest. */
static int
scatter_points(struct report_data *r, char **cause)
{
	const struct experiment	*e = r->e;
	const struct iter_summary *f = &r->it[r->niter - 1];
	struct ensemble		 en;
	double			*m0, *s0, *c0;
	size_t			 p = e->ncalib, k;

	if (e->alg.method != METHOD_UKI) {
		r->prior_pts = r->it[0].theta;
		r->nprior = r->it[0].n;
		r->final_pts = f->theta;
		r->nfinal = f->n;
		return 0;
	}
	m0 = xcalloc(p + 1, sizeof *m0);
	s0 = xcalloc(p + 1, sizeof *s0);
	c0 = xcalloc(p * p + 1, sizeof *c0);
	prior_moments(e, m0, s0);
	for (k = 0; k < p; k++)
		c0[k * p + k] = s0[k] * s0[k];
	r->prior_pts = gaussian_draws(e, m0, c0);
	r->nprior = r->prior_pts ? UKI_DRAWS : 0;
	free(m0);
	free(s0);
	free(c0);
	if (ensemble_read(e, f->iteration, &en, cause) != 0)
		return -1;
	if (en.uki_mean != NULL && en.uki_cov != NULL)
		r->final_pts = gaussian_draws(e, en.uki_mean, en.uki_cov);
	r->nfinal = r->final_pts ? UKI_DRAWS : 0;
	ensemble_release(&en);
	return 0;
}

/* Mean and std per observation of a closed iteration's outputs. */
static int
output_stats(struct report_data *r, int w, char **cause)
{
	struct results	 res;
	size_t		 i;

	if (results_read(r->e, r->out_it[w], &res, cause) != 0)
		return -1;
	if (res.d != r->d) {
		failf(cause, "iteration %ld: results.h5 has %zu observations, "
		    "observations.h5 %zu", r->out_it[w], res.d, r->d);
		results_release(&res);
		return -1;
	}
	r->out_mean[w] = xmallocarray(r->d + 1, sizeof *r->out_mean[w]);
	r->out_std[w] = xmallocarray(r->d + 1, sizeof *r->out_std[w]);
	/* Failed members' rows are NaN, which mean_std leaves out. */
	for (i = 0; i < r->d; i++)
		mean_std(res.g + i, res.n, r->d, &r->out_mean[w][i],
		    &r->out_std[w][i], NULL);
	results_release(&res);
	return 0;
}

/* The observations, their noise std, and the outputs to compare. */
static int
data_space(struct report_data *r, const struct observations *o, char **cause)
{
	long	 newest = r->it[r->niter - 1].iteration;
	size_t	 i;
	int	 w;

	r->d = o->d;
	r->y = xmallocarray(o->d + 1, sizeof *r->y);
	r->sd = xmallocarray(o->d + 1, sizeof *r->sd);
	for (i = 0; i < o->d; i++) {
		r->y[i] = o->y[i];
		r->sd[i] = o->std ? o->std[i] : sqrt(o->cov[i * o->d + i]);
	}
	r->out_it[0] = r->it[0].closed ? 0 : -1;
	r->out_it[1] = r->it[r->niter - 1].closed ? newest : newest - 1;
	if (r->out_it[0] < 0)
		r->out_it[1] = -1;
	for (w = 0; w < 2; w++)
		if (r->out_it[w] >= 0 && output_stats(r, w, cause) != 0)
			return -1;
	return 0;
}

static int
gather(const struct experiment *e, struct report_data *r, char **cause)
{
	struct observations	 o;
	struct noise_factor	 nf;
	long			 newest = newest_iteration(e), it;
	int			 rc = -1, open;

	memset(r, 0, sizeof *r);
	memset(&nf, 0, sizeof nf);
	r->e = e;
	r->out_it[0] = r->out_it[1] = -1;
	if (newest < 0)
		return failf(cause, "%s: not initialised; run 'calib init'",
		    e->output_dir);
	if (observations_read(e, &o, cause) != 0)
		return -1;
	/* Only the open iteration's misfits need the noise factored. */
	open = !iteration_closed(e, newest);
	if (open && noise_factor_init(&nf, o.d, o.std, o.cov, cause) != 0) {
		observations_release(&o);
		return -1;
	}
	r->it = xcalloc(newest + 1, sizeof *r->it);
	for (it = 0; it <= newest; it++) {
		if (iteration_summary(e, it, it == newest && open ? &o : NULL,
		    &nf, &r->it[it], cause) != 0)
			goto out;
		r->niter++;
	}
	r->prior_band = xcalloc(e->ncalib * 5 + 1, sizeof *r->prior_band);
	prior_bands(e, r->prior_band);
	if (scatter_points(r, cause) == 0 && data_space(r, &o, cause) == 0)
		rc = 0;
out:
	noise_factor_release(&nf);
	observations_release(&o);
	return rc;
}

static void
release(struct report_data *r)
{
	size_t	 i;
	int	 w;

	if (r->it != NULL && r->e->alg.method == METHOD_UKI) {
		free(r->prior_pts);
		free(r->final_pts);
	}
	for (i = 0; i < r->niter; i++)
		summary_release(&r->it[i]);
	free(r->it);
	free(r->prior_band);
	free(r->y);
	free(r->sd);
	for (w = 0; w < 2; w++) {
		free(r->out_mean[w]);
		free(r->out_std[w]);
	}
}

/* Text into b, escaped for HTML by libxml2. */
static void
html_text(struct buf *b, const char *s)
{
	xmlChar	*t = xmlEncodeSpecialChars(NULL, (const xmlChar *)s);

	buf_adds(b, t ? (const char *)t : "");
	xmlFree(t);
}

/* A number as calib status --json writes it; "" when it has none. */
static void
html_num(struct buf *b, double x)
{
	char	 s[40];

	if (!isfinite(x))
		return;
	fmt_double(s, x);
	buf_adds(b, s);
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"generator\" content=\"calib report\">\n<title>";

static const char html_style[] =
    "<style>\n"
    "body { font-family: sans-serif; max-width: 78em; margin: 1em auto; "
    "padding: 0 1em; color: #111; }\n"
    "table { border-collapse: collapse; margin: 0.5em 0 1.5em; }\n"
    "th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; "
    "text-align: right; }\n"
    "th:first-child, td:first-child { text-align: left; }\n"
    "figure { margin: 1.5em 0; }\n"
    "img { max-width: 100%; height: auto; border: 1px solid #ddd; }\n"
    "figcaption { color: #333; margin-top: 0.3em; }\n"
    "</style>\n</head>\n<body>\n";

/* The experiment's summary and failures per iteration. */
static void
html_summary(struct buf *b, const struct report_data *r)
{
	const struct experiment	*e = r->e;
	long			 newest = r->it[r->niter - 1].iteration;
	char			*why = NULL, t[32];
	size_t			 i, k;

	buf_addf(b, "<table class=\"summary\">\n<tr><th>experiment</th><td>");
	html_text(b, e->name);
	buf_addf(b, "</td></tr>\n<tr><th>method</th><td>%s</td></tr>\n"
	    "<tr><th>ensemble size</th><td>%ld</td></tr>\n"
	    "<tr><th>updates done</th><td>%ld of %ld</td></tr>\n"
	    "<tr><th>state</th><td>", method_name(e->alg.method),
	    e->ensemble_size, newest, e->iterations);
	if (r->it[r->niter - 1].closed && newest == e->iterations)
		buf_adds(b, "complete");
	else if (r->it[r->niter - 1].closed &&
	    iteration_final(e, newest, &why)) {
		buf_addf(b, "stopped after iteration %ld: ", newest);
		html_text(b, why);
	} else
		buf_addf(b, "in progress: iteration %ld is open", newest);
	free(why);
	fmt_time(t, now());
	buf_addf(b, "</td></tr>\n<tr><th>written</th><td>%s</td></tr>\n"
	    "</table>\n<h2>Members per iteration</h2>\n<table class=\"members\">"
	    "\n<tr><th>iteration</th>", t);
	for (k = 0; k < MS_COUNT; k++)
		buf_addf(b, "<th>%s</th>", member_state_name(k));
	buf_adds(b, "<th>misfit mean</th></tr>\n");
	for (i = 0; i < r->niter; i++) {
		buf_addf(b, "<tr><td>%ld</td>", r->it[i].iteration);
		for (k = 0; k < MS_COUNT; k++)
			buf_addf(b, "<td>%zu</td>", r->it[i].count[k]);
		buf_adds(b, "<td>");
		html_num(b, r->it[i].mmean);
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</table>\n");
}

/* The newest iteration's estimates, as calib status --json gives them. */
static void
html_estimates(struct buf *b, const struct report_data *r)
{
	const struct experiment		*e = r->e;
	const struct iter_summary	*s = &r->it[r->niter - 1];
	size_t				 i, j, k, q;
	char				*name;

	buf_addf(b, "<h2>Estimates of iteration %ld</h2>\n<p>In constrained "
	    "space%s.</p>\n<table class=\"estimates\">\n<tr><th>parameter</th>"
	    "<th>mean</th><th>std</th><th>5%%</th><th>50%%</th><th>95%%</th>"
	    "</tr>\n", s->iteration, e->alg.method == METHOD_UKI ? "; for "
	    "uki, its Gaussian mapped there: the mean is the image of its "
	    "mean" : "");
	for (i = 0; i < e->nparams; i++)
		for (j = 0; !e->params[i].fixed && j < e->params[i].size; j++) {
			k = e->params[i].offset + j;
			name = param_component_name(&e->params[i], j);
			buf_adds(b, "<tr><td>");
			html_text(b, name);
			free(name);
			buf_adds(b, "</td><td>");
			html_num(b, s->mean[k]);
			buf_adds(b, "</td><td>");
			html_num(b, s->std[k]);
			for (q = 0; q < SUMMARY_NQ; q++) {
				buf_adds(b, "</td><td>");
				html_num(b, s->q[k * SUMMARY_NQ + q]);
			}
			buf_adds(b, "</td></tr>\n");
		}
	buf_adds(b, "</table>\n");
}

/* A figure: the PNG (else the SVG) shown, every format linked. */
static void
html_figure(struct buf *b, enum figure f, int formats, const char *note)
{
	const char	*name = figure_name(f);
	int		 fmt;

	buf_addf(b, "<figure id=\"%s\">\n<h2>%s</h2>\n<img src=\"%s.%s\" "
	    "alt=\"%s\">\n<figcaption>", name, figure_title(f), name,
	    formats & 1 << FMT_PNG ? "png" : "svg", figure_title(f));
	if (note[0] != '\0') {
		html_text(b, note);
		buf_adds(b, ". ");
	}
	buf_adds(b, "Files:");
	for (fmt = 0; fmt < FMT_COUNT; fmt++)
		if (formats & 1 << fmt)
			buf_addf(b, " <a href=\"%s.%s\">%s</a>", name,
			    figure_ext(fmt), figure_ext(fmt));
	buf_adds(b, "</figcaption>\n</figure>\n");
}

int
report_write(const struct experiment *e, const char *dir, char **index,
    char **cause)
{
	struct report_data	 r;
	struct buf		 b = BUF_INIT;
	char			 note[256], *path = NULL;
	int			 formats, f, rc = -1;

	if ((formats = figure_formats(cause)) < 0)
		return -1;
	if (!(formats & 1 << FMT_SVG))
		return failf(cause, "PLplot has no svg device: is its "
		    "libplplot package complete?");
	if (gather(e, &r, cause) != 0)
		goto out;
	if (mkdirs(dir, cause) != 0)
		goto out;
	buf_adds(&b, html_head);
	html_text(&b, e->name);
	buf_adds(&b, ": calib report</title>\n");
	buf_adds(&b, html_style);
	buf_adds(&b, "<h1>");
	html_text(&b, e->name);
	buf_adds(&b, "</h1>\n");
	html_summary(&b, &r);
	html_estimates(&b, &r);
	for (f = 0; f < FIG_COUNT; f++) {
		if (figure_write(dir, f, formats, &r, note, sizeof note,
		    cause) != 0)
			goto out;
		html_figure(&b, f, formats, note);
	}
	buf_adds(&b, "</body>\n</html>\n");
	path = path_join(dir, "index.html");
	if (write_file_atomic(path, b.s, b.len, cause) != 0)
		goto out;
	rc = 0;
	if (index != NULL) {
		*index = path;
		path = NULL;
	}
out:
	if (r.e != NULL)
		release(&r);
	buf_release(&b);
	free(path);
	return rc;
}
