/*
 * calib update: close an iteration from its members' outputs and write the
 * next.  The order of writes makes it safe to kill at any instant and to run
 * twice: results.h5 of iteration N first, then the parameter files of N+1,
 * and last ensemble.h5 of N+1, whose presence is what makes N+1 exist.  A
 * rerun finds either N+1 (nothing to do) or results.h5 (the same update is
 * computed again from the same published inputs and random state).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_randist.h>

#include "lib/calib.h"
#include "lib/eki.h"
#include "lib/buf.h"
#include "lib/fsio.h"
#include "lib/notify.h"
#include "lib/summary.h"
#include "lib/util.h"

/* What collect's readers share: member m's status, and why it failed. */
struct collector {
	const struct experiment		*e;
	const struct observations	*o;
	const struct noise_factor	*nf;
	struct results			*r;
	struct member_status		*st;
	char				**why;
	size_t				 from, to;	/* members [from, to) */
	int				 legacy;	/* 1: only those */
};

/*
 * Read members [from, to) of c into their rows, with their checksums and
 * misfits; a failed member's row is NaN.  The members whose status predates
 * the kept values are read only with legacy set: their outputs may be HDF5,
 * whose library is not thread-safe.
 */
static void *
collect_range(void *arg)
{
	struct collector	*c = arg;
	struct results		*r = c->r;
	double			*row;
	size_t			 m, k;

	for (m = c->from; m < c->to; m++) {
		if (c->st[m].success && (c->st[m].attempt_id[0] == '\0') !=
		    c->legacy)
			continue;
		row = r->g + m * r->d;
		if (c->st[m].success && read_member_values(c->e, r->iteration,
		    m + 1, r->d, &c->st[m], row, 1, &c->why[m]) == 0) {
			r->ok[m] = 1;
			r->checksum[m] = output_checksum(row, r->d);
			/* A full noise factor takes BLAS: after the threads. */
			if (c->nf->chol == NULL)
				r->misfit[m] = data_misfit(c->nf, c->o->y, row);
			continue;
		}
		for (k = 0; k < r->d; k++)
			row[k] = NAN;
	}
	return NULL;
}

/*
 * Read the members in threads, one per processor up to 8: from the page
 * cache, reading is a copy that one core cannot do at memory speed.
 */
static void
collect_parallel(struct collector *c, size_t n)
{
	struct collector	 part[8];
	pthread_t		 t[8];
	long			 cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t			 k, nt = cpus > 8 ? 8 : cpus < 1 ? 1 : cpus;
	int			 started[8] = { 0 };

	if (nt > n)
		nt = n ? n : 1;
	for (k = 0; k < nt; k++) {
		part[k] = *c;
		part[k].from = n * k / nt;
		part[k].to = n * (k + 1) / nt;
		started[k] = k > 0 && pthread_create(&t[k], NULL, collect_range,
		    &part[k]) == 0;
		if (k > 0 && !started[k])
			collect_range(&part[k]);
	}
	collect_range(&part[0]);
	for (k = 1; k < nt; k++)
		if (started[k])
			pthread_join(t[k], NULL);
	c->from = 0;
	c->to = n;
	c->legacy = 1;
	collect_range(c);
	for (k = 0; c->nf->chol != NULL && k < n; k++)
		if (c->r->ok[k])
			c->r->misfit[k] = data_misfit(c->nf, c->o->y,
			    c->r->g + k * c->r->d);
}

/*
 * Gather the members' outputs of iteration it into r: the values calib exec
 * kept, read straight into their rows of r->g.  A member whose values
 * cannot be read counts as failed, as one whose output was unusable always
 * has; rep says which.
 */
static int
collect(const struct experiment *e, long it, const struct observations *o,
    const struct noise_factor *nf, struct results *r,
    struct update_report *rep, char **cause)
{
	struct collector	 c = { e, o, nf, r, NULL, NULL, 0, 0, 0 };
	char			*dir;
	size_t			 m;
	int			 rc = 0;

