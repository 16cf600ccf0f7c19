/* The output directory: HDF5 state files, member status, parameter files. */
#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <xxhash.h>

#include "lib/fsio.h"
#include "lib/proc.h"
#include "lib/paramfile.h"
#include "lib/state.h"
#include "lib/util.h"

int
experiment_initialised(const struct experiment *e)
{
	char	*f = path_join(e->output_dir, "experiment.yaml");
	int	 rc = is_file(f);

	free(f);
	return rc;
}

static int
open_output_dir(const char *dir, struct experiment *e, char **cause)
{
	char	*frozen = path_join(dir, "experiment.yaml");
	char	*srcf = path_join(dir, "source"), *src = NULL, *edir = NULL;
	char	*abs = NULL, *nl;
	int	 rc = -1;

	if (!is_file(frozen)) {
		failf(cause, "%s: not a calib output directory (no "
		    "experiment.yaml); run 'calib init' first", dir);
		goto out;
	}
	if (read_file(srcf, &src, NULL, cause) != 0)
		goto out;
	if ((nl = strchr(src, '\n')) != NULL)
		*nl = '\0';
	edir = path_dir(src);
	abs = realpath(dir, NULL);
	if (config_load(frozen, edir, abs ? abs : dir, e, cause) != 0)
		goto out;
	if (e->ptemplate != NULL) {
		free(e->ptemplate);
		e->ptemplate = path_join(e->output_dir, "parameter_template");
	}
	rc = 0;
out:
	free(frozen);
	free(srcf);
	free(src);
	free(edir);
	free(abs);
	return rc;
}

int
experiment_open(const char *arg, struct experiment *e, int *differs,
    char **cause)
{
	char	*a = NULL, *b = NULL, *frozen, *outdir;
	size_t	 la, lb;

	if (differs)
		*differs = 0;
	if (is_dir(arg))
		return open_output_dir(arg, e, cause);
	if (config_load(arg, NULL, NULL, e, cause) != 0)
		return -1;
	if (!experiment_initialised(e))
		return 0;
	frozen = path_join(e->output_dir, "experiment.yaml");
	if (differs && read_file(arg, &a, &la, NULL) == 0 &&
	    read_file(frozen, &b, &lb, NULL) == 0)
		*differs = la != lb || memcmp(a, b, la) != 0;
	free(a);
	free(b);
	free(frozen);
	outdir = xstrdup(e->output_dir);
	experiment_release(e);
	if (open_output_dir(outdir, e, cause) != 0) {
		free(outdir);
		return -1;
	}
	free(outdir);
	return 0;
}

int
member_width(const struct experiment *e)
{
	int	 w = 3;
	long	 n;

	for (n = e->ensemble_size; n >= 1000; n /= 10)
		w++;
	return w;
}

char *
iteration_dir(const struct experiment *e, long it)
{
	char	*name = xasprintf("iteration_%03ld", it), *p;

	p = path_join(e->output_dir, name);
	free(name);
	return p;
}

char *
iteration_file(const struct experiment *e, long it, const char *file)
{
	char	*d = iteration_dir(e, it), *p = path_join(d, file);

	free(d);
	return p;
}

char *
member_dir(const struct experiment *e, long it, long m)
{
	char	*d = iteration_dir(e, it);
	char	*p = xasprintf("%s/member_%0*ld", d, member_width(e), m);

	free(d);
	return p;
}

int
iteration_exists(const struct experiment *e, long it)
{
	char	*f = iteration_file(e, it, "ensemble.h5");
	int	 rc = is_file(f);

	free(f);
	return rc;
}

int
iteration_closed(const struct experiment *e, long it)
{
	char	*f = iteration_file(e, it, "results.h5");
	int	 rc = is_file(f);

	free(f);
	return rc;
}

long
newest_iteration(const struct experiment *e)
{
	long	 it = -1;

	while (it < e->iterations && iteration_exists(e, it + 1))
		it++;
	return it;
}

/* HDF5 helpers: files are created under a temporary name and renamed. */

