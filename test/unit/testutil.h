/* Shared by calib's cmocka unit tests. */
#ifndef CALIB_TESTUTIL_H
#define CALIB_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/fsio.h"

/* A fresh directory for one test program's files. */
static char test_dir[256];

static inline void
make_test_dir(void)
{
	snprintf(test_dir, sizeof test_dir, "/tmp/calib-unit-XXXXXX");
	if (mkdtemp(test_dir) == NULL)
		abort();
}

static inline char *
test_path(const char *name)
{
	static char	 buf[4][512];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", test_dir, name);
	return buf[i];
}

/* The text of test/data/<dir>/<name>, under $TOP when it is set. */
static inline char *
read_fixture(const char *dir, const char *name)
{
	char	 path[1024], *text = NULL;

	snprintf(path, sizeof path, "%s/test/data/%s/%s", getenv("TOP") ?
	    getenv("TOP") : ".", dir, name);
	assert_int_equal(read_file(path, &text, NULL, NULL), 0);
	return text;
}

static inline void
put_file(const char *name, const void *data, size_t len)
{
	FILE	*fp = fopen(test_path(name), "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static inline void
put_text(const char *name, const char *text)
{
	put_file(name, text, strlen(text));
}

/* Load the experiment base + extra, written to calib.yaml; fail on error. */
#define load_experiment(base, extra, e) do {				\
	char *_cause = NULL, *_text = xasprintf("%s%s", (base), (extra)); \
									\
	put_text("calib.yaml", _text);					\
	free(_text);							\
	if (config_load(test_path("calib.yaml"), NULL, NULL, (e),	\
	    &_cause) != 0) {						\
		print_error("%s\n", _cause);				\
		fail();							\
	}								\
} while (0)

#define assert_close(a, b, tol) do {					\
	double _a = (a), _b = (b);					\
	if (!(fabs(_a - _b) <= (tol))) {				\
		print_error("%s = %.17g, %s = %.17g, differ by %g > %g\n", \
		    #a, _a, #b, _b, fabs(_a - _b), (double)(tol));	\
		fail();							\
	}								\
} while (0)

#endif
