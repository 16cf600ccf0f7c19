/*
 * Differences between two experiment files, key by key (see amend.h).
 * Both are read with libyaml into documents and flattened to "a.b.c"
 * keys with canonical values, so that layout, quoting and flow or block
 * style do not count as changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "lib/amend.h"
#include "lib/buf.h"
#include "lib/fsio.h"
#include "lib/util.h"

/*
 * How deep a value may nest, and how long it may render: YAML aliases can
 * make a small file a very large value.
 */
#define DEPTH_MAX	32
#define VALUE_MAX	(1 << 20)

/*
 * The keys that may change under closed iterations: they say how members
 * and updates run, or how far the calibration goes, not what it computes.
 */
static const char *const allowed[] = {
	"iterations", "forward_model.command", "forward_model.timeout",
	"resources", "update_resources", "backend", "notify",
	"algorithm.failures.max_retries", "algorithm.failures.min_success",
	NULL
};

/* Why the others may not, by their first component. */
static const struct {
	const char	*key, *why;
} reasons[] = {
	{ "observations", "closed iterations were fitted to these data" },
	{ "parameters", "the ensembles were drawn from these priors and "
	    "written in these parameters" },
	{ "ensemble_size", "every iteration has this many members" },
	{ "seed", "the random draws of every iteration come from it" },
	{ "algorithm", "closed iterations were updated by this method" },
	{ "forward_model", "the members read and wrote these files" },
	{ "name", "the journal's jobs are named after it" },
	{ "output_dir", "it is where the experiment's state is" },
	{ NULL, "closed iterations depend on it" }
};

struct flat {
	char	**key, **val;
	size_t	 *line;
	size_t	  n;
};

static void
flat_add(struct flat *f, const char *key, char *val, size_t line)
{
	f->key = xreallocarray(f->key, f->n + 1, sizeof *f->key);
	f->val = xreallocarray(f->val, f->n + 1, sizeof *f->val);
	f->line = xreallocarray(f->line, f->n + 1, sizeof *f->line);
	f->key[f->n] = xstrdup(key);
	f->val[f->n] = val;
	f->line[f->n++] = line;
}

static void
flat_release(struct flat *f)
{
	size_t	 i;

	for (i = 0; i < f->n; i++) {
		free(f->key[i]);
		free(f->val[i]);
	}
	free(f->key);
	free(f->val);
	free(f->line);
}

/* A node as one line: "text", "[a, b]", "{k: v}". */
static int
render(yaml_document_t *d, yaml_node_t *n, struct buf *b, int depth)
{
	yaml_node_item_t	*it;
	yaml_node_pair_t	*p;

	if (n == NULL || depth > DEPTH_MAX || b->len > VALUE_MAX)
		return -1;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		buf_addf(b, "%.*s", (int)n->data.scalar.length,
		    (const char *)n->data.scalar.value);
		return 0;
	case YAML_SEQUENCE_NODE:
		buf_addf(b, "[");
		for (it = n->data.sequence.items.start;
		    it < n->data.sequence.items.top; it++) {
			if (it > n->data.sequence.items.start)
				buf_addf(b, ", ");
			if (render(d, yaml_document_get_node(d, *it), b,
			    depth + 1) != 0)
				return -1;
		}
		buf_addf(b, "]");
		return 0;
	case YAML_MAPPING_NODE:
		buf_addf(b, "{");
		for (p = n->data.mapping.pairs.start;
		    p < n->data.mapping.pairs.top; p++) {
			if (p > n->data.mapping.pairs.start)
				buf_addf(b, ", ");
			if (render(d, yaml_document_get_node(d, p->key), b,
			    depth + 1) != 0)
				return -1;
			buf_addf(b, ": ");
			if (render(d, yaml_document_get_node(d, p->value), b,
			    depth + 1) != 0)
				return -1;
		}
		buf_addf(b, "}");
		return 0;
	default:
		return -1;
	}
}

/* Mappings become keys of their own; anything else is one value. */
static int
flatten(yaml_document_t *d, yaml_node_t *n, const char *prefix,
    struct flat *f, int depth)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k;
	struct buf		 b = BUF_INIT;
	char			*key;
	int			 rc = 0;

	if (n == NULL || depth > DEPTH_MAX)
		return -1;
	if (n->type != YAML_MAPPING_NODE) {
		if (render(d, n, &b, depth) != 0) {
			buf_release(&b);
			return -1;
		}
		flat_add(f, prefix, buf_detach(&b), n->start_mark.line + 1);
		return 0;
	}
	for (p = n->data.mapping.pairs.start; rc == 0 &&
	    p < n->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(d, p->key);
		if (k == NULL || k->type != YAML_SCALAR_NODE)
			return -1;
		key = xasprintf("%s%s%.*s", prefix, *prefix ? "." : "",
		    (int)k->data.scalar.length,
		    (const char *)k->data.scalar.value);
		rc = flatten(d, yaml_document_get_node(d, p->value), key, f,
		    depth + 1);
		free(key);
	}
	return rc;
}

