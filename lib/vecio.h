/*
 * Vectors of doubles in files: observations, noise and model outputs.  Text
 * (.txt, .csv: numbers separated by white space or commas, # comments), HDF5
 * datasets, NumPy .npy and raw little-endian float64 (.f64).
 */
#ifndef CALIB_VECIO_H
#define CALIB_VECIO_H

#include <stddef.h>

enum vformat { VF_TEXT, VF_HDF5, VF_NPY, VF_F64, VF_INLINE };

struct vsource {
	enum vformat	 format;
	char		*path;		/* absolute, or relative to a member dir */
	char		*dataset;	/* HDF5 only */
	double		*values;	/* VF_INLINE only */
	size_t		 n;		/* VF_INLINE only */
	/*
	 * The most values an HDF5 dataset may claim before it is read (its
	 * data may be compressed); 0: CALIB_MAX_VALUES.
	 */
	size_t		 max;
};

/* The format a file name implies by its extension (VF_TEXT by default). */
enum vformat	 vformat_of(const char *path);

/*
 * Read every number of the source into a new array (flattened in C order).
 * Errors name the file and, for text, the line and column.
 */
int	 vec_read(const struct vsource *, double **out, size_t *n, char **cause);
/*
 * HDF5 datasets (lib/vech5.c), read after a probe in a child; the matrix
 * form gives rows and columns.  vec_read reaches vec_read_h5 through a
 * weak reference (vecio.c): calib's front (cmd/main.c) does not link
 * vech5.c, so that running a member loads no HDF5, and there vec_read
 * refuses an HDF5 source (the front hands such members to the core
 * beforehand).  Link vech5.o itself, not from an archive.
 */
int	 vec_read_h5(const char *path, const char *dataset, size_t max,
	    double **out, size_t *n, char **cause);
int	 mat_read_h5(const char *path, const char *dataset, double **out,
	    size_t *rows, size_t *cols, char **cause);

void	 vsource_release(struct vsource *);
void	 vsource_copy(struct vsource *dst, const struct vsource *src);

#endif
