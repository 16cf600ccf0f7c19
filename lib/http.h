/*
 * HTTP over libcurl: what calib asks of a web server, one request at a
 * time on an easy handle the process reuses (its connections, its TLS
 * sessions).  libcurl does everything HTTP; this only sets the options
 * calib wants everywhere: http and https only, no redirects followed, no
 * signals (timeouts do not use SIGALRM), TLS peers verified.
 */
#ifndef CALIB_HTTP_H
#define CALIB_HTTP_H

/*
 * POST body (JSON) to url with headers ("Name: value" each, NULL-ended),
 * within timeout seconds in all.  *status is the HTTP status, 0 when none
 * came.  0 on a 2xx answer; else -1 with *cause saying why, naming `what`
 * (as much of the URL as may be shown; any URL in libcurl's message or in
 * the answer is cut to its origin too), and *again set when the same
 * request may succeed later (no connection, a timeout, HTTP 5xx, 408,
 * 429), not when it cannot (a refused certificate, HTTP 4xx, a redirect).
 */
int	 http_post_json(const char *url, const char *what,
	    const char *const *headers, const char *body, double timeout,
	    long *status, int *again, char **cause);

/*
 * scheme://host[:port] of url, with "/..." when it has more: what may be
 * written where others read (a webhook's path is often its secret).  NULL
 * when url does not parse.
 */
char	*http_url_origin(const char *url);

#endif
