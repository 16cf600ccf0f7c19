/*
 * libFuzzer harness: the readers of observations, noise and model outputs
 * (lib/vecio.h).  The first byte picks the format, the rest is the file,
 * written with the extension that format is known by: text, .npy, raw
 * .f64, or HDF5 (dataset "g", as a vector and as a matrix).  Bit 2 of that
 * byte bounds the values an HDF5 dataset may claim as a model output's are
 * (3, the observations of the experiment), else as observations' are.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <hdf5.h>

#include "test/fuzz/fuzz.h"
#include "lib/fsio.h"
#include "lib/util.h"
#include "lib/vecio.h"


/*
 * HDF5 is not under test: on a damaged file it may ask for absurd sizes
 * (let malloc fail, as it handles) and it leaks on some of its error paths
 * (not calib's leaks: calib's own objects are checked below).  calib's
 * allocations abort on failure, so its absurd sizes are still caught.
 */
FUZZ_HDF5_OPTIONS

static const char *const names[] = { "out.txt", "out.npy", "out.f64",
    "out.h5" };
static char	*dir, *files[4];

static void
cleanup(void)
{
	size_t	 i;

	remove_tree(dir, NULL);
	free(dir);
	for (i = 0; i < 4; i++)
		free(files[i]);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t		 i;

	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	dir = fuzz_tmpdir();
	for (i = 0; i < 4; i++)
		files[i] = path_join(dir, names[i]);
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vsource	 src = { 0 };
	double		*v = NULL;
	char		*cause = NULL;
	size_t		 n = 0, rows, cols, which;

	if (size == 0)
		return 0;
	which = data[0] % 4;
	fuzz_put(files[which], data + 1, size - 1);
	src.path = files[which];
	src.format = vformat_of(src.path);
	src.dataset = which == 3 ? "g" : NULL;
	src.max = data[0] & 4 ? 3 : 0;
	if (vec_read(&src, &v, &n, &cause) == 0) {
		if (n > 0 && v[n - 1] == 12345.678)
			n = 0;	/* touch the last value read */
		free(v);
	}
	if (which == 3 && mat_read_h5(src.path, "g", &v, &rows, &cols,
	    &cause) == 0) {
		if (rows * cols > 0 && v[rows * cols - 1] == 12345.678)
			rows = 0;
		free(v);
	}
	free(cause);
	/* Every HDF5 object opened was closed: a file left open stays so. */
	if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) != 0) {
		fprintf(stderr, "fuzz_output: HDF5 objects left open\n");
		abort();
	}
	return 0;
}
