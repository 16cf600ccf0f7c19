/*
 * calib.yaml(5): the experiment file.  libyaml loads the document with the
 * position of every node, so each error names file:line:column and the key.
 * Unknown keys are errors, with the nearest known key suggested.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "lib/config.h"
#include "lib/buf.h"
#include "lib/fsio.h"
#include "lib/util.h"

/* Upper bounds of sizes and counts, documented in calib.yaml(5). */
#define MAX_COMPONENTS	1000000L	/* calibrated values per member */
#define MAX_COUNT	1000000L	/* nodes, tasks, cpus, jobs at once */
#define DURATION_MAX	(10 * 365 * 86400.0)	/* seconds */

struct yctx {
	const char	*file;
	int		 frozen;	/* a frozen copy: inputs need not exist */
	yaml_document_t	 doc;
	char		**cause;
};

static int
yerr(struct yctx *y, yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
yerr(struct yctx *y, yaml_node_t *n, const char *key, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (n != NULL)
		failf(y->cause, "%s:%zu:%zu: '%s': %s", y->file,
		    n->start_mark.line + 1, n->start_mark.column + 1, key,
		    msg ? msg : "error");
	else
		failf(y->cause, "%s: '%s': %s", y->file, key, msg ? msg : "error");
	free(msg);
	return -1;
}

static yaml_node_t *
node(struct yctx *y, int idx)
{
	return yaml_document_get_node(&y->doc, idx);
}

static const char *
scalar(yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static char *
subkey(const char *parent, const char *key)
{
	return parent[0] ? xasprintf("%s.%s", parent, key) : xstrdup(key);
}

/*
 * Check that mapping n (at key path `where`) has only keys from `allowed`
 * (NULL-terminated), each at most once.
 */
static int
check_keys(struct yctx *y, yaml_node_t *n, const char *where,
    const char *const *allowed)
{
	yaml_node_pair_t	*p, *q;
	const char		*k, *best;
	size_t			 d, bestd;
	int			 i, ok;
	char			*path;

	if (n->type != YAML_MAPPING_NODE)
		return yerr(y, n, where, "expected a mapping");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node(y, p->key);

		k = scalar(kn);
		if (k == NULL)
			return yerr(y, kn, where, "keys must be plain strings");
		for (q = n->data.mapping.pairs.start; q < p; q++)
			if (!strcmp(scalar(node(y, q->key)), k)) {
				path = subkey(where, k);
				yerr(y, kn, path, "duplicate key");
				free(path);
				return -1;
			}
		if (allowed == NULL)
			continue;
		ok = 0;
		best = NULL;
		bestd = (size_t)-1;
		for (i = 0; allowed[i]; i++) {
			if (!strcmp(allowed[i], k)) {
				ok = 1;
				break;
			}
			d = edit_distance(allowed[i], k);
			/* "gpus" means gpus_per_task more than qos. */
			if (strlen(k) >= 3 && !strncmp(allowed[i], k, strlen(k)))
				d = 1;
			if (d < bestd) {
				bestd = d;
				best = allowed[i];
			}
		}
		if (ok)
			continue;
		path = subkey(where, k);
		if (best && bestd <= 3)
			failf(y->cause, "%s:%zu:%zu: unknown key '%s' (did you mean "
			    "'%s'?)", y->file, kn->start_mark.line + 1,
			    kn->start_mark.column + 1, path, best);
		else
			failf(y->cause, "%s:%zu:%zu: unknown key '%s'", y->file,
			    kn->start_mark.line + 1, kn->start_mark.column + 1,
			    path);
		free(path);
		return -1;
	}
	return 0;
}

static yaml_node_t *
get(struct yctx *y, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t	*p;
	const char		*k;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		k = scalar(node(y, p->key));
		if (k && !strcmp(k, key))
			return node(y, p->value);
	}
	return NULL;
}

static int
parse_double(const char *s, double *out)
{
	char	*end;
	char	 buf[8];
	size_t	 i;

	if (s == NULL || *s == '\0')
		return -1;
	/* YAML 1.1 spells infinity and NaN with a leading dot. */
	for (i = 0; s[i] && i < sizeof buf - 1; i++)
		buf[i] = tolower((unsigned char)s[i]);
	buf[i] = '\0';
	if (!strcmp(buf, ".inf") || !strcmp(buf, "+.inf")) {
		*out = INFINITY;
		return 0;
	}
	if (!strcmp(buf, "-.inf")) {
		*out = -INFINITY;
		return 0;
	}
	if (!strcmp(buf, ".nan"))
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	if (*end != '\0' || isnan(*out) || errno == ERANGE)
		return -1;
	return 0;
}

/* A number at map.key; `need` says whether it must be present. */
static int
get_double(struct yctx *y, yaml_node_t *map, const char *where, const char *key,
    int need, double *out)
{
	yaml_node_t	*n = get(y, map, key);
	char		*path = subkey(where, key);
	int		 rc = 0;

	if (n == NULL) {
		if (need)
			rc = yerr(y, map, path, "missing (a number)");
	} else if (parse_double(scalar(n), out) != 0)
		rc = yerr(y, n, path, "expected a number, got '%s'",
		    scalar(n) ? scalar(n) : "a collection");
	free(path);
	return rc;
}

static int
get_long(struct yctx *y, yaml_node_t *map, const char *where, const char *key,
    int need, long min, long max, long *out)
{
	yaml_node_t	*n = get(y, map, key);
	char		*path = subkey(where, key), *end;
	const char	*s;
	long		 v;
	int		 rc = 0;

	if (n == NULL) {
		if (need)
			rc = yerr(y, map, path, "missing (a whole number)");
		free(path);
		return rc;
	}
	s = scalar(n);
	errno = 0;
	v = s ? strtol(s, &end, 10) : 0;
	if (s == NULL || *s == '\0' || *end != '\0' || errno)
		rc = yerr(y, n, path, "expected a whole number, got '%s'",
		    s ? s : "a collection");
	else if (v < min)
		rc = yerr(y, n, path, "must be at least %ld, got %ld", min, v);
	else if (v > max)
		rc = yerr(y, n, path, "must be at most %ld, got %ld", max, v);
	else
		*out = v;
	free(path);
	return rc;
}

static int
get_string(struct yctx *y, yaml_node_t *map, const char *where, const char *key,
    int need, char **out)
{
	yaml_node_t	*n = get(y, map, key);
	char		*path = subkey(where, key);
	int		 rc = 0;

	if (n == NULL) {
		if (need)
			rc = yerr(y, map, path, "missing (a string)");
	} else if (scalar(n) == NULL || *scalar(n) == '\0')
		rc = yerr(y, n, path, "expected a non-empty string");
	else {
		free(*out);
		*out = xstrdup(scalar(n));
	}
	free(path);
	return rc;
}

static int
valid_name(const char *s, int allow_dot)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' &&
		    !(allow_dot && *s == '.'))
			return 0;
	return 1;
}

