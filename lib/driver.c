/*
 * The driver (see driver.h).  Each poll gathers what is known of every
 * member of the open iteration (its newest job in the journal, the
 * scheduler's answer for that job's task, its status file written by
 * calib exec, the clock) into facts, lets decide() say what to do, and does
 * it: wait, count it done or failed, or submit it (again).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/decide.h"
#include "lib/driver.h"
#include "lib/forward.h"
#include "lib/fsio.h"
#include "lib/jobscript.h"
#include "lib/notify.h"
#include "lib/util.h"

/* The first wait between polls after a submission, seconds. */
#define POLL_FIRST	1.0
/* How long the scheduler may fail to answer before calib gives up. */
#define QUERY_PATIENCE	600.0

enum mstate {
	MS_SUBMIT,	/* no job: submit it */
	MS_QUEUED,
	MS_RUNNING,
	MS_DONE,
	MS_FAILED,	/* settled: the update counts it as failed */
};

struct member {
	enum mstate	 state;
	size_t		 job;		/* journal index + 1 of its job; 0 none */
	int		 attempts;	/* its jobs, those calib cancelled aside */
	int		 tries;		/* of those, this run's */
	double		 gone;		/* when its end was first seen, no status */
	int		 kept;		/* succeeded before this run started */
	int		 again;		/* resubmitted, not as a retry */
	int		 fresh;		/* failed in an attempt of this run */
	char		 why[600];	/* why it is (re)submitted */
};

struct driver {
	const struct experiment	*e;
	const struct scheduler	*sc;
	struct sched		*s;
	struct journal		 j;
	const struct drive_opts	*o;
	const struct driver_hooks *h;
	struct job_info		*info;		/* from the last query */
	size_t			 ninfo;
	int			 history;	/* accounting may answer */
	double			 interval;
	double			 start;
	double			 failing;	/* queries failing since; 0 */
	struct progress		 shown;		/* last counts reported */
	int			 following;	/* an update job waits on the
						   members: none is resubmitted */
	long			 warned_alike;	/* iteration + 1 told of */
	long			 told_it;	/* model failures told of, */
	size_t			 told;		/* in that iteration */
	size_t			 polls;
};