static hid_t
h5_create(const char *tmp)
{
	hid_t	 fapl = H5Pcreate(H5P_FILE_ACCESS), f;

	H5Pset_file_locking(fapl, 0, 1);
	H5E_BEGIN_TRY {
		f = H5Fcreate(tmp, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
	} H5E_END_TRY;
	H5Pclose(fapl);
	return f;
}

static hid_t
h5_open(const char *path)
{
	hid_t	 fapl = H5Pcreate(H5P_FILE_ACCESS), f;

	H5Pset_file_locking(fapl, 0, 1);
	H5E_BEGIN_TRY {
		f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
	} H5E_END_TRY;
	H5Pclose(fapl);
	return f;
}

static int
h5_matrix(hid_t f, const char *name, const double *v, size_t rows, size_t cols)
{
	hsize_t	 dims[2] = { rows, cols };

	return H5LTmake_dataset_double(f, name, cols ? 2 : 1, dims, v) < 0;
}

static int
h5_attr(hid_t f, const char *name, double v)
{
	return H5LTset_attribute_double(f, "/", name, &v, 1) < 0;
}

static int
h5_attr_long(hid_t f, const char *name, long v)
{
	return H5LTset_attribute_long(f, "/", name, &v, 1) < 0;
}

/* An HDF5 file being written under a temporary name. */
struct h5_out {
	char	*path;
	char	*tmp;
	hid_t	 f;
};

/*
 * An HDF5 file under a temporary name: unpredictable (mkstemp's), and
 * created exclusively (H5F_ACC_EXCL, O_EXCL underneath), so that nothing
 * planted under that name, a symbolic link say, is ever followed.
 */
static int
h5_out_open(struct h5_out *o, char *path, char **cause)
{
	char	*dir = path_dir(path);
	int	 fd, tries;

	o->path = path;
	o->tmp = NULL;
	o->f = -1;
	for (tries = 0; tries < 10 && o->f < 0; tries++) {
		free(o->tmp);
		o->tmp = xasprintf("%s/.%s.tmpXXXXXX", dir,
		    strrchr(path, '/') + 1);
		if ((fd = mkstemp(o->tmp)) == -1)
			break;
		close(fd);
		unlink(o->tmp);
		o->f = h5_create(o->tmp);
	}
	free(dir);
	if (o->f < 0) {
		failf(cause, "%s: cannot create a temporary file beside it",
		    o->path);
		free(o->path);
		free(o->tmp);
		return -1;
	}
	return 0;
}

/* Close, fsync and rename into place unless err; frees o either way. */
static int
h5_out_commit(struct h5_out *o, int err, char **cause)
{
	int	 rc = 0;

	if (H5Fclose(o->f) < 0)
		err = 1;
	if (err)
		rc = failf(cause, "%s: cannot write HDF5 file", o->path);
	else if (sync_path(o->tmp, cause) != 0 ||
	    rename_durable(o->tmp, o->path, cause) != 0)
		rc = -1;
	if (rc != 0)
		unlink(o->tmp);
	free(o->path);
	free(o->tmp);
	return rc;
}

/*
 * The shape of numeric dataset name, checked before anything is read into
 * memory: rank 1 or up to max_rank (2), dims[1] 1 for rank 1, and *total
 * their product, at most CALIB_MAX_VALUES.  Files calib reads may come
 * from anywhere: a rank of 32 must not overrun dims.
 */
static int
h5_shape(hid_t f, const char *name, int max_rank, hsize_t dims[2],
    size_t *total, const char *path, char **cause)
{
	H5T_class_t	 cls;
	hsize_t		 stored = 0;
	size_t		 tsize;
	hid_t		 d;
	int		 rank;

	dims[0] = 0;
	dims[1] = 1;
	if (H5LTfind_dataset(f, name) <= 0)
		return failf(cause, "%s: missing dataset '%s'", path, name);
	if (H5LTget_dataset_ndims(f, name, &rank) < 0 || rank < 1 ||
	    rank > max_rank)
		return failf(cause, "%s: dataset '%s' has rank %d, expected %s",
		    path, name, rank, max_rank == 1 ? "1" : "1 or 2");
	if (H5LTget_dataset_info(f, name, dims, &cls, &tsize) < 0 ||
	    (cls != H5T_FLOAT && cls != H5T_INTEGER) || tsize == 0)
		return failf(cause, "%s: dataset '%s' is not numeric", path,
		    name);
	if (dims[0] > CALIB_MAX_VALUES || dims[1] > CALIB_MAX_VALUES ||
	    size_mul(dims[0], dims[1], CALIB_MAX_VALUES, total) != 0)
		return failf(cause, "%s: dataset '%s' is too large", path, name);
	/*
	 * calib writes its datasets whole, uncompressed: one whose stored
	 * bytes are fewer than its values claims a size it does not have.
	 */
	if (*total > 0 && (d = H5Dopen2(f, name, H5P_DEFAULT)) >= 0) {
		stored = H5Dget_storage_size(d);
		H5Dclose(d);
	}
	if (*total > 0 && stored / tsize < *total)
		return failf(cause, "%s: dataset '%s' holds %llu bytes for %zu "
		    "values", path, name, (unsigned long long)stored, *total);
	return 0;
}

static int
h5_read(hid_t f, const char *name, double *out, size_t expect, const char *path,
    char **cause)
{
	hsize_t		 dims[2];
	size_t		 total;

	if (h5_shape(f, name, 2, dims, &total, path, cause) != 0)
		return -1;
	if (total != expect)
		return failf(cause, "%s: dataset '%s' has %zu values, expected %zu",
		    path, name, total, expect);
	if (expect && H5LTread_dataset_double(f, name, out) < 0)
		return failf(cause, "%s: cannot read '%s'", path, name);
	return 0;
}

static int
h5_get(hid_t f, const char *name, double *v)
{
	return H5LTget_attribute_double(f, "/", name, v) < 0;
}

static int
h5_get_long(hid_t f, const char *name, long *v)
{
	return H5LTget_attribute_long(f, "/", name, v) < 0;
}

static int
h5_names(hid_t f, const struct experiment *e)
{
	hid_t		 t, s, d;
	hsize_t		 n = e->ncalib;
	char		**names = xcalloc(e->ncalib, sizeof *names);
	size_t		 i, j, k = 0;
	int		 rc;

	for (i = 0; i < e->nparams; i++)
		if (!e->params[i].fixed)
			for (j = 0; j < e->params[i].size; j++)
				names[k++] = param_component_name(&e->params[i], j);
	t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	s = H5Screate_simple(1, &n, NULL);
	d = H5Dcreate2(f, "parameter_names", t, s, H5P_DEFAULT, H5P_DEFAULT,
	    H5P_DEFAULT);
	rc = d < 0 || H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) < 0;
	if (d >= 0)
		H5Dclose(d);
	H5Sclose(s);
	H5Tclose(t);
	for (i = 0; i < k; i++)
		free(names[i]);
	free(names);
	return rc;
}