static int
valid_ident(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

/* A list of numbers, or one number repeated `size` times. */
static int
get_values(struct yctx *y, yaml_node_t *n, const char *path, size_t *size,
    double **out)
{
	yaml_node_item_t	*it;
	size_t			 i, k;
	double			 v;

	if (n->type == YAML_SCALAR_NODE) {
		if (parse_double(scalar(n), &v) != 0 || !isfinite(v))
			return yerr(y, n, path, "expected a finite number, got '%s'",
			    scalar(n));
		*out = xmallocarray(*size, sizeof **out);
		for (i = 0; i < *size; i++)
			(*out)[i] = v;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return yerr(y, n, path, "expected a number or a list of numbers");
	k = n->data.sequence.items.top - n->data.sequence.items.start;
	if (k == 0)
		return yerr(y, n, path, "the list is empty");
	*out = xmallocarray(k, sizeof **out);
	for (i = 0, it = n->data.sequence.items.start; i < k; i++, it++) {
		yaml_node_t *e = node(y, *it);

		if (parse_double(scalar(e), &(*out)[i]) != 0 || !isfinite((*out)[i])) {
			free(*out);
			*out = NULL;
			return yerr(y, e, path, "expected a finite number, got '%s'",
			    scalar(e) ? scalar(e) : "a collection");
		}
	}
	*size = k;
	return 0;
}

static int
parse_prior(struct yctx *y, yaml_node_t *pn, const char *where, struct prior *pr)
{
	static const char *const kinds[] = { "normal", "lognormal", "uniform",
	    "constrained_gaussian", NULL };
	static const char *const k_normal[] = { "mean", "std", NULL };
	static const char *const k_lognormal[] = { "mu", "sigma", NULL };
	static const char *const k_uniform[] = { "lower", "upper", NULL };
	static const char *const k_cg[] = { "mean", "std", "lower", "upper", NULL };
	yaml_node_pair_t	*p;
	yaml_node_t		*dn;
	const char		*kind;
	char			*path, *cause = NULL;
	int			 rc = -1;

	if (check_keys(y, pn, where, kinds) != 0)
		return -1;
	if (pn->data.mapping.pairs.top - pn->data.mapping.pairs.start != 1)
		return yerr(y, pn, where, "expected exactly one distribution "
		    "(normal, lognormal, uniform or constrained_gaussian)");
	p = pn->data.mapping.pairs.start;
	kind = scalar(node(y, p->key));
	dn = node(y, p->value);
	path = subkey(where, kind);
	pr->lower = -INFINITY;
	pr->upper = INFINITY;
	if (!strcmp(kind, "normal")) {
		pr->kind = PRIOR_NORMAL;
		if (check_keys(y, dn, path, k_normal) ||
		    get_double(y, dn, path, "mean", 1, &pr->a) ||
		    get_double(y, dn, path, "std", 1, &pr->b))
			goto out;
	} else if (!strcmp(kind, "lognormal")) {
		pr->kind = PRIOR_LOGNORMAL;
		if (check_keys(y, dn, path, k_lognormal) ||
		    get_double(y, dn, path, "mu", 1, &pr->a) ||
		    get_double(y, dn, path, "sigma", 1, &pr->b))
			goto out;
	} else if (!strcmp(kind, "uniform")) {
		pr->kind = PRIOR_UNIFORM;
		if (check_keys(y, dn, path, k_uniform) ||
		    get_double(y, dn, path, "lower", 1, &pr->a) ||
		    get_double(y, dn, path, "upper", 1, &pr->b))
			goto out;
	} else {
		pr->kind = PRIOR_CGAUSS;
		if (check_keys(y, dn, path, k_cg) ||
		    get_double(y, dn, path, "mean", 1, &pr->a) ||
		    get_double(y, dn, path, "std", 1, &pr->b) ||
		    get_double(y, dn, path, "lower", 0, &pr->lower) ||
		    get_double(y, dn, path, "upper", 0, &pr->upper))
			goto out;
	}
	if (prior_setup(pr, &cause) != 0) {
		yerr(y, dn, path, "%s", cause);
		free(cause);
		goto out;
	}
	rc = 0;
out:
	free(path);
	return rc;
}

static int
parse_params(struct yctx *y, yaml_node_t *root, struct experiment *e)
{
	static const char *const keys[] = { "prior", "size", "fixed", NULL };
	yaml_node_t		*ps = get(y, root, "parameters"), *pn, *f, *sz;
	yaml_node_pair_t	*p;
	struct param		*par;
	char			*path;
	long			 size;
	size_t			 n, off = 0;

	if (ps == NULL)
		return yerr(y, NULL, "parameters", "missing (a mapping of "
		    "parameter names to priors)");
	if (check_keys(y, ps, "parameters", NULL) != 0)
		return -1;
	n = ps->data.mapping.pairs.top - ps->data.mapping.pairs.start;
	if (n == 0)
		return yerr(y, ps, "parameters", "no parameters");
	e->params = xcalloc(n, sizeof *e->params);
	for (p = ps->data.mapping.pairs.start; p < ps->data.mapping.pairs.top; p++) {
		par = &e->params[e->nparams++];
		par->name = xstrdup(scalar(node(y, p->key)));
		path = subkey("parameters", par->name);
		pn = node(y, p->value);
		if (!valid_ident(par->name)) {
			yerr(y, node(y, p->key), path, "a parameter name is a "
			    "letter or '_' followed by letters, digits or '_'");
			goto bad;
		}
		if (check_keys(y, pn, path, keys) != 0)
			goto bad;
		size = 1;
		if (get_long(y, pn, path, "size", 0, 1, MAX_COMPONENTS, &size) != 0)
			goto bad;
		par->size = size;
		par->vector = (sz = get(y, pn, "size")) != NULL;
		f = get(y, pn, "fixed");
		if ((f != NULL) == (get(y, pn, "prior") != NULL)) {
			yerr(y, pn, path, "expected either 'prior' or 'fixed'");
			goto bad;
		}
		if (f != NULL) {
			char *fp = subkey(path, "fixed");
			size_t k = par->size;
			int rc;

			par->fixed = 1;
			par->prior.kind = PRIOR_FIXED;
			rc = get_values(y, f, fp, &k, &par->values);
			if (rc == 0 && f->type == YAML_SEQUENCE_NODE) {
				if (sz != NULL && k != par->size)
					rc = yerr(y, f, fp, "has %zu values but size "
					    "is %zu", k, par->size);
				par->vector = 1;
				par->size = k;
			}
			free(fp);
			if (rc != 0)
				goto bad;
		} else {
			char *pp = subkey(path, "prior");

			if (parse_prior(y, get(y, pn, "prior"), pp, &par->prior)) {
				free(pp);
				goto bad;
			}
			free(pp);
			par->offset = off;
			off += par->size;
		}
		free(path);
		continue;
bad:
		free(path);
		return -1;
	}
	e->ncalib = off;
	if (off == 0)
		return yerr(y, ps, "parameters", "every parameter is fixed; "
		    "nothing to calibrate");
	return 0;
}

/* A file spec "FILE", "FILE.h5:/dataset", or an inline list of numbers. */
static int
parse_source(struct yctx *y, yaml_node_t *n, const char *path, int allow_inline,
    struct vsource *src)
{
	const char	*s, *colon;
	char		*file;
	size_t		 k = 0;

	if (n->type == YAML_SEQUENCE_NODE && allow_inline) {
		src->format = VF_INLINE;
		if (get_values(y, n, path, &k, &src->values) != 0)
			return -1;
		src->n = k;
		return 0;
	}
	if ((s = scalar(n)) == NULL || *s == '\0')
		return yerr(y, n, path, allow_inline ? "expected a file name or "
		    "a list of numbers" : "expected a file name");
	colon = strstr(s, ":/");
	file = colon ? strndup(s, colon - s) : xstrdup(s);
	src->format = vformat_of(file);
	if (src->format == VF_HDF5) {
		if (colon == NULL) {
			free(file);
			return yerr(y, n, path, "an HDF5 file needs a dataset: "
			    "'%s:/dataset'", s);
		}
		src->dataset = xstrdup(colon + 1);
	} else if (colon != NULL) {
		free(file);
		file = xstrdup(s);
	}
	src->path = file;
	return 0;
}

/* Make a source's relative path absolute against the experiment folder. */
static int
resolve_source(struct yctx *y, yaml_node_t *n, const char *path, const char *dir,
    struct vsource *src)
{
	char	*abs;

	if (src->format == VF_INLINE)
		return 0;
	abs = path_join(dir, src->path);
	free(src->path);
	src->path = abs;
	if (!y->frozen && !is_file(abs))
		return yerr(y, n, path, "file '%s' not found", abs);
	return 0;
}

static int
parse_noise(struct yctx *y, yaml_node_t *nn, const char *dir, struct noise *no)
{
	static const char *const keys[] = { "std", "variance", "covariance", NULL };
	const char	*where = "observations.noise";
	const char	*kind;
	yaml_node_t	*v;
	char		*path;
	int		 rc = -1;
	double		 x;

	if (check_keys(y, nn, where, keys) != 0)
		return -1;
	if (nn->data.mapping.pairs.top - nn->data.mapping.pairs.start != 1)
		return yerr(y, nn, where, "expected exactly one of 'std', "
		    "'variance' or 'covariance'");
	kind = scalar(node(y, nn->data.mapping.pairs.start->key));
	v = node(y, nn->data.mapping.pairs.start->value);
	path = subkey(where, kind);
	no->kind = !strcmp(kind, "std") ? NOISE_STD :
	    !strcmp(kind, "variance") ? NOISE_VARIANCE : NOISE_COVARIANCE;
	if (no->kind != NOISE_COVARIANCE && parse_double(scalar(v), &x) == 0) {
		if (!(x > 0) || !isfinite(x)) {
			yerr(y, v, path, "must be positive and finite, got '%s'",
			    scalar(v));
			goto out;
		}
		no->scalar = 1;
		no->value = x;
		rc = 0;
		goto out;
	}
	if (parse_source(y, v, path, no->kind != NOISE_COVARIANCE, &no->src) ||
	    resolve_source(y, v, path, dir, &no->src))
		goto out;
	if (no->kind == NOISE_COVARIANCE && no->src.format != VF_HDF5) {
		yerr(y, v, path, "a covariance matrix is read from an HDF5 "
		    "dataset: 'FILE.h5:/dataset'");
		goto out;
	}
	rc = 0;
out:
	free(path);
	return rc;
}

/* forward_model.command: the program and its arguments, no shell. */
static int
fm_command(struct yctx *y, yaml_node_t *fm, struct experiment *e)
{
	yaml_node_t		*c, *n;
	yaml_node_item_t	*it;
	char			*why = NULL;
	size_t			 i;

	if ((c = get(y, fm, "command")) == NULL)
		return yerr(y, fm, "forward_model.command", "missing (a list: "
		    "the program and its arguments)");
	if (c->type != YAML_SEQUENCE_NODE ||
	    c->data.sequence.items.top == c->data.sequence.items.start)
		return yerr(y, c, "forward_model.command", "expected a non-empty "
		    "list: the program and its arguments (no shell is used)");
	e->ncommand = c->data.sequence.items.top - c->data.sequence.items.start;
	e->command = xcalloc(e->ncommand + 1, sizeof *e->command);
	for (i = 0, it = c->data.sequence.items.start; i < e->ncommand; i++, it++) {
		n = node(y, *it);
		if (scalar(n) == NULL)
			return yerr(y, n, "forward_model.command", "expected "
			    "strings");
		e->command[i] = xstrdup(scalar(n));
		if (i == 0) {
			e->command_line = n->start_mark.line + 1;
			e->command_col = n->start_mark.column + 1;
		}
		if (command_expand(e->command[i], NULL, NULL, &why) != 0) {
			yerr(y, n, "forward_model.command", "%s", why);
			free(why);
			return -1;
		}
	}
	return 0;
}

/*
 * Why name cannot be a file of the member's folder, or NULL when it can:
 * a relative path that stays inside the folder, printable, and none of
 * the files calib keeps there itself.
 */
static const char *
member_file_why(const char *name)
{
	/* kept.f64 is lib/state.h's MEMBER_KEPT. */
	static const char *const own[] = { "status", "model.log", "exec.log",
	    ".lock", "kept.f64", NULL };
	const char	*p, *base;
	size_t		 i, k;

	if (*name == '\0' || *name == '/')
		return "a relative path inside the member's folder";
	for (p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "a name without control characters";
	for (p = name; *p; p += k + (p[k] == '/')) {
		k = strcspn(p, "/");
		if (k == 0 || (k == 2 && !strncmp(p, "..", 2)) ||
		    (k == 1 && *p == '.'))
			return "a relative path inside the member's folder, "
			    "without '..', '.' or empty parts";
	}
	base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	for (i = 0; own[i]; i++)
		if (!strcmp(base, own[i]) && base == name)
			return "not one of calib's own files (status, model.log, "
			    "exec.log, .lock, kept.f64)";
	/* Nor the temporary names those written atomically get. */
	if (base == name && (!strncmp(base, ".status", 7) ||
	    !strncmp(base, ".kept.f64", 9)))
		return "not one of calib's own files (status, model.log, "
		    "exec.log, .lock, kept.f64)";
	return NULL;
}

/* forward_model.parameter_file: name, format, template. */
static int
fm_parameter_file(struct yctx *y, yaml_node_t *fm, struct experiment *e)
{
	static const char *const pkeys[] = { "name", "format", "template", NULL };
	static const char *const pfmts[] = { "toml", "json", "yaml", "env",
	    "template", NULL };
	static const char *const where = "forward_model.parameter_file";
	yaml_node_t	*pf;
	char		*fmt = NULL, *s = NULL;
	size_t		 i;
	int		 rc = -1;

	e->pfile = xstrdup("parameters.toml");
	e->pformat = PF_TOML;
	if ((pf = get(y, fm, "parameter_file")) == NULL)
		return 0;
	if (check_keys(y, pf, where, pkeys) ||
	    get_string(y, pf, where, "name", 0, &e->pfile) ||
	    get_string(y, pf, where, "format", 0, &fmt) ||
	    get_string(y, pf, where, "template", 0, &s))
		goto out;
	if (strchr(e->pfile, '/') || member_file_why(e->pfile)) {
		yerr(y, get(y, pf, "name"), "forward_model.parameter_file.name",
		    "'%s': expected a file name without '/', %s",
		    e->pfile, strchr(e->pfile, '/') ? "in the member's folder" :
		    member_file_why(e->pfile));
		goto out;
	}
	if (fmt != NULL) {
		for (i = 0; pfmts[i] && strcmp(pfmts[i], fmt); i++)
			;
		if (pfmts[i] == NULL) {
			yerr(y, get(y, pf, "format"),
			    "forward_model.parameter_file.format", "expected "
			    "toml, json, yaml, env or template, got '%s'", fmt);
			goto out;
		}
		e->pformat = i;
	}
	if ((e->pformat == PF_TEMPLATE) != (s != NULL)) {
		yerr(y, pf, where, "format 'template' and the key 'template' go "
		    "together");
		goto out;
	}
	if (s != NULL) {
		e->ptemplate = path_join(e->dir, s);
		if (!y->frozen && !is_file(e->ptemplate)) {
			yerr(y, get(y, pf, "template"),
			    "forward_model.parameter_file.template",
			    "file '%s' not found", e->ptemplate);
			goto out;
		}
	}
	rc = 0;
out:
	free(fmt);
	free(s);
	return rc;
}

/* forward_model.output: file, format, HDF5 dataset. */
static int
fm_output(struct yctx *y, yaml_node_t *fm, struct experiment *e)
{
	static const char *const okeys[] = { "file", "dataset", "format", NULL };
	static const char *const ofmts[] = { "text", "hdf5", "npy", "f64", NULL };
	static const char *const where = "forward_model.output";
	yaml_node_t	*o;
	char		*fmt = NULL;
	size_t		 i;
	int		 rc = -1;

	if ((o = get(y, fm, "output")) == NULL)
		return yerr(y, fm, where, "missing (e.g. {file: output.txt})");
	if (check_keys(y, o, where, okeys) ||
	    get_string(y, o, where, "file", 1, &e->output.path) ||
	    get_string(y, o, where, "dataset", 0, &e->output.dataset) ||
	    get_string(y, o, where, "format", 0, &fmt))
		goto out;
	if (member_file_why(e->output.path) != NULL) {
		yerr(y, get(y, o, "file"), "forward_model.output.file", "'%s': "
		    "expected %s", e->output.path,
		    member_file_why(e->output.path));
		goto out;
	}
	e->output.format = vformat_of(e->output.path);
	if (fmt != NULL) {
		for (i = 0; ofmts[i] && strcmp(ofmts[i], fmt); i++)
			;
		if (ofmts[i] == NULL) {
			yerr(y, get(y, o, "format"), "forward_model.output.format",
			    "expected text, hdf5, npy or f64, got '%s'", fmt);
			goto out;
		}
		e->output.format = i;
	}
	if (e->pfile && !strcmp(e->output.path, e->pfile)) {
		yerr(y, get(y, o, "file"), "forward_model.output.file", "'%s' is "
		    "also the parameter file's name", e->output.path);
		goto out;
	}
	if ((e->output.format == VF_HDF5) != (e->output.dataset != NULL)) {
		yerr(y, o, where, e->output.dataset ?
		    "'dataset' applies to HDF5 output only" :
		    "HDF5 output needs 'dataset' (e.g. dataset: /g)");
		goto out;
	}
	rc = 0;
out:
	free(fmt);
	return rc;
}

static int
parse_forward(struct yctx *y, yaml_node_t *root, struct experiment *e)
{
	static const char *const keys[] = { "command", "parameter_file", "output",
	    "timeout", NULL };
	yaml_node_t	*fm = get(y, root, "forward_model"), *n;

	if (fm == NULL)
		return yerr(y, NULL, "forward_model", "missing");
	if (check_keys(y, fm, "forward_model", keys) != 0 ||
	    fm_command(y, fm, e) != 0 || fm_parameter_file(y, fm, e) != 0 ||
	    fm_output(y, fm, e) != 0)
		return -1;
	if ((n = get(y, fm, "timeout")) != NULL &&
	    (scalar(n) == NULL || parse_duration(scalar(n), &e->timeout) != 0 ||
	    e->timeout <= 0))
		return yerr(y, n, "forward_model.timeout", "expected a positive "
		    "duration such as 90s, 10m, 2h30m, 1d or 01:30:00");
	return 0;
}

static const char *const method_names[] = { "eki", "etki", "uki", "eks",
    "esmda", NULL };

const char *
method_name(enum method m)
{
	return method_names[m];
}

/* true or false at map.key. */
static int
get_bool(struct yctx *y, yaml_node_t *map, const char *where, const char *key,
    int *out)
{
	yaml_node_t	*n = get(y, map, key);
	const char	*s;
	char		*path;
	int		 rc = 0;

	if (n == NULL)
		return 0;
	s = scalar(n);
	if (s && !strcmp(s, "true"))
		*out = 1;
	else if (s && !strcmp(s, "false"))
		*out = 0;
	else {
		path = subkey(where, key);
		rc = yerr(y, n, path, "expected true or false, got '%s'",
		    s ? s : "a collection");
		free(path);
	}
	return rc;
}

/* A number at map.key within [lo, hi] (open at either end when asked). */
static int
get_bounded(struct yctx *y, yaml_node_t *map, const char *where,
    const char *key, double lo, int lo_open, double hi, double *out)
{
	yaml_node_t	*n = get(y, map, key);
	char		*path;
	int		 rc;

	if (n == NULL)
		return 0;
	if (get_double(y, map, where, key, 0, out) != 0)
		return -1;
	if (isfinite(*out) && (lo_open ? *out > lo : *out >= lo) && *out <= hi)
		return 0;
	path = subkey(where, key);
	if (isfinite(hi))
		rc = yerr(y, n, path, "must be %s %g and at most %g, got %g",
		    lo_open ? "above" : "at least", lo, hi, *out);
	else
		rc = yerr(y, n, path, "must be %s %g, got %g", lo_open ?
		    "above" : "at least", lo, *out);
	free(path);
	return rc;
}

/*
 * A key that only some methods read: refuse it elsewhere rather than ignore
 * it, so that a setting never silently does nothing.
 */
static int
for_methods(struct yctx *y, yaml_node_t *a, const char *key, unsigned mask,
    const struct experiment *e, const char *why)
{
	yaml_node_t	*n = get(y, a, key);
	char		*path;
	int		 rc;

	if (n == NULL || (mask & (1u << e->alg.method)))
		return 0;
	path = subkey("algorithm", key);
	rc = yerr(y, n, path, "does not apply to method %s: %s",
	    method_name(e->alg.method), why);
	free(path);
	return rc;
}

static int
parse_timestep(struct yctx *y, yaml_node_t *t, struct experiment *e)
{
	static const char *const tkeys[] = { "fixed", "data_misfit", NULL };
	static const char *const dkeys[] = { "terminate_at", NULL };
	const char	*w = "algorithm.timestep";
	yaml_node_t	*d;

	if (check_keys(y, t, w, tkeys) != 0)
		return -1;
	if (t->data.mapping.pairs.top - t->data.mapping.pairs.start != 1)
		return yerr(y, t, w, "expected exactly one of 'fixed' or "
		    "'data_misfit'");
	if (get(y, t, "fixed") != NULL) {
		if (get_double(y, t, w, "fixed", 1, &e->timestep) != 0)
			return -1;
		if (!(e->timestep > 0) || !isfinite(e->timestep))
			return yerr(y, get(y, t, "fixed"),
			    "algorithm.timestep.fixed", "must be positive");
		return 0;
	}
	d = get(y, t, "data_misfit");
	e->alg.adaptive = 1;
	if (scalar(d) != NULL && *scalar(d) == '\0')
		return 0;			/* data_misfit: (empty) */
	if (check_keys(y, d, "algorithm.timestep.data_misfit", dkeys) != 0 ||
	    get_bounded(y, d, "algorithm.timestep.data_misfit", "terminate_at",
	    0, 1, INFINITY, &e->alg.terminate_at) != 0)
		return -1;
	return 0;
}

static int
parse_esmda(struct yctx *y, yaml_node_t *m, struct experiment *e)
{
	static const char *const keys[] = { "weights", NULL };
	const char	*w = "algorithm.esmda";
	yaml_node_t	*n;
	double		 inv = 0, v;
	size_t		 i, k;

	if (m != NULL && check_keys(y, m, w, keys) != 0)
		return -1;
	n = get(y, m, "weights");
	if (n == NULL) {
		/* Four equal weights, as Emerick and Reynolds (2013) advise. */
		k = e->iterations > 0 ? (size_t)e->iterations : 4;
		e->alg.weights = xmallocarray(k, sizeof *e->alg.weights);
		for (i = 0; i < k; i++)
			e->alg.weights[i] = k;
		e->alg.nweights = k;
		return 0;
	}
	if (n->type == YAML_SCALAR_NODE) {
		long c = 0;

		if (get_long(y, m, w, "weights", 1, 1, 9999, &c) != 0)
			return -1;
		if (c > 9999)
			return yerr(y, n, "algorithm.esmda.weights", "at most "
			    "9999 steps");
		k = c;
		e->alg.weights = xmallocarray(k, sizeof *e->alg.weights);
		for (i = 0; i < k; i++)
			e->alg.weights[i] = k;
		e->alg.nweights = k;
		return 0;
	}
	k = 0;
	if (get_values(y, n, "algorithm.esmda.weights", &k,
	    &e->alg.weights) != 0)
		return -1;
	if (k > 9999)
		return yerr(y, n, "algorithm.esmda.weights", "at most 9999 steps");
	e->alg.nweights = k;
	for (i = 0; i < k; i++) {
		v = e->alg.weights[i];
		if (!(v > 0))
			return yerr(y, node(y, n->data.sequence.items.start[i]),
			    "algorithm.esmda.weights", "weight %zu is %g; every "
			    "weight must be positive", i + 1, v);
		inv += 1 / v;
	}
	/* Scale so that the sum of 1/alpha is 1, as ES-MDA requires. */
	for (i = 0; i < k; i++)
		e->alg.weights[i] *= inv;
	return 0;
}

static int
parse_localization(struct yctx *y, yaml_node_t *l, struct experiment *e)
{
	static const char *const keys[] = { "sec", "matrix", NULL };
	static const char *const skeys[] = { "alpha", "cutoff", NULL };
	const char	*w = "algorithm.localization";
	yaml_node_t	*s, *m;

	if (check_keys(y, l, w, keys) != 0)
		return -1;
	if (l->data.mapping.pairs.top - l->data.mapping.pairs.start != 1)
		return yerr(y, l, w, "expected exactly one of 'sec' or 'matrix'");
	if ((m = get(y, l, "matrix")) != NULL) {
		e->alg.loc = LOC_MATRIX;
		return parse_source(y, m, "algorithm.localization.matrix", 0,
		    &e->alg.loc_matrix) || resolve_source(y, m,
		    "algorithm.localization.matrix", e->dir, &e->alg.loc_matrix);
	}
	s = get(y, l, "sec");
	e->alg.loc = LOC_SEC;
	if (scalar(s) != NULL && *scalar(s) == '\0')
		return 0;			/* sec: (empty) */
	if (check_keys(y, s, "algorithm.localization.sec", skeys) != 0 ||
	    get_bounded(y, s, "algorithm.localization.sec", "alpha", 0, 0,
	    INFINITY, &e->alg.sec_alpha) != 0 ||
	    get_bounded(y, s, "algorithm.localization.sec", "cutoff", 0, 0, 1,
	    &e->alg.sec_cutoff) != 0)
		return -1;
	return 0;
}

/*
 * UKI sizes the ensemble (2p + 1 sigma points) and ES-MDA the number of
 * iterations (one per weight): those keys may be left out, and when given
 * must agree.  Every other method needs both.
 */
static int
reconcile_sizes(struct yctx *y, yaml_node_t *root, struct experiment *e)
{
	long	 n = 2 * (long)e->ncalib + 1, it = e->alg.nweights;

	if (e->alg.method == METHOD_UKI) {
		if (e->ensemble_size > 0 && e->ensemble_size != n)
			return yerr(y, get(y, root, "ensemble_size"),
			    "ensemble_size", "method uki runs 2p+1 = %ld sigma "
			    "points for its %zu calibrated components; leave "
			    "ensemble_size out or set it to %ld", n, e->ncalib, n);
		e->ensemble_size = n;
	} else if (e->ensemble_size <= 0)
		return yerr(y, root, "ensemble_size", "missing (a whole number)");
	if (e->alg.method == METHOD_ESMDA) {
		if (e->iterations >= 0 && e->iterations != it)
			return yerr(y, get(y, root, "iterations"), "iterations",
			    "method esmda makes one iteration per weight (%ld "
			    "weights); leave iterations out or set it to %ld",
			    it, it);
		e->iterations = it;
	} else if (e->iterations < 0)
		return yerr(y, root, "iterations", "missing (a whole number)");
	return 0;
}

static void
alg_defaults(struct experiment *e)
{
	e->method = xstrdup("eki");
	e->timestep = 1.0;
	e->min_success = 0.5;
	e->handler = xstrdup("ignore");
	e->max_retries = 2;
	e->alg.terminate_at = 1.0;
	e->alg.alpha_reg = 1.0;
	e->alg.update_freq = 1;
	e->alg.impose_prior = 1;
	e->alg.inflate_mult = 1.0;
	e->alg.eks_step = 1.0;
	e->alg.sec_alpha = 1.0;
}

/* algorithm.method, and the sections that apply to it alone. */
static int
alg_method(struct yctx *y, yaml_node_t *a, struct experiment *e)
{
	size_t	 i;

	for (i = 0; method_names[i] && strcmp(method_names[i], e->method); i++)
		;
	if (method_names[i] == NULL)
		return yerr(y, get(y, a, "method"), "algorithm.method",
		    "unknown method '%s' (expected eki, etki, uki, eks or esmda)",
		    e->method);
	e->alg.method = i;
	if (for_methods(y, a, "timestep", 1u << METHOD_EKI | 1u << METHOD_ETKI,
	    e, "uki steps by its own dynamics, eks chooses its own stable "
	    "step, esmda's steps are its weights") ||
	    for_methods(y, a, "inflation", 1u << METHOD_EKI | 1u << METHOD_ETKI,
	    e, "only eki and etki inflate") ||
	    for_methods(y, a, "localization", 1u << METHOD_EKI, e,
	    "only eki localizes") ||
	    for_methods(y, a, "uki", 1u << METHOD_UKI, e, "it sets uki's "
	    "options") ||
	    for_methods(y, a, "eks", 1u << METHOD_EKS, e, "it sets eks's "
	    "options") ||
	    for_methods(y, a, "esmda", 1u << METHOD_ESMDA, e, "it sets esmda's "
	    "options"))
		return -1;
	return 0;
}

/* algorithm.eks: variant and step. */
static int
alg_eks(struct yctx *y, yaml_node_t *n, struct experiment *e)
{
	static const char *const ekeys[] = { "variant", "step", NULL };
	char	*variant = NULL;
	int	 rc = -1;

	if (check_keys(y, n, "algorithm.eks", ekeys) ||
	    get_string(y, n, "algorithm.eks", "variant", 0, &variant) ||
	    get_bounded(y, n, "algorithm.eks", "step", 0, 1, 1,
	    &e->alg.eks_step))
		goto out;
	if (variant && strcmp(variant, "eks") && strcmp(variant, "aldi")) {
		yerr(y, get(y, n, "variant"), "algorithm.eks.variant",
		    "unknown variant '%s' (expected eks or aldi)", variant);
		goto out;
	}
	e->alg.aldi = variant && !strcmp(variant, "aldi");
	rc = 0;
out:
	free(variant);
	return rc;
}

/* algorithm.timestep, inflation, localization, uki, eks. */
static int
alg_options(struct yctx *y, yaml_node_t *a, struct experiment *e)
{
	static const char *const ikeys[] = { "multiplicative", "additive", NULL };
	static const char *const ukeys[] = { "alpha_reg", "update_freq",
	    "impose_prior", NULL };
	yaml_node_t	*n;

	if ((n = get(y, a, "timestep")) != NULL && parse_timestep(y, n, e) != 0)
		return -1;
	if ((n = get(y, a, "inflation")) != NULL && (check_keys(y, n,
	    "algorithm.inflation", ikeys) ||
	    get_bounded(y, n, "algorithm.inflation", "multiplicative", 1, 0,
	    INFINITY, &e->alg.inflate_mult) ||
	    get_bounded(y, n, "algorithm.inflation", "additive", 0, 0,
	    INFINITY, &e->alg.inflate_add)))
		return -1;
	if ((n = get(y, a, "localization")) != NULL &&
	    parse_localization(y, n, e) != 0)
		return -1;
	if ((n = get(y, a, "uki")) != NULL && (check_keys(y, n, "algorithm.uki",
	    ukeys) || get_bounded(y, n, "algorithm.uki", "alpha_reg", 0, 1, 1,
	    &e->alg.alpha_reg) || get_long(y, n, "algorithm.uki", "update_freq",
	    0, 0, 9999, &e->alg.update_freq) || get_bool(y, n, "algorithm.uki",
	    "impose_prior", &e->alg.impose_prior)))
		return -1;
	if ((n = get(y, a, "eks")) != NULL && alg_eks(y, n, e) != 0)
		return -1;
	return 0;
}

/* algorithm.failures: min_success, handler, max_retries. */
static int
alg_failures(struct yctx *y, yaml_node_t *f, struct experiment *e)
{
	static const char *const fkeys[] = { "min_success", "handler",
	    "max_retries", NULL };
	yaml_node_t	*n;

	if (check_keys(y, f, "algorithm.failures", fkeys) ||
	    get_double(y, f, "algorithm.failures", "min_success", 0,
	    &e->min_success) ||
	    get_string(y, f, "algorithm.failures", "handler", 0, &e->handler) ||
	    get_long(y, f, "algorithm.failures", "max_retries", 0, 0, 1000,
	    &e->max_retries))
		return -1;
	n = get(y, f, "min_success");
	if (n && (!(e->min_success > 0) || (e->min_success > 1 &&
	    e->min_success != floor(e->min_success)) ||
	    e->min_success > e->ensemble_size))
		return yerr(y, n, "algorithm.failures.min_success", "expected a "
		    "fraction in (0, 1] or a whole count up to ensemble_size");
	if (strcmp(e->handler, "ignore") != 0 &&
	    strcmp(e->handler, "resample") != 0)
		return yerr(y, get(y, f, "handler"), "algorithm.failures.handler",
		    "unknown handler '%s' (expected ignore or resample)",
		    e->handler);
	e->alg.resample = !strcmp(e->handler, "resample");
	if (e->alg.method == METHOD_UKI && n != NULL)
		return yerr(y, n, "algorithm.failures.min_success", "method uki "
		    "needs every sigma point; it has no min_success");
	if (e->alg.method == METHOD_UKI && get(y, f, "handler") != NULL)
		return yerr(y, get(y, f, "handler"), "algorithm.failures.handler",
		    "method uki needs every sigma point; it has no failure "
		    "handler");
	return 0;
}

static int
parse_algorithm(struct yctx *y, yaml_node_t *root, struct experiment *e)
{
	static const char *const keys[] = { "method", "timestep", "failures",
	    "inflation", "localization", "uki", "eks", "esmda", NULL };
	yaml_node_t	*a = get(y, root, "algorithm"), *f;

	alg_defaults(e);
	if (a != NULL && (check_keys(y, a, "algorithm", keys) ||
	    get_string(y, a, "algorithm", "method", 0, &e->method)))
		return -1;
	if (alg_method(y, a, e) != 0 || alg_options(y, a, e) != 0)
		return -1;
	if (e->alg.method == METHOD_ESMDA &&
	    parse_esmda(y, get(y, a, "esmda"), e) != 0)
		return -1;
	if (reconcile_sizes(y, root, e) != 0)
		return -1;
	if ((f = get(y, a, "failures")) != NULL && alg_failures(y, f, e) != 0)
		return -1;
	return 0;
}

/*
 * A value that goes into a scheduler directive line (#SBATCH, #PBS): those
 * lines are read by sbatch or qsub, which split them at whitespace, so only
 * printable characters without spaces, quotes or shell metacharacters pass.
 */
static int
directive_safe(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 127 || strchr("'\"\\`$;<>#", *s))
			return 0;
	return 1;
}

/*
 * One scheduler option: "--exclusive", "-l place=excl": a '-', and no
 * blank but the one after a one-letter option (PBS's "-m ae").
 */
static int
extra_safe(const char *s)
{
	if (s[0] != '-')
		return 0;
	if (isalpha((unsigned char)s[1]) && s[2] == ' ')
		return directive_safe(s + 3);
	return directive_safe(s);
}

/* A list of strings at n, or a single string when `single` allows it. */
static int
get_strlist(struct yctx *y, yaml_node_t *n, const char *path, int single,
    struct strlist *out)
{
	yaml_node_item_t	*it;
	yaml_node_t		*v;

	if (single && scalar(n) != NULL) {
		out->v = xcalloc(2, sizeof *out->v);
		out->v[out->n++] = xstrdup(scalar(n));
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return yerr(y, n, path, "expected a list of strings");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		v = node(y, *it);
		if (scalar(v) == NULL || *scalar(v) == '\0')
			return yerr(y, v, path, "expected a non-empty string");
		out->v = xreallocarray(out->v, out->n + 2, sizeof *out->v);
		out->v[out->n++] = xstrdup(scalar(v));
		out->v[out->n] = NULL;
	}
	return 0;
}

/* Split a command line into words at blanks; no other syntax. */
static void
split_words(const char *s, struct strlist *out)
{
	const char	*p = s;
	size_t		 k;

	for (;;) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		k = strcspn(p, " \t");
		out->v = xreallocarray(out->v, out->n + 2, sizeof *out->v);
		out->v[out->n++] = xasprintf("%.*s", (int)k, p);
		out->v[out->n] = NULL;
		p += k;
	}
}

/* Memory as "4G", "500M", "1.5T", "4GB" or MiB as a bare number. */
static int
parse_mem(const char *s, long *mb)
{
	double	 v, unit = 1;
	char	*end;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !(v > 0))
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'K': unit = 1.0 / 1024; end++; break;
	case 'M': unit = 1; end++; break;
	case 'G': unit = 1024; end++; break;
	case 'T': unit = 1024.0 * 1024; end++; break;
	case '\0': break;
	default: return -1;
	}
	if (toupper((unsigned char)*end) == 'B')
		end++;
	if (*end != '\0' || v * unit > 1e12)
		return -1;
	*mb = (long)ceil(v * unit);
	return 0;
}

