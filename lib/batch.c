/*
 * The batch driver (see batch.h).  What a member's state is comes from
 * three places, most trusted first: the member's status file written by
 * calib exec (did the model succeed), the scheduler's view of the job that
 * ran it (did the job die of something outside the model), and the journal
 * (which job that was, and how many attempts it has had).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/batch.h"
#include "lib/fsio.h"
#include "lib/template.h"
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
	int		 attempts;	/* member jobs that covered it */
	double		 gone;		/* when its end was first seen, no status */
	int		 kept;		/* succeeded before this run started */
	char		 why[600];	/* why it is resubmitted */
};

struct batch {
	const struct experiment	*e;
	const struct scheduler	*sc;
	struct sched		*s;
	struct journal		 j;
	const struct batch_opts	*o;
	const struct driver_hooks *h;
	struct job_info		*info;		/* from the last query */
	size_t			 ninfo;
	int			 history;	/* sacct may answer */
	double			 interval;
	double			 start;
	double			 failing;	/* queries failing since; 0 */
	struct progress		 shown;		/* last counts reported */
	size_t			 polls;
};

static void
note(struct batch *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(struct batch *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	if (b->h->note == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) >= 0) {
		b->h->note(msg, b->h->arg);
		free(msg);
	}
	va_end(ap);
}

