/* Small helpers shared by every module: checked allocation and messages. */
#ifndef CALIB_UTIL_H
#define CALIB_UTIL_H

#include <stdarg.h>
#include <stddef.h>

/* Allocation that aborts with a message on exhaustion or size overflow. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
/* xmallocarray(n, m): n*m bytes, overflow checked. */
void	*xmallocarray(size_t, size_t);
char	*xstrdup(const char *);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
char	*xvasprintf(const char *, va_list);

/*
 * Set *cause (when cause is not NULL) to a formatted message and return -1,
 * so that library functions can write `return failf(cause, "...")`.
 */
int	 failf(char **cause, const char *, ...) __attribute__((format(printf, 2, 3)));

/* Levenshtein distance, for "did you mean" suggestions. */
size_t	 edit_distance(const char *, const char *);

/*
 * Format a double so that strtod reads back the same value, with as few
 * digits as that takes.  buf must hold 32 bytes.
 */
void	 fmt_double(char *buf, double);

/* Wall-clock time as an ISO 8601 UTC string into buf (32 bytes). */
void	 fmt_time(char *buf, double);
/* Seconds since the epoch, with sub-second resolution. */
double	 now(void);

#endif