/* Does s hold a control character (a newline, say)? */
static int
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int
list_has_control(const struct strlist *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (has_control(l->v[i]))
			return 1;
	return 0;
}

/* How much a job asks for: time, counts, memory, and where it runs. */
static int
res_amounts(struct yctx *y, yaml_node_t *n, const char *where,
    struct resources *r)
{
	static const char *const names[] = { "partition", "account", "qos",
	    "constraint" };
	static const char *const nnames[] = { "nodes", "ntasks",
	    "cpus_per_task", "gpus_per_task" };
	char		**dst[] = { &r->partition, &r->account, &r->qos,
	    &r->constraint };
	long		*nums[] = { &r->nodes, &r->ntasks, &r->cpus_per_task,
	    &r->gpus_per_task };
	yaml_node_t	*v;
	char		*path = NULL;
	size_t		 i;

	if ((v = get(y, n, "time")) != NULL && (scalar(v) == NULL ||
	    parse_duration(scalar(v), &r->time) != 0 || !(r->time >= 1))) {
		path = subkey(where, "time");
		yerr(y, v, path, "expected a duration of at least a second, "
		    "such as 90m, 2h30m, 1d or 12:00:00");
		goto bad;
	}
	for (i = 0; i < 4; i++)
		if (get_long(y, n, where, nnames[i], 0, 1, MAX_COUNT, nums[i]) != 0)
			return -1;
	if ((v = get(y, n, "mem")) != NULL && (scalar(v) == NULL ||
	    parse_mem(scalar(v), &r->mem_mb) != 0)) {
		path = subkey(where, "mem");
		yerr(y, v, path, "expected memory per node such as 4G, 500M "
		    "or 1.5T");
		goto bad;
	}
	for (i = 0; i < 4; i++) {
		if (get_string(y, n, where, names[i], 0, dst[i]) != 0)
			return -1;
		if (*dst[i] && !directive_safe(*dst[i])) {
			path = subkey(where, names[i]);
			yerr(y, get(y, n, names[i]), path, "'%s' has a blank, a "
			    "quote or a shell character, which no %s name has",
			    *dst[i], names[i]);
			goto bad;
		}
	}
	return 0;
bad:
	free(path);
	return -1;
}

