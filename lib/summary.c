/* Where an iteration stands (see summary.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "lib/buf.h"
#include "lib/eki.h"
#include "lib/prior.h"
#include "lib/summary.h"
#include "lib/util.h"

const double summary_q[SUMMARY_NQ] = { 0.05, 0.5, 0.95 };

static const char *const state_names[MS_COUNT] = {
	"done", "failed", "timeout", "invalid", "not_run", "pending"
};

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

const char *
member_state_name(enum member_state s)
{
	return s < MS_COUNT ? state_names[s] : "unknown";
}

size_t
summary_failed(const struct iter_summary *s)
{
	return s->count[MS_FAILED] + s->count[MS_TIMEOUT] +
	    s->count[MS_INVALID] + s->count[MS_NOTRUN];
}

/* The state of a member that did not succeed, from its status file. */
static enum member_state
unsuccessful(const struct member_status *st, int found, int closed)
{
	if (found == 1)
		switch (st->outcome) {
		case OUTCOME_FAILED:
			return MS_FAILED;
		case OUTCOME_TIMEOUT:
			return MS_TIMEOUT;
		case OUTCOME_INVALID:
		case OUTCOME_OK:	/* its values could not be read */
			return closed ? MS_INVALID : MS_DONE;
		default:
			break;
		}
	/* Interrupted and unstarted members run again while it is open. */
	return closed ? MS_NOTRUN : MS_PENDING;
}

/* Outcomes and misfits of the members of an open iteration. */
static void
open_members(const struct experiment *e, struct iter_summary *s,
    const struct observations *o, const struct noise_factor *nf)
{
	struct member_status	 st;
	double			*g;
	char			*dir, *why = NULL;
	size_t			 m;
	int			 r;

	g = o ? xmallocarray(o->d, sizeof *g) : NULL;
	for (m = 0; m < s->n; m++) {
		dir = member_dir(e, s->iteration, m + 1);
		r = status_read(dir, &st, NULL);
		free(dir);
		s->state[m] = r == 1 && st.success ? MS_DONE :
		    unsuccessful(&st, r, 0);
		if (s->state[m] != MS_DONE || o == NULL)
			continue;
		if (read_member_values(e, s->iteration, m + 1, o->d, &st, g, 0,
		    &why) == 0)
			s->misfit[m] = data_misfit(nf, o->y, g);
		free(why);
		why = NULL;
	}
	free(g);
}

/* Outcomes and misfits of the members of a closed iteration. */
static int
closed_members(const struct experiment *e, struct iter_summary *s,
    char **cause)
{
	struct results		 r;
	struct member_status	 st;
	char			*dir;
	size_t			 m;
	int			 found;

	/* results_read checks that it has the experiment's members. */
	if (results_read_outcomes(e, s->iteration, &r, cause) != 0)
		return -1;
	for (m = 0; m < s->n; m++) {
		s->misfit[m] = r.ok[m] ? r.misfit[m] : NAN;
		if (r.ok[m]) {
			s->state[m] = MS_DONE;
			continue;
		}
		dir = member_dir(e, s->iteration, m + 1);
		found = status_read(dir, &st, NULL);
		free(dir);
		s->state[m] = unsuccessful(&st, found, 1);
	}
	results_release(&r);
	return 0;
}

/*
 * The ensemble's own statistics of component k, over its finite values (a
 * damaged ensemble.h5 may hold others).
 */
static void
ensemble_stats(struct iter_summary *s, size_t k, double *col)
{
	size_t	 i, n = 0;

	for (i = 0; i < s->n; i++)
		if (isfinite(s->theta[i * s->p + k]))
			col[n++] = s->theta[i * s->p + k];
	mean_std(col, n, 1, &s->mean[k], &s->std[k], NULL);
	gsl_sort(col, 1, n);
	for (i = 0; i < SUMMARY_NQ; i++)
		s->q[k * SUMMARY_NQ + i] = n ?
		    gsl_stats_quantile_from_sorted_data(col, 1, n, summary_q[i]) :
		    NAN;
}

/*
 * UKI's Gaussian of component k, mapped to constrained space.  The map is
 * monotone: increasing, or decreasing with an upper bound alone (c = b -
 * exp(u)), where u's quantile q is c's quantile 1 - q.
 */
static void
uki_stats(const struct prior *pr, const struct ensemble *en,
    struct iter_summary *s, size_t k)
{
	double	 m = en->uki_mean[k], c = en->uki_cov[k * en->p + k];
	double	 sd, mean, z;
	int	 down = isinf(pr->lower) && !isinf(pr->upper);
	size_t	 i;

	if (!isfinite(m) || !isfinite(c) || c < 0) {
		/* A damaged ensemble.h5: unknown, printed as null. */
		s->mean[k] = s->std[k] = NAN;
		for (i = 0; i < SUMMARY_NQ; i++)
			s->q[k * SUMMARY_NQ + i] = NAN;
		return;
	}
	sd = sqrt(c);
	prior_pushforward(pr, m, sd, &mean, &s->std[k]);
	s->mean[k] = to_constrained(pr, m);
	for (i = 0; i < SUMMARY_NQ; i++) {
		z = gsl_cdf_ugaussian_Pinv(down ? 1 - summary_q[i] :
		    summary_q[i]);
		s->q[k * SUMMARY_NQ + i] = to_constrained(pr, m + sd * z);
	}
}