int
ensemble_write(const struct experiment *e, const struct ensemble *en,
    char **cause)
{
	struct h5_out	 o;
	hsize_t		 rl = gsl_rng_size(en->rng);
	int		 err;

	if (h5_out_open(&o, iteration_file(e, en->iteration, "ensemble.h5"),
	    cause) != 0)
		return -1;
	err = h5_matrix(o.f, "unconstrained", en->u, en->n, en->p) ||
	    h5_matrix(o.f, "constrained", en->theta, en->n, en->p) ||
	    h5_names(o.f, e) ||
	    H5LTmake_dataset(o.f, "rng_state", 1, &rl, H5T_NATIVE_UCHAR,
	    gsl_rng_state(en->rng)) < 0 ||
	    H5LTset_attribute_string(o.f, "rng_state", "type",
	    gsl_rng_name(en->rng)) < 0 ||
	    h5_attr_long(o.f, "iteration", en->iteration) ||
	    h5_attr_long(o.f, "ensemble_size", en->n) ||
	    h5_attr(o.f, "timestep", en->timestep) ||
	    h5_attr(o.f, "time", en->time) ||
	    (en->uki_mean != NULL && (h5_matrix(o.f, "uki_mean", en->uki_mean,
	    en->p, 0) || h5_matrix(o.f, "uki_cov", en->uki_cov, en->p, en->p) ||
	    h5_matrix(o.f, "uki_sigma_omega", en->uki_sigma_omega, en->p,
	    en->p))) ||
	    H5LTset_attribute_string(o.f, "/", "method", e->method) < 0 ||
	    H5LTset_attribute_string(o.f, "/", "calib_version",
	    CALIB_VERSION) < 0;
	return h5_out_commit(&o, err, cause);
}

/*
 * A string attribute into buf: a fixed-length string shorter than size.
 * (A variable-length one, as h5py writes by default, is refused: reading
 * it as fixed would hand back a pointer and leak its bytes.)
 */
static int
attr_string(hid_t f, const char *obj, const char *name, char *buf,
    size_t size)
{
	hid_t	 a, t, m = -1;
	size_t	 len = 0;
	int	 ok = 0;

	if (H5Aexists_by_name(f, obj, name, H5P_DEFAULT) <= 0 ||
	    (a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT)) < 0)
		return -1;
	if ((t = H5Aget_type(a)) >= 0) {
		ok = H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) == 0 &&
		    (len = H5Tget_size(t)) > 0 && len < size;
		H5Tclose(t);
	}
	if (ok && (m = H5Tcopy(H5T_C_S1)) >= 0 && H5Tset_size(m, len) >= 0 &&
	    H5Aread(a, m, buf) >= 0)
		buf[len] = '\0';
	else
		ok = 0;
	if (m >= 0)
		H5Tclose(m);
	H5Aclose(a);
	return ok ? 0 : -1;
}

/* The random state's length: a dataset of rank 1 and bytes. */
static int
rng_shape(hid_t f, hsize_t *len)
{
	H5T_class_t	 cls;
	size_t		 tsize;
	int		 rank;

	if (H5LTfind_dataset(f, "rng_state") <= 0 ||
	    H5LTget_dataset_ndims(f, "rng_state", &rank) < 0 || rank != 1 ||
	    H5LTget_dataset_info(f, "rng_state", len, &cls, &tsize) < 0 ||
	    cls != H5T_INTEGER || tsize != 1)
		return -1;
	return 0;
}

static int
ensemble_read_direct(const struct experiment *e, long it, struct ensemble *en,
    char **cause)
{
	char		*path = iteration_file(e, it, "ensemble.h5");
	char		 type[64];
	hsize_t		 rl = 0;
	hid_t		 f;
	long		 n;
	int		 rc = -1;

	memset(en, 0, sizeof *en);
	if (!wait_file(path, fs_lag())) {
		failf(cause, "%s: iteration %ld does not exist", path, it);
		free(path);
		return -1;
	}
	if ((f = h5_open(path)) < 0) {
		failf(cause, "%s: cannot open as HDF5", path);
		free(path);
		return -1;
	}
	en->iteration = it;
	en->p = e->ncalib;
	if (h5_get_long(f, "ensemble_size", &n) || h5_get(f, "timestep",
	    &en->timestep) || h5_get(f, "time", &en->time)) {
		failf(cause, "%s: missing attributes", path);
		goto out;
	}
	en->n = n;
	if ((long)en->n != e->ensemble_size) {
		failf(cause, "%s: %zu members, the experiment says %ld", path,
		    en->n, e->ensemble_size);
		goto out;
	}
	en->u = xmallocarray(en->n * en->p, sizeof *en->u);
	en->theta = xmallocarray(en->n * en->p, sizeof *en->theta);
	if (h5_read(f, "unconstrained", en->u, en->n * en->p, path, cause) ||
	    h5_read(f, "constrained", en->theta, en->n * en->p, path, cause))
		goto out;
	en->rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (rng_shape(f, &rl) != 0 || rl != gsl_rng_size(en->rng) ||
	    attr_string(f, "rng_state", "type", type, sizeof type) != 0 ||
	    strcmp(type, gsl_rng_name(en->rng)) != 0 ||
	    H5LTread_dataset(f, "rng_state", H5T_NATIVE_UCHAR,
	    gsl_rng_state(en->rng)) < 0) {
		failf(cause, "%s: missing or foreign random state", path);
		goto out;
	}
	if (e->alg.method == METHOD_UKI) {
		en->uki_mean = xmallocarray(en->p, sizeof *en->uki_mean);
		en->uki_cov = xmallocarray(en->p * en->p, sizeof *en->uki_cov);
		en->uki_sigma_omega = xmallocarray(en->p * en->p,
		    sizeof *en->uki_sigma_omega);
		if (h5_read(f, "uki_mean", en->uki_mean, en->p, path, cause) ||
		    h5_read(f, "uki_cov", en->uki_cov, en->p * en->p, path,
		    cause) || h5_read(f, "uki_sigma_omega", en->uki_sigma_omega,
		    en->p * en->p, path, cause))
			goto out;
	}
	rc = 0;
out:
	H5Fclose(f);
	free(path);
	if (rc != 0)
		ensemble_release(en);
	return rc;
}

void
ensemble_release(struct ensemble *en)
{
	free(en->u);
	free(en->theta);
	free(en->uki_mean);
	free(en->uki_cov);
	free(en->uki_sigma_omega);
	if (en->rng)
		gsl_rng_free(en->rng);
	memset(en, 0, sizeof *en);
}