/* modules: names for `module load`; extra: one scheduler option each. */
static int
res_lists(struct yctx *y, yaml_node_t *n, const char *where,
    struct resources *r)
{
	yaml_node_t	*v;
	char		*path = NULL;
	size_t		 i;

	if ((v = get(y, n, "modules")) != NULL) {
		path = subkey(where, "modules");
		if (get_strlist(y, v, path, 1, &r->modules) != 0)
			goto bad;
		for (i = 0; i < r->modules.n; i++)
			if (!directive_safe(r->modules.v[i])) {
				yerr(y, v, path, "'%s' is not a module name",
				    r->modules.v[i]);
				goto bad;
			}
		free(path);
		path = NULL;
	}
	if ((v = get(y, n, "extra")) == NULL)
		return 0;
	path = subkey(where, "extra");
	if (get_strlist(y, v, path, 1, &r->extra) != 0)
		goto bad;
	for (i = 0; i < r->extra.n; i++)
		if (!extra_safe(r->extra.v[i])) {
			yerr(y, v, path, "'%s' is not one option such as "
			    "--exclusive or -l place=scatter: it must start "
			    "with '-' and have no quotes, shell characters or "
			    "blanks but the one after a one-letter option",
			    r->extra.v[i]);
			goto bad;
		}
	free(path);
	return 0;
bad:
	free(path);
	return -1;
}