static void
estimates(const struct experiment *e, const struct ensemble *en,
    struct iter_summary *s)
{
	double	*col = xmallocarray(s->n ? s->n : 1, sizeof *col);
	size_t	 i, j, k;

	for (i = 0; i < e->nparams; i++)
		for (j = 0; !e->params[i].fixed && j < e->params[i].size; j++) {
			k = e->params[i].offset + j;
			if (en->uki_mean != NULL && en->uki_cov != NULL)
				uki_stats(&e->params[i].prior, en, s, k);
			else
				ensemble_stats(s, k, col);
		}
	free(col);
}

int
iteration_summary(const struct experiment *e, long it,
    const struct observations *o, const struct noise_factor *nf,
    struct iter_summary *s, char **cause)
{
	struct ensemble	 en;
	size_t		 m;

	memset(s, 0, sizeof *s);
	s->iteration = it;
	/* ensemble_read checks its members and components. */
	if (ensemble_read(e, it, &en, cause) != 0)
		return -1;
	s->n = en.n;
	s->p = en.p;
	s->theta = en.theta;
	en.theta = NULL;
	s->mean = xcalloc(s->p + 1, sizeof *s->mean);
	s->std = xcalloc(s->p + 1, sizeof *s->std);
	s->q = xcalloc(s->p * SUMMARY_NQ + 1, sizeof *s->q);
	s->misfit = xmallocarray(s->n + 1, sizeof *s->misfit);
	s->state = xcalloc(s->n + 1, 1);
	for (m = 0; m < s->n; m++)
		s->misfit[m] = NAN;
	estimates(e, &en, s);
	ensemble_release(&en);
	s->closed = iteration_closed(e, it);
	if (s->closed) {
		if (closed_members(e, s, cause) != 0) {
			summary_release(s);
			return -1;
		}
	} else
		open_members(e, s, o, nf);
	for (m = 0; m < s->n; m++)
		s->count[s->state[m]]++;
	mean_std(s->misfit, s->n, 1, &s->mmean, &s->mstd, NULL);
	return 0;
}

void
summary_release(struct iter_summary *s)
{
	free(s->theta);
	free(s->mean);
	free(s->std);
	free(s->q);
	free(s->misfit);
	free(s->state);
	memset(s, 0, sizeof *s);
}

static void
json_num(struct buf *b, double x)
{
	char	 num[40];

	if (!isfinite(x)) {
		buf_adds(b, "null");
		return;
	}
	fmt_double(num, x);
	buf_adds(b, num);
}

/* One statistic of parameter p: a number, or an array for a vector. */
static void
json_stat(struct buf *b, const struct param *p, const double *v,
    size_t stride)
{
	size_t	 j;

	buf_adds(b, p->vector ? "[" : "");
	for (j = 0; j < p->size; j++) {
		if (j)
			buf_adds(b, ",");
		json_num(b, v[(p->offset + j) * stride]);
	}
	buf_adds(b, p->vector ? "]" : "");
}

/* Names are [A-Za-z_][A-Za-z0-9_]* and need no JSON escaping. */
void
summary_json(struct buf *b, const struct experiment *e,
    const struct iter_summary *s)
{
	static const char *const qname[SUMMARY_NQ] = { "q05", "q50", "q95" };
	size_t	 i, k;
	int	 first = 1;

	buf_addf(b, "{\"iteration\":%ld,\"members\":{\"done\":%zu,\"failed\":%zu,"
	    "\"pending\":%zu},\"failures\":{", s->iteration, s->count[MS_DONE],
	    summary_failed(s), s->count[MS_PENDING]);
	for (k = MS_FAILED; k <= MS_NOTRUN; k++)
		buf_addf(b, "%s\"%s\":%zu", k == MS_FAILED ? "" : ",",
		    member_state_name(k), s->count[k]);
	buf_adds(b, "},\"misfit\":{\"mean\":");
	json_num(b, s->mmean);
	buf_adds(b, ",\"std\":");
	json_num(b, s->mstd);
	buf_adds(b, "},\"parameters\":{");
	for (i = 0; i < e->nparams; i++) {
		const struct param *p = &e->params[i];

		if (p->fixed)
			continue;
		buf_addf(b, "%s\"%s\":{\"mean\":", first ? "" : ",", p->name);
		first = 0;
		json_stat(b, p, s->mean, 1);
		buf_adds(b, ",\"std\":");
		json_stat(b, p, s->std, 1);
		for (k = 0; k < SUMMARY_NQ; k++) {
			buf_addf(b, ",\"%s\":", qname[k]);
			json_stat(b, p, s->q + k, SUMMARY_NQ);
		}
		buf_adds(b, "}");
	}
	buf_adds(b, "}}");
}
