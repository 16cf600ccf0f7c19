/*
 * Reading vectors and matrices of doubles from HDF5 files calib did not
 * write.  Apart from vecio.c so that calib's front, which runs members
 * and must start fast, links no HDF5 (cmd/main.c).
 */
#include <stdlib.h>
#include <hdf5.h>

#include "lib/proc.h"
#include "lib/util.h"
#include "lib/vecio.h"

static hid_t
h5_open_ro(const char *path)
{
	hid_t	 fapl = H5Pcreate(H5P_FILE_ACCESS), f;

	/* Locking fails on some shared filesystems; calib's files are
	 * published by rename and never change, so it is not needed. */
	H5Pset_file_locking(fapl, 0, 1);
	f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
	H5Pclose(fapl);
	return f;
}

static int
read_h5(const char *path, const char *dataset, size_t max, double **out,
    size_t *rows, size_t *cols, char **cause);
static int
read_h5_direct(const char *path, const char *dataset, size_t max,
    double **out, size_t *rows, size_t *cols, char **cause);

struct h5_probe {
	const char	*path, *dataset;
	size_t		 max;
	int		 matrix;
};

static int
h5_probe(void *arg, char **cause)
{
	struct h5_probe	*a = arg;
	double		*v;
	size_t		 rows, cols;

	return read_h5_direct(a->path, a->dataset, a->max, &v, &rows,
	    a->matrix ? &cols : NULL, cause);
}

/*
 * HDF5 files calib did not write (models' outputs, the user's observation
 * and noise files) are read in a child first: the HDF5 library may crash
 * on a damaged one, and calib must not (proc_probe).
 */
static int
read_h5(const char *path, const char *dataset, size_t max, double **out,
    size_t *rows, size_t *cols, char **cause)
{
	struct h5_probe	 a = { path, dataset, max, cols != NULL };

	if (proc_probe(h5_probe, &a, path, cause) != 0)
		return -1;
	return read_h5_direct(path, dataset, max, out, rows, cols, cause);
}

int
vec_read_h5(const char *path, const char *dataset, size_t max, double **out,
    size_t *n, char **cause)
{
	return read_h5(path, dataset, max, out, n, NULL, cause);
}

int
mat_read_h5(const char *path, const char *dataset, double **out, size_t *rows,
    size_t *cols, char **cause)
{
	return read_h5(path, dataset, CALIB_MAX_VALUES, out, rows, cols, cause);
}

/* The dataset's dimensions, their product bounded by max, and numeric. */
static int
h5_extent(hid_t d, hid_t sp, hsize_t *dims, int *rank, size_t max,
    size_t *total)
{
	hid_t		 t;
	H5T_class_t	 cls;
	int		 i;

	*total = 1;
	if ((*rank = H5Sget_simple_extent_dims(sp, dims, NULL)) < 0)
		return -1;
	for (i = 0; i < *rank; i++)
		if (size_mul(*total, dims[i], max, total) != 0)
			return -1;
	t = H5Dget_type(d);
	cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
	if (t >= 0)
		H5Tclose(t);
	return cls == H5T_FLOAT || cls == H5T_INTEGER ? 0 : -1;
}

static int
read_h5_direct(const char *path, const char *dataset, size_t max,
    double **out, size_t *rows, size_t *cols, char **cause)
{
	hid_t		 f, d = -1, sp = -1;
	hsize_t		 dims[H5S_MAX_RANK];
	int		 rank, rc = -1;
	size_t		 total = 1;
	double		*v;

	H5E_BEGIN_TRY {
		f = h5_open_ro(path);
		if (f >= 0)
			d = H5Dopen2(f, dataset, H5P_DEFAULT);
	} H5E_END_TRY;
	if (f < 0)
		return failf(cause, "%s: cannot open as HDF5", path);
	if (d < 0) {
		H5Fclose(f);
		return failf(cause, "%s: no dataset '%s'", path, dataset);
	}
	sp = H5Dget_space(d);
	if (h5_extent(d, sp, dims, &rank, max, &total) != 0) {
		failf(cause, "%s: dataset '%s' is not numbers, or has more than "
		    "%zu of them", path, dataset, max);
		goto out;
	}
	/* A compressed dataset may claim more than memory holds: say so. */
	if ((v = malloc((total ? total : 1) * sizeof *v)) == NULL) {
		failf(cause, "%s: dataset '%s' has %zu values, more than fit in "
		    "memory", path, dataset, total);
		goto out;
	}
	if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
		free(v);
		failf(cause, "%s: dataset '%s' cannot be read as numbers", path,
		    dataset);
		goto out;
	}
	*out = v;
	if (rows && cols) {
		if (rank != 2) {
			free(v);
			failf(cause, "%s: dataset '%s' has rank %d, expected a "
			    "matrix", path, dataset, rank);
			goto out;
		}
		*rows = dims[0];
		*cols = dims[1];
	} else if (rows)
		*rows = total;
	rc = 0;
out:
	H5Sclose(sp);
	H5Dclose(d);
	H5Fclose(f);
	return rc;
}