/* setup: commands run before calib, each words or a list of words. */
static int
res_setup(struct yctx *y, yaml_node_t *n, const char *where,
    struct resources *r)
{
	yaml_node_t		*v, *k;
	yaml_node_item_t	*it;
	char			*path;
	int			 rc = -1;

	if ((v = get(y, n, "setup")) == NULL)
		return 0;
	path = subkey(where, "setup");
	if (v->type != YAML_SEQUENCE_NODE) {
		yerr(y, v, path, "expected a list of commands");
		goto out;
	}
	for (it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		k = node(y, *it);
		r->setup = xreallocarray(r->setup, r->nsetup + 1,
		    sizeof *r->setup);
		memset(&r->setup[r->nsetup], 0, sizeof *r->setup);
		if (scalar(k) != NULL)
			split_words(scalar(k), &r->setup[r->nsetup]);
		else if (get_strlist(y, k, path, 0, &r->setup[r->nsetup]) != 0) {
			r->nsetup++;
			goto out;
		}
		if (r->setup[r->nsetup++].n == 0) {
			yerr(y, k, path, "empty command");
			goto out;
		}
		if (list_has_control(&r->setup[r->nsetup - 1])) {
			yerr(y, k, path, "a command with a control character "
			    "(a job script line must stay one line)");
			goto out;
		}
	}
	rc = 0;
out:
	free(path);
	return rc;
}