int
results_write(const struct experiment *e, const struct results *r, char **cause)
{
	struct h5_out	 o;
	hsize_t		 n = r->n;
	int		 err;

	if (h5_out_open(&o, iteration_file(e, r->iteration, "results.h5"),
	    cause) != 0)
		return -1;
	/*
	 * The outputs stay in the members' MEMBER_KEPT files, durable since
	 * calib exec wrote them; results.h5 holds their checksums.
	 */
	err = H5LTmake_dataset(o.f, "checksum", 1, &n, H5T_NATIVE_UINT64,
	    r->checksum) < 0 ||
	    H5LTmake_dataset_int(o.f, "success", 1, &n, r->ok) < 0 ||
	    h5_matrix(o.f, "misfit", r->misfit, r->n, 0) ||
	    h5_attr_long(o.f, "iteration", r->iteration) ||
	    h5_attr_long(o.f, "observations", (long)r->d) ||
	    h5_attr(o.f, "timestep", r->timestep) ||
	    H5LTset_attribute_string(o.f, "/", "stop", r->stop) < 0;
	return h5_out_commit(&o, err, cause);
}

uint64_t
output_checksum(const double *g, size_t d)
{
	return XXH3_64bits(g, d * sizeof *g);
}

/* The "stop" attribute, "" when absent. */
static int
read_stop(hid_t f, char *buf, size_t size)
{
	buf[0] = '\0';
	if (H5Aexists(f, "stop") <= 0)
		return 0;
	return attr_string(f, "/", "stop", buf, size);
}

static int
stop_probe(void *path, char **cause)
{
	char	 stop[256];
	hid_t	 f;
	int	 r;

	if ((f = h5_open(path)) < 0)
		return failf(cause, "%s: cannot open as HDF5", (char *)path);
	r = read_stop(f, stop, sizeof stop);
	H5Fclose(f);
	return r;
}

int
iteration_final(const struct experiment *e, long it, char **why)
{
	char	*path;
	char	 stop[256];
	hid_t	 f;
	int	 r;

	if (why)
		*why = NULL;
	if (!iteration_closed(e, it))
		return 0;
	if (it >= e->iterations)
		return 1;
	path = iteration_file(e, it, "results.h5");
	/* A damaged results.h5 is not final; results_read will say why. */
	if (proc_probe(stop_probe, path, path, NULL) != 0 ||
	    (f = h5_open(path)) < 0) {
		free(path);
		return 0;
	}
	free(path);
	r = read_stop(f, stop, sizeof stop) == 0 && stop[0] != '\0';
	H5Fclose(f);
	if (r && why)
		*why = xstrdup(stop);
	return r;
}

/*
 * The shape of results.h5: n from /success, d from /G when the file is of
 * the layout that copied the outputs, else from the attribute
 * "observations" with the members' checksums in /checksum.
 */
static int
results_shape(hid_t f, size_t n, struct results *r, int *copied,
    const char *path, char **cause)
{
	hsize_t		 dims[2];
	size_t		 total;
	long		 d;

	if (h5_shape(f, "success", 1, dims, &total, path, cause) != 0)
		return -1;
	if (total != n)
		return failf(cause, "%s: dataset 'success' has %zu values, "
		    "expected %zu (the experiment's members)", path, total, n);
	r->n = total;
	*copied = H5LTfind_dataset(f, "G") > 0;
	if (*copied) {
		if (h5_shape(f, "G", 2, dims, &total, path, cause) != 0)
			return -1;
		if (dims[0] != r->n)
			return failf(cause, "%s: dataset 'G' has %llu rows, "
			    "'success' %zu values", path,
			    (unsigned long long)dims[0], r->n);
		r->d = dims[1];
		return 0;
	}
	if (h5_get_long(f, "observations", &d) || d < 1 ||
	    (size_t)d > CALIB_MAX_VALUES)
		return failf(cause, "%s: missing or invalid attribute "
		    "'observations'", path);
	r->d = (size_t)d;
	if (size_mul(r->n, r->d, CALIB_MAX_VALUES, &total) != 0)
		return failf(cause, "%s: %zu members of %zu observations are "
		    "too many", path, r->n, r->d);
	if (h5_shape(f, "checksum", 1, dims, &total, path, cause) != 0)
		return -1;
	if (total != r->n)
		return failf(cause, "%s: dataset 'checksum' has %zu values, "
		    "expected %zu", path, total, r->n);
	r->checksum = xcalloc(r->n ? r->n : 1, sizeof *r->checksum);
	if (r->n && H5LTread_dataset(f, "checksum", H5T_NATIVE_UINT64,
	    r->checksum) < 0)
		return failf(cause, "%s: cannot read 'checksum'", path);
	return 0;
}

/*
 * results.h5 of iteration it: with outputs 0, or when the outputs stayed
 * in the members' files, r->g is NULL (results_read loads them).
 */
static int
results_read_direct(const struct experiment *e, long it, struct results *r,
    int outputs, char **cause)
{
	char		*path = iteration_file(e, it, "results.h5");
	size_t		 total;
	hid_t		 f;
	int		 rc = -1, copied = 0;

	memset(r, 0, sizeof *r);
	if ((f = h5_open(path)) < 0) {
		failf(cause, "%s: cannot open as HDF5", path);
		free(path);
		return -1;
	}
	r->iteration = it;
	if (results_shape(f, e->ensemble_size, r, &copied, path, cause) != 0)
		goto out;
	if (h5_get(f, "timestep", &r->timestep)) {
		failf(cause, "%s: missing attribute 'timestep'", path);
		goto out;
	}
	total = r->n * r->d;
	if (outputs && copied)
		r->g = xmallocarray(total ? total : 1, sizeof *r->g);
	r->ok = xcalloc(r->n, sizeof *r->ok);
	r->misfit = xmallocarray(r->n, sizeof *r->misfit);
	if ((r->g && h5_read(f, "G", r->g, total, path, cause)) ||
	    h5_read(f, "misfit", r->misfit, r->n, path, cause))
		goto out;
	if (H5LTread_dataset_int(f, "success", r->ok) < 0) {
		failf(cause, "%s: cannot read 'success'", path);
		goto out;
	}
	if (read_stop(f, r->stop, sizeof r->stop) != 0) {
		failf(cause, "%s: unreadable attribute 'stop'", path);
		goto out;
	}
	rc = 0;
out:
	H5Fclose(f);
	free(path);
	if (rc != 0)
		results_release(r);
	return rc;
}

