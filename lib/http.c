/* HTTP requests through libcurl (see http.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "lib/buf.h"
#include "lib/http.h"
#include "lib/util.h"

/* The first bytes of an answer's body, for error messages. */
#define BODY_KEEP	200

static CURL	*easy;

static size_t
keep_body(char *data, size_t size, size_t n, void *arg)
{
	struct buf	*b = arg;
	size_t		 len = size * n;

	if (b->len < BODY_KEEP)
		buf_add(b, data, len < BODY_KEEP - b->len ? len :
		    BODY_KEEP - b->len);
	return len;
}

/*
 * s with every URL in it (around "://") cut to its origin: libcurl's
 * messages and servers' answers may quote a URL, and its path, its query
 * or a proxy's user and password are secrets.  Control bytes become '?'.
 */
static char *
redact(const char *s)
{
	struct buf	 b = BUF_INIT;
	const char	*p = s, *q, *start, *end;
	char		*url, *origin;

	while ((q = strstr(p, "://")) != NULL) {
		for (start = q; start > p && (isalnum((unsigned char)start[-1]) ||
		    strchr("+.-", start[-1])); start--)
			;
		for (end = q + 3; *end && !isspace((unsigned char)*end) &&
		    !strchr("'\"<>", *end); end++)
			;
		buf_add(&b, p, start - p);
		url = xasprintf("%.*s", (int)(end - start), start);
		origin = strchr(url, '@') == NULL ? http_url_origin(url) : NULL;
		buf_adds(&b, origin ? origin : "(a URL)");
		free(origin);
		free(url);
		p = end;
	}
	buf_adds(&b, p);
	for (url = b.s; url && *url; url++)
		if ((unsigned char)*url < 0x20 || *url == 0x7f)
			*url = '?';
	return b.s ? buf_detach(&b) : xstrdup("");
}

/* Might the same request succeed later? */
static int
transient(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return 1;
	default:
		return 0;
	}
}

int
http_post_json(const char *url, const char *what, const char *const *headers,
    const char *body, double timeout, long *status, int *again, char **cause)
{
	struct curl_slist	*hl = NULL, *t;
	struct buf		 reply = BUF_INIT;
	char			 err[CURL_ERROR_SIZE] = "", *msg, *line;
	long			 ms = timeout > 0.001 ? (long)(timeout * 1000) : 1;
	CURLcode		 c;
	int			 rc = -1;
	size_t			 i;

	*status = 0;
	*again = 0;
	if (easy == NULL && (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (easy = curl_easy_init()) == NULL))
		return failf(cause, "%s: cannot start libcurl", what);
	/* No Expect: 100-continue, which waits a second for a large body. */
	hl = curl_slist_append(hl, "Expect:");
	if (hl != NULL && (t = curl_slist_append(hl,
	    "Content-Type: application/json")) != NULL)
		hl = t;
	for (i = 0; hl != NULL && headers && headers[i]; i++)
		if ((t = curl_slist_append(hl, headers[i])) != NULL)
			hl = t;
	curl_easy_setopt(easy, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#if LIBCURL_VERSION_NUM >= 0x075700
	/* A name lookup that outlives the timeout is not waited for. */
	curl_easy_setopt(easy, CURLOPT_QUICK_EXIT, 1L);
#endif
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(body));
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "calib/" CALIB_VERSION);
	if ((c = curl_easy_perform(easy)) != CURLE_OK) {
		msg = redact(err[0] ? err : curl_easy_strerror(c));
		failf(cause, "%s: %s", what, msg);
		free(msg);
		*again = transient(c);
	} else {
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, status);
		if (*status >= 200 && *status < 300)
			rc = 0;
		else {
			buf_addc(&reply, '\0');
			reply.s[strcspn(reply.s, "\r\n")] = '\0';
			line = redact(reply.s);
			failf(cause, "%s: HTTP %ld%s%s", what, *status,
			    line[0] ? ": " : "", line);
			free(line);
			*again = *status >= 500 || *status == 408 ||
			    *status == 429;
		}
	}
	/* Nothing of this call (its buffers, its headers) stays in the handle. */
	curl_easy_reset(easy);
	curl_slist_free_all(hl);
	buf_release(&reply);
	return rc;
}

char *
http_url_origin(const char *url)
{
	CURLU	*u = curl_url();
	char	*scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char	*query = NULL, *s = NULL;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_PORT, &port, 0);
		curl_url_get(u, CURLUPART_PATH, &path, 0);
		s = xasprintf("%s://%s%s%s%s", scheme, host, port ? ":" : "",
		    port ? port : "", (path && strcmp(path, "/")) ||
		    curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ?
		    "/..." : "");
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return s;
}