static void
note(struct driver *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(struct driver *d, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	if (d->h->note == NULL)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	d->h->note(msg, d->h->arg);
	free(msg);
}

/* Wait the current interval, then lengthen it towards poll_interval. */
static void
backoff(struct driver *d)
{
	d->sc->wait(d->s, d->interval);
	d->interval = fmin(d->interval * 1.5, d->e->backend.poll_interval);
}

/* Order of job infos: by id, then task. */
static int
info_cmp(const struct job_info *a, const char *id, long task)
{
	int	 c = strcmp(a->id, id);

	return c ? c : a->task < task ? -1 : a->task > task;
}

/* An info and its place in the scheduler's answer, to sort stably. */
struct keyed_info {
	struct job_info	 v;
	size_t		 at;
};

static int
info_order(const void *a, const void *b)
{
	const struct keyed_info *x = a, *y = b;
	int c = info_cmp(&x->v, y->v.id, y->v.task);

	return c ? c : x->at < y->at ? -1 : x->at > y->at;
}

/*
 * Sort what the scheduler said, so that info_in finds a member's task by
 * bisection: the driver looks up every member at every poll.  Stable: of
 * two infos of one task, the first the scheduler gave still comes first.
 */
static void
info_sort(struct job_info *v, size_t n)
{
	struct keyed_info	*k;
	size_t			 i;

	if (n < 2)
		return;
	k = xmallocarray(n, sizeof *k);
	for (i = 0; i < n; i++) {
		k[i].v = v[i];
		k[i].at = i;
	}
	qsort(k, n, sizeof *k, info_order);
	for (i = 0; i < n; i++)
		v[i] = k[i].v;
	free(k);
}

/* The first info of task `task` of job id in v (sorted by info_sort). */
static const struct job_info *
info_in(const struct job_info *v, size_t n, const char *id, long task)
{
	size_t	 lo = 0, hi = n, mid;

	if (id == NULL)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (info_cmp(&v[mid], id, task) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && info_cmp(&v[lo], id, task) == 0 ? &v[lo] : NULL;
}

/* Is any task of job id still queued or running? */
static int
job_live(struct driver *d, const char *id)
{
	size_t	 i;

	for (i = 0; id && i < d->ninfo; i++)
		if (!strcmp(d->info[i].id, id) &&
		    d->info[i].phase <= PHASE_RUNNING)
			return 1;
	return 0;
}

/* calib cancel, from another process, stops this run. */
static int
cancelled_since_start(struct driver *d, char **cause)
{
	size_t	 i;

	if (journal_refresh(&d->j, cause) != 0)
		return -1;
	for (i = 0; i < d->j.n; i++)
		if (d->j.v[i].cancelled >= d->start)
			return failf(cause, "job %s was cancelled by 'calib "
			    "cancel'; 'calib run' starts again from here",
			    d->j.v[i].id);
	return 0;
}

/*
 * The scheduler did not answer (why): say so and go on, doing again,
 * until it has been out of reach for QUERY_PATIENCE.  Returns 0 to try
 * again, -1 with *cause.
 */
static int
unreached(struct driver *d, char *why, const char *again, char **cause)
{
	if (d->failing == 0)
		d->failing = now();
	if (now() - d->failing > QUERY_PATIENCE) {
		failf(cause, "the scheduler has not answered for %.0f s: %s",
		    QUERY_PATIENCE, why);
		free(why);
		return -1;
	}
	note(d, "%s (%s again)", why, again);
	free(why);
	return 0;
}

/*
 * One query for every job of iterations it and later.  A scheduler that
 * does not answer is asked again at the next poll, for QUERY_PATIENCE.
 * Returns 0, 1 when it did not answer this time, -1 on error.
 */
static int
poll_jobs(struct driver *d, long it, char **cause)
{
	char	**ids, *why = NULL;
	size_t	 i, n = 0;
	int	 rc;

	if (cancelled_since_start(d, cause) != 0)
		return -1;
	ids = xcalloc(d->j.n + 1, sizeof *ids);
	for (i = 0; i < d->j.n; i++)
		if (d->j.v[i].id && d->j.v[i].iteration >= it)
			ids[n++] = d->j.v[i].id;
	job_info_free(d->info, d->ninfo);
	d->info = NULL;
	d->ninfo = 0;
	rc = d->sc->query(d->s, ids, n, &d->info, &d->ninfo, &why);
	free(ids);
	if (rc == 0) {
		info_sort(d->info, d->ninfo);
		d->failing = 0;
		if (n > 0 && d->o->verbose)
			note(d, "poll %zu: %zu jobs asked about, %zu tasks known",
			    ++d->polls, n, d->ninfo);
		return 0;
	}
	return unreached(d, why, "asking", cause) == 0 ? 1 : -1;
}

/* Did any member of intent x run (a status file newer than the intent)? */
static int
intent_ran(struct driver *d, const struct jentry *x)
{
	struct member_status	 st;
	char			*dir;
	long			*mem;
	size_t			 m, nm;
	int			 ran = 0;

	if (x->kind != JOB_MEMBERS || ranges_parse(x->members, &mem, &nm) != 0)
		return 0;
	for (m = 0; m < nm && !ran; m++) {
		dir = member_dir(d->e, x->iteration, mem[m]);
		ran = status_read(dir, &st, NULL) == 1 && st.start >= x->time;
		free(dir);
	}
	free(mem);
	return ran;
}

static int
orphan(const struct driver *d, const struct jentry *x)
{
	return x->id == NULL && !x->failed && !strcmp(x->backend, d->sc->name);
}

/*
 * Intents without a job id: calib was killed between writing the intent
 * and recording what the scheduler answered.  Find those jobs by name; a
 * job not found either never reached the scheduler or ran and left it,
 * which its members' status files tell.
 */
static int
recover_intents(struct driver *d, char **cause)
{
	struct jentry	*x;
	char		**names, **ids = NULL;
	size_t		 i, k, n = 0;
	int		 rc = 0;

	names = xcalloc(d->j.n + 1, sizeof *names);
	for (i = 0; i < d->j.n; i++)
		if (orphan(d, &d->j.v[i]))
			names[n++] = d->j.v[i].name;
	if (n == 0 || sched_find(d->s, names, n, &ids, cause) != 0) {
		free(names);
		return n == 0 ? 0 : -1;
	}
	for (i = 0, k = 0; i < d->j.n && rc == 0; i++) {
		x = &d->j.v[i];
		if (!orphan(d, x))
			continue;
		if (ids[k] != NULL) {
			rc = journal_job(&d->j, x->seq, ids[k], cause);
			if (rc == 0)
				note(d, "found job %s, submitted before calib "
				    "stopped", ids[k]);
		} else if (!intent_ran(d, x))
			/* A job that ran keeps its record, without an id. */
			rc = journal_failed(&d->j, x->seq, "not found after "
			    "calib restarted", cause);
		k++;
	}
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(names);
	return rc;
}

/* Write the iteration's job script when it is absent or differs. */
static int
ensure_script(struct driver *d, enum jkind kind, long it, char **path,
    char **cause)
{
	char	*text, *old = NULL, *dir, *name;
	int	 rc = 0;

	if (job_script(d->e, d->sc, d->o->calib, kind, it, &text, cause) != 0)
		return -1;
	dir = iteration_dir(d->e, it);
	name = xasprintf("%s%s", kind == JOB_UPDATE ? "update" : "member",
	    d->sc->script_suffix);
	*path = path_join(dir, name);
	free(name);
	if (d->o->dry)
		note(d, "would write %s (%zu bytes)", *path, strlen(text));
	else if (mkdirs(dir, cause) != 0)
		rc = -1;
	else if (!is_file(*path) || read_file(*path, &old, NULL, NULL) != 0 ||
	    strcmp(old, text) != 0)
		rc = write_file_atomic(*path, text, strlen(text), cause);
	free(old);
	free(text);
	free(dir);
	return rc;
}

/* What a job runs, for backends without scripts: calib exec or update. */
struct job_command {
	char	 it[32];
	char	*argv[7];
	char	*script;
};

static int
job_command(struct driver *d, enum jkind kind, long it, struct job_command *c,
    char **cause)
{
	memset(c, 0, sizeof *c);
	snprintf(c->it, sizeof c->it, "%ld", it);
	c->argv[0] = (char *)d->o->calib;
	c->argv[1] = kind == JOB_UPDATE ? "update" : "exec";
	c->argv[2] = "--job";
	c->argv[3] = "-i";
	c->argv[4] = c->it;
	c->argv[5] = d->e->output_dir;
	if (!sched_has(d->sc, SCHED_SCRIPTS))
		return 0;
	if (ensure_script(d, kind, it, &c->script, cause) == 0)
		return 0;
	free(c->script);
	c->script = NULL;
	return -1;
}

/*
 * After a submission that did not reach the scheduler, ask for the job by
 * its name until the scheduler answers: it may have been taken after all.
 * Returns 0 with *id (NULL when it was not), -1 with *cause.
 */
static int
taken_anyway(struct driver *d, char *name, char *why, char **id,
    char **cause)
{
	char	**ids = NULL, *names[1] = { name };

	*id = NULL;
	for (;;) {
		if (unreached(d, why ? why : xstrdup("no answer"),
		    "submitting", cause) != 0)
			return -1;
		if (!sched_has(d->sc, SCHED_FIND)) {
			backoff(d);
			return 0;
		}
		/* At once: a job taken may run and leave the queue soon. */
		why = NULL;
		if (sched_find(d->s, names, 1, &ids, &why) == 0)
			break;
		free(ids);
		ids = NULL;
		backoff(d);
	}
	*id = ids[0];
	free(ids);
	/* Not taken: submit again, after the wait. */
	if (*id == NULL)
		backoff(d);
	return 0;
}

/* calib run --dry-run: say what submit would run; the id is the name. */
static void
dry_submit(struct driver *d, const struct job_request *q, char **id)
{
	char	*text = d->sc->describe(d->s, q);

	note(d, "would run: %s", text);
	free(text);
	*id = xasprintf("<%s>", q->name);
}

/*
 * Submit one job: the intent goes to the journal first, the id the moment
 * the scheduler returns it.  *idx is the journal index of the record.
 */
static int
submit(struct driver *d, struct jentry *proto, struct job_request *q,
    size_t *idx, char **cause)
{
	struct jentry	*x;
	char		*id = NULL, *why = NULL;
	long		 seq;
	int		 r;

	proto->backend = (char *)d->sc->name;
	proto->detached = d->o->chain;
	for (;;) {
		if ((x = journal_intent(&d->j, proto, cause)) == NULL)
			return -1;
		seq = x->seq;
		q->name = x->name;
		*idx = x - d->j.v;
		if (d->o->dry) {
			dry_submit(d, q, &id);
			break;
		}
		if ((r = d->sc->submit(d->s, q, &id, &why)) == 0)
			break;
		free(id);
		id = NULL;
		if (r > 0) {
			/* taken_anyway takes why. */
			r = taken_anyway(d, x->name, why, &id, cause);
			why = NULL;
			if (r != 0)
				return -1;
			if (id != NULL)
				break;
		}
		if (journal_failed(&d->j, seq, why ? why : "the scheduler "
		    "could not be reached", cause) != 0) {
			free(why);
			return -1;
		}
		if (why != NULL) {
			*cause = why;
			return -1;
		}
	}
	d->failing = 0;
	if (journal_job(&d->j, seq, id, cause) != 0) {
		free(id);
		return -1;
	}
	free(id);
	d->interval = POLL_FIRST;
	return 0;
}

/*
 * How many of list[0..n) go into one array with the first: members in the
 * same chunk of maxi indices (and, SCHED_RANGES_ONLY, consecutive).
 */
static size_t
chunk(struct driver *d, const long *list, size_t n, long maxi, long *off,
    long *idx)
{
	size_t	 k;

	*off = (list[0] - 1) / maxi * maxi;
	for (k = 0; k < n && (list[k] - 1) / maxi * maxi == *off &&
	    (!sched_has(d->sc, SCHED_RANGES_ONLY) || k == 0 ||
	    list[k] == list[k - 1] + 1); k++)
		idx[k] = list[k] - *off;
	return k;
}

/* Submit members[0..n) of iteration it as one array, indices idx. */
static int
submit_array(struct driver *d, long it, const struct job_command *c,
    const long *members, const long *idx, size_t n, long off,
    const char *after_ok, struct buf *after, char **cause)
{
	struct job_request	 q;
	struct jentry		 proto;
	char			*dir = iteration_dir(d->e, it), *t, *arr;
	size_t			 ji;
	int			 rc;

	memset(&proto, 0, sizeof proto);
	proto.kind = JOB_MEMBERS;
	proto.iteration = it;
	proto.members = ranges_format(members, n);
	proto.offset = off;
	memset(&q, 0, sizeof q);
	q.script = c->script;
	q.command = c->argv;
	q.array = arr = ranges_format(idx, n);
	q.max_running = d->o->max_running;
	q.after_ok = after_ok;
	t = d->sc->log_name(off ? LOG_ARRAY : LOG_MEMBER, member_width(d->e),
	    NULL);
	q.log = path_join(dir, t);
	q.offset = off;
	if ((rc = submit(d, &proto, &q, &ji, cause)) == 0) {
		note(d, "iteration %ld: %s members %s as job %s", it,
		    d->o->dry ? "would submit" : "submitted",
		    proto.members, d->j.v[ji].id);
		buf_addsep(after, ":", d->j.v[ji].id);
	}
	free(t);
	free((char *)q.log);
	free(arr);
	free(proto.members);
	free(dir);
	return rc;
}

/*
 * Submit members list[0..n) of iteration it as array jobs, as few as the
 * scheduler's largest index allows.  The new jobs' ids are appended to
 * after (a ':'-separated list).
 */
static int
submit_members(struct driver *d, long it, const long *list, size_t n,
    const char *after_ok, struct buf *after, char **cause)
{
	struct job_command	 c;
	long			 maxi, off, *idx;
	size_t			 i, k;
	int			 rc = 0;

	/* A dry run asks the scheduler nothing it need not: one array. */
	if (d->o->dry)
		maxi = d->e->ensemble_size + 1;
	else if ((maxi = d->sc->max_index(d->s, cause)) < 1)
		return -1;
	if (job_command(d, JOB_MEMBERS, it, &c, cause) != 0)
		return -1;
	idx = xmallocarray(n, sizeof *idx);
	for (i = 0; i < n && rc == 0; i += k) {
		k = chunk(d, list + i, n - i, maxi, &off, idx);
		rc = submit_array(d, it, &c, list + i, idx, k, off, after_ok,
		    after, cause);
	}
	free(idx);
	free(c.script);
	return rc;
}

static int
submit_update(struct driver *d, long it, const char *after_any, size_t *ji,
    char **cause)
{
	struct job_command	 c;
	struct job_request	 q;
	struct jentry		 proto;
	char			*dir, *t;
	int			 rc;

	if (job_command(d, JOB_UPDATE, it, &c, cause) != 0)
		return -1;
	memset(&proto, 0, sizeof proto);
	proto.kind = JOB_UPDATE;
	proto.iteration = it;
	memset(&q, 0, sizeof q);
	q.script = c.script;
	q.command = c.argv;
	q.after_any = after_any && *after_any ? after_any : NULL;
	dir = iteration_dir(d->e, it);
	t = d->sc->log_name(LOG_UPDATE, 0, NULL);
	/* Batch scripts name their own log; the others take this one. */
	q.log = sched_has(d->sc, SCHED_SCRIPTS) ? NULL : path_join(dir, t);
	rc = submit(d, &proto, &q, ji, cause);
	if (rc == 0)
		note(d, "iteration %ld: %s the update as job %s", it,
		    d->o->dry ? "would submit" : "submitted",
		    d->j.v[*ji].id);
	free((char *)q.log);
	free(t);
	free(dir);
	free(c.script);
	return rc;
}

/*
 * The newest member job of iteration it that covered member m, how many
 * did, and how many of those this run submitted (jobs calib cancelled do
 * not count: each calib run, started by a person who may have fixed what
 * failed, has max_retries of its own for failures outside the model).
 */
static size_t
job_of(struct driver *d, long it, long m, int *attempts, int *tries)
{
	const struct jentry	*x;
	size_t			 i, found = 0;

	*attempts = *tries = 0;
	for (i = 0; i < d->j.n; i++) {
		x = &d->j.v[i];
		if (x->kind == JOB_MEMBERS && x->iteration == it && !x->failed &&
		    ranges_contain(x->members, m)) {
			found = i + 1;
			*attempts += x->cancelled == 0;
			*tries += x->cancelled == 0 && x->time >= d->start;
		}
	}
	return found;
}

/* Why, in words, for the note that announces a resubmission. */
static void
explain(struct member *p, const struct decision *dec,
    const struct job_info *ji, const struct member_status *st)
{
	switch (dec->why) {
	case WHY_NOT_RUN:
		snprintf(p->why, sizeof p->why, "not run yet");
		break;
	case WHY_SCHEDULER:
	case WHY_NO_STATUS:
		snprintf(p->why, sizeof p->why, "job ended %s%s", ji ?
		    ji->state : "", dec->why == WHY_NO_STATUS ? " without a "
		    "status from calib exec" : "");
		break;
	case WHY_CANCELLED:
		snprintf(p->why, sizeof p->why, "its job was cancelled by "
		    "'calib cancel'");
		break;
	case WHY_LOST:
		snprintf(p->why, sizeof p->why, "job lost: gone from the "
		    "scheduler without a status");
		break;
	case WHY_RERUN:
		snprintf(p->why, sizeof p->why, "failed before (%s); "
		    "--retry-failed", st->reason);
		break;
	default:
		snprintf(p->why, sizeof p->why, "%s", st->reason);
	}
}

/* What is known of member m and its newest job. */
struct look {
	struct member_facts	 f;
	struct member_status	 st;
	const struct job_info	*ji;
	const struct jentry	*x;
};

static int
gather(struct driver *d, long it, long m, struct member *p,
    const struct job_info *hist, size_t nhist, int ask, struct look *k,
    char **cause)
{
	char	*dir;
	int	 r;

	memset(k, 0, sizeof *k);
	p->job = job_of(d, it, m, &p->attempts, &p->tries);
	k->x = p->job ? &d->j.v[p->job - 1] : NULL;
	if (k->x) {
		k->ji = info_in(d->info, d->ninfo, k->x->id, m - k->x->offset);
		/* A one-member job may be a plain job, not an array. */
		if (k->ji == NULL)
			k->ji = info_in(d->info, d->ninfo, k->x->id, -1);
		if (k->ji == NULL)
			k->ji = info_in(hist, nhist, k->x->id, m - k->x->offset);
	}
	k->f.has_job = k->x != NULL;
	k->f.has_id = k->x && k->x->id;
	k->f.cancelled = k->x && k->x->cancelled;
	k->f.earlier = k->x && k->x->time < d->start;
	k->f.attempts = p->tries;
	k->f.listed = k->ji != NULL;
	k->f.phase = k->ji ? k->ji->phase : PHASE_QUEUED;
	k->f.may_ask_history = ask;
	/* Jobs on this machine show what they wrote when they end. */
	k->f.lag = sched_has(d->sc, SCHED_SAME_HOST) ? 0 : fs_lag();
	k->f.may_retry = !d->following;
	k->f.max_retries = d->e->max_retries;
	/* While the scheduler holds the job, spare the shared filesystem. */
	if (k->ji && k->ji->phase <= PHASE_RUNNING)
		return 0;
	dir = member_dir(d->e, it, m);
	r = status_read(dir, &k->st, cause);
	free(dir);
	if (r < 0)
		return -1;
	k->f.outcome = r == 1 ? k->st.outcome : OUTCOME_NONE;
	k->f.this_job = r == 1 && k->f.has_id && !strcmp(k->st.job, k->x->id);
	k->f.cancel_first = k->f.cancelled && k->st.end >= k->x->cancelled;
	/* What failed before this run, in a job from before it: once. */
	k->f.rerun = d->o->retry_failed && k->f.earlier && r == 1 &&
	    k->st.end < d->start;
	if (k->f.this_job && k->f.outcome == OUTCOME_RUNNING &&
	    sched_has(d->sc, SCHED_SAME_HOST)) {
		dir = member_dir(d->e, it, m);
		r = member_locked(dir);
		free(dir);
		k->f.exec_alive = r == 1;
		k->f.exec_gone = r == 0;
	}
	k->f.gone_for = p->gone ? now() - p->gone : 0;
	return 0;
}

/* Carry out the decision for member p; 1 when accounting must be asked. */
static int
apply(struct driver *d, struct member *p, const struct look *k)
{
	struct decision	 dec = decide(&k->f);

	switch (dec.action) {
	case ACT_HISTORY:
		return 1;
	case ACT_WAIT:
		if (dec.why == WHY_LAG && p->gone == 0)
			p->gone = now();
		p->state = dec.running ? MS_RUNNING : MS_QUEUED;
		break;
	case ACT_DONE:
		p->state = MS_DONE;
		p->kept = k->st.end < d->start;
		break;
	case ACT_FAILED:
		p->state = MS_FAILED;
		p->fresh = k->st.end >= d->start;
		explain(p, &dec, k->ji, &k->st);
		break;
	case ACT_SUBMIT:
	case ACT_RETRY:
	case ACT_RESUBMIT:
		p->state = MS_SUBMIT;
		p->again = dec.action == ACT_RESUBMIT;
		explain(p, &dec, k->ji, &k->st);
		break;
	}
	return 0;
}

/* How many model failures an iteration tells of, one by one. */
#define TELL_FAILED	5

/*
 * Member m's model failed: say why, with the last line of its model.log,
 * for the first few of the iteration.
 */
static void
tell_failed(struct driver *d, long it, long m, const struct member *p)
{
	char	*dir, *log, *tail;

	if (d->told_it != it) {
		d->told_it = it;
		d->told = 0;
	}
	if (d->told++ >= TELL_FAILED) {
		if (d->told == TELL_FAILED + 1)
			note(d, "iteration %ld: more members failed; 'calib "
			    "status' lists them", it);
		return;
	}
	dir = member_dir(d->e, it, m);
	log = path_join(dir, "model.log");
	tail = file_tail(log, 1);
	if (tail)
		note(d, "iteration %ld: member %ld failed: %s; %s ends: %s", it,
		    m, p->why, log, tail);
	else
		note(d, "iteration %ld: member %ld failed: %s", it, m, p->why);
	free(tail);
	free(log);
	free(dir);
}

/*
 * Bring every member of iteration it up to date: one pass, and a second
 * with the scheduler's accounting for jobs it no longer lists.
 */
static int
resolve(struct driver *d, long it, struct member *ms, char **cause)
{
	struct look	 k;
	struct job_info	*hist = NULL;
	char		**ask = NULL;
	size_t		 nask = 0, nhist = 0;
	long		 m;
	int		 pass, r = 0;

	for (pass = 0; pass < 2 && r >= 0; pass++) {
		for (m = 1; m <= d->e->ensemble_size; m++) {
			struct member *p = &ms[m - 1];

			if (p->state == MS_DONE || p->state == MS_FAILED)
				continue;
			if (gather(d, it, m, p, hist, nhist, pass == 0 &&
			    d->history, &k, cause) != 0) {
				r = -1;
				break;
			}
			r = apply(d, p, &k);
			if (p->state == MS_FAILED)
				tell_failed(d, it, m, p);
			if (r == 1) {
				r = 0;
				ask = xreallocarray(ask, nask + 1, sizeof *ask);
				ask[nask++] = k.x->id;
			}
		}
		if (r < 0 || nask == 0 || pass == 1)
			break;
		r = sched_history(d->s, ask, nask, &hist, &nhist, cause);
		if (r == 1)
			d->history = 0;
		else if (r == 0)
			info_sort(hist, nhist);
	}
	free(ask);
	job_info_free(hist, nhist);
	return r < 0 ? -1 : 0;
}

/* Tell the hook the members' counts when they changed. */
static void
report(struct driver *d, long it, const struct member *ms, struct progress *p)
{
	long	 m;

	memset(p, 0, sizeof *p);
	p->iteration = it;
	p->n = d->e->ensemble_size;
	for (m = 0; m < d->e->ensemble_size; m++)
		switch (ms[m].state) {
		case MS_SUBMIT:
		case MS_QUEUED: p->queued++; break;
		case MS_RUNNING: p->running++; break;
		case MS_DONE:
			if (ms[m].kept)
				p->kept++;
			else
				p->done++;
			break;
		case MS_FAILED: p->failed++; break;
		}
	if (d->h->members && memcmp(p, &d->shown, sizeof *p) != 0)
		d->h->members(p, d->h->arg);
	d->shown = *p;
}

/* Members to (re)submit, sorted. */
static size_t
to_submit(struct driver *d, long it, const struct member *ms, long *list)
{
	size_t	 n = 0;
	long	 m;

	for (m = 1; m <= d->e->ensemble_size; m++)
		if (ms[m - 1].state == MS_SUBMIT) {
			if (ms[m - 1].job != 0 && ms[m - 1].again)
				note(d, "iteration %ld: member %ld: %s; "
				    "submitting it again (not a retry)", it, m,
				    ms[m - 1].why);
			else if (ms[m - 1].job != 0)
				note(d, "iteration %ld: member %ld: %s; "
				    "submitting attempt %d", it, m,
				    ms[m - 1].why, ms[m - 1].attempts + 1);
			list[n++] = m;
		}
	return n;
}

/*
 * The ':'-joined ids of iteration it's member jobs that the scheduler
 * knows, or only of those still live, into b.
 */
static void
known_member_jobs(struct driver *d, long it, int live, struct buf *b)
{
	const struct jentry	*x;
	size_t			 i, k;

	for (i = 0; i < d->j.n; i++) {
		x = &d->j.v[i];
		if (x->kind != JOB_MEMBERS || x->iteration != it || !x->id)
			continue;
		for (k = 0; k < d->ninfo && strcmp(d->info[k].id, x->id); k++)
			;
		if (k < d->ninfo && (!live || job_live(d, x->id)))
			buf_addsep(b, ":", x->id);
	}
}

/* Has the update of iteration it been published? */
static int
closed(struct driver *d, long it)
{
	return iteration_exists(d->e, it + 1) || iteration_final(d->e, it, NULL);
}

/* The last line of an update job's log, to say why it failed. */
static char *
log_tail(struct driver *d, long it, const char *id)
{
	char	*name, *dir, *path, *buf, *p, *end, *line, *q;

	name = d->sc->log_name(LOG_UPDATE, 0, id);
	dir = iteration_dir(d->e, it);
	path = path_join(dir, name);
	if (is_file(path) && read_file(path, &buf, NULL, NULL) == 0) {
		end = buf + strlen(buf);
		while (end > buf && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		for (p = end; p > buf && p[-1] != '\n'; p--)
			;
		q = quote_bytes(p, end - p, 300);
		line = xasprintf("%s (%s)", q, path);
		free(q);
		free(buf);
	} else
		line = xasprintf("see %s", path);
	free(path);
	free(dir);
	free(name);
	return line;
}

/* The update job ji has ended without closing iteration it. */
static int
update_failed(struct driver *d, long it, size_t ji,
    const struct job_info *inf, char **cause)
{
	char	*tail = log_tail(d, it, d->j.v[ji].id);

	failf(cause, "iteration %ld: update job %s ended %s without closing "
	    "the iteration: %s", it, d->j.v[ji].id, inf ? inf->state :
	    "(gone from the scheduler)", tail);
	free(tail);
	return 1;
}

/* Did calib update say why it failed, in the log of update job id? */
static int
update_said(struct driver *d, long it, const char *id)
{
	char	*name = d->sc->log_name(LOG_UPDATE, 0, id);
	char	*dir = iteration_dir(d->e, it), *path = path_join(dir, name);
	char	*buf = NULL, *p;
	int	 said;

	said = 0;
	if (is_file(path) && read_file(path, &buf, NULL, NULL) == 0)
		for (p = buf; p && !said; p = (p = strchr(p, '\n')) ? p + 1 :
		    NULL)
			said = !strncmp(p, "calib: ", 7) &&
			    strncmp(p, "calib: warning:", 15) != 0;
	free(buf);
	free(path);
	free(dir);
	free(name);
	return said;
}

/*
 * The update job ji ended without closing iteration it: run it again when
 * calib update never had its say (no error from it in the job's log: the
 * job was cancelled, its node failed, it could not start, or it was
 * killed), up to max_retries more times.
 */
static int
update_again(struct driver *d, long it, size_t ji, const struct job_info *inf)
{
	const struct jentry	*x;
	size_t			 i;
	long			 n = 0;
	int			 closed_it;

	/*
	 * Closed, with no next iteration: killed between the two, or the
	 * last iteration of a calibration extended since (calib amend).
	 */
	closed_it = iteration_closed(d->e, it);
	if ((!closed_it && inf && inf->phase == PHASE_COMPLETED) ||
	    update_said(d, it, d->j.v[ji].id))
		return 0;
	for (i = 0; i < d->j.n; i++) {
		x = &d->j.v[i];
		n += x->kind == JOB_UPDATE && x->iteration == it && x->id &&
		    !x->cancelled;
	}
	/* n jobs so far: n - 1 of them were resubmissions. */
	if (n > d->e->max_retries)
		return 0;
	if (closed_it)
		note(d, "iteration %ld is closed but has no successor yet; "
		    "submitting its update again to write iteration %ld", it,
		    it + 1);
	else
		note(d, "iteration %ld: update job %s ended %s without closing "
		    "the iteration; submitting the update again", it,
		    d->j.v[ji].id, inf ? inf->state : "(gone from the "
		    "scheduler)");
	return 1;
}

/* follow_update's loop. */
static int
follow(struct driver *d, long it, size_t ji, struct member *ms,
    char **cause)
{
	struct progress		 p;
	const struct job_info	*inf;
	double			 gone = 0;
	int			 r;

	for (;;) {
		if ((r = poll_jobs(d, it, cause)) < 0)
			return -1;
		if (r == 0 && resolve(d, it, ms, cause) != 0)
			return -1;
		report(d, it, ms, &p);
		if (closed(d, it))
			return 0;
		inf = info_in(d->info, d->ninfo, d->j.v[ji].id, -1);
		if (r != 0 || (inf && inf->phase <= PHASE_RUNNING)) {
			backoff(d);
			continue;
		}
		/* Ended: give the filesystem its lag to show the result. */
		if (gone == 0)
			gone = now();
		/* Only a job that succeeded may still show its work. */
		if (now() - gone >= (sched_has(d->sc, SCHED_SAME_HOST) ? 0 :
		    fs_lag()) ||
		    (inf && inf->phase != PHASE_COMPLETED)) {
			if (closed(d, it))
				return 0;
			if (update_again(d, it, ji, inf))
				return 2;
			return update_failed(d, it, ji, inf, cause);
		}
		d->sc->wait(d->s, fmin(1.0, d->interval));
	}
}

/*
 * Follow the update job ji of iteration it to its end.  Returns 0 when the
 * iteration is closed, 1 when the job ended without closing it, 2 when it
 * should run again, -1 on error.
 */
static int
follow_update(struct driver *d, long it, size_t ji, struct member *ms,
    char **cause)
{
	int	 r;

	d->following = 1;
	r = follow(d, it, ji, ms, cause);
	d->following = 0;
	return r;
}

/*
 * How many members must fail alike, none succeeding, to stop early: 3, or
 * a tenth of the ensemble (a model that fails half the time fails its
 * first tenth of 100 members once in a thousand calibrations).
 */
#define ALIKE	3

/* The failure event of members that all failed alike (notify). */
static void
told_alike(struct driver *d, long it, size_t n, const char *why,
    const char *then)
{
	char	*line;

	if (!d->e->nnotify || d->o->dry)
		return;
	line = xasprintf("%s: iteration %ld: the first %zu members all failed "
	    "the same way (%s) and none succeeded; %s", d->e->name, it, n, why,
	    then);
	notify_iteration(d->e, it, NOTIFY_FAILURE, line, NULL);
	free(line);
}

/*
 * The first members of iteration it all failed the same way, and none has
 * succeeded: the rest would most likely fail too.  The local backend
 * stops launching them (calib cancels their jobs, so that a later run
 * submits them again); a batch backend's jobs are the user's to cancel.
 * Returns 1 when the run must stop, with *cause.
 */
static int
alike(struct driver *d, long it, const struct member *ms,
    const struct progress *p, char **cause)
{
	const char	*why = NULL;
	long		 m;
	size_t		 n = 0, k, fresh = 0;
	char		**ids;

	if (d->warned_alike == it + 1 || p->done + p->kept > 0)
		return 0;
	/* This run's failures: those before it were told of then. */
	for (m = 0; m < d->e->ensemble_size; m++)
		if (ms[m].state == MS_FAILED && ms[m].fresh) {
			if (why != NULL && strcmp(why, ms[m].why) != 0)
				return 0;
			why = ms[m].why;
			fresh++;
		}
	if (fresh < ALIKE || fresh < p->n / 10)
		return 0;
	d->warned_alike = it + 1;
	if (!sched_has(d->sc, SCHED_SAME_HOST)) {
		note(d, "iteration %ld: the first %zu members all failed the "
		    "same way (%s) and none has succeeded; the others will "
		    "likely fail too: 'calib cancel' stops them", it, fresh,
		    why);
		told_alike(d, it, fresh, why, "the others will likely fail "
		    "too");
		return 0;
	}
	ids = xcalloc(d->j.n + 1, sizeof *ids);
	for (k = 0; k < d->j.n; k++)
		if (d->j.v[k].kind == JOB_MEMBERS && d->j.v[k].iteration == it &&
		    d->j.v[k].id && job_live(d, d->j.v[k].id) &&
		    journal_cancel(&d->j, d->j.v[k].id, cause) == 0)
			ids[n++] = d->j.v[k].id;
	if (n > 0)
		d->sc->cancel_jobs(d->s, ids, n, NULL);
	free(ids);
	told_alike(d, it, fresh, why, "stopped launching the others");
	failf(cause, "iteration %ld: the first %zu members all failed the "
	    "same way (%s) and none succeeded: stopped launching the others; "
	    "fix the model ('calib amend'), then 'calib run --retry-failed'",
	    it, fresh, why);
	return 1;
}

/* Run iteration it's members, with retries, until every one is settled. */
static int
run_members(struct driver *d, long it, struct member *ms, char **cause)
{
	struct progress	 p;
	struct buf	 after = BUF_INIT;
	long		*list = xmallocarray(d->e->ensemble_size, sizeof *list);
	size_t		 n, i;
	int		 r, rc = -1;

	for (;;) {
		if ((r = poll_jobs(d, it, cause)) < 0)
			goto out;
		if (r == 0 && resolve(d, it, ms, cause) != 0)
			goto out;
		report(d, it, ms, &p);
		if (r == 0 && alike(d, it, ms, &p, cause))
			goto out;
		if (r == 0 && (n = to_submit(d, it, ms, list)) > 0) {
			if (submit_members(d, it, list, n, NULL, &after,
			    cause) != 0)
				goto out;
			for (i = 0; i < n; i++) {
				ms[list[i] - 1].state = MS_QUEUED;
				ms[list[i] - 1].gone = 0;
			}
			buf_release(&after);
			/* Look at once: the user sees the jobs start. */
			continue;
		}
		if (r == 0 && p.queued == 0 && p.running == 0)
			break;
		backoff(d);
	}
	rc = 0;
out:
	buf_release(&after);
	free(list);
	return rc;
}

/*
 * An update job already in the journal for iteration it (a chain's, or an
 * earlier run's): follow it.  Returns 0 when the iteration closed, 1 when
 * this run must run the iteration itself, -1 on error.
 */
static int
take_over(struct driver *d, long it, struct member *ms, char **cause)
{
	struct jentry	*u = journal_last(&d->j, JOB_UPDATE, it);
	size_t		 ji;
	int		 r;

	if (u == NULL || u->id == NULL)
		return 1;
	ji = u - d->j.v;
	if ((r = follow_update(d, it, ji, ms, cause)) == 2)
		return 1;
	if (r != 1)
		return r;
	/* Submitted by this run and failed: stop here. */
	if (d->j.v[ji].time >= d->start)
		return -1;
	/*
	 * Submitted before this run (a chain, or a run that was stopped):
	 * run the iteration, retrying what may be retried, with an update of
	 * its own.
	 */
	free(*cause);
	*cause = NULL;
	return 1;
}

/* Run iteration it to its update, which this run submits and follows. */
static int
run_iteration(struct driver *d, long it, struct member *ms, char **cause)
{
	struct buf	 after = BUF_INIT;
	size_t		 ji;
	int		 r;

	memset(ms, 0, d->e->ensemble_size * sizeof *ms);
	if (run_members(d, it, ms, cause) != 0)
		return -1;
	known_member_jobs(d, it, 0, &after);
	do {
		r = submit_update(d, it, after.s, &ji, cause);
		buf_release(&after);
		if (r != 0)
			return -1;
	} while ((r = follow_update(d, it, ji, ms, cause)) == 2);
	return r == 0 ? 0 : -1;
}

static int
attached(struct driver *d, char **cause)
{
	struct update_report	 rep;
	struct member		*ms;
	long			 it;
	int			 r = -1;

	ms = xcalloc(d->e->ensemble_size, sizeof *ms);
	for (;;) {
		if ((it = newest_iteration(d->e)) < 0) {
			failf(cause, "%s: not initialised", d->e->output_dir);
			break;
		}
		if (iteration_final(d->e, it, NULL)) {
			r = 0;
			break;
		}
		memset(ms, 0, d->e->ensemble_size * sizeof *ms);
		memset(&d->shown, 0xff, sizeof d->shown);
		d->interval = POLL_FIRST;
		if ((r = take_over(d, it, ms, cause)) < 0)
			break;
		if (r == 1 && !closed(d, it) &&
		    (r = run_iteration(d, it, ms, cause)) != 0)
			break;
		if ((r = update_experiment(d->e, it, &rep, cause)) != 0)
			break;
		if (d->h->updated)
			d->h->updated(d->e, &rep, d->h->arg);
		if (rep.final)
			break;
	}
	free(ms);
	return r == 0 ? 0 : -1;
}

/* Folders for the logs of jobs that start before their iteration exists. */
static int
member_dirs(struct driver *d, long it, char **cause)
{
	char	*dir;
	long	 m;
	int	 rc = 0;

	for (m = 1; m <= d->e->ensemble_size && rc == 0 && !d->o->dry; m++) {
		dir = member_dir(d->e, it, m);
		rc = mkdirs(dir, cause);
		free(dir);
	}
	return rc;
}

/* Is an update of iteration it or later already waiting? Then say so. */
static int
chain_waiting(struct driver *d, long it)
{
	size_t	 i;

	for (i = 0; i < d->j.n; i++)
		if (d->j.v[i].kind == JOB_UPDATE && d->j.v[i].iteration >= it &&
		    job_live(d, d->j.v[i].id)) {
			note(d, "iteration %ld: update job %s is already "
			    "waiting in the scheduler: nothing to submit",
			    d->j.v[i].iteration, d->j.v[i].id);
			return 1;
		}
	return 0;
}

/*
 * Submit iterations it+1 to the last, each array after the previous
 * update succeeds and each update after its array ends.  *upd is the id
 * of the update job the chain starts from, then of the last.
 */
static int
chain_rest(struct driver *d, long it, char **upd, char **cause)
{
	struct buf	 after = BUF_INIT;
	long		*list = xmallocarray(d->e->ensemble_size, sizeof *list);
	long		 k, m, last;
	size_t		 ji;
	int		 rc = 0;

	for (m = 0; m < d->e->ensemble_size; m++)
		list[m] = m + 1;
	/* A dry run shows one iteration of the chain's rest: all are alike. */
	last = d->o->dry && it + 1 < d->e->iterations ? it + 1 :
	    d->e->iterations;
	for (k = it + 1; k <= last && rc == 0; k++) {
		buf_release(&after);
		rc = member_dirs(d, k, cause) != 0 ||
		    submit_members(d, k, list, d->e->ensemble_size, *upd,
		    &after, cause) != 0 ||
		    submit_update(d, k, after.s, &ji, cause) != 0 ? -1 : 0;
		if (rc == 0) {
			free(*upd);
			*upd = xstrdup(d->j.v[ji].id);
		}
	}
	buf_release(&after);
	free(list);
	return rc;
}

/*
 * Submit what iteration it still needs (members not settled and not
 * already queued or running) and its update; *upd is the update's id.
 */
static int
chain_open(struct driver *d, long it, char **upd, char **cause)
{
	struct member	*ms = xcalloc(d->e->ensemble_size, sizeof *ms);
	long		*list = xmallocarray(d->e->ensemble_size, sizeof *list);
	struct buf	 after = BUF_INIT;
	size_t		 n, ji;
	int		 rc = -1;

	if (resolve(d, it, ms, cause) == 0) {
		/* Members still queued or running from an earlier run stay. */
		known_member_jobs(d, it, 1, &after);
		n = to_submit(d, it, ms, list);
		if ((n == 0 || submit_members(d, it, list, n, NULL, &after,
		    cause) == 0) &&
		    submit_update(d, it, after.s, &ji, cause) == 0) {
			*upd = xstrdup(d->j.v[ji].id);
			rc = 0;
		}
	}
	buf_release(&after);
	free(list);
	free(ms);
	return rc;
}

static int
chained(struct driver *d, char **cause)
{
	char	*upd = NULL;
	size_t	 first = d->j.n;
	long	 it = newest_iteration(d->e);
	int	 r;

	/* A dry run plans a fresh experiment from its first iteration. */
	if (it < 0 && d->o->dry)
		it = 0;
	if (it < 0)
		return failf(cause, "%s: not initialised", d->e->output_dir);
	if (iteration_final(d->e, it, NULL)) {
		note(d, "the calibration has finished: nothing to submit");
		return 0;
	}
	if ((r = poll_jobs(d, it, cause)) != 0)
		return r < 0 ? -1 : failf(cause, "the scheduler does not "
		    "answer: nothing submitted");
	if (chain_waiting(d, it))
		return 0;
	if (chain_open(d, it, &upd, cause) != 0)
		return -1;
	if (chain_rest(d, it, &upd, cause) != 0) {
		free(upd);
		return -1;
	}
	if (d->o->dry && it + 1 < d->e->iterations)
		note(d, "and likewise for iterations %ld to %ld; nothing was "
		    "written or submitted", it + 2, d->e->iterations);
	else if (d->o->dry)
		note(d, "nothing was written or submitted");
	else
		note(d, "submitted iterations %ld to %ld as %zu jobs (%s to %s); "
		    "'calib status' shows them, 'calib run' reattaches", it,
		    d->e->iterations, d->j.n - first, d->j.v[first].id, upd);
	free(upd);
	return 0;
}

int
drive(const struct experiment *e, const struct scheduler *sc,
    const struct drive_opts *o, const struct driver_hooks *h, char **cause)
{
	struct driver	 d;
	int		 rc = -1;

	memset(&d, 0, sizeof d);
	d.e = e;
	d.sc = sc;
	d.o = o;
	d.h = h;
	d.history = sched_has(sc, SCHED_HISTORY);
	d.start = now();
	d.interval = POLL_FIRST;
	if (o->chain && !sched_has(sc, SCHED_CHAINS))
		return failf(cause, "backend '%s' cannot submit a chain of "
		    "jobs", sc->name);
	if (journal_load(e, &d.j, cause) != 0)
		return -1;
	d.j.dry = o->dry;
	if ((d.s = sc->open(e, cause)) == NULL)
		goto out;
	if (recover_intents(&d, cause) == 0)
		rc = o->chain || o->dry ? chained(&d, cause) :
		    attached(&d, cause);
	sc->close(d.s);
out:
	job_info_free(d.info, d.ninfo);
	journal_release(&d.j);
	return rc;
}