static int	 read_kept(const char *, size_t, double *, char **);

/*
 * The outputs of a results.h5 that kept them in the members' files: each
 * successful member's MEMBER_KEPT, which must still have the checksum the
 * update recorded; failed members' rows are NaN.
 */
static int
results_load_outputs(const struct experiment *e, struct results *r,
    char **cause)
{
	char	*dir, *path;
	size_t	 m, k;
	int	 rc;

	r->g = xmallocarray_large(r->n * r->d + 1, sizeof *r->g);
	for (m = 0; m < r->n; m++) {
		double *row = r->g + m * r->d;

		if (!r->ok[m]) {
			for (k = 0; k < r->d; k++)
				row[k] = NAN;
			continue;
		}
		dir = member_dir(e, r->iteration, m + 1);
		path = path_join(dir, MEMBER_KEPT);
		rc = read_kept(path, r->d, row, cause);
		if (rc == 0 && output_checksum(row, r->d) != r->checksum[m])
			rc = failf(cause, "%s: changed since iteration %ld was "
			    "closed (its checksum differs from results.h5's)",
			    path, r->iteration);
		free(path);
		free(dir);
		if (rc != 0)
			return -1;
	}
	return 0;
}

void
results_release(struct results *r)
{
	free(r->g);
	free(r->checksum);
	free(r->ok);
	free(r->misfit);
	memset(r, 0, sizeof *r);
}

/*
 * The number of observations of the last observations.h5 this process
 * read or wrote, by the file's identity, so that it is counted once.
 */
static struct {
	int		 set;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
	size_t		 d;
} known_count;

static int
count_known(const char *path, size_t *d)
{
	struct stat	 sb;

	if (!known_count.set || stat(path, &sb) == -1 ||
	    sb.st_dev != known_count.dev || sb.st_ino != known_count.ino ||
	    sb.st_size != known_count.size ||
	    sb.st_mtim.tv_sec != known_count.mtime.tv_sec ||
	    sb.st_mtim.tv_nsec != known_count.mtime.tv_nsec)
		return 0;
	*d = known_count.d;
	return 1;
}

static void
count_remember(const char *path, size_t d)
{
	struct stat	 sb;

	known_count.set = stat(path, &sb) == 0;
	known_count.dev = sb.st_dev;
	known_count.ino = sb.st_ino;
	known_count.size = sb.st_size;
	known_count.mtime = sb.st_mtim;
	known_count.d = d;
}

/*
 * observations.count: how many observations there are, beside the size and
 * modification time of the observations.h5 it counts, so that calib exec
 * knows how many values a member gives without reading HDF5 (calib's front
 * loads none: cmd/main.c).  It counts only while observations.h5 has that
 * size and time, and only in exactly the form written here.
 */
static char *
count_text(const struct stat *sb, size_t d)
{
	return xasprintf("observations=%zu\nsize=%lld\nmtime=%lld.%09ld\n", d,
	    (long long)sb->st_size, (long long)sb->st_mtim.tv_sec,
	    (long)sb->st_mtim.tv_nsec);
}

static int
count_write(const struct experiment *e, const char *h5path, size_t d,
    char **cause)
{
	struct stat	 sb;
	char		*f, *text;
	int		 rc;

	if (stat(h5path, &sb) == -1)
		return failf(cause, "%s: %s", h5path, strerror(errno));
	f = path_join(e->output_dir, "observations.count");
	text = count_text(&sb, d);
	rc = write_file_atomic(f, text, strlen(text), cause);
	free(text);
	free(f);
	return rc;
}

int
observations_count_known(const struct experiment *e, size_t *d)
{
	struct stat	 sb, fs;
	char		*h5 = path_join(e->output_dir, "observations.h5");
	char		*f = path_join(e->output_dir, "observations.count");
	char		*buf = NULL, *text = NULL, *end;
	unsigned long long n;
	size_t		 len = 0;
	int		 known = count_known(h5, d);

	/* Three short lines; anything longer is not one calib wrote. */
	if (!known && stat(h5, &sb) == 0 && lstat(f, &fs) == 0 &&
	    S_ISREG(fs.st_mode) && fs.st_size < 128 &&
	    read_file(f, &buf, &len, NULL) == 0 && len == strlen(buf) &&
	    !strncmp(buf, "observations=", 13) && isdigit((unsigned char)buf[13])) {
		errno = 0;
		n = strtoull(buf + 13, &end, 10);
		if (errno == 0 && n >= 1 && n <= CALIB_MAX_VALUES) {
			text = count_text(&sb, n);
			if (!strcmp(text, buf)) {
				*d = n;
				known = 1;
				count_remember(h5, n);
			}
		}
	}
	free(text);
	free(buf);
	free(f);
	free(h5);
	return known;
}