static int
load_flat(const char *path, struct flat *f, char **cause)
{
	yaml_parser_t	 parser;
	yaml_document_t	 doc;
	FILE		*fp;
	int		 rc;

	memset(f, 0, sizeof *f);
	if ((fp = fopen(path, "rb")) == NULL)
		return failf(cause, "%s: %s", path, strerror(errno));
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, fp);
	rc = yaml_parser_load(&parser, &doc) ? 0 : -1;
	yaml_parser_delete(&parser);
	fclose(fp);
	if (rc != 0)
		return failf(cause, "%s: not valid YAML", path);
	if (flatten(&doc, yaml_document_get_root_node(&doc), "", f, 0) != 0) {
		flat_release(f);
		rc = failf(cause, "%s: a value nests too deep", path);
	}
	yaml_document_delete(&doc);
	return rc;
}

static const char *
refusal(const char *key)
{
	size_t	 i, k;

	for (i = 0; allowed[i]; i++) {
		k = strlen(allowed[i]);
		if (!strncmp(key, allowed[i], k) &&
		    (key[k] == '\0' || key[k] == '.'))
			return NULL;
	}
	for (i = 0; reasons[i].key; i++) {
		k = strlen(reasons[i].key);
		if (!strncmp(key, reasons[i].key, k) &&
		    (key[k] == '\0' || key[k] == '.'))
			break;
	}
	return reasons[i].why;
}

static ssize_t
find(const struct flat *f, const char *key)
{
	size_t	 i;

	for (i = 0; i < f->n; i++)
		if (!strcmp(f->key[i], key))
			return (ssize_t)i;
	return -1;
}

static void
change_add(struct changes *c, const char *key, const char *old,
    const char *new, size_t line)
{
	struct change	*x;

	c->v = xreallocarray(c->v, c->n + 1, sizeof *c->v);
	x = &c->v[c->n++];
	x->key = xstrdup(key);
	x->old = old ? xstrdup(old) : NULL;
	x->new = new ? xstrdup(new) : NULL;
	x->line = line;
	if ((x->refused = refusal(key)) != NULL)
		c->refused++;
}

int
changes_find(const char *path, const char *frozen, struct changes *c,
    char **cause)
{
	struct flat	 a, b;
	size_t		 i;
	ssize_t		 k;

	memset(c, 0, sizeof *c);
	if (load_flat(frozen, &a, cause) != 0)
		return -1;
	if (load_flat(path, &b, cause) != 0) {
		flat_release(&a);
		return -1;
	}
	for (i = 0; i < b.n; i++)
		if ((k = find(&a, b.key[i])) < 0 || strcmp(a.val[k], b.val[i]))
			change_add(c, b.key[i], k < 0 ? NULL : a.val[k],
			    b.val[i], b.line[i]);
	for (i = 0; i < a.n; i++)
		if (find(&b, a.key[i]) < 0)
			change_add(c, a.key[i], a.val[i], NULL, 0);
	flat_release(&a);
	flat_release(&b);
	return 0;
}

void
changes_release(struct changes *c)
{
	size_t	 i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].key);
		free(c->v[i].old);
		free(c->v[i].new);
	}
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* Append the records to output_dir/amendments and make them durable. */
static int
record(const struct experiment *e, const struct changes *c, char **cause)
{
	struct buf	 b = BUF_INIT;
	char		*path = path_join(e->output_dir, "amendments"), t[32];
	char		*o, *n;
	size_t		 i;
	int		 fd, rc = 0;

	fmt_time(t, now());
	for (i = 0; i < c->n; i++) {
		o = quote_bytes(c->v[i].old ? c->v[i].old : "(none)",
		    strlen(c->v[i].old ? c->v[i].old : "(none)"), 2000);
		n = quote_bytes(c->v[i].new ? c->v[i].new : "(none)",
		    strlen(c->v[i].new ? c->v[i].new : "(none)"), 2000);
		buf_addf(&b, "%s %s: %s -> %s\n", t, c->v[i].key, o, n);
		free(o);
		free(n);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, file_mode());
	if (fd == -1 || write(fd, b.s, b.len) != (ssize_t)b.len ||
	    fsync(fd) == -1)
		rc = failf(cause, "%s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	free(path);
	buf_release(&b);
	return rc;
}

int
amend_apply(const struct experiment *e, const char *path,
    const struct changes *c, char **cause)
{
	char	*frozen = path_join(e->output_dir, "experiment.yaml"), *text;
	size_t	 len;
	int	 rc = -1;

	/* The record first: a crash between leaves it saying more, not less. */
	if (read_file(path, &text, &len, cause) == 0) {
		if (record(e, c, cause) == 0)
			rc = write_file_atomic(frozen, text, len, cause);
		free(text);
	}
	free(frozen);
	return rc;
}