/* env: variables the job script exports. */
static int
res_env(struct yctx *y, yaml_node_t *n, const char *where,
    struct resources *r)
{
	yaml_node_t		*v, *k;
	yaml_node_pair_t	*p;
	char			*path;
	int			 rc = -1;

	if ((v = get(y, n, "env")) == NULL)
		return 0;
	path = subkey(where, "env");
	if (check_keys(y, v, path, NULL) != 0)
		goto out;
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	    p++) {
		k = node(y, p->key);
		if (!valid_ident(scalar(k))) {
			yerr(y, k, path, "'%s' is not a variable name",
			    scalar(k));
			goto out;
		}
		if (scalar(node(y, p->value)) == NULL ||
		    has_control(scalar(node(y, p->value)))) {
			yerr(y, node(y, p->value), path, "expected a string "
			    "value without control characters");
			goto out;
		}
		r->env_names.v = xreallocarray(r->env_names.v,
		    r->env_names.n + 1, sizeof(char *));
		r->env_names.v[r->env_names.n++] = xstrdup(scalar(k));
		r->env_values.v = xreallocarray(r->env_values.v,
		    r->env_values.n + 1, sizeof(char *));
		r->env_values.v[r->env_values.n++] =
		    xstrdup(scalar(node(y, p->value)));
	}
	rc = 0;
out:
	free(path);
	return rc;
}

static int
parse_resources(struct yctx *y, yaml_node_t *root, const char *where,
    struct resources *r)
{
	static const char *const keys[] = { "time", "nodes", "ntasks",
	    "cpus_per_task", "gpus_per_task", "mem", "partition", "account",
	    "qos", "constraint", "modules", "setup", "env", "extra", NULL };
	yaml_node_t	*n = get(y, root, where);

	if (n == NULL)
		return 0;
	if (check_keys(y, n, where, keys) != 0 ||
	    res_amounts(y, n, where, r) != 0 ||
	    res_lists(y, n, where, r) != 0 ||
	    res_setup(y, n, where, r) != 0 ||
	    res_env(y, n, where, r) != 0)
		return -1;
	return 0;
}