int
observations_write(const struct experiment *e, const struct observations *ob,
    char **cause)
{
	struct h5_out	 o;
	char		*path;
	int		 err;

	if (h5_out_open(&o, path_join(e->output_dir, "observations.h5"),
	    cause) != 0)
		return -1;
	err = h5_matrix(o.f, "y", ob->y, ob->d, 0) ||
	    (ob->std ? h5_matrix(o.f, "noise_std", ob->std, ob->d, 0) :
	    h5_matrix(o.f, "noise_covariance", ob->cov, ob->d, ob->d)) ||
	    (ob->loc && h5_matrix(o.f, "localization", ob->loc, e->ncalib,
	    ob->d));
	if (h5_out_commit(&o, err, cause) != 0)
		return -1;
	path = path_join(e->output_dir, "observations.h5");
	err = count_write(e, path, ob->d, cause);
	count_remember(path, ob->d);
	free(path);
	return err;
}

static int
observations_read_direct(const struct experiment *e, struct observations *o,
    char **cause)
{
	char		*path = path_join(e->output_dir, "observations.h5");
	hsize_t		 dims[2];
	size_t		 total;
	hid_t		 f;
	int		 rc = -1;

	memset(o, 0, sizeof *o);
	if ((f = h5_open(path)) < 0) {
		failf(cause, "%s: cannot open as HDF5", path);
		free(path);
		return -1;
	}
	if (h5_shape(f, "y", 1, dims, &o->d, path, cause) != 0 ||
	    size_mul(o->d, o->d, SIZE_MAX / sizeof(double), &total) != 0 ||
	    size_mul(e->ncalib, o->d, SIZE_MAX / sizeof(double), &total) != 0)
		goto out;
	if (o->d == 0) {
		failf(cause, "%s: dataset 'y' is empty", path);
		goto out;
	}
	o->y = xmallocarray(o->d, sizeof *o->y);
	if (h5_read(f, "y", o->y, o->d, path, cause))
		goto out;
	for (total = 0; total < o->d; total++)
		if (!isfinite(o->y[total])) {
			failf(cause, "%s: dataset 'y' has a value that is not "
			    "finite at index %zu", path, total);
			goto out;
		}
	if (H5LTfind_dataset(f, "noise_std")) {
		o->std = xmallocarray(o->d, sizeof *o->std);
		rc = h5_read(f, "noise_std", o->std, o->d, path, cause);
	} else {
		o->cov = xmallocarray(o->d * o->d, sizeof *o->cov);
		rc = h5_read(f, "noise_covariance", o->cov, o->d * o->d, path,
		    cause);
	}
	if (rc == 0 && H5LTfind_dataset(f, "localization")) {
		o->loc = xmallocarray(e->ncalib * o->d, sizeof *o->loc);
		rc = h5_read(f, "localization", o->loc, e->ncalib * o->d, path,
		    cause);
	}
out:
	H5Fclose(f);
	free(path);
	if (rc != 0)
		observations_release(o);
	return rc;
}

static int
observations_count_direct(const struct experiment *e, size_t *d, char **cause)
{
	char		*path = path_join(e->output_dir, "observations.h5");
	hsize_t		 dims[2];
	hid_t		 f;
	int		 rc = 0;

	if (!wait_file(path, fs_lag()) || (f = h5_open(path)) < 0) {
		failf(cause, "%s: cannot open as HDF5", path);
		free(path);
		return -1;
	}
	rc = h5_shape(f, "y", 1, dims, d, path, cause);
	H5Fclose(f);
	free(path);
	return rc;
}

void
observations_release(struct observations *o)
{
	free(o->y);
	free(o->std);
	free(o->cov);
	free(o->loc);
	memset(o, 0, sizeof *o);
}

/* Status files: "key=value" lines, readable by people and by the shell. */

static int
status_publish(const char *dir, const struct member_status *s, int durable,
    char **cause)
{
	char	*path = path_join(dir, "status"), *buf, t0[32], t1[32];
	int	 rc;

	fmt_time(t0, s->start);
	fmt_time(t1, s->end);
	buf = xasprintf("result=%s\noutcome=%s\nreason=%s\nexit_status=%d\n"
	    "signal=%d\nattempt=%d\nhost=%s\nstart=%s\nend=%s\n"
	    "start_epoch=%.3f\nend_epoch=%.3f\nelapsed=%.3f\njob=%s\n"
	    "attempt_id=%s\n",
	    s->success ? "success" : "failed", outcome_name(s->outcome),
	    s->reason, s->exit_status, s->signal, s->attempt, s->host,
	    t0, t1, s->start, s->end, s->end - s->start, s->job,
	    s->attempt_id);
	rc = durable ? write_file_atomic(path, buf, strlen(buf), cause) :
	    write_file_unsynced(path, buf, strlen(buf), cause);
	free(buf);
	free(path);
	return rc;
}

int
status_write(const char *dir, const struct member_status *s, char **cause)
{
	return status_publish(dir, s, 1, cause);
}

int
status_mark(const char *dir, const struct member_status *s, char **cause)
{
	return status_publish(dir, s, 0, cause);
}

static const char *const outcomes[] = { "none", "running", "ok", "failed",
    "timeout", "interrupted", "invalid", NULL };

const char *
outcome_name(enum outcome o)
{
	return outcomes[o];
}

int
outcome_parse(const char *s)
{
	int	 i;

	for (i = 0; outcomes[i]; i++)
		if (!strcmp(outcomes[i], s))
			return i;
	return -1;
}

/*
 * The attempt token, only when it is 1 to ATTEMPT_ID_MAX hex digits: calib
 * exec looks for processes carrying it, so a token from a damaged file
 * must not match what it was not given.
 */
static void
parse_attempt_id(struct member_status *s, const char *v)
{
	size_t	 n = strspn(v, "0123456789abcdef");

	if (n > 0 && n <= ATTEMPT_ID_MAX && v[n] == '\0')
		memcpy(s->attempt_id, v, n + 1);
}

/*
 * Status files written before the outcome key existed say how the attempt
 * ended only in result, signal and the reason's first word.
 */