	r->iteration = it;
	r->n = e->ensemble_size;
	r->d = o->d;
	r->g = xmallocarray_large(r->n * r->d, sizeof *r->g);
	r->ok = xcalloc(r->n, sizeof *r->ok);
	r->checksum = xcalloc(r->n, sizeof *r->checksum);
	r->misfit = xmallocarray(r->n, sizeof *r->misfit);
	c.st = xcalloc(r->n, sizeof *c.st);
	c.why = xcalloc(r->n, sizeof *c.why);
	for (m = 0; m < r->n && rc == 0; m++) {
		r->misfit[m] = NAN;
		dir = member_dir(e, it, m + 1);
		rc = status_read(dir, &c.st[m], cause) < 0 ? -1 : 0;
		free(dir);
	}
	if (rc == 0)
		collect_parallel(&c, r->n);
	for (m = 0; m < r->n; m++) {
		if (c.why[m] != NULL && rep->n_unreadable++ == 0)
			snprintf(rep->unreadable, sizeof rep->unreadable,
			    "member %zu: %s", m + 1, c.why[m]);
		free(c.why[m]);
	}
	free(c.why);
	free(c.st);
	return rc;
}

static size_t
needed(const struct experiment *e)
{
	if (e->min_success <= 1)
		return (size_t)ceil(e->min_success * e->ensemble_size - 1e-9);
	return (size_t)e->min_success;
}

/*
 * The step of the update that follows iteration it, decided from its
 * published outputs before results.h5 records it: the timestep, or why the
 * calibration stops here.
 */
static int
plan_step(const struct experiment *e, long it, const struct ensemble *en,
    struct results *r, const struct observations *o,
    const struct noise_factor *nf, char **cause)
{
	size_t	 m;

	r->timestep = 0;
	r->stop[0] = '\0';
	if (it >= e->iterations)
		return 0;
	switch (e->alg.method) {
	case METHOD_EKI:
	case METHOD_ETKI:
		if (!e->alg.adaptive) {
			r->timestep = e->timestep;
			break;
		}
		if (dmc_timestep(r->n, r->d, r->misfit, r->ok, en->time,
		    e->alg.terminate_at, &r->timestep))
			snprintf(r->stop, sizeof r->stop, "the data_misfit "
			    "timestep reached terminate_at: the accumulated time "
			    "is %.6g of %.6g", en->time, e->alg.terminate_at);
		break;
	case METHOD_ESMDA:
		r->timestep = 1 / e->alg.weights[it];
		break;
	case METHOD_EKS:
		r->timestep = eks_timestep(r->n, r->d, r->g, r->ok, o->y, nf,
		    e->alg.eks_step);
		break;
	case METHOD_UKI:
		for (m = 0; m < r->n; m++)
			if (!r->ok[m])
				return failf(cause, "iteration %ld: member %zu "
				    "failed; uki needs every sigma point (see "
				    "its status and model.log)", it, m + 1);
		r->timestep = 1;
		break;
	}
	return 0;
}

/* Draw k standard normals from the ensemble's random state. */
static double *
normals(gsl_rng *rng, size_t k)
{
	double	*z = xmallocarray(k ? k : 1, sizeof *z);
	size_t	 i;

	for (i = 0; i < k; i++)
		z[i] = gsl_ran_gaussian_ziggurat(rng, 1.0);
	return z;
}

