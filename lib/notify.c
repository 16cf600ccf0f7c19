/* Notifications: events POSTed to the experiment's endpoints (notify.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "lib/buf.h"
#include "lib/fsio.h"
#include "lib/http.h"
#include "lib/notify.h"
#include "lib/util.h"

/* "Name: value" lines, ${NAME} taken from the environment; -1 if unset. */
static int
expand_headers(char *const *h, char ***out, char **cause)
{
	struct buf	 b = BUF_INIT;
	const char	*p, *q, *v;
	char		*name;
	size_t		 n = 0, i;

	*out = xcalloc(1, sizeof **out);
	for (i = 0; h[i] && h[i + 1]; i += 2) {
		buf_addf(&b, "%s: ", h[i]);
		for (p = h[i + 1]; (q = strstr(p, "${")) != NULL;
		    p = strchr(q, '}') + 1) {
			buf_add(&b, p, q - p);
			name = xasprintf("%.*s", (int)(strchr(q, '}') - q - 2),
			    q + 2);
			if ((v = getenv(name)) == NULL) {
				failf(cause, "header %s: environment variable %s "
				    "is not set", h[i], name);
				free(name);
				buf_release(&b);
				return -1;
			}
			free(name);
			if (strpbrk(v, "\r\n") != NULL) {
				buf_release(&b);
				return failf(cause, "header %s: its environment "
				    "variable holds a line break", h[i]);
			}
			buf_adds(&b, v);
		}
		buf_adds(&b, p);
		*out = xreallocarray(*out, n + 2, sizeof **out);
		(*out)[n++] = buf_detach(&b);
		(*out)[n] = NULL;
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

static char *
payload(const struct experiment *e, const struct notify_endpoint *ep,
    long it, enum notify_event ev, const char *summary,
    const char *iteration_json, const char *reason)
{
	json_t	*o = NULL;
	char	*s;

	if (ep->slack)
		o = json_pack("{s:s}", "text", summary);
	else {
		if (iteration_json != NULL)
			o = json_loads(iteration_json, 0, NULL);
		if (o == NULL || !json_is_object(o)) {
			json_decref(o);
			o = json_pack("{s:I}", "iteration", (json_int_t)it);
		}
		json_object_set_new(o, "event",
		    json_string(notify_event_names[ev]));
		json_object_set_new(o, "summary", json_string(summary));
		json_object_set_new(o, "experiment", json_string(e->name));
		json_object_set_new(o, "output_dir", json_string(e->output_dir));
		if (reason != NULL)
			json_object_set_new(o, "reason", json_string(reason));
	}
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

/*
 * Deliver to one endpoint: retries, a pause between them, all within its
 * timeout.  Returns the number of attempts; *status and *cause as the last
 * one left them.
 */
static int
deliver(const struct notify_endpoint *ep, const char *what, char **headers,
    const char *body, long *status, char **cause)
{
	struct timespec	 ts;
	double		 deadline = now() + ep->timeout, left, pause = 0.25;
	int		 attempts = 0;

	for (;;) {
		left = deadline - now();
		if (left <= 0.001)
			break;
		attempts++;
		if (http_post_json(ep->url, what, (const char *const *)headers,
		    body, left, status, cause) == 0) {
			free(*cause);
			*cause = NULL;
			return attempts;
		}
		/* A client error will not go away by asking again. */
		if (attempts > ep->retries || (*status >= 400 && *status < 500 &&
		    *status != 408 && *status != 429))
			break;
		left = deadline - now();
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
	if (text == NULL || mkdirs(dir, &cause) != 0 ||
	    write_file_atomic(f, text, strlen(text), &cause) != 0) {
		fprintf(stderr, "calib: cannot record a notification: %s\n",
		    cause ? cause : "out of memory");
		free(cause);
	}
	free(text);
	free(f);
	free(dir);
}

void
notify_send(const struct experiment *e, long it, enum notify_event ev,
    const char *summary, const char *iteration_json, const char *reason)
{
	const struct notify_endpoint	*ep;
	char				**headers, *body, *what, *cause;
	long				 status;
	size_t				 k;
	int				 attempts;

	for (k = 0; k < e->nnotify; k++) {
		ep = &e->notify[k];
		if (!(ep->events & 1u << ev))
			continue;
		what = http_url_origin(ep->url);
		if (what == NULL)
			what = xstrdup("the endpoint's url");
		cause = NULL;
		status = 0;
		attempts = 0;
		headers = NULL;
		body = payload(e, ep, it, ev, summary, iteration_json, reason);
		if (body == NULL)
			failf(&cause, "cannot encode the event as JSON");
		else if (expand_headers(ep->headers, &headers, &cause) == 0)
			attempts = deliver(ep, what, headers, body, &status,
			    &cause);
		if (cause != NULL)
			fprintf(stderr, "calib: notify %s of iteration %ld: %s\n",
			    notify_event_names[ev], it, cause);
		record(e, it, ev, k, what, attempts, status, cause);
		free_list(headers);
		free(body);
		free(cause);
		free(what);
	}
}
