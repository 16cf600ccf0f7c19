/* Notifications: events POSTed to the experiment's endpoints (notify.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "lib/buf.h"
#include "lib/eki.h"
#include "lib/fsio.h"
#include "lib/http.h"
#include "lib/notify.h"
#include "lib/state.h"
#include "lib/summary.h"
#include "lib/util.h"

/*
 * Endpoints that did not answer an event of this process: later events
 * skip them, so that one update waits at most one timeout per endpoint.
 */
static unsigned char	*silent;
static size_t		 nsilent;

static double
monotonic(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * v with ${NAME} taken from the environment, checked as calib.yaml(5)
 * says: set, no control character, not empty.  NULL with *cause set.
 */
static char *
expand(const char *v, const char *what, char **cause)
{
	struct buf	 b = BUF_INIT;
	const char	*p, *q, *end, *val;
	char		*name, *s;

	for (p = v; (q = strstr(p, "${")) != NULL; p = end + 1) {
		end = strchr(q, '}');
		buf_add(&b, p, q - p);
		name = xasprintf("%.*s", (int)(end - q - 2), q + 2);
		if ((val = getenv(name)) == NULL) {
			failf(cause, "%s: environment variable %s is not set",
			    what, name);
			free(name);
			buf_release(&b);
			return NULL;
		}
		free(name);
		buf_adds(&b, val);
	}
	buf_adds(&b, p);
	s = buf_detach(&b);
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			break;
	if (*p != '\0' || *s == '\0') {
		failf(cause, "%s: %s after its environment variables", what,
		    *s ? "has a control character" : "is empty");
		free(s);
		return NULL;
	}
	return s;
}

/* "Name: value" lines for the request; -1 with *cause set. */
static int
expand_headers(char *const *h, char ***out, char **cause)
{
	char	*what, *v;
	size_t	 n = 0, i;

	*out = xcalloc(1, sizeof **out);
	for (i = 0; h[i] && h[i + 1]; i += 2) {
		what = xasprintf("header %s", h[i]);
		v = expand(h[i + 1], what, cause);
		free(what);
		if (v == NULL)
			return -1;
		*out = xreallocarray(*out, n + 2, sizeof **out);
		(*out)[n++] = xasprintf("%s: %s", h[i], v);
		(*out)[n] = NULL;
		free(v);
	}
	return 0;
}

static void
free_list(char **v)
{
	size_t	 i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* ,"key":"value" with value escaped by jansson. */
static void
add_field(struct buf *b, const char *key, const char *value)
{
	json_t	*j = json_string(value);
	char	*s = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	buf_addf(b, ",\"%s\":%s", key, s ? s : "null");
	free(s);
	json_decref(j);
}

/*
 * The request's body.  JSON: the iteration's object as status --json
 * writes it, byte for byte, with the event's fields appended.
 */
static char *
payload(const struct experiment *e, const struct notify_endpoint *ep,
    long it, enum notify_event ev, const char *summary,
    const char *iteration_json, const char *reason)
{
	struct buf	 b = BUF_INIT;
	json_t		*o;
	char		*s;
	size_t		 n;

	if (ep->slack) {
		o = json_pack("{s:s}", "text", summary);
		s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		return s;
	}
	n = iteration_json ? strlen(iteration_json) : 0;
	if (n >= 2 && iteration_json[0] == '{' && iteration_json[n - 1] == '}')
		buf_add(&b, iteration_json, n - 1);
	else
		buf_addf(&b, "{\"iteration\":%ld", it);
	add_field(&b, "event", notify_event_names[ev]);
	add_field(&b, "summary", summary);
	add_field(&b, "experiment", e->name);
	add_field(&b, "output_dir", e->output_dir);
	if (reason != NULL)
		add_field(&b, "reason", reason);
	buf_adds(&b, "}");
	return buf_detach(&b);
}

/*
 * Deliver to one endpoint: retries of what may pass, a doubling pause
 * between them, all within its timeout.  Returns the number of attempts;
 * *status, *again and *cause as the last one left them.
 */
static int
deliver(const struct notify_endpoint *ep, const char *url, const char *what,
    char **headers, const char *body, long *status, int *again,
    char **cause)
{
	struct timespec	 ts;
	double		 deadline = monotonic() + ep->timeout, left, pause = 0.25;
	int		 attempts = 0;

	for (;;) {
		left = deadline - monotonic();
		if (left <= 0.001)
			break;
		attempts++;
		free(*cause);
		*cause = NULL;
		if (http_post_json(url, what, (const char *const *)headers,
		    body, left, status, again, cause) == 0)
			return attempts;
		if (!*again || attempts > ep->retries)
			return attempts;
		left = deadline - monotonic();
		if (pause > left / 2)
			pause = left / 2;
		ts.tv_sec = (time_t)pause;
		ts.tv_nsec = (long)((pause - ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
		pause *= 2;
	}
	if (*cause == NULL)
		failf(cause, "%s: no time left within the timeout of %g s",
		    what, ep->timeout);
	return attempts;
}

/* notify/NNN.EVENT.K.PID.MS.json: what was sent where, and how it went. */
static void
record(const struct experiment *e, long it, enum notify_event ev, size_t k,
    const char *what, int attempts, long status, const char *error)
{
	json_t	*o;
	char	*dir = path_join(e->output_dir, "notify"), *f, *text;
	char	*cause = NULL;

	o = json_pack("{s:s,s:I,s:I,s:s,s:b,s:i,s:I,s:f}", "event",
	    notify_event_names[ev], "iteration", (json_int_t)it, "endpoint",
	    (json_int_t)k + 1, "target", what, "delivered", error == NULL,
	    "attempts", attempts, "http_status", (json_int_t)status, "time",
	    now());
	if (o != NULL && error != NULL)
		json_object_set_new(o, "error", json_string(error));
	text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	f = xasprintf("%s/%03ld.%s.%zu.%ld.%.0f.json", dir, it,
	    notify_event_names[ev], k + 1, (long)getpid(), now() * 1000);
	if (text == NULL)
		fprintf(stderr, "calib: cannot encode the record of a "
		    "notification (is the output folder's name UTF-8?)\n");
	else if (mkdirs(dir, &cause) != 0 ||
	    write_file_atomic(f, text, strlen(text), &cause) != 0) {
		fprintf(stderr, "calib: cannot record a notification: %s\n",
		    cause);
		free(cause);
	}
	free(text);
	free(f);
	free(dir);
}

int
notify_wanted(const struct experiment *e, unsigned events)
{
	size_t	 k;

	for (k = 0; k < e->nnotify; k++)
		if (e->notify[k].events & events)
			return 1;
	return 0;
}

void
notify_send(const struct experiment *e, long it, enum notify_event ev,
    const char *summary, const char *iteration_json, const char *reason)
{
	const struct notify_endpoint	*ep;
	char				**headers, *body, *url, *what, *cause;
	long				 status;
	size_t				 k;
	int				 attempts, again;

	if (nsilent < e->nnotify) {
		silent = xreallocarray(silent, e->nnotify, 1);
		memset(silent + nsilent, 0, e->nnotify - nsilent);
		nsilent = e->nnotify;
	}
	for (k = 0; k < e->nnotify; k++) {
		ep = &e->notify[k];
		if (!(ep->events & 1u << ev))
			continue;
		cause = NULL;
		status = 0;
		attempts = again = 0;
		headers = NULL;
		body = NULL;
		what = NULL;
		if ((url = expand(ep->url, "url", &cause)) != NULL &&
		    (what = http_url_origin(url)) == NULL)
			failf(&cause, "url: not a URL libcurl can parse");
		if (silent[k] && cause == NULL)
			failf(&cause, "%s: not sent: it did not answer an earlier "
			    "event of this process", what);
		else if (cause == NULL &&
		    (body = payload(e, ep, it, ev, summary, iteration_json,
		    reason)) == NULL)
			failf(&cause, "cannot encode the event as JSON");
		else if (cause == NULL &&
		    expand_headers(ep->headers, &headers, &cause) == 0) {
			attempts = deliver(ep, url, what, headers, body, &status,
			    &again, &cause);
			silent[k] = cause != NULL && status == 0 && again;
		}
		if (cause != NULL)
			fprintf(stderr, "calib: notify %s of iteration %ld: %s\n",
			    notify_event_names[ev], it, cause);
		record(e, it, ev, k, what ? what : "(no URL)", attempts, status,
		    cause);
		free_list(headers);
		free(body);
		free(cause);
		free(what);
		free(url);
	}
}

void
notify_iteration(const struct experiment *e, long it, enum notify_event ev,
    const char *summary, const char *reason)
{
	struct observations	 o;
	struct noise_factor	 nf;
	struct iter_summary	 s;
	struct buf		 b = BUF_INIT;
	char			*cause = NULL;

	if (!notify_wanted(e, 1u << ev))
		return;
	memset(&nf, 0, sizeof nf);
	if (observations_read(e, &o, &cause) == 0) {
		if (noise_factor_init(&nf, o.d, o.std, o.cov, &cause) == 0 &&
		    iteration_summary(e, it, &o, &nf, &s, &cause) == 0) {
			summary_json(&b, e, &s);
			summary_release(&s);
		}
		noise_factor_release(&nf);
		observations_release(&o);
	}
	free(cause);
	notify_send(e, it, ev, summary, b.s, reason);
	buf_release(&b);
}
