/*
 * calib update: close an iteration from its members' outputs and write the
 * next.  The order of writes makes it safe to kill at any instant and to run
 * twice: results.h5 of iteration N first, then the parameter files of N+1,
 * and last ensemble.h5 of N+1, whose presence is what makes N+1 exist.  A
 * rerun finds either N+1 (nothing to do) or results.h5 (the same update is
 * computed again from the same published inputs and random state).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>

#include "lib/calib.h"
#include "lib/eki.h"
#include "lib/fsio.h"
#include "lib/util.h"

void
mean_std(const double *v, size_t n, size_t stride, double *mean, double *std,
    size_t *count)
{
	double	 s = 0, s2 = 0;
	size_t	 i, k = 0;

	for (i = 0; i < n; i++)
		if (isfinite(v[i * stride])) {
			s += v[i * stride];
			k++;
		}
	*mean = k ? s / k : NAN;
	for (i = 0; i < n; i++)
		if (isfinite(v[i * stride]))
			s2 += (v[i * stride] - *mean) * (v[i * stride] - *mean);
	*std = k > 1 ? sqrt(s2 / (k - 1)) : k ? 0 : NAN;
	if (count)
		*count = k;
}

/* Gather the members' outputs of iteration it into r. */
static int
collect(const struct experiment *e, long it, const struct observations *o,
    const struct noise_factor *nf, struct results *r, char **cause)
{
	struct member_status	 st;
	double			*g;
	char			*dir, *why = NULL;
	size_t			 m, k;

	r->iteration = it;
	r->n = e->ensemble_size;
	r->d = o->d;
	r->g = xmallocarray(r->n * r->d, sizeof *r->g);
	r->ok = xcalloc(r->n, sizeof *r->ok);
	r->misfit = xmallocarray(r->n, sizeof *r->misfit);
	for (m = 0; m < r->n; m++) {
		dir = member_dir(e, it, m + 1);
		r->misfit[m] = NAN;
		for (k = 0; k < r->d; k++)
			r->g[m * r->d + k] = NAN;
		if (status_read(dir, &st, cause) < 0) {
			free(dir);
			return -1;
		}
		free(dir);
		if (!st.success)
			continue;
		if (read_member_output(e, it, m + 1, r->d, &g, &why) != 0) {
			free(why);
			why = NULL;
			continue;
		}
		memcpy(r->g + m * r->d, g, r->d * sizeof *g);
		free(g);
		r->ok[m] = 1;
		r->misfit[m] = data_misfit(nf, o->y, r->g + m * r->d);
	}
	return 0;
}

static size_t
needed(const struct experiment *e)
{
	if (e->min_success <= 1)
		return (size_t)ceil(e->min_success * e->ensemble_size - 1e-9);
	return (size_t)e->min_success;
}

int
update_experiment(const struct experiment *e, long it,
    struct update_report *rep, char **cause)
{
	struct observations	 o;
	struct noise_factor	 nf;
	struct ensemble		 en, next;
	struct results		 r;
	double			*xi = NULL;
	size_t			 m, k, need;
	int			 rc = -1;

	memset(rep, 0, sizeof *rep);
	memset(&en, 0, sizeof en);
	memset(&next, 0, sizeof next);
	memset(&r, 0, sizeof r);
	memset(&nf, 0, sizeof nf);
	if (it < 0)
		it = newest_iteration(e);
	if (it < 0)
		return failf(cause, "%s: no iteration yet; run 'calib init'",
		    e->output_dir);
	if (it > e->iterations)
		return failf(cause, "iteration %ld is past the last (%ld)", it,
		    e->iterations);
	rep->iteration = it;
	rep->final = it == e->iterations;
	if (!iteration_exists(e, it))
		return failf(cause, "iteration %ld does not exist", it);
	if (iteration_closed(e, it) && (rep->final || iteration_exists(e, it + 1))) {
		/* Done before: report what was recorded, change nothing. */
		if (results_read(e, it, &r, cause) != 0)
			return -1;
		rep->n = r.n;
		mean_std(r.misfit, r.n, 1, &rep->misfit_mean, &rep->misfit_std,
		    &rep->n_ok);
		results_release(&r);
		return 0;
	}

	if (observations_read(e, &o, cause) != 0)
		return -1;
	if (noise_factor_init(&nf, o.d, o.std, o.cov, cause) != 0)
		goto out;
	if (ensemble_read(e, it, &en, cause) != 0)
		goto out;
	if (iteration_closed(e, it)) {
		if (results_read(e, it, &r, cause) != 0)
			goto out;
	} else {
		if (collect(e, it, &o, &nf, &r, cause) != 0)
			goto out;
		need = needed(e);
		for (m = 0, k = 0; m < r.n; m++)
			k += r.ok[m];
		if (!rep->final && (k < need || k < 2)) {
			failf(cause, "iteration %ld: %zu of %zu members succeeded; "
			    "min_success needs %zu", it, k, r.n,
			    need > 2 ? need : 2);
			goto out;
		}
		r.timestep = rep->final ? 0 : e->timestep;
		if (results_write(e, &r, cause) != 0)
			goto out;
	}
	rep->n = r.n;
	mean_std(r.misfit, r.n, 1, &rep->misfit_mean, &rep->misfit_std,
	    &rep->n_ok);
	rep->done = 1;
	if (rep->final) {
		rc = 0;
		goto out;
	}

	/* Perturbations first, in member order, from the stored state. */
	xi = xmallocarray(r.n * r.d, sizeof *xi);
	for (k = 0; k < r.n * r.d; k++)
		xi[k] = gsl_ran_gaussian_ziggurat(en.rng, 1.0);
	next.iteration = it + 1;
	next.n = en.n;
	next.p = en.p;
	next.u = en.u;
	en.u = NULL;
	if (eki_update(r.n, en.p, r.d, next.u, r.g, r.ok, o.y, &nf, r.timestep,
	    xi, cause) != 0)
		goto out;
	next.theta = xmallocarray(next.n * next.p, sizeof *next.theta);
	for (m = 0; m < next.n; m++)
		for (k = 0; k < e->nparams; k++) {
			const struct param *p = &e->params[k];
			size_t j, c;

			for (j = 0; !p->fixed && j < p->size; j++) {
				c = m * next.p + p->offset + j;
				next.theta[c] = to_constrained(&p->prior, next.u[c]);
			}
		}
	next.timestep = r.timestep;
	next.time = en.time + r.timestep;
	next.rng = en.rng;
	en.rng = NULL;
	if (write_parameter_files(e, &next, cause) != 0 ||
	    ensemble_write(e, &next, cause) != 0)
		goto out;
	rc = 0;
out:
	free(xi);
	ensemble_release(&en);
	ensemble_release(&next);
	results_release(&r);
	noise_factor_release(&nf);
	observations_release(&o);
	return rc;
}
