/*
 * Parameter files.  TOML follows the per-member layout of
 * EnsembleKalmanProcesses.jl (one table per parameter with `value`), so
 * models written for ClimaCalibrate read them unchanged.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/paramfile.h"
#include "lib/util.h"

struct sbuf {
	char	*s;
	size_t	 len, cap;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/*
 * A number, always as a float: TOML needs '.', 'e' or inf/nan, and JSON
 * readers (Julia's among them) take 100 for an integer.
 */
static void
sb_num(struct sbuf *b, double x)
{
	char	 buf[40];

	fmt_double(buf, x);
	if (!strpbrk(buf, ".eEn"))
		strcat(buf, ".0");
	sb_str(b, buf);
}

static const double *
values_of(const struct param *p, const double *theta)
{
	return p->fixed ? p->values : theta + p->offset;
}

/* "a, b, c" with the separator given. */
static void
sb_list(struct sbuf *b, const struct param *p, const double *v, const char *sep)
{
	size_t	 i;

	for (i = 0; i < p->size; i++) {
		if (i)
			sb_str(b, sep);
		sb_num(b, v[i]);
	}
}

static int
render_template(const struct experiment *e, const double *theta, long it,
    long mem, const char *t, struct sbuf *b, char **cause)
{
	const char	*p, *end;
	char		 name[256], num[32];
	size_t		 i, k, line = 1;
	long		 idx;
	char		*br;

	for (p = t; *p;) {
		if (p[0] != '{' || p[1] != '{') {
			if (*p == '\n')
				line++;
			sb_add(b, p++, 1);
			continue;
		}
		if ((end = strstr(p + 2, "}}")) == NULL || end - p - 2 >= 255)
			return failf(cause, "%s:%zu: unterminated '{{'", e->ptemplate,
			    line);
		k = end - p - 2;
		memcpy(name, p + 2, k);
		name[k] = '\0';
		p = end + 2;
		idx = -1;
		if ((br = strchr(name, '[')) != NULL) {
			idx = strtol(br + 1, NULL, 10);
			*br = '\0';
		}
		if (!strcmp(name, "iteration") || !strcmp(name, "member")) {
			snprintf(num, sizeof num, "%ld", name[0] == 'i' ? it : mem);
			sb_str(b, num);
			continue;
		}
		for (i = 0; i < e->nparams && strcmp(e->params[i].name, name); i++)
			;
		if (i == e->nparams)
			return failf(cause, "%s:%zu: unknown placeholder '{{%s}}'",
			    e->ptemplate, line, name);
		if (br != NULL && (idx < 1 || (size_t)idx > e->params[i].size))
			return failf(cause, "%s:%zu: '{{%s[%ld]}}' is out of range "
			    "1..%zu", e->ptemplate, line, name, idx,
			    e->params[i].size);
		if (br != NULL)
			sb_num(b, values_of(&e->params[i], theta)[idx - 1]);
		else
			sb_list(b, &e->params[i], values_of(&e->params[i], theta),
			    ", ");
	}
	return 0;
}

int
paramfile_render(const struct experiment *e, const double *theta, long it,
    long mem, const char *tmpl, char **out, char **cause)
{
	struct sbuf		 b = { NULL, 0, 0 };
	const struct param	*p;
	const double		*v;
	size_t			 i;

	sb_str(&b, "");
	if (e->pformat == PF_TEMPLATE) {
		if (render_template(e, theta, it, mem, tmpl, &b, cause) != 0) {
			free(b.s);
			return -1;
		}
		*out = b.s;
		return 0;
	}
	if (e->pformat == PF_JSON)
		sb_str(&b, "{");
	for (i = 0; i < e->nparams; i++) {
		p = &e->params[i];
		v = values_of(p, theta);
		switch (e->pformat) {
		case PF_TOML:
			sb_str(&b, i ? "\n[" : "[");
			sb_str(&b, p->name);
			sb_str(&b, "]\nvalue = ");
			if (p->vector)
				sb_str(&b, "[");
			sb_list(&b, p, v, ", ");
			sb_str(&b, p->vector ? "]\n" : "\n");
			sb_str(&b, "type = \"float\"\n");
			break;
		case PF_JSON:
		case PF_YAML:
			if (e->pformat == PF_JSON)
				sb_str(&b, i ? ", \"" : "\"");
			sb_str(&b, p->name);
			sb_str(&b, e->pformat == PF_JSON ? "\": " : ": ");
			if (p->vector)
				sb_str(&b, "[");
			/* JSON has no inf or nan; values are finite here. */
			sb_list(&b, p, v, ", ");
			if (p->vector)
				sb_str(&b, "]");
			if (e->pformat == PF_YAML)
				sb_str(&b, "\n");
			break;
		case PF_ENV:
			sb_str(&b, p->name);
			sb_str(&b, "=");
			sb_list(&b, p, v, ",");
			sb_str(&b, "\n");
			break;
		case PF_TEMPLATE:
			break;
		}
	}
	if (e->pformat == PF_JSON)
		sb_str(&b, "}\n");
	*out = b.s;
	return 0;
}
