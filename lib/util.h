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
/* The same for arrays of many MiB, backed by huge pages where it can. */
void	*xmallocarray_large(size_t, size_t);
char	*xstrdup(const char *);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
char	*xvasprintf(const char *, va_list);

/*
 * Set *cause (when cause is not NULL) to a formatted message and return -1,
 * so that library functions can write `return failf(cause, "...")`.
 */
int	 failf(char **cause, const char *, ...) __attribute__((format(printf, 2, 3)));

/*
 * The most values calib reads from one file or dataset, or holds in one
 * matrix: 2^34 (128 GiB of doubles), far above what fits in memory, so
 * that sizes computed from it never overflow.  Documented in calib.yaml(5).
 */
#define CALIB_MAX_VALUES	((size_t)1 << 34)

/*
 * *out = a * b when that is at most limit (and does not overflow): 0, else
 * -1.  The one place sizes from files and experiments are multiplied.
 */
int	 size_mul(size_t a, size_t b, size_t limit, size_t *out);

/*
 * Untrusted bytes for a message: at most max bytes of s[0..len), control
 * and non-ASCII bytes as \xNN, "..." when cut.  Owned by the caller.
 */
char	*quote_bytes(const char *s, size_t len, size_t max);

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
