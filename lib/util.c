/* Checked allocation, message formatting and number formatting. */
#include <sys/mman.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"

static void
oom(void)
{
	fputs("calib: out of memory\n", stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void	*p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t m)
{
	void	*p = calloc(n ? n : 1, m ? m : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xreallocarray(void *old, size_t n, size_t m)
{
	void	*p;

	if (m && n > SIZE_MAX / m)
		oom();
	p = realloc(old, n && m ? n * m : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
xmallocarray(size_t n, size_t m)
{
	return xreallocarray(NULL, n, m);
}

/*
 * A large array (the members' outputs): as xmallocarray, and the kernel is
 * asked to back it with huge pages, so that filling it takes one page
 * fault per 2 MiB instead of one per 4 KiB.  A hint only.
 */
void *
xmallocarray_large(size_t n, size_t m)
{
	char		*p = xmallocarray(n, m);
	uintptr_t	 a, b, pg = 4096;

	a = ((uintptr_t)p + pg - 1) & ~(pg - 1);
	b = ((uintptr_t)p + n * m) & ~(pg - 1);
	if (n * m >= ((size_t)8 << 20) && b > a)
		(void)madvise((void *)a, b - a, MADV_HUGEPAGE);
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p = strdup(s);

	if (p == NULL)
		oom();
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char	*s;

	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	return s;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

int
size_mul(size_t a, size_t b, size_t limit, size_t *out)
{
	if (b != 0 && a > limit / b)
		return -1;
	*out = a * b;
	return 0;
}

char *
quote_bytes(const char *s, size_t len, size_t max)
{
	size_t		 i, k = 0, n = len < max ? len : max;
	char		*q = xmallocarray(n + 1, 4);
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '\\')
			k += snprintf(q + k, 5, "\\x%02x", c);
		else
			q[k++] = (char)c;
	}
	if (n < len)
		k += snprintf(q + k, 4, "...");
	q[k] = '\0';
	return q;
}

int
failf(char **cause, const char *fmt, ...)
{
	va_list	 ap;

	if (cause == NULL)
		return -1;
	free(*cause);
	va_start(ap, fmt);
	*cause = xvasprintf(fmt, ap);
	va_end(ap);
	return -1;
}

size_t
edit_distance(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, *row, prev, tmp, best;

	row = xmallocarray(lb + 1, sizeof *row);
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	best = row[lb];
	free(row);
	return best;
}

void
fmt_double(char *buf, double x)
{
	int	 prec;

	if (isnan(x)) {
		strcpy(buf, "nan");
		return;
	}
	if (isinf(x)) {
		strcpy(buf, x > 0 ? "inf" : "-inf");
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, 32, "%.*g", prec, x);
		if (strtod(buf, NULL) == x)
			return;
	}
}

double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
fmt_time(char *buf, double t)
{
	time_t		 s = (time_t)t;
	struct tm	 tm;

	gmtime_r(&s, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