/* Move the ensemble of iteration it to the next one's, in next->u. */
static int
step(const struct experiment *e, long it, struct ensemble *en,
    struct ensemble *next, struct results *r,
    const struct observations *o, const struct noise_factor *nf,
    char **cause)
{
	struct localizer loc;
	struct uki_state st;
	size_t		 n = r->n, p = en->p, d = r->d, m, k = 0;
	double		*z = NULL, *m0, *s0;
	int		 rc = -1;

	m0 = xmallocarray(p, sizeof *m0);
	s0 = xmallocarray(p, sizeof *s0);
	prior_moments(e, m0, s0);
	next->u = en->u;
	en->u = NULL;
	for (m = 0; m < n; m++)
		k += r->ok[m] != 0;
	switch (e->alg.method) {
	case METHOD_EKI:
	case METHOD_ESMDA:
		/*
		 * Perturbations first, in member order, from the stored
		 * state: n x n in ensemble space (eki.h), n x d when
		 * localized.
		 */
		if (e->alg.loc == LOC_NONE) {
			z = normals(en->rng, n * n);
			rc = eki_update(n, p, d, next->u, r->g, r->ok, o->y, nf,
			    r->timestep, z, cause);
		} else {
			z = normals(en->rng, n * d);
			loc.rho = o->loc;
			loc.alpha = e->alg.sec_alpha;
			loc.cutoff = e->alg.sec_cutoff;
			if (e->alg.loc == LOC_MATRIX && o->loc == NULL) {
				failf(cause, "%s/observations.h5: no "
				    "localization matrix", e->output_dir);
				break;
			}
			rc = eki_update_localized(n, p, d, next->u, r->g, r->ok,
			    o->y, nf, r->timestep, z, &loc, cause);
		}
		break;
	case METHOD_ETKI:
		rc = etki_update(n, p, d, next->u, r->g, r->ok, o->y, nf,
		    r->timestep, cause);
		break;
	case METHOD_EKS:
		z = normals(en->rng, k * k);
		rc = eks_update(n, p, d, next->u, r->g, r->ok, o->y, nf, m0, s0,
		    e->alg.aldi, r->timestep, z, cause);
		break;
	case METHOD_UKI:
		next->uki_mean = en->uki_mean;
		next->uki_cov = en->uki_cov;
		next->uki_sigma_omega = en->uki_sigma_omega;
		en->uki_mean = en->uki_cov = en->uki_sigma_omega = NULL;
		st.mean = next->uki_mean;
		st.cov = next->uki_cov;
		st.sigma_omega = next->uki_sigma_omega;
		rc = uki_analysis(p, d, next->u, r->g, o->y, nf, m0,
		    e->alg.impose_prior ? s0 : NULL, &st, cause);
		if (rc == 0)
			rc = uki_predict(p, &st, m0, e->alg.alpha_reg,
			    e->alg.update_freq, it + 2, next->u, cause);
		break;
	}
	free(z);
	z = NULL;
	/* eki and etki formed S in the outputs' storage: they are gone. */
	free(r->g);
	r->g = NULL;
	if (rc != 0)
		goto out;
	if (e->alg.inflate_mult != 1 || e->alg.inflate_add > 0) {
		z = normals(en->rng, n * p);
		inflate(n, p, next->u, r->ok, e->alg.inflate_mult,
		    e->alg.inflate_add, s0, z);
		free(z);
		z = NULL;
	}
	if (e->alg.resample && k < n) {
		z = normals(en->rng, n * n);
		resample_failed(n, p, next->u, r->ok, z);
	}
out:
	free(z);
	free(m0);
	free(s0);
	return rc;
}

/*
 * Iteration it closed before (or never to be run, after an early stop):
 * report what was recorded and change nothing.  1 when that is so.
 */
static int
recorded(const struct experiment *e, long it, struct update_report *rep,
    char **cause)
{
	struct results	 r;
	char		*why = NULL;
	long		 last;

	if (!iteration_exists(e, it)) {
		last = newest_iteration(e);
		if (last < it && iteration_final(e, last, &why)) {
			/* A detached chain's update after the stop. */
			rep->iteration = last;
			rep->final = 1;
			snprintf(rep->stop, sizeof rep->stop, "%s", why);
			free(why);
			return 1;
		}
		return failf(cause, "iteration %ld does not exist", it);
	}
	if (!iteration_final(e, it, NULL) && !(iteration_closed(e, it) &&
	    iteration_exists(e, it + 1)))
		return 0;
	if (results_read_outcomes(e, it, &r, cause) != 0)
		return -1;
	rep->n = r.n;
	rep->final = it == e->iterations || r.stop[0] != '\0';
	rep->timestep = r.timestep;
	memcpy(rep->stop, r.stop, sizeof rep->stop);
	mean_std(r.misfit, r.n, 1, &rep->misfit_mean, &rep->misfit_std,
	    &rep->n_ok);
	results_release(&r);
	return 1;
}