static void
pause_for(double seconds)
{
	struct timespec	 ts;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Wait the current interval, then lengthen it towards poll_interval. */
static void
backoff(struct batch *b)
{
	pause_for(b->interval);
	b->interval = fmin(b->interval * 1.5, b->e->backend.poll_interval);
}

static const struct job_info *
info_of(struct batch *b, const char *id, long task)
{
	size_t	 i;

	for (i = 0; id && i < b->ninfo; i++)
		if (!strcmp(b->info[i].id, id) && b->info[i].task == task)
			return &b->info[i];
	return NULL;
}

/* Is any task of job id still queued or running? */
static int
job_live(struct batch *b, const char *id)
{
	size_t	 i;

	for (i = 0; id && i < b->ninfo; i++)
		if (!strcmp(b->info[i].id, id) &&
		    b->info[i].phase <= PHASE_RUNNING)
			return 1;
	return 0;
}

/*
 * One query for every job of iterations it and later.  A scheduler that
 * does not answer is asked again at the next poll, for QUERY_PATIENCE.
 */
static int
poll_jobs(struct batch *b, long it, char **cause)
{
	char	**ids, *why = NULL;
	size_t	 i, n = 0;
	int	 rc;

	/* calib cancel, from another process, stops this run. */
	if (journal_refresh(&b->j, cause) != 0)
		return -1;
	for (i = 0; i < b->j.n; i++)
		if (b->j.v[i].cancelled >= b->start)
			return failf(cause, "job %s was cancelled by 'calib "
			    "cancel'; 'calib run' starts again from here",
			    b->j.v[i].id);
	ids = xcalloc(b->j.n + 1, sizeof *ids);
	for (i = 0; i < b->j.n; i++)
		if (b->j.v[i].id && b->j.v[i].iteration >= it)
			ids[n++] = b->j.v[i].id;
	job_info_free(b->info, b->ninfo);
	b->info = NULL;
	b->ninfo = 0;
	rc = b->sc->query(b->s, ids, n, &b->info, &b->ninfo, &why);
	free(ids);
	if (rc == 0) {
		b->failing = 0;
		if (n == 0)
			return 0;
		b->polls++;
		if (b->o->verbose)
			note(b, "poll %zu: %zu jobs asked about, %zu tasks known",
			    b->polls, n, b->ninfo);
		return 0;
	}
	if (b->failing == 0)
		b->failing = now();
	if (now() - b->failing > QUERY_PATIENCE) {
		failf(cause, "the scheduler has not answered for %.0f s: %s",
		    QUERY_PATIENCE, why);
		free(why);
		return -1;
	}
	note(b, "%s (asking again)", why);
	free(why);
	return 1;
}

/*
 * Intents without a job id: calib was killed between writing the intent
 * and recording what sbatch answered.  Find those jobs by name; a job not
 * found either never reached the scheduler or ran and left it, which its
 * members' status files tell.
 */
static int
recover_intents(struct batch *b, char **cause)
{
	struct member_status	 st;
	struct jentry		*x;
	char			**names, **ids = NULL, *dir;
	long			*mem;
	size_t			 i, k, n = 0, nm;
	int			 ran;

	names = xcalloc(b->j.n + 1, sizeof *names);
	for (i = 0; i < b->j.n; i++)
		if (b->j.v[i].id == NULL && !b->j.v[i].failed &&
		    !strcmp(b->j.v[i].backend, b->sc->name))
			names[n++] = b->j.v[i].name;
	if (n == 0 || b->sc->find == NULL) {
		free(names);
		return 0;
	}
	if (b->sc->find(b->s, names, n, &ids, cause) != 0) {
		free(names);
		return -1;
	}
	for (i = 0, k = 0; i < b->j.n; i++) {
		x = &b->j.v[i];
		if (x->id != NULL || x->failed ||
		    strcmp(x->backend, b->sc->name) != 0)
			continue;
		if (ids[k] != NULL) {
			if (journal_job(&b->j, x->seq, ids[k], cause) != 0)
				goto fail;
			note(b, "found job %s, submitted before calib stopped",
			    ids[k]);
		} else {
			ran = 0;
			if (x->kind == JOB_MEMBERS &&
			    ranges_parse(x->members, &mem, &nm) == 0) {
				for (size_t m = 0; m < nm && !ran; m++) {
					dir = member_dir(b->e, x->iteration,
					    mem[m]);
					ran = status_read(dir, &st, NULL) == 1 &&
					    st.start >= x->time;
					free(dir);
				}
				free(mem);
			}
			/* A job that ran keeps its record, without an id. */
			if (!ran && journal_failed(&b->j, x->seq, "not found "
			    "after calib restarted", cause) != 0)
				goto fail;
		}
		k++;
	}
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(names);
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(names);
	return -1;
}

/* Write the iteration's job script when it is absent or differs. */
static int
ensure_script(struct batch *b, enum jkind kind, long it, char **path,
    char **cause)
{
	char	*text, *old = NULL, *dir, *name;
	int	 rc = 0;

	if (batch_script(b->e, b->sc, b->o->calib, kind, it, &text, cause) != 0)
		return -1;
	dir = iteration_dir(b->e, it);
	name = xasprintf("%s%s", kind == JOB_UPDATE ? "update" : "member",
	    b->sc->script_suffix);
	*path = path_join(dir, name);
	free(name);
	if (mkdirs(dir, cause) != 0)
		rc = -1;
	else if (!is_file(*path) || read_file(*path, &old, NULL, NULL) != 0 ||
	    strcmp(old, text) != 0)
		rc = write_file_atomic(*path, text, strlen(text), cause);
	free(old);
	free(text);
	free(dir);
	return rc;
}

/*
 * Submit one job: the intent goes to the journal first, the id the moment
 * the scheduler returns it.  *idx is the journal index of the record.
 */
static int
submit(struct batch *b, struct jentry *proto, struct job_request *q,
    size_t *idx, char **cause)
{
	struct jentry	*x;
	char		*id = NULL, *why = NULL;
	long		 seq;

	proto->backend = (char *)b->sc->name;
	if ((x = journal_intent(&b->j, proto, cause)) == NULL)
		return -1;
	seq = x->seq;
	q->name = x->name;
	*idx = x - b->j.v;
	if (b->sc->submit(b->s, q, &id, &why) != 0) {
		if (journal_failed(&b->j, seq, why, cause) != 0) {
			free(why);
			return -1;
		}
		*cause = why;
		return -1;
	}
	if (journal_job(&b->j, seq, id, cause) != 0) {
		free(id);
		return -1;
	}
	free(id);
	b->interval = POLL_FIRST;
	return 0;
}

/*
 * Submit members list[0..n) of iteration it as array jobs, as few as the
 * scheduler's largest index allows.  The new jobs' ids are appended to
 * *after (a ':'-separated list).
 */
static int
submit_members(struct batch *b, long it, const long *list, size_t n,
    const char *after_ok, char **after, char **cause)
{
	struct job_request	 q;
	struct jentry		 proto;
	char			*script = NULL, *dir, *log, *members, *arr, *t;
	long			 maxi, off, *idx;
	size_t			 i, k, ji;
	int			 rc = -1;

	if ((maxi = b->sc->max_index(b->s, cause)) < 1)
		return -1;
	if (ensure_script(b, JOB_MEMBERS, it, &script, cause) != 0)
		return -1;
	dir = iteration_dir(b->e, it);
	idx = xmallocarray(n, sizeof *idx);
	for (i = 0; i < n; i = k) {
		/* Chunk c holds members c*maxi+1 .. (c+1)*maxi. */
		off = (list[i] - 1) / maxi * maxi;
		for (k = i; k < n && (list[k] - 1) / maxi * maxi == off &&
		    (!b->sc->ranges_only || k == i || list[k] == list[k - 1] + 1);
		    k++)
			idx[k - i] = list[k] - off;
		members = ranges_format(list + i, k - i);
		arr = ranges_format(idx, k - i);
		t = b->sc->log_name(off ? LOG_ARRAY : LOG_MEMBER,
		    member_width(b->e));
		log = path_join(dir, t);
		free(t);
		memset(&proto, 0, sizeof proto);
		proto.kind = JOB_MEMBERS;
		proto.iteration = it;
		proto.members = members;
		proto.offset = off;
		proto.detached = b->o->detach;
		memset(&q, 0, sizeof q);
		q.script = script;
		q.array = arr;
		q.max_running = b->o->max_running;
		q.after_ok = after_ok;
		q.log = log;
		q.offset = off;
		rc = submit(b, &proto, &q, &ji, cause);
		if (rc == 0) {
			note(b, "iteration %ld: submitted members %s as job %s",
			    it, members, b->j.v[ji].id);
			t = xasprintf("%s%s%s", *after ? *after : "",
			    *after ? ":" : "", b->j.v[ji].id);
			free(*after);
			*after = t;
		}
		free(members);
		free(arr);
		free(log);
		if (rc != 0)
			break;
	}
	free(idx);
	free(dir);
	free(script);
	return rc;
}

static int
submit_update(struct batch *b, long it, const char *after_any, size_t *ji,
    char **cause)
{
	struct job_request	 q;
	struct jentry		 proto;
	char			*script;
	int			 rc;

	if (ensure_script(b, JOB_UPDATE, it, &script, cause) != 0)
		return -1;
	memset(&proto, 0, sizeof proto);
	proto.kind = JOB_UPDATE;
	proto.iteration = it;
	proto.detached = b->o->detach;
	memset(&q, 0, sizeof q);
	q.script = script;
	q.after_any = after_any && *after_any ? after_any : NULL;
	rc = submit(b, &proto, &q, ji, cause);
	if (rc == 0)
		note(b, "iteration %ld: submitted the update as job %s", it,
		    b->j.v[*ji].id);
	free(script);
	return rc;
}

/* The newest member job of iteration it that covered member m. */
static size_t
job_of(struct batch *b, long it, long m, int *attempts)
{
	size_t	 i, found = 0;

	*attempts = 0;
	for (i = 0; i < b->j.n; i++)
		if (b->j.v[i].kind == JOB_MEMBERS && b->j.v[i].iteration == it &&
		    !b->j.v[i].failed && ranges_contain(b->j.v[i].members, m)) {
			found = i + 1;
			(*attempts)++;
		}
	return found;
}

/* Retry a member whose job died of something outside the model, or not. */
static void
retry(struct batch *b, struct member *ms, int may_retry, const char *fmt,
    const char *what)
{
	snprintf(ms->why, sizeof ms->why, fmt, what);
	if (may_retry && ms->attempts <= b->e->max_retries)
		ms->state = MS_SUBMIT;
	else
		ms->state = MS_FAILED;
}

/*
 * Bring every member of iteration it up to date.  may_retry is 0 inside a
 * detached chain, whose update job is already waiting on the array.
 */
static int
resolve(struct batch *b, long it, struct member *ms, int may_retry,
    char **cause)
{
	struct member_status	 st;
	const struct job_info	*ji;
	struct job_info		*hist = NULL;
	struct jentry		*x;
	char			*dir, **ask = NULL;
	double			 t = now(), lag = fs_lag();
	size_t			 nask = 0, nhist = 0, i;
	long			 m;
	int			 r, mine, pass;

	for (pass = 0; pass < 2; pass++) {
		for (m = 1; m <= b->e->ensemble_size; m++) {
			struct member *p = &ms[m - 1];

			if (p->state == MS_DONE || p->state == MS_FAILED)
				continue;
			p->job = job_of(b, it, m, &p->attempts);
			x = p->job ? &b->j.v[p->job - 1] : NULL;
			ji = x ? info_of(b, x->id, m - x->offset) : NULL;
			/* A one-member job may be a plain job, not an array. */
			if (ji == NULL && x)
				ji = info_of(b, x->id, -1);
			/*
			 * While the scheduler holds its job, the member has
			 * nothing new on disk: spare the shared filesystem.
			 */
			if (ji && ji->phase == PHASE_QUEUED) {
				p->state = MS_QUEUED;
				continue;
			}
			if (ji && ji->phase == PHASE_RUNNING) {
				p->state = MS_RUNNING;
				continue;
			}
			dir = member_dir(b->e, it, m);
			r = status_read(dir, &st, cause);
			free(dir);
			if (r < 0)
				return -1;
			if (r == 1 && st.success) {
				p->state = MS_DONE;
				p->kept = st.end < b->start;
				continue;
			}
			if (x == NULL) {
				snprintf(p->why, sizeof p->why, "not run yet");
				p->state = MS_SUBMIT;
				continue;
			}
			if (ji == NULL && pass == 1)
				for (i = 0; i < nhist; i++)
					if (x->id && !strcmp(hist[i].id, x->id) &&
					    hist[i].task == m - x->offset)
						ji = &hist[i];
			mine = r == 1 && x->id != NULL &&
			    !strcmp(st.job, x->id) && st.start >= x->time - 1;
			if (ji && ji->phase == PHASE_SYSTEM) {
				retry(b, p, may_retry, "job ended %s", ji->state);
				continue;
			}
			if (ji && ji->phase == PHASE_CANCELLED) {
				retry(b, p, may_retry, "job ended %s",
				    ji->state);
				continue;
			}
			if (mine && strncmp(st.reason, "running", 7) != 0) {
				/* calib exec recorded how the model ended. */
				if (ji == NULL && st.signal != 0 &&
				    !strncmp(st.reason, "interrupted", 11))
					retry(b, p, may_retry, "%s",
					    st.reason);
				else {
					snprintf(p->why, sizeof p->why, "%s",
					    st.reason);
					p->state = MS_FAILED;
				}
				continue;
			}
			if (ji == NULL && pass == 0 && b->history && x->id) {
				ask = xreallocarray(ask, nask + 1, sizeof *ask);
				ask[nask++] = x->id;
				continue;
			}
			/*
			 * The job has ended, or left the scheduler, without
			 * a status of its own yet: shared filesystems lag.
			 */
			if (p->gone == 0)
				p->gone = t;
			if (t - p->gone < lag) {
				p->state = MS_RUNNING;
				continue;
			}
			if (ji)
				retry(b, p, 0, "job ended %s without a status "
				    "from calib exec", ji->state);
			else
				retry(b, p, may_retry, "%s", "job lost: gone "
				    "from the scheduler without a status");
		}
		if (pass == 1 || nask == 0)
			break;
		r = b->sc->history ? b->sc->history(b->s, ask, nask, &hist,
		    &nhist, cause) : 1;
		if (r < 0) {
			free(ask);
			return -1;
		}
		if (r == 1)
			b->history = 0;
	}
	free(ask);
	job_info_free(hist, nhist);
	return 0;
}

/* Tell the hook the members' counts when they changed. */
static void
report(struct batch *b, const struct progress *p)
{
	if (b->h->members && memcmp(p, &b->shown, sizeof *p) != 0)
		b->h->members(p, b->h->arg);
	b->shown = *p;
}

static void
count(struct batch *b, long it, const struct member *ms, struct progress *p)
{
	long	 m;

	memset(p, 0, sizeof *p);
	p->iteration = it;
	p->n = b->e->ensemble_size;
	for (m = 0; m < b->e->ensemble_size; m++)
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
}

/* Members to (re)submit, sorted. */
static size_t
to_submit(struct batch *b, long it, const struct member *ms, long *list)
{
	size_t	 n = 0;
	long	 m;

	for (m = 1; m <= b->e->ensemble_size; m++)
		if (ms[m - 1].state == MS_SUBMIT) {
			if (ms[m - 1].job != 0)
				note(b, "iteration %ld: member %ld: %s; "
				    "submitting attempt %d", it, m,
				    ms[m - 1].why, ms[m - 1].attempts + 1);
			list[n++] = m;
		}
	return n;
}

/*
 * The ':'-joined ids of iteration it's member jobs that the scheduler
 * knows, or only of those still live.
 */
static char *
known_member_jobs(struct batch *b, long it, int live)
{
	char	*s = NULL, *t;
	size_t	 i, k;

	for (i = 0; i < b->j.n; i++) {
		const struct jentry *x = &b->j.v[i];

		if (x->kind != JOB_MEMBERS || x->iteration != it || !x->id)
			continue;
		for (k = 0; k < b->ninfo && strcmp(b->info[k].id, x->id); k++)
			;
		if (k == b->ninfo || (live && !job_live(b, x->id)))
			continue;
		t = xasprintf("%s%s%s", s ? s : "", s ? ":" : "", x->id);
		free(s);
		s = t;
	}
	return s;
}

/* Has the update of iteration it been published? */
static int
closed(struct batch *b, long it)
{
	return iteration_exists(b->e, it + 1) || iteration_final(b->e, it, NULL);
}

/* The last line of an update job's log, to say why it failed. */
static char *
log_tail(struct batch *b, long it, const char *id)
{
	char	*name, *rel, *dir, *path, *buf, *p, *end, *line = NULL;

	/* The log name has the job id where the pattern says %j. */
	rel = b->sc->log_name(LOG_UPDATE, 0);
	p = strstr(rel, "%j");
	name = p ? xasprintf("%.*s%s%s", (int)(p - rel), rel, id, p + 2) :
	    xstrdup(rel);
	dir = iteration_dir(b->e, it);
	path = path_join(dir, name);
	if (is_file(path) && read_file(path, &buf, NULL, NULL) == 0) {
		end = buf + strlen(buf);
		while (end > buf && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		for (p = end; p > buf && p[-1] != '\n'; p--)
			;
		line = xasprintf("%.*s (%s)", (int)(end - p), p, path);
		free(buf);
	} else
		line = xasprintf("see %s", path);
	free(path);
	free(dir);
	free(name);
	free(rel);
	return line;
}

/*
 * Follow the update job ji of iteration it to its end.  Returns 0 when the
 * iteration is closed, 1 when the job ended without closing it, -1 on error.
 */
static int
follow_update(struct batch *b, long it, size_t ji, struct member *ms,
    char **cause)
{
	struct progress	 p;
	const struct job_info *inf;
	char		*tail;
	double		 gone = 0;
	int		 r;

	for (;;) {
		if ((r = poll_jobs(b, it, cause)) < 0)
			return -1;
		if (r == 0 && resolve(b, it, ms, 0, cause) != 0)
			return -1;
		count(b, it, ms, &p);
		report(b, &p);
		if (closed(b, it))
			return 0;
		inf = info_of(b, b->j.v[ji].id, -1);
		if (r == 0 && (inf == NULL || inf->phase > PHASE_RUNNING)) {
			/* Ended: give the filesystem its lag to show it. */
			if (gone == 0)
				gone = now();
			if (closed(b, it))
				return 0;
			/* Only a job that succeeded may still show its work. */
			if (now() - gone >= fs_lag() ||
			    (inf && inf->phase != PHASE_COMPLETED)) {
				tail = log_tail(b, it, b->j.v[ji].id);
				failf(cause, "iteration %ld: update job %s ended "
				    "%s without closing the iteration: %s", it,
				    b->j.v[ji].id, inf ? inf->state :
				    "(gone from the scheduler)", tail);
				free(tail);
				return 1;
			}
			pause_for(fmin(1.0, b->interval));
			continue;
		}
		backoff(b);
	}
}

/* Run iteration it's members, with retries, until every one is settled. */
static int
run_members(struct batch *b, long it, struct member *ms, char **cause)
{
	struct progress	 p;
	long		*list = xmallocarray(b->e->ensemble_size, sizeof *list);
	char		*after = NULL;
	size_t		 n;
	int		 r, rc = -1;

	for (;;) {
		if ((r = poll_jobs(b, it, cause)) < 0)
			goto out;
		if (r == 1) {
			backoff(b);
			continue;
		}
		if (resolve(b, it, ms, 1, cause) != 0)
			goto out;
		count(b, it, ms, &p);
		report(b, &p);
		if ((n = to_submit(b, it, ms, list)) > 0) {
			if (submit_members(b, it, list, n, NULL, &after,
			    cause) != 0)
				goto out;
			for (size_t i = 0; i < n; i++) {
				ms[list[i] - 1].state = MS_QUEUED;
				ms[list[i] - 1].gone = 0;
			}
			free(after);
			after = NULL;
		} else if (p.queued == 0 && p.running == 0)
			break;
		backoff(b);
	}
	rc = 0;
out:
	free(after);
	free(list);
	return rc;
}

static int
attached(struct batch *b, char **cause)
{
	struct update_report	 rep;
	struct member		*ms;
	struct jentry		*u;
	char			*after;
	size_t			 ji;
	long			 it;
	int			 r;

	ms = xcalloc(b->e->ensemble_size, sizeof *ms);
	for (;;) {
		it = newest_iteration(b->e);
		if (it < 0) {
			free(ms);
			return failf(cause, "%s: not initialised",
			    b->e->output_dir);
		}
		if (iteration_final(b->e, it, NULL))
			break;
		memset(ms, 0, b->e->ensemble_size * sizeof *ms);
		memset(&b->shown, 0xff, sizeof b->shown);
		b->interval = POLL_FIRST;
		u = journal_last(&b->j, JOB_UPDATE, it);
		if (u != NULL && u->id != NULL) {
			/* A chain's update, or one from an earlier run. */
			ji = u - b->j.v;
			r = follow_update(b, it, ji, ms, cause);
			if (r < 0)
				goto fail;
			/* Submitted by this run and failed: stop here. */
			if (r == 1 && b->j.v[ji].time >= b->start)
				goto fail;
			if (r == 1) {
				/*
				 * Submitted before this run (a chain, or a run
				 * that was stopped): take over, retrying what
				 * may be retried, with an update of its own.
				 */
				free(*cause);
				*cause = NULL;
				u = NULL;
			}
		} else
			u = NULL;
		if (u == NULL && !closed(b, it)) {
			/* Retries are allowed again: forget the chain's view. */
			memset(ms, 0, b->e->ensemble_size * sizeof *ms);
			if (run_members(b, it, ms, cause) != 0)
				goto fail;
			after = known_member_jobs(b, it, 0);
			r = submit_update(b, it, after, &ji, cause);
			free(after);
			if (r != 0)
				goto fail;
			if (follow_update(b, it, ji, ms, cause) != 0)
				goto fail;
		}
		if (update_experiment(b->e, it, &rep, cause) != 0)
			goto fail;
		if (b->h->updated)
			b->h->updated(b->e, &rep, b->h->arg);
		if (rep.final)
			break;
	}
	free(ms);
	return 0;
fail:
	free(ms);
	return -1;
}

/* Folders for the logs of jobs that start before their iteration exists. */
static int
member_dirs(struct batch *b, long it, char **cause)
{
	char	*dir;
	long	 m;
	int	 rc = 0;

	for (m = 1; m <= b->e->ensemble_size && rc == 0; m++) {
		dir = member_dir(b->e, it, m);
		rc = mkdirs(dir, cause);
		free(dir);
	}
	return rc;
}

static int
detached(struct batch *b, char **cause)
{
	struct member	*ms = xcalloc(b->e->ensemble_size, sizeof *ms);
	long		*list = xmallocarray(b->e->ensemble_size, sizeof *list);
	char		*after = NULL, *upd = NULL;
	size_t		 i, n, ji, first = b->j.n;
	long		 it, k, m;
	int		 rc = -1;

	it = newest_iteration(b->e);
	if (it < 0) {
		failf(cause, "%s: not initialised", b->e->output_dir);
		goto out;
	}
	if (iteration_final(b->e, it, NULL)) {
		note(b, "the calibration has finished: nothing to submit");
		rc = 0;
		goto out;
	}
	if (poll_jobs(b, it, cause) != 0)
		goto out;
	for (i = 0; i < b->j.n; i++)
		if (b->j.v[i].kind == JOB_UPDATE && b->j.v[i].iteration >= it &&
		    job_live(b, b->j.v[i].id)) {
			note(b, "iteration %ld: update job %s is already "
			    "waiting in the scheduler: nothing to submit",
			    b->j.v[i].iteration, b->j.v[i].id);
			rc = 0;
			goto out;
		}
	if (resolve(b, it, ms, 1, cause) != 0)
		goto out;
	/* Members still queued or running from an earlier run stay. */
	after = known_member_jobs(b, it, 1);
	if ((n = to_submit(b, it, ms, list)) > 0 &&
	    submit_members(b, it, list, n, NULL, &after, cause) != 0)
		goto out;
	if (submit_update(b, it, after, &ji, cause) != 0)
		goto out;
	upd = xstrdup(b->j.v[ji].id);
	for (m = 0; m < b->e->ensemble_size; m++)
		list[m] = m + 1;
	for (k = it + 1; k <= b->e->iterations; k++) {
		free(after);
		after = NULL;
		if (member_dirs(b, k, cause) != 0 ||
		    submit_members(b, k, list, b->e->ensemble_size, upd, &after,
		    cause) != 0 ||
		    submit_update(b, k, after, &ji, cause) != 0)
			goto out;
		free(upd);
		upd = xstrdup(b->j.v[ji].id);
	}
	note(b, "submitted iterations %ld to %ld as %zu jobs (%s to %s); "
	    "'calib status' shows them, 'calib run' reattaches", it,
	    b->e->iterations, b->j.n - first, b->j.v[first].id, upd);
	rc = 0;
out:
	free(after);
	free(upd);
	free(list);
	free(ms);
	return rc;
}

int
batch_drive(const struct experiment *e, const struct scheduler *sc,
    const struct batch_opts *o, const struct driver_hooks *h, char **cause)
{
	struct batch	 b;
	int		 rc = -1;

	memset(&b, 0, sizeof b);
	b.e = e;
	b.sc = sc;
	b.o = o;
	b.h = h;
	b.history = sc->history != NULL;
	b.start = now();
	b.interval = POLL_FIRST;
	if (journal_load(e, &b.j, cause) != 0)
		return -1;
	if ((b.s = sc->open(e, cause)) == NULL)
		goto out;
	if (recover_intents(&b, cause) == 0)
		rc = o->detach ? detached(&b, cause) : attached(&b, cause);
	sc->close(b.s);
out:
	job_info_free(b.info, b.ninfo);
	journal_release(&b.j);
	return rc;
}

/* The setup lines of a job script: modules, variables, commands. */
static char *
setup_lines(const struct resources *r)
{
	char	*out = xstrdup(""), *q, *t;
	size_t	 i, k;

	for (i = 0; i < r->modules.n; i++) {
		q = shell_quote(r->modules.v[i]);
		t = xasprintf("%smodule load %s\n", out, q);
		free(q);
		free(out);
		out = t;
	}
	for (i = 0; i < r->env_names.n; i++) {
		q = shell_quote(r->env_values.v[i]);
		t = xasprintf("%sexport %s=%s\n", out, r->env_names.v[i], q);
		free(q);
		free(out);
		out = t;
	}
	for (i = 0; i < r->nsetup; i++) {
		for (k = 0; k < r->setup[i].n; k++) {
			q = shell_quote(r->setup[i].v[k]);
			t = xasprintf("%s%s%s", out, k ? " " : "", q);
			free(q);
			free(out);
			out = t;
		}
		t = xasprintf("%s\n", out);
		free(out);
		out = t;
	}
	if (*out)
		out[strlen(out) - 1] = '\0';
	return out;
}

int
batch_script(const struct experiment *e, const struct scheduler *sc,
    const char *calib, enum jkind kind, long it, char **text, char **cause)
{
	const struct resources *r = kind == JOB_UPDATE ? &e->update_res :
	    &e->res;
	struct tvar	 v[7];
	char		*tmpl, *origin, *file, *dir, *log, *rel, *dirs, *setup;
	char		*qcalib, *qout, *cmd, num[32];
	int		 rc;

	file = xasprintf("%s%s", kind == JOB_UPDATE ? "update" : "member",
	    sc->script_suffix);
	rc = template_load(e->backend.templates, sc->template_dir, file, &tmpl,
	    &origin, cause);
	free(file);
	if (rc != 0)
		return -1;
	dir = iteration_dir(e, it);
	rel = sc->log_name(kind == JOB_UPDATE ? LOG_UPDATE : LOG_MEMBER,
	    member_width(e));
	log = path_join(dir, rel);
	if (sc->directives(r, log, &dirs, cause) != 0) {
		free(tmpl);
		free(origin);
		free(dir);
		free(rel);
		free(log);
		return -1;
	}
	setup = setup_lines(r);
	qcalib = shell_quote(calib);
	qout = shell_quote(e->output_dir);
	snprintf(num, sizeof num, "%ld", it);
	cmd = xasprintf("%s %s -i %ld %s", qcalib, kind == JOB_UPDATE ?
	    "update" : "exec", it, qout);
	v[0] = (struct tvar){ "experiment", e->name };
	v[1] = (struct tvar){ "iteration", num };
	v[2] = (struct tvar){ "directives", dirs };
	v[3] = (struct tvar){ "setup", setup };
	v[4] = (struct tvar){ "command", cmd };
	v[5] = (struct tvar){ "calib", qcalib };
	v[6] = (struct tvar){ "output_dir", qout };
	rc = template_render(tmpl, origin, v, 7, text, cause);
	free(tmpl);
	free(origin);
	free(dir);
	free(rel);
	free(log);
	free(dirs);
	free(setup);
	free(qcalib);
	free(qout);
	free(cmd);
	return rc;
}

int
batch_jobs(const struct experiment *e, struct journal *j,
    const struct scheduler **scp, struct job_summary **out, size_t *n,
    char **cause)
{
	const struct scheduler	*sc;
	struct job_summary	*v;
	struct job_info		*info = NULL;
	struct sched		*s;
	char			**ids;
	size_t			 i, k, ni = 0, nids = 0;
	int			 rc;

	*out = NULL;
	*n = 0;
	*scp = NULL;
	if (j->n == 0)
		return 0;
	if ((sc = scheduler_find(j->v[j->n - 1].backend)) == NULL ||
	    sc->query == NULL)
		return failf(cause, "%s: jobs of unknown backend '%s'", j->path,
		    j->v[j->n - 1].backend);
	*scp = sc;
	ids = xcalloc(j->n + 1, sizeof *ids);
	for (i = 0; i < j->n; i++)
		if (j->v[i].id && !strcmp(j->v[i].backend, sc->name))
			ids[nids++] = j->v[i].id;
	if ((s = sc->open(e, cause)) == NULL) {
		free(ids);
		return -1;
	}
	rc = sc->query(s, ids, nids, &info, &ni, cause);
	sc->close(s);
	free(ids);
	if (rc != 0)
		return -1;
	v = xcalloc(j->n, sizeof *v);
	for (i = 0; i < j->n; i++) {
		v[i].entry = &j->v[i];
		for (k = 0; k < ni; k++) {
			if (!j->v[i].id || strcmp(info[k].id, j->v[i].id))
				continue;
			if (v[i].state[0] == '\0')
				snprintf(v[i].state, sizeof v[i].state, "%s",
				    info[k].state);
			if (info[k].phase == PHASE_QUEUED)
				v[i].queued++;
			else if (info[k].phase == PHASE_RUNNING)
				v[i].running++;
			else
				v[i].ended++;
		}
		v[i].live = v[i].queued + v[i].running > 0;
	}
	job_info_free(info, ni);
	*out = v;
	*n = j->n;
	return 0;
}

int
batch_cancel(const struct experiment *e, size_t *n, char **cause)
{
	const struct scheduler	*sc;
	struct job_summary	*v;
	struct journal		 j;
	struct sched		*s;
	char			**ids;
	size_t			 nv, i, k = 0;
	int			 rc = -1;

	*n = 0;
	if (journal_load(e, &j, cause) != 0)
		return -1;
	if (batch_jobs(e, &j, &sc, &v, &nv, cause) != 0) {
		journal_release(&j);
		return -1;
	}
	ids = xcalloc(nv + 1, sizeof *ids);
	for (i = 0; i < nv; i++)
		if (v[i].live)
			ids[k++] = v[i].entry->id;
	if (k == 0) {
		rc = 0;
		goto out;
	}
	if ((s = sc->open(e, cause)) == NULL)
		goto out;
	/* Record first: a member cancelled by calib is never retried. */
	for (i = 0; i < k; i++)
		if (journal_cancel(&j, ids[i], cause) != 0) {
			sc->close(s);
			goto out;
		}
	rc = sc->cancel_jobs(s, ids, k, cause);
	sc->close(s);
	if (rc == 0)
		*n = k;
out:
	free(ids);
	free(v);
	journal_release(&j);
	return rc;
}
