/* The growing string (see buf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/util.h"

void
buf_init(struct buf *b)
{
	b->s = (char *)"";
	b->len = b->cap = 0;
}

void
buf_release(struct buf *b)
{
	if (b->cap)
		free(b->s);
	buf_init(b);
}

char *
buf_detach(struct buf *b)
{
	char	*s = b->cap ? b->s : xstrdup("");

	buf_init(b);
	return s;
}

/* Room for n more bytes and the NUL. */
static void
grow(struct buf *b, size_t n)
{
	size_t	 want;

	if (n > (size_t)-1 - b->len - 1)
		abort();
	want = b->len + n + 1;
	if (want <= b->cap)
		return;
	if (b->cap == 0) {
		b->cap = want < 64 ? 64 : want;
		b->s = xmalloc(b->cap);
		b->s[0] = '\0';
		return;
	}
	while (b->cap < want)
		b->cap = b->cap > (size_t)-1 / 2 ? want : b->cap * 2;
	b->s = xreallocarray(b->s, b->cap, 1);
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	grow(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, b->cap ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	if (b->cap && (size_t)n < b->cap - b->len) {
		b->len += n;
		return;
	}
	grow(b, n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

void
buf_addsep(struct buf *b, const char *sep, const char *s)
{
	if (b->len)
		buf_adds(b, sep);
	buf_adds(b, s);
}

void
buf_rtrim(struct buf *b, const char *set)
{
	while (b->len && strchr(set, b->s[b->len - 1]) != NULL)
		b->len--;
	if (b->cap)
		b->s[b->len] = '\0';
}
