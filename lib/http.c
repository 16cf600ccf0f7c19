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

/* The body's first line, printable, for a message. */
static char *
body_line(const struct buf *b)
{
	char	*s = xasprintf("%.*s", (int)b->len, b->s ? b->s : "");
	size_t	 i;

	s[strcspn(s, "\r\n")] = '\0';
	for (i = 0; s[i]; i++)
		if (!isprint((unsigned char)s[i]))
			s[i] = '?';
	return s;
}

int
http_post_json(const char *url, const char *what, const char *const *headers,
    const char *body, double timeout, long *status, char **cause)
{
	struct curl_slist	*hl = NULL, *t;
	struct buf		 reply = BUF_INIT;
	char			 err[CURL_ERROR_SIZE] = "", *line;
	long			 ms = timeout > 0 ? (long)(timeout * 1000) : 1;
	CURLcode		 c;
	int			 rc = -1;
	size_t			 i;

	*status = 0;
	if (easy == NULL) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
		    (easy = curl_easy_init()) == NULL)
			return failf(cause, "%s: cannot start libcurl", what);
	} else
		curl_easy_reset(easy);
	hl = curl_slist_append(hl, "Content-Type: application/json");
	for (i = 0; hl != NULL && headers && headers[i]; i++)
		if ((t = curl_slist_append(hl, headers[i])) != NULL)
			hl = t;
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
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
	if ((c = curl_easy_perform(easy)) != CURLE_OK)
		failf(cause, "%s: %s", what, err[0] ? err :
		    curl_easy_strerror(c));
	else {
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, status);
		if (*status >= 200 && *status < 300)
			rc = 0;
		else {
			line = body_line(&reply);
			failf(cause, "%s: HTTP %ld%s%s", what, *status,
			    line[0] ? ": " : "", line);
			free(line);
		}
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hl);
	buf_release(&reply);
	return rc;
}

char *
http_url_origin(const char *url)
{
	CURLU	*u = curl_url();
	char	*scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char	*query = NULL;
	char	*s = NULL;

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