/* Close iteration it: its members' outputs and the step into results.h5. */
/*
 * Iteration it was closed as the last (no step planned: timestep 0, no
 * stop), and the calibration has been extended since (calib amend): plan
 * its step now, as an update that knew of the later iterations would
 * have, after the same check of its successes.  The step taken is
 * recorded in the next ensemble; results.h5 stays as published.
 */
static int
extended(const struct experiment *e, long it, struct ensemble *en,
    struct results *r, const struct observations *o,
    const struct noise_factor *nf, char **cause)
{
	size_t	 m, k, need = needed(e);

	if (it >= e->iterations || r->timestep != 0 || r->stop[0] != '\0')
		return 0;
	for (m = 0, k = 0; m < r->n; m++)
		k += r->ok[m] != 0;
	if (k < need || k < 2)
		return failf(cause, "iteration %ld: %zu of %zu members "
		    "succeeded; min_success needs %zu to go on past it", it, k,
		    r->n, need > 2 ? need : 2);
	return plan_step(e, it, en, r, o, nf, cause);
}

static int
close_iteration(const struct experiment *e, long it, struct ensemble *en,
    const struct observations *o, const struct noise_factor *nf,
    struct results *r, struct update_report *rep, char **cause)
{
	size_t	 m, k, need;

	if (iteration_closed(e, it))
		return results_read(e, it, r, cause) != 0 ? -1 :
		    extended(e, it, en, r, o, nf, cause);
	if (collect(e, it, o, nf, r, rep, cause) != 0)
		return -1;
	need = needed(e);
	for (m = 0, k = 0; m < r->n; m++)
		k += r->ok[m];
	rep->too_few = it < e->iterations && (k < need || k < 2);
	if (it < e->iterations && (k < need || k < 2) && rep->n_unreadable)
		return failf(cause, "iteration %ld: %zu of %zu members "
		    "succeeded; min_success needs %zu (%zu with status ok "
		    "unreadable, %s)", it, k, r->n, need > 2 ? need : 2,
		    rep->n_unreadable, rep->unreadable);
	if (it < e->iterations && (k < need || k < 2))
		return failf(cause, "iteration %ld: %zu of %zu members "
		    "succeeded; min_success needs %zu", it, k, r->n,
		    need > 2 ? need : 2);
	if (plan_step(e, it, en, r, o, nf, cause) != 0)
		return -1;
	return results_write(e, r, cause);
}

/*
 * The events of closing iteration it (rep), or of failing to for too few
 * successes (why): sent where the update runs, a batch job or calib run.
 */
static void
notify_update(const struct experiment *e, long it,
    const struct update_report *rep, const struct observations *o,
    const struct noise_factor *nf, const char *why)
{
	struct iter_summary	 s;
	struct buf		 b = BUF_INIT;
	char			*cause = NULL, *line;
	size_t			 timeouts = 0;

	if (!notify_wanted(e, why ? 1u << NOTIFY_FAILURE :
	    ~(1u << NOTIFY_FAILURE)))
		return;
	if (iteration_summary(e, it, o, nf, &s, &cause) == 0) {
		summary_json(&b, e, &s);
		timeouts = s.count[MS_TIMEOUT];
		summary_release(&s);
	} else
		free(cause);
	if (why != NULL) {
		line = xasprintf("%s: %s", e->name, why);
		notify_send(e, it, NOTIFY_FAILURE, line, b.s, NULL);
		free(line);
		buf_release(&b);
		return;
	}
	line = xasprintf("%s: iteration %ld closed: %zu of %zu members "
	    "succeeded, misfit %.6g (std %.3g)", e->name, it, rep->n_ok,
	    rep->n, rep->misfit_mean, rep->misfit_std);
	notify_send(e, it, NOTIFY_ITERATION, line, b.s, NULL);
	free(line);
	if (timeouts > 0) {
		line = xasprintf("%s: iteration %ld: %zu members ran out of "
		    "time (forward_model.timeout)", e->name, it, timeouts);
		notify_send(e, it, NOTIFY_TIMEOUT, line, b.s, NULL);
		free(line);
	}
	if (rep->final && rep->stop[0] != '\0') {
		line = xasprintf("%s: stopped after iteration %ld: %s", e->name,
		    it, rep->stop);
		notify_send(e, it, NOTIFY_STOP, line, b.s, rep->stop);
		free(line);
	} else if (rep->final) {
		line = xasprintf("%s: done after %ld iterations, misfit %.6g "
		    "(std %.3g)", e->name, it, rep->misfit_mean,
		    rep->misfit_std);
		notify_send(e, it, NOTIFY_DONE, line, b.s, NULL);
		free(line);
	}
	buf_release(&b);
}

