/* Shared by calib's libFuzzer harnesses (test/fuzz/fuzz_*.c). */
#ifndef CALIB_FUZZ_H
#define CALIB_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/util.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Write the input as the whole of path, or stop the run. */
static inline void
fuzz_put(const char *path, const uint8_t *data, size_t size)
{
	FILE	*fp = fopen(path, "wb");

	if (fp == NULL || fwrite(data, 1, size, fp) != size || fclose(fp) != 0) {
		perror(path);
		abort();
	}
}

/*
 * A private folder for one run's files, under $TMPDIR: the caller removes
 * it (remove_tree) when the run ends.
 */
static inline char *
fuzz_tmpdir(void)
{
	const char	*t = getenv("TMPDIR");
	char		*dir;

	dir = xasprintf("%s/calib-fuzz-XXXXXX", t && *t ? t : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		abort();
	}
	return dir;
}

/*
 * For the harnesses that hand files to HDF5, which is not under test: on
 * a damaged file it may ask for absurd sizes (let malloc fail, as it
 * handles) and it leaks on some of its error paths (not calib's leaks).
 * calib's own allocations abort on failure, so its absurd sizes are still
 * caught.
 */
#define FUZZ_HDF5_OPTIONS						\
const char	*__asan_default_options(void);				\
const char	*__lsan_default_suppressions(void);			\
const char *								\
__asan_default_options(void)						\
{									\
	return "allocator_may_return_null=1";				\
}									\
const char *								\
__lsan_default_suppressions(void)					\
{									\
	return "leak:libhdf5_serial.so\nleak:libhdf5_serial_hl.so\n";	\
}

#endif
