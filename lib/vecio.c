/*
 * Reading vectors of doubles.  The .npy header parser is written here by
 * hand: Debian packages no C reader for NumPy's format, and the format is a
 * short fixed header (a magic string, a version, and a Python dict literal).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsio.h"
#include "lib/util.h"
#include "lib/vecio.h"

/* Only the reference is weak, not vech5.c's definition: see vecio.h. */
#pragma weak vec_read_h5

static int
ends_with(const char *s, const char *suf)
{
	size_t	 a = strlen(s), b = strlen(suf);

	return a >= b && !strcasecmp(s + a - b, suf);
}

enum vformat
vformat_of(const char *path)
{
	if (ends_with(path, ".h5") || ends_with(path, ".hdf5") ||
	    ends_with(path, ".he5") || ends_with(path, ".nc"))
		return VF_HDF5;
	if (ends_with(path, ".npy"))
		return VF_NPY;
	if (ends_with(path, ".f64") || ends_with(path, ".bin"))
		return VF_F64;
	return VF_TEXT;
}

void
vsource_release(struct vsource *s)
{
	free(s->path);
	free(s->dataset);
	free(s->values);
	memset(s, 0, sizeof *s);
}

void
vsource_copy(struct vsource *d, const struct vsource *s)
{
	*d = *s;
	d->path = s->path ? xstrdup(s->path) : NULL;
	d->dataset = s->dataset ? xstrdup(s->dataset) : NULL;
	if (s->values) {
		d->values = xmallocarray(s->n, sizeof *d->values);
		memcpy(d->values, s->values, s->n * sizeof *d->values);
	}
}

static int
read_text(const char *path, double **out, size_t *n, char **cause)
{
	char	*buf, *p, *end;
	size_t	 len, cap = 0, k = 0, line = 1;
	char	*bol;
	double	*v = NULL;

	if (read_file(path, &buf, &len, cause) != 0)
		return -1;
	if (strlen(buf) != len) {
		free(buf);
		return failf(cause, "%s: not a text file (NUL byte)", path);
	}
	for (p = bol = buf; *p;) {
		if (*p == '\n') {
			line++;
			bol = ++p;
			continue;
		}
		if (isspace((unsigned char)*p) || *p == ',' || *p == ';') {
			p++;
			continue;
		}
		if (*p == '#') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		errno = 0;
		if (k == cap) {
			cap = cap ? cap * 2 : 1024;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[k] = strtod(p, &end);
		if (end == p || (*end && !isspace((unsigned char)*end) &&
		    *end != ',' && *end != ';' && *end != '#')) {
			size_t tl = strcspn(p, " \t\r\n,;#");
			/* Whatever the model wrote: escaped, cut at 40. */
			char *q = quote_bytes(p, tl, 40);

			failf(cause, "%s:%zu:%zu: not a number: '%s'", path, line,
			    (size_t)(p - bol) + 1, q);
			free(q);
			free(v);
			free(buf);
			return -1;
		}
		k++;
		p = end;
	}
	free(buf);
	*out = v ? v : xmalloc(sizeof *v);
	*n = k;
	return 0;
}

static uint64_t
le64(const unsigned char *b)
{
	uint64_t	 x = 0;
	int		 i;

	for (i = 7; i >= 0; i--)
		x = x << 8 | b[i];
	return x;
}

static uint32_t
le32(const unsigned char *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
}

static double
bits_f64(uint64_t u)
{
	double	 d;

	memcpy(&d, &u, sizeof d);
	return d;
}

static double
bits_f32(uint32_t u)
{
	float	 f;

	memcpy(&f, &u, sizeof f);
	return f;
}

static int
read_f64(const char *path, double **out, size_t *n, char **cause)
{
	char	*buf;
	size_t	 len, i;
	double	*v;

	if (read_file(path, &buf, &len, cause) != 0)
		return -1;
	if (len % 8 != 0) {
		free(buf);
		return failf(cause, "%s: size %zu is not a multiple of 8 (raw "
		    "little-endian float64)", path, len);
	}
	v = xmallocarray(len / 8 ? len / 8 : 1, sizeof *v);
	for (i = 0; i < len / 8; i++)
		v[i] = bits_f64(le64((unsigned char *)buf + 8 * i));
	free(buf);
	*out = v;
	*n = len / 8;
	return 0;
}

/* Find 'key': in the header dict and return a pointer past the colon. */
static const char *
npy_field(const char *h, const char *key)
{
	char		 pat[32];
	const char	*p;

	snprintf(pat, sizeof pat, "'%s'", key);
	if ((p = strstr(h, pat)) == NULL)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p != ':')
		return NULL;
	p++;
	while (*p == ' ')
		p++;
	return p;
}
/* What a .npy header says of the data that follows it. */
struct npy {
	size_t	 dims[32], ndim, total, esz;
	int	 fortran, big, isf;
};

