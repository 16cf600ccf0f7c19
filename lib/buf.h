/*
 * A growing string, in the spirit of git's strbuf: appends go in place,
 * with room doubled ahead, so building a string piece by piece is linear.
 * buf.s is always NUL-terminated (an empty buf points at "").
 */
#ifndef CALIB_BUF_H
#define CALIB_BUF_H

#include <stddef.h>

struct buf {
	char	*s;
	size_t	 len;
	size_t	 cap;		/* 0 while s is the shared "" */
};

#define BUF_INIT	{ (char *)"", 0, 0 }

void	 buf_init(struct buf *);
/* Free the contents; the buf may be used again. */
void	 buf_release(struct buf *);
/* Hand the string to the caller (always a fresh allocation) and reset. */
char	*buf_detach(struct buf *);

void	 buf_add(struct buf *, const void *, size_t);
void	 buf_adds(struct buf *, const char *);
void	 buf_addc(struct buf *, char);
void	 buf_addf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Append s, preceded by sep unless the buf is empty. */
void	 buf_addsep(struct buf *, const char *sep, const char *s);
/* Drop trailing characters found in set. */
void	 buf_rtrim(struct buf *, const char *set);

#endif
