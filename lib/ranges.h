/*
 * Index lists as schedulers and the journal write them: "1-5,7,9-12",
 * sorted, without repeats.
 */
#ifndef CALIB_RANGES_H
#define CALIB_RANGES_H

#include <stddef.h>

/* The most indices ranges_parse expands: more than any array calib submits. */
#define RANGES_MAX	1000000L

/* The list of v[0..n) (sorted numbers), as a new string. */
char	*ranges_format(const long *v, size_t n);
/*
 * The numbers of list s into *out; "-" is the empty list.  Returns -1 for
 * a malformed list, a decreasing range or more than RANGES_MAX numbers.
 */
int	 ranges_parse(const char *s, long **out, size_t *n);
/* Whether list s holds m, without expanding it. */
int	 ranges_contain(const char *s, long m);

#endif