/* The header's shape, with the element count checked for overflow. */
static int
npy_shape(const char *p, struct npy *h)
{
	char	*end;

	h->total = 1;
	for (p++; *p && *p != ')';) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == ')')
			break;
		if (h->ndim == 32 || *p < '0' || *p > '9')
			return -1;
		errno = 0;
		h->dims[h->ndim] = strtoul(p, &end, 10);
		if (errno || (h->dims[h->ndim] != 0 &&
		    h->total > SIZE_MAX / 8 / h->dims[h->ndim]))
			return -1;
		h->total *= h->dims[h->ndim++];
		p = end;
	}
	return *p == ')' ? 0 : -1;
}

/* The dictionary of header text hdr: dtype, order, shape. */
static int
npy_header(const char *path, const char *hdr, struct npy *h, char **cause)
{
	const char	*descr, *p;

	memset(h, 0, sizeof *h);
	descr = npy_field(hdr, "descr");
	p = npy_field(hdr, "fortran_order");
	h->fortran = p && !strncmp(p, "True", 4);
	if (descr == NULL || p == NULL || (p = npy_field(hdr, "shape")) == NULL ||
	    *p != '(' || npy_shape(p, h) != 0)
		return failf(cause, "%s: malformed .npy header", path);
	if (!strncmp(descr, "'<f8'", 5) || !strncmp(descr, "'>f8'", 5)) {
		h->esz = 8;
		h->isf = 1;
	} else if (!strncmp(descr, "'<f4'", 5) || !strncmp(descr, "'>f4'", 5))
		h->esz = 4;
	else
		return failf(cause, "%s: dtype %.6s is not supported (use "
		    "float64 or float32)", path, descr);
	h->big = descr[1] == '>';
	return 0;
}

/* Element i (in C order) of the data, as a double. */
static double
npy_value(const struct npy *h, const char *data, size_t i)
{
	unsigned char	 b[8], t;
	size_t		 src = i, rem = i, stride = 1, c[32], j;

	if (h->fortran && h->ndim > 1) {
		/* C-order index i -> position in Fortran storage. */
		for (j = h->ndim; j-- > 0;) {
			c[j] = rem % h->dims[j];
			rem /= h->dims[j];
		}
		src = 0;
		for (j = 0; j < h->ndim; j++) {
			src += c[j] * stride;
			stride *= h->dims[j];
		}
	}
	memcpy(b, data + src * h->esz, h->esz);
	if (h->big)
		for (j = 0; j < h->esz / 2; j++) {
			t = b[j];
			b[j] = b[h->esz - 1 - j];
			b[h->esz - 1 - j] = t;
		}
	return h->isf ? bits_f64(le64(b)) : bits_f32(le32(b));
}


static int
read_npy(const char *path, double **out, size_t *n, char **cause)
{
	const unsigned char	*u;
	struct npy		 h;
	char			*buf, *hdr;
	size_t			 len, hlen, off, i;
	double			*v;

	if (read_file(path, &buf, &len, cause) != 0)
		return -1;
	u = (unsigned char *)buf;
	if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
		free(buf);
		return failf(cause, "%s: not a .npy file", path);
	}
	hlen = u[6] == 1 ? (size_t)(u[8] | u[9] << 8) : len >= 12 ?
	    le32(u + 8) : len;
	off = u[6] == 1 ? 10 : 12;
	if (off > len || hlen > len - off) {
		free(buf);
		return failf(cause, "%s: truncated .npy header", path);
	}
	hdr = strndup(buf + off, hlen);
	off += hlen;
	if (npy_header(path, hdr, &h, cause) != 0) {
		free(hdr);
		free(buf);
		return -1;
	}
	free(hdr);
	if (len - off != h.total * h.esz) {
		free(buf);
		return failf(cause, "%s: has %zu data bytes, shape says %zu", path,
		    len - off, h.total * h.esz);
	}
	v = xmallocarray(h.total ? h.total : 1, sizeof *v);
	for (i = 0; i < h.total; i++)
		v[i] = npy_value(&h, buf + off, i);
	free(buf);
	*out = v;
	*n = h.total;
	return 0;
}

int
vec_read(const struct vsource *s, double **out, size_t *n, char **cause)
{
	switch (s->format) {
	case VF_INLINE:
		*out = xmallocarray(s->n, sizeof **out);
		memcpy(*out, s->values, s->n * sizeof **out);
		*n = s->n;
		return 0;
	case VF_TEXT:
		return read_text(s->path, out, n, cause);
	case VF_HDF5:
		/* Not linked into calib's front (cmd/main.c): see vecio.h. */
		if (vec_read_h5 == NULL)
			return failf(cause, "%s: HDF5 files are read by calib's "
			    "core, which this process has not loaded", s->path);
		return vec_read_h5(s->path, s->dataset, s->max ? s->max :
		    CALIB_MAX_VALUES, out, n, cause);
	case VF_NPY:
		return read_npy(s->path, out, n, cause);
	case VF_F64:
		return read_f64(s->path, out, n, cause);
	}
	return failf(cause, "unknown format");
}