static int
parse_backend(struct yctx *y, yaml_node_t *root, struct experiment *e)
{
	static const char *const keys[] = { "templates", "calib", "max_running",
	    "poll_interval", NULL };
	yaml_node_t	*n = get(y, root, "backend"), *v;
	char		*s = NULL;

	e->backend.poll_interval = 30;
	if (n == NULL)
		return 0;
	if (check_keys(y, n, "backend", keys) ||
	    get_long(y, n, "backend", "max_running", 0, 1, MAX_COUNT,
	    &e->backend.max_running) ||
	    get_string(y, n, "backend", "calib", 0, &e->backend.calib) ||
	    get_string(y, n, "backend", "templates", 0, &s))
		return -1;
	if (e->backend.calib && e->backend.calib[0] != '/') {
		free(s);
		return yerr(y, get(y, n, "calib"), "backend.calib", "expected "
		    "an absolute path (jobs may start in any folder)");
	}
	if (s != NULL) {
		e->backend.templates = s[0] == '/' ? xstrdup(s) :
		    path_join(e->dir, s);
		free(s);
		if (!y->frozen && !is_dir(e->backend.templates))
			return yerr(y, get(y, n, "templates"),
			    "backend.templates", "'%s' is not a folder",
			    e->backend.templates);
	}
	if ((v = get(y, n, "poll_interval")) != NULL && (scalar(v) == NULL ||
	    parse_duration(scalar(v), &e->backend.poll_interval) != 0 ||
	    !(e->backend.poll_interval >= 1)))
		return yerr(y, v, "backend.poll_interval", "expected a "
		    "duration of at least 1s, such as 30s or 2m");
	return 0;
}

const char *const notify_event_names[NOTIFY_NEVENTS] = {
	"iteration", "failure", "stop", "done", "timeout"
};

/*
 * A header value: printable, no line breaks (it becomes one line of the
 * request), with ${NAME} taken from the environment when the event is sent.
 */
static const char *
header_value_problem(const char *v)
{
	const char	*p, *q;

	for (p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "has a control character or line break";
	for (p = v; (p = strstr(p, "${")) != NULL; p = q + 1) {
		if ((q = strchr(p, '}')) == NULL)
			return "has '${' without its '}'";
		if (q == p + 2 || (!isalpha((unsigned char)p[2]) && p[2] != '_'))
			return "has '${...}' that is not a variable name";
		for (p += 2; p < q; p++)
			if (!isalnum((unsigned char)*p) && *p != '_')
				return "has '${...}' that is not a variable name";
	}
	return NULL;
}

/* notify.events: a list of event names. */
static int
parse_events(struct yctx *y, yaml_node_t *v, const char *path,
    unsigned *events)
{
	yaml_node_item_t	*it;
	const char		*s;
	size_t			 i;

	*events = 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return yerr(y, v, path, "expected a list of events");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	    it++) {
		s = scalar(node(y, *it));
		for (i = 0; s && i < NOTIFY_NEVENTS; i++)
			if (!strcmp(s, notify_event_names[i]))
				break;
		if (s == NULL || i == NOTIFY_NEVENTS)
			return yerr(y, node(y, *it), path, "unknown event '%s' "
			    "(events: iteration, failure, stop, done, timeout)",
			    s ? s : "a collection");
		*events |= 1u << i;
	}
	if (*events == 0)
		return yerr(y, v, path, "an empty list takes no event; leave the "
		    "endpoint out instead");
	return 0;
}

/* notify.headers: a mapping of header names to values. */
static int
parse_headers(struct yctx *y, yaml_node_t *v, const char *path,
    char ***headers)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*kn, *vn;
	const char		*k, *s, *why;
	size_t			 nh = 0;

	if (check_keys(y, v, path, NULL) != 0)
		return -1;
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	    p++) {
		kn = node(y, p->key);
		vn = node(y, p->value);
		k = scalar(kn);
		why = *k == '\0' ? "is not a header name" : NULL;
		for (s = k; *s && why == NULL; s++)
			if (!isalnum((unsigned char)*s) &&
			    !strchr("!#$%&'*+-.^_`|~", *s))
				why = "is not a header name";
		if (why != NULL)
			return yerr(y, kn, path, "'%s' %s", k, why);
		if (scalar(vn) == NULL)
			return yerr(y, vn, path, "'%s' expected a string value",
			    k);
		if ((why = header_value_problem(scalar(vn))) != NULL)
			return yerr(y, vn, path, "'%s' %s", k, why);
		*headers = xreallocarray(*headers, nh + 3, sizeof **headers);
		(*headers)[nh++] = xstrdup(k);
		(*headers)[nh++] = xstrdup(scalar(vn));
		(*headers)[nh] = NULL;
	}
	return 0;
}

static int
parse_endpoint(struct yctx *y, yaml_node_t *n, const char *where,
    struct notify_endpoint *ep)
{
	static const char *const keys[] = { "url", "headers", "events",
	    "format", "timeout", "retries", NULL };
	yaml_node_t	*v;
	const char	*why = NULL;
	char		*path, *fmt = NULL;
	size_t		 k;
	int		 rc = 0;

	ep->timeout = 10;
	ep->retries = 2;
	ep->events = (1u << NOTIFY_NEVENTS) - 1;
	ep->headers = xcalloc(1, sizeof *ep->headers);
	if (check_keys(y, n, where, keys) ||
	    get_string(y, n, where, "url", 1, &ep->url) ||
	    get_long(y, n, where, "retries", 0, 0, 10, &ep->retries) ||
	    get_string(y, n, where, "format", 0, &fmt))
		return -1;
	k = !strncmp(ep->url, "http://", 7) ? 7 :
	    !strncmp(ep->url, "https://", 8) ? 8 : 0;
	if (k == 0)
		why = "expected an http:// or https:// URL";
	else if (strchr("/?#", ep->url[k]) != NULL)
		why = "has no host";
	else
		why = header_value_problem(ep->url);
	path = subkey(where, "url");
	if (why != NULL)
		rc = yerr(y, get(y, n, "url"), path, "%s", why);
	free(path);
	path = subkey(where, "format");
	if (rc == 0 && fmt != NULL && strcmp(fmt, "json") &&
	    strcmp(fmt, "slack"))
		rc = yerr(y, get(y, n, "format"), path, "expected json or slack");
	ep->slack = fmt != NULL && !strcmp(fmt, "slack");
	free(fmt);
	free(path);
	path = subkey(where, "timeout");
	if (rc == 0 && (v = get(y, n, "timeout")) != NULL &&
	    (scalar(v) == NULL || parse_duration(scalar(v), &ep->timeout) != 0 ||
	    !(ep->timeout > 0 && ep->timeout <= 300)))
		rc = yerr(y, v, path, "expected a duration of at most 5m, such "
		    "as 10s");
	free(path);
	path = subkey(where, "events");
	if (rc == 0 && (v = get(y, n, "events")) != NULL)
		rc = parse_events(y, v, path, &ep->events);
	free(path);
	path = subkey(where, "headers");
	if (rc == 0 && (v = get(y, n, "headers")) != NULL)
		rc = parse_headers(y, v, path, &ep->headers);
	free(path);
	return rc;
}

/* notify: one endpoint (a mapping) or a list of them. */
static int
parse_notify(struct yctx *y, yaml_node_t *root, struct experiment *e)
{
	yaml_node_t		*n = get(y, root, "notify");
	yaml_node_item_t	*it;
	char			*where;
	size_t			 k;

	if (n == NULL)
		return 0;
	if (n->type == YAML_MAPPING_NODE) {
		e->notify = xcalloc(1, sizeof *e->notify);
		e->nnotify = 1;
		return parse_endpoint(y, n, "notify", e->notify);
	}
	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.top == n->data.sequence.items.start)
		return yerr(y, n, "notify", "expected an endpoint ({url: ...}) "
		    "or a list of them");
	k = n->data.sequence.items.top - n->data.sequence.items.start;
	e->notify = xcalloc(k, sizeof *e->notify);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		where = xasprintf("notify[%zu]", e->nnotify);
		e->nnotify++;
		if (parse_endpoint(y, node(y, *it), where,
		    &e->notify[e->nnotify - 1]) != 0) {
			free(where);
			return -1;
		}
		free(where);
	}
	return 0;
}

