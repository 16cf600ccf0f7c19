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
 * (the URL, or as much of it as may be shown).
 */
int	 http_post_json(const char *url, const char *what,
	    const char *const *headers, const char *body, double timeout,
	    long *status, char **cause);

/*
 * scheme://host[:port] of url, with "/..." when it has more: what may be
 * written where others read (a webhook's path is often its secret).  NULL
 * when url does not parse.
 */
char	*http_url_origin(const char *url);

#endif