static enum outcome
legacy_outcome(const struct member_status *s)
{
	if (s->success)
		return OUTCOME_OK;
	if (!strncmp(s->reason, "running", 7))
		return OUTCOME_RUNNING;
	if (!strncmp(s->reason, "interrupted", 11))
		return OUTCOME_INTERRUPTED;
	if (!strncmp(s->reason, "timeout", 7))
		return OUTCOME_TIMEOUT;
	return OUTCOME_FAILED;
}

int
status_read(const char *dir, struct member_status *s, char **cause)
{
	char	*path = path_join(dir, "status"), *buf, *line, *save, *eq;
	int	 o = -1;

	memset(s, 0, sizeof *s);
	if (!is_file(path)) {
		free(path);
		return 0;
	}
	if (read_file(path, &buf, NULL, cause) != 0) {
		free(path);
		return -1;
	}
	for (line = strtok_r(buf, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq++ = '\0';
		if (!strcmp(line, "result"))
			s->success = !strcmp(eq, "success");
		else if (!strcmp(line, "outcome"))
			o = outcome_parse(eq);
		else if (!strcmp(line, "reason"))
			snprintf(s->reason, sizeof s->reason, "%s", eq);
		else if (!strcmp(line, "exit_status"))
			s->exit_status = atoi(eq);
		else if (!strcmp(line, "signal"))
			s->signal = atoi(eq);
		else if (!strcmp(line, "attempt"))
			s->attempt = atoi(eq);
		else if (!strcmp(line, "host"))
			snprintf(s->host, sizeof s->host, "%s", eq);
		else if (!strcmp(line, "start_epoch"))
			s->start = atof(eq);
		else if (!strcmp(line, "end_epoch"))
			s->end = atof(eq);
		else if (!strcmp(line, "job"))
			snprintf(s->job, sizeof s->job, "%s", eq);
		else if (!strcmp(line, "attempt_id"))
			parse_attempt_id(s, eq);
	}
	free(buf);
	free(path);
	s->outcome = o > OUTCOME_NONE ? (enum outcome)o : legacy_outcome(s);
	/* result= is what the update trusts: the two must agree. */
	if (s->success != (s->outcome == OUTCOME_OK)) {
		s->success = 0;
		s->outcome = OUTCOME_INVALID;
	}
	return 1;
}

int
write_parameter_files(const struct experiment *e, const struct ensemble *en,
    char **cause)
{
	char	*tmpl = NULL, *dir, *path, *text;
	size_t	 m;
	int	 rc = 0;

	if (e->pformat == PF_TEMPLATE &&
	    read_file(e->ptemplate, &tmpl, NULL, cause) != 0)
		return -1;
	/*
	 * Durability is batched: every file is written and renamed, then one
	 * syncfs makes them and their folders durable, before the caller
	 * publishes ensemble.h5.  A crash before that leaves an iteration
	 * that does not exist, whose files the update writes again.
	 */
	for (m = 0; rc == 0 && m < en->n; m++) {
		dir = member_dir(e, en->iteration, m + 1);
		path = path_join(dir, e->pfile);
		rc = mkdirs(dir, cause);
		if (rc == 0)
			rc = paramfile_render(e, en->theta + m * en->p,
			    en->iteration, m + 1, tmpl, &text, cause);
		if (rc == 0) {
			rc = write_file_unsynced(path, text, strlen(text),
			    cause);
			free(text);
		}
		free(path);
		free(dir);
	}
	free(tmpl);
	if (rc == 0 && en->n > 0) {
		dir = iteration_dir(e, en->iteration);
		rc = sync_filesystem(dir, cause);
		free(dir);
	}
	return rc;
}

int
read_member_output(const struct experiment *e, long it, long m, size_t d,
    double **g, char **cause)
{
	char		*dir = member_dir(e, it, m);
	struct vsource	 src;
	struct stat	 sb;
	size_t		 n = 0, i;
	int		 rc = -1;

	vsource_copy(&src, &e->output);
	free(src.path);
	src.path = path_join(dir, e->output.path);
	src.max = d;
	if (lstat(src.path, &sb) == 0 && !S_ISREG(sb.st_mode) &&
	    !S_ISLNK(sb.st_mode)) {
		failf(cause, "output '%s' is %s, not a file", src.path,
		    file_kind(sb.st_mode));
		goto out;
	}
	if (!wait_file(src.path, 0)) {
		failf(cause, "output '%s' was not written", src.path);
		goto out;
	}
	if (vec_read(&src, g, &n, cause) != 0)
		goto out;
	if (n != d) {
		failf(cause, "output '%s' has %zu values, expected %zu (the "
		    "number of observations)", src.path, n, d);
		goto bad;
	}
	for (i = 0; i < n; i++)
		if (!isfinite((*g)[i])) {
			failf(cause, "output '%s' value %zu is %s", src.path, i + 1,
			    isnan((*g)[i]) ? "NaN" : "infinite");
			goto bad;
		}
	rc = 0;
	goto out;
bad:
	free(*g);
	*g = NULL;
out:
	vsource_release(&src);
	free(dir);
	return rc;
}

int
keep_member_output(const char *dir, const double *g, size_t d, char **cause)
{
	char	*path = path_join(dir, MEMBER_KEPT);
	int	 rc;

	/* d came from observations.h5's shape: d * 8 does not overflow. */
	rc = write_file_atomic(path, g, d * sizeof *g, cause);
	free(path);
	return rc;
}

/* Exactly want bytes of fd into buf; -1 when the file had fewer. */
static int
read_exact(int fd, void *buf, size_t want)
{
	char	*p = buf;
	ssize_t	 r;

	while (want > 0) {
		r = read(fd, p, want);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		want -= (size_t)r;
	}
	return 0;
}

/*
 * MEMBER_KEPT at path into g (d values): calib wrote it, but it sits where
 * the model ran, so it is read as untrusted: a regular file of exactly
 * d * 8 bytes, finite.
 */
static int
read_kept(const char *path, size_t d, double *g, char **cause)
{
	struct stat	 sb;
	size_t		 want, i;
	int		 fd, rc = -1;

	if (size_mul(d, sizeof *g, CALIB_MAX_VALUES * sizeof *g, &want) != 0)
		return failf(cause, "%s: %zu values are too many", path, d);
	if (!wait_file(path, fs_lag()))
		return failf(cause, "%s: missing, though the status says ok",
		    path);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return failf(cause, "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode))
		failf(cause, "%s: not a regular file", path);
	else if (sb.st_size < 0 || (unsigned long long)sb.st_size != want)
		failf(cause, "%s: %lld bytes, expected %zu (%zu float64 "
		    "values, one per observation)", path,
		    (long long)sb.st_size, want, d);
	else if (read_exact(fd, g, want) != 0)
		failf(cause, "%s: shorter than %zu bytes", path, want);
	else
		rc = 0;
	close(fd);
	for (i = 0; rc == 0 && i < d; i++)
		if (!isfinite(g[i]))
			rc = failf(cause, "%s: value %zu is not finite", path,
			    i + 1);
	return rc;
}

int
read_member_values(const struct experiment *e, long it, long m, size_t d,
    const struct member_status *st, double *g, int keep, char **cause)
{
	char	*dir, *path;
	double	*v;
	int	 rc;

	dir = member_dir(e, it, m);
	if (st->attempt_id[0] != '\0') {
		path = path_join(dir, MEMBER_KEPT);
		rc = read_kept(path, d, g, cause);
		free(path);
		free(dir);
		return rc;
	}
	/*
	 * The compatibility path: a status file from before calib kept the
	 * values has no attempt_id, and its output is all there is.  The
	 * update keeps it now, as calib exec would have, so that results.h5
	 * can name it.
	 */
	if ((rc = read_member_output(e, it, m, d, &v, cause)) == 0) {
		memcpy(g, v, d * sizeof *g);
		free(v);
		if (keep)
			rc = keep_member_output(dir, g, d, cause);
	}
	free(dir);
	return rc;
}

/*
 * The public readers of HDF5 state: each file is first read in a child
 * process (proc_probe), so that a file the HDF5 library crashes on ends in
 * an error naming it, not in a crash of calib.
 */
enum probe_what { PROBE_ENSEMBLE, PROBE_RESULTS, PROBE_OUTCOMES,
    PROBE_OBSERVATIONS, PROBE_COUNT };

struct probe_args {
	const struct experiment	*e;
	long			 it;
	enum probe_what		 what;
};

/* In the child: the reader itself; what it read goes with the child. */
static int
state_probe(void *arg, char **cause)
{
	struct probe_args	*a = arg;
	struct ensemble		 en;
	struct results		 r;
	struct observations	 o;
	size_t			 d;

	switch (a->what) {
	case PROBE_ENSEMBLE:
		return ensemble_read_direct(a->e, a->it, &en, cause);
	case PROBE_RESULTS:
		return results_read_direct(a->e, a->it, &r, 1, cause);
	case PROBE_OUTCOMES:
		return results_read_direct(a->e, a->it, &r, 0, cause);
	case PROBE_OBSERVATIONS:
		return observations_read_direct(a->e, &o, cause);
	default:
		return observations_count_direct(a->e, &d, cause);
	}
}

/* Probe path (freed here) with reader what; 0 when it survived. */
static int
probed(const struct experiment *e, long it, enum probe_what what,
    char *path, char **cause)
{
	struct probe_args	 a = { e, it, what };
	int			 r;

	r = proc_probe(state_probe, &a, path, cause);
	free(path);
	return r;
}

int
ensemble_read(const struct experiment *e, long it, struct ensemble *en,
    char **cause)
{
	if (probed(e, it, PROBE_ENSEMBLE, iteration_file(e, it, "ensemble.h5"),
	    cause) != 0) {
		memset(en, 0, sizeof *en);
		return -1;
	}
	return ensemble_read_direct(e, it, en, cause);
}

/* results.h5, probed first (with or without its outputs). */
static int
results_read_probed(const struct experiment *e, long it, struct results *r,
    int outputs, char **cause)
{
	if (probed(e, it, outputs ? PROBE_RESULTS : PROBE_OUTCOMES,
	    iteration_file(e, it, "results.h5"), cause) != 0) {
		memset(r, 0, sizeof *r);
		return -1;
	}
	return results_read_direct(e, it, r, outputs, cause);
}

int
results_read(const struct experiment *e, long it, struct results *r,
    char **cause)
{
	if (results_read_probed(e, it, r, 1, cause) != 0)
		return -1;
	if (r->g == NULL && results_load_outputs(e, r, cause) != 0) {
		results_release(r);
		return -1;
	}
	return 0;
}

int
results_read_outcomes(const struct experiment *e, long it, struct results *r,
    char **cause)
{
	return results_read_probed(e, it, r, 0, cause);
}

int
observations_read(const struct experiment *e, struct observations *o,
    char **cause)
{
	if (probed(e, 0, PROBE_OBSERVATIONS, path_join(e->output_dir,
	    "observations.h5"), cause) != 0) {
		memset(o, 0, sizeof *o);
		return -1;
	}
	return observations_read_direct(e, o, cause);
}

int
observations_count(const struct experiment *e, size_t *d, char **cause)
{
	char	*path = path_join(e->output_dir, "observations.h5");
	int	 rc = 0;

	if (!observations_count_known(e, d)) {
		rc = probed(e, 0, PROBE_COUNT, xstrdup(path), cause) != 0 ||
		    observations_count_direct(e, d, cause) != 0 ? -1 : 0;
		if (rc == 0)
			count_remember(path, *d);
	}
	free(path);
	return rc;
}