/* The next iteration's ensemble and parameter files. */
static int
publish_next(const struct experiment *e, long it, struct ensemble *en,
    struct results *r, const struct observations *o,
    const struct noise_factor *nf, char **cause)
{
	struct ensemble	 next;
	int		 rc = -1;

	memset(&next, 0, sizeof next);
	next.iteration = it + 1;
	next.n = en->n;
	next.p = en->p;
	if (step(e, it, en, &next, r, o, nf, cause) != 0)
		goto out;
	next.theta = xmallocarray(next.n * next.p, sizeof *next.theta);
	ensemble_constrain(e, &next);
	next.timestep = r->timestep;
	next.time = en->time + r->timestep;
	next.rng = en->rng;
	en->rng = NULL;
	if (write_parameter_files(e, &next, cause) == 0 &&
	    ensemble_write(e, &next, cause) == 0)
		rc = 0;
out:
	ensemble_release(&next);
	return rc;
}

int
update_experiment(const struct experiment *e, long it,
    struct update_report *rep, char **cause)
{
	struct observations	 o;
	struct noise_factor	 nf;
	struct ensemble		 en;
	struct results		 r;
	int			 rc = -1, done, was_closed;

	memset(rep, 0, sizeof *rep);
	if (it < 0)
		it = newest_iteration(e);
	if (it < 0)
		return failf(cause, "%s: no iteration yet; run 'calib init'",
		    e->output_dir);
	if (it > e->iterations)
		return failf(cause, "iteration %ld is past the last (%ld)", it,
		    e->iterations);
	rep->iteration = it;
	if ((done = recorded(e, it, rep, cause)) != 0)
		return done < 0 ? -1 : 0;
	memset(&en, 0, sizeof en);
	memset(&r, 0, sizeof r);
	memset(&nf, 0, sizeof nf);
	if (observations_read(e, &o, cause) != 0)
		return -1;
	/* Closed before and followed (or last): its events were sent. */
	was_closed = iteration_exists(e, it + 1) ||
	    iteration_final(e, it, NULL);
	if (noise_factor_init(&nf, o.d, o.std, o.cov, cause) != 0 ||
	    ensemble_read(e, it, &en, cause) != 0)
		goto out;
	if (close_iteration(e, it, &en, &o, &nf, &r, rep, cause) != 0) {
		if (rep->too_few && e->nnotify)
			notify_update(e, it, rep, &o, &nf, *cause);
		goto out;
	}
	rep->n = r.n;
	mean_std(r.misfit, r.n, 1, &rep->misfit_mean, &rep->misfit_std,
	    &rep->n_ok);
	rep->done = 1;
	rep->final = it == e->iterations || r.stop[0] != '\0';
	rep->timestep = r.timestep;
	memcpy(rep->stop, r.stop, sizeof rep->stop);
	rc = rep->final ? 0 : publish_next(e, it, &en, &r, &o, &nf, cause);
	if (rc == 0 && !was_closed && e->nnotify)
		notify_update(e, it, rep, &o, &nf, NULL);
out:
	ensemble_release(&en);
	results_release(&r);
	noise_factor_release(&nf);
	observations_release(&o);
	return rc;
}
