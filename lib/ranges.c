/* Index lists (see ranges.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/ranges.h"
#include "lib/util.h"

char *
ranges_format(const long *v, size_t n)
{
	struct buf	 b = BUF_INIT;
	size_t		 i = 0, k;

	while (i < n) {
		for (k = i; k + 1 < n && v[k + 1] == v[k] + 1; k++)
			;
		if (b.len)
			buf_addc(&b, ',');
		if (k == i)
			buf_addf(&b, "%ld", v[i]);
		else
			buf_addf(&b, "%ld-%ld", v[i], v[k]);
		i = k + 1;
	}
	return buf_detach(&b);
}

/* One number of a list: digits only, no sign, no overflow. */
static int
number(const char *p, char **end, long *out)
{
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*out = strtol(p, end, 10);
	return errno ? -1 : 0;
}

int
ranges_parse(const char *s, long **out, size_t *n)
{
	const char	*p = s;
	char		*end;
	long		 a, b, k;

	*out = NULL;
	*n = 0;
	if (!strcmp(s, "-"))
		return 0;
	while (*p) {
		if (number(p, &end, &a) != 0)
			goto bad;
		b = a;
		if (*end == '-') {
			p = end + 1;
			if (number(p, &end, &b) != 0 || b < a)
				goto bad;
		}
		if (b - a >= RANGES_MAX - (long)*n)
			goto bad;
		*out = xreallocarray(*out, *n + (b - a) + 1, sizeof **out);
		for (k = a; k <= b; k++)
			(*out)[(*n)++] = k;
		if (*end == ',')
			end++;
		else if (*end != '\0')
			goto bad;
		p = end;
	}
	return 0;
bad:
	free(*out);
	*out = NULL;
	*n = 0;
	return -1;
}

int
ranges_contain(const char *s, long m)
{
	const char	*p = s;
	char		*end;
	long		 a, b;

	/* Walk the list without expanding it: arrays hold many members. */
	while (*p) {
		a = b = strtol(p, &end, 10);
		if (end == p)
			return 0;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		if (m >= a && m <= b)
			return 1;
		if (*end != ',')
			return 0;
		p = end + 1;
	}
	return 0;
}