static int
parse_root(struct yctx *y, yaml_node_t *root, struct experiment *e,
    const char *output_dir)
{
	static const char *const keys[] = { "name", "output_dir", "ensemble_size",
	    "iterations", "seed", "parameters", "observations", "forward_model",
	    "algorithm", "resources", "update_resources", "backend", "notify",
	    NULL };
	static const char *const okeys[] = { "values", "noise", NULL };
	yaml_node_t	*obs, *v;
	char		*od = NULL;
	long		 seed = 0;
	size_t		 cells, n;

	if (root == NULL)
		return failf(y->cause, "%s: empty experiment file", y->file);
	if (check_keys(y, root, "", keys) ||
	    get_string(y, root, "", "name", 1, &e->name))
		return -1;
	if (!valid_name(e->name, 1))
		return yerr(y, get(y, root, "name"), "name", "may only contain "
		    "letters, digits, '.', '_' and '-' (it names jobs and files)");
	if (get_string(y, root, "", "output_dir", 0, &od) != 0)
		return -1;
	if (output_dir != NULL)
		e->output_dir = xstrdup(output_dir);
	else
		e->output_dir = path_join(e->dir, od ? od : "output");
	free(od);
	/* "results/" is "results": its lock sits beside it, not in it. */
	for (n = strlen(e->output_dir); n > 1 && e->output_dir[n - 1] == '/';)
		e->output_dir[--n] = '\0';
	e->ensemble_size = e->iterations = -1;
	if (get_long(y, root, "", "ensemble_size", 0, 2, LONG_MAX,
	    &e->ensemble_size) ||
	    get_long(y, root, "", "iterations", 0, 0, LONG_MAX, &e->iterations) ||
	    get_long(y, root, "", "seed", 0, 0, LONG_MAX, &seed))
		return -1;
	e->seed = seed;
	if (e->ensemble_size > 999999)
		return yerr(y, get(y, root, "ensemble_size"), "ensemble_size",
		    "at most 999999");
	if (e->iterations > 9999)
		return yerr(y, get(y, root, "iterations"), "iterations",
		    "at most 9999");
	if (parse_params(y, root, e) != 0)
		return -1;
	if ((obs = get(y, root, "observations")) == NULL)
		return yerr(y, NULL, "observations", "missing");
	if (check_keys(y, obs, "observations", okeys) != 0)
		return -1;
	if ((v = get(y, obs, "values")) == NULL)
		return yerr(y, obs, "observations.values", "missing");
	if (parse_source(y, v, "observations.values", 1, &e->obs) ||
	    resolve_source(y, v, "observations.values", e->dir, &e->obs))
		return -1;
	if ((v = get(y, obs, "noise")) == NULL)
		return yerr(y, obs, "observations.noise", "missing (e.g. "
		    "{std: 0.1})");
	if (parse_noise(y, v, e->dir, &e->noise) != 0)
		return -1;
	if (parse_forward(y, root, e) != 0 ||
	    parse_resources(y, root, "resources", &e->res) != 0 ||
	    parse_resources(y, root, "update_resources", &e->update_res) != 0 ||
	    parse_backend(y, root, e) != 0 || parse_algorithm(y, root, e) != 0 ||
	    parse_notify(y, root, e) != 0)
		return -1;
	/* With ensemble_size known (uki derives it): the ensemble's size. */
	if (e->ncalib > MAX_COMPONENTS || size_mul(e->ensemble_size, e->ncalib,
	    CALIB_MAX_VALUES, &cells) != 0)
		return yerr(y, get(y, root, "parameters"), "parameters", "%zu "
		    "calibrated values for %ld members: at most %ld values per "
		    "member, and %zu in the ensemble", e->ncalib,
		    e->ensemble_size, MAX_COMPONENTS, CALIB_MAX_VALUES);
	return 0;
}

int
config_load(const char *path, const char *dir, const char *output_dir,
    struct experiment *e, char **cause)
{
	struct yctx	 y;
	yaml_parser_t	 parser;
	FILE		*fp;
	int		 rc;

	memset(e, 0, sizeof *e);
	memset(&y, 0, sizeof y);
	y.file = path;
	y.frozen = dir != NULL;
	y.cause = cause;
	if ((fp = fopen(path, "rb")) == NULL)
		return failf(cause, "%s: %s", path, strerror(errno));
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, fp);
	if (!yaml_parser_load(&parser, &y.doc)) {
		/* The context mark is where the faulty construct starts. */
		if (parser.context != NULL)
			failf(cause, "%s:%zu:%zu: %s %s (noticed at %zu:%zu)", path,
			    parser.context_mark.line + 1,
			    parser.context_mark.column + 1, parser.problem,
			    parser.context, parser.problem_mark.line + 1,
			    parser.problem_mark.column + 1);
		else
			failf(cause, "%s:%zu:%zu: %s", path,
			    parser.problem_mark.line + 1,
			    parser.problem_mark.column + 1,
			    parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		fclose(fp);
		return -1;
	}
	yaml_parser_delete(&parser);
	fclose(fp);
	e->file = xstrdup(path);
	e->dir = dir ? xstrdup(dir) : path_dir(e->file);
	if (e->dir[0] != '/') {
		char *abs = path_abs(e->file);

		free(e->dir);
		e->dir = path_dir(abs);
		free(abs);
	}
	rc = parse_root(&y, yaml_document_get_root_node(&y.doc), e, output_dir);
	yaml_document_delete(&y.doc);
	if (rc != 0)
		experiment_release(e);
	return rc;
}

void
experiment_release(struct experiment *e)
{
	size_t	 i, k;

	for (i = 0; i < e->nparams; i++) {
		free(e->params[i].name);
		free(e->params[i].values);
	}
	free(e->params);
	for (i = 0; i < e->ncommand; i++)
		free(e->command[i]);
	free(e->command);
	vsource_release(&e->obs);
	vsource_release(&e->noise.src);
	vsource_release(&e->output);
	free(e->file);
	free(e->dir);
	free(e->output_dir);
	free(e->name);
	free(e->pfile);
	free(e->ptemplate);
	free(e->method);
	free(e->handler);
	free(e->alg.weights);
	vsource_release(&e->alg.loc_matrix);
	resources_release(&e->res);
	resources_release(&e->update_res);
	free(e->backend.templates);
	free(e->backend.calib);
	for (i = 0; i < e->nnotify; i++) {
		free(e->notify[i].url);
		for (k = 0; e->notify[i].headers && e->notify[i].headers[k]; k++)
			free(e->notify[i].headers[k]);
		free(e->notify[i].headers);
	}
	free(e->notify);
	memset(e, 0, sizeof *e);
}

void
strlist_release(struct strlist *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
resources_release(struct resources *r)
{
	size_t	 i;

	free(r->partition);
	free(r->account);
	free(r->qos);
	free(r->constraint);
	strlist_release(&r->modules);
	for (i = 0; i < r->nsetup; i++)
		strlist_release(&r->setup[i]);
	free(r->setup);
	strlist_release(&r->env_names);
	strlist_release(&r->env_values);
	strlist_release(&r->extra);
	memset(r, 0, sizeof *r);
}

char *
param_component_name(const struct param *p, size_t i)
{
	return p->vector ? xasprintf("%s[%zu]", p->name, i + 1) : xstrdup(p->name);
}

static const char *const placeholders[] = { "experiment_dir", "member_dir",
    "iteration", "member", "parameters", "output", NULL };

int
command_expand(const char *arg, const char *const *vals, char **out,
    char **cause)
{
	const char	*p, *end;
	struct buf	 res = BUF_INIT;
	size_t		 i, k;

	for (p = arg; *p; p = end) {
		if (*p != '{') {
			end = strchr(p, '{');
			if (end == NULL)
				end = p + strlen(p);
			buf_add(&res, p, end - p);
			continue;
		}
		end = strchr(p, '}');
		for (i = 0; end && placeholders[i]; i++)
			if (strlen(placeholders[i]) == (size_t)(end - p - 1) &&
			    !strncmp(p + 1, placeholders[i], end - p - 1))
				break;
		if (end == NULL || placeholders[i] == NULL) {
			k = end ? (size_t)(end - p + 1) : strlen(p);
			failf(cause, "unknown placeholder '%.*s' (known: "
			    "{experiment_dir}, {member_dir}, {iteration}, {member}, "
			    "{parameters}, {output})", (int)k, p);
			buf_release(&res);
			return -1;
		}
		buf_adds(&res, vals ? vals[i] : "");
		end++;
	}
	if (out)
		*out = buf_detach(&res);
	else
		buf_release(&res);
	return 0;
}

int
parse_duration(const char *s, double *out)
{
	double	 total = 0, v, unit;
	char	*end;
	int	 h, m, sec, n;

	if (sscanf(s, "%d:%d:%d%n", &h, &m, &sec, &n) == 3 && s[n] == '\0') {
		if (h < 0 || m < 0 || m > 59 || sec < 0 || sec > 59)
			return -1;
		*out = h * 3600.0 + m * 60.0 + sec;
		return *out <= DURATION_MAX ? 0 : -1;
	}
	if (*s == '\0')
		return -1;
	while (*s) {
		errno = 0;
		v = strtod(s, &end);
		if (end == s || errno || v < 0 || !isfinite(v))
			return -1;
		switch (*end) {
		case 's': unit = 1; end++; break;
		case 'm': unit = 60; end++; break;
		case 'h': unit = 3600; end++; break;
		case 'd': unit = 86400; end++; break;
		case '\0': unit = 1; break;
		default: return -1;
		}
		total += v * unit;
		s = end;
	}
	/* Ten years: far beyond any queue, and safe to convert to long. */
	if (!(total <= DURATION_MAX))
		return -1;
	*out = total;
	return 0;
}
