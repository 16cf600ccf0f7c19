/* The report's figures, drawn by PLplot (see figures.h). */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <gsl/gsl_histogram.h>
#include <plplot.h>

#include "lib/figures.h"
#include "lib/fsio.h"
#include "lib/util.h"

/*
 * PLplot is loaded when the first figure is drawn (dlopen), not when calib
 * starts: every other command, calib exec in each member's job above all,
 * would pay for loading it and the libraries it pulls in (9 of them, about
 * 1.4 ms a start).  These are the functions calib calls, each through a
 * pointer of its own prototype's type.
 */
#define PL_FUNCS(X) \
	X(c_pladv) X(c_plbin) X(c_plbox) X(c_plcol0) X(c_plend) X(c_plerrx) \
	X(c_plerry) X(c_plfill) X(c_plinit) X(c_pllab) X(c_pllegend) \
	X(c_pllsty) X(c_plline) X(c_plmtex) X(c_plschr) X(c_plscmap0n) \
	X(c_plscol0a) X(c_plsdev) X(c_plsfnam) X(c_plspage) X(c_plssub) \
	X(c_plstring) X(c_plvpor) X(c_plvsta) X(c_plwidth) X(c_plwind) \
	X(plgDevs) X(plsError)

#define PL_MEMBER(f) __typeof__(&f) p_##f;
static struct {
	PL_FUNCS(PL_MEMBER)
} pl;
#undef PL_MEMBER
#undef pladv
#define pladv (*pl.p_c_pladv)
#undef plbin
#define plbin (*pl.p_c_plbin)
#undef plbox
#define plbox (*pl.p_c_plbox)
#undef plcol0
#define plcol0 (*pl.p_c_plcol0)
#undef plend
#define plend (*pl.p_c_plend)
#undef plerrx
#define plerrx (*pl.p_c_plerrx)
#undef plerry
#define plerry (*pl.p_c_plerry)
#undef plfill
#define plfill (*pl.p_c_plfill)
#undef plinit
#define plinit (*pl.p_c_plinit)
#undef pllab
#define pllab (*pl.p_c_pllab)
#undef pllegend
#define pllegend (*pl.p_c_pllegend)
#undef pllsty
#define pllsty (*pl.p_c_pllsty)
#undef plline
#define plline (*pl.p_c_plline)
#undef plmtex
#define plmtex (*pl.p_c_plmtex)
#undef plschr
#define plschr (*pl.p_c_plschr)
#undef plscmap0n
#define plscmap0n (*pl.p_c_plscmap0n)
#undef plscol0a
#define plscol0a (*pl.p_c_plscol0a)
#undef plsdev
#define plsdev (*pl.p_c_plsdev)
#undef plsfnam
#define plsfnam (*pl.p_c_plsfnam)
#undef plspage
#define plspage (*pl.p_c_plspage)
#undef plssub
#define plssub (*pl.p_c_plssub)
#undef plstring
#define plstring (*pl.p_c_plstring)
#undef plvpor
#define plvpor (*pl.p_c_plvpor)
#undef plvsta
#define plvsta (*pl.p_c_plvsta)
#undef plwidth
#define plwidth (*pl.p_c_plwidth)
#undef plwind
#define plwind (*pl.p_c_plwind)
#define plgDevs (*pl.p_plgDevs)
#define plsError (*pl.p_plsError)

#ifndef PLPLOT_SONAME
#define PLPLOT_SONAME "libplplot.so.17"
#endif

/* Load PLplot once; -1 with *cause when it cannot be. */
static int
plplot_load(char **cause)
{
	static void	*h;

	if (h != NULL)
		return 0;
	if ((h = dlopen(PLPLOT_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return failf(cause, "cannot load PLplot: %s (is Debian's "
		    "libplplot17 installed?)", dlerror());
#define PL_LOAD(f) \
	if ((*(void **)&pl.p_##f = dlsym(h, #f)) == NULL) {		\
		failf(cause, "%s: no function %s", PLPLOT_SONAME, #f);	\
		dlclose(h);						\
		h = NULL;						\
		return -1;						\
	}
	PL_FUNCS(PL_LOAD)
#undef PL_LOAD
	return 0;
}

/*
 * Colour map 0: background, axes, then the Okabe-Ito palette, which stays
 * apart for colour-blind readers and in greyscale print.
 */
enum {
	C_BG, C_AXES, C_BLUE, C_ORANGE, C_GREEN, C_VERMILLION, C_SKY,
	C_PURPLE, C_YELLOW, C_GREY, C_BAND1, C_BAND2, C_PRIORPT, C_PRIORBAND,
	C_NCOLOURS
};

static void
palette(void)
{
	static const struct { int r, g, b; double a; } c[C_NCOLOURS] = {
		{ 255, 255, 255, 1 }, { 0, 0, 0, 1 }, { 0, 114, 178, 1 },
		{ 230, 159, 0, 1 }, { 0, 158, 115, 1 }, { 213, 94, 0, 1 },
		{ 86, 180, 233, 1 }, { 204, 121, 167, 1 }, { 240, 228, 66, 1 },
		{ 120, 120, 120, 1 }, { 0, 114, 178, 0.35 }, { 0, 114, 178, 0.15 },
		{ 150, 150, 150, 1 }, { 230, 159, 0, 0.15 },
	};
	int	 i;

	plscmap0n(C_NCOLOURS);
	for (i = 0; i < C_NCOLOURS; i++)
		plscol0a(i, c[i].r, c[i].g, c[i].b, c[i].a);
}

static const char *const fig_names[FIG_COUNT] = {
	"misfit", "parameters", "pairs", "data", "failures"
};
static const char *const fig_titles[FIG_COUNT] = {
	"Data misfit per iteration",
	"Parameters per iteration",
	"The newest ensemble against the prior",
	"Outputs against the observations",
	"Members that failed",
};
static const char *const fmt_ext[FMT_COUNT] = { "svg", "png", "pdf" };
static const char *const fmt_dev[FMT_COUNT] = { "svg", "pngcairo", "pdfcairo" };

const char *
figure_name(enum figure f)
{
	return fig_names[f];
}

const char *
figure_title(enum figure f)
{
	return fig_titles[f];
}

const char *
figure_ext(int fmt)
{
	return fmt_ext[fmt];
}

int
figure_formats(char **cause)
{
	const char	*menu[128], *dev[128];
	const char	**pm = menu, **pd = dev;
	int		 n = 128, i, k, have = 0;

	if (plplot_load(cause) != 0)
		return -1;
	/* plgDevs fills the caller's arrays, n long, and sets n. */
	plgDevs(&pm, &pd, &n);
	for (i = 0; i < n; i++)
		for (k = 0; k < FMT_COUNT; k++)
			if (strcmp(dev[i], fmt_dev[k]) == 0)
				have |= 1 << k;
	return have;
}

/*
 * What PLplot reported through plabort while a figure was drawn: with
 * plsError set, it records the message instead of printing it.
 */
static PLINT	plot_errcode;
static char	plot_error[320];

/* What one figure draws, and where its note goes. */
struct ctx {
	const struct report_data *r;
	char			*note;
	size_t			 size;
};

/* The smallest and largest finite values of v (n of them), into *lo, *hi. */
static void
extend(const double *v, size_t n, size_t stride, double *lo, double *hi)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (isfinite(v[i * stride])) {
			if (v[i * stride] < *lo)
				*lo = v[i * stride];
			if (v[i * stride] > *hi)
				*hi = v[i * stride];
		}
}

/* The character scale of the figure being drawn (render sets it). */
static PLFLT	text_scale = 0.8;

/* Points as glyphs, a little larger than the text. */
static void
points(size_t n, const double *x, const double *y, int colour,
    const char *glyph)
{
	double	*fx, *fy;
	size_t	 i, k = 0;

	/* PLplot takes coordinates to integers: NaN must not reach it. */
	fx = xmallocarray(n + 1, sizeof *fx);
	fy = xmallocarray(n + 1, sizeof *fy);
	for (i = 0; i < n; i++)
		if (isfinite(x[i]) && isfinite(y[i])) {
			fx[k] = x[i];
			fy[k++] = y[i];
		}
	plcol0(colour);
	plschr(0, text_scale * 1.4);
	if (k > 0)
		plstring(k, fx, fy, glyph);
	plschr(0, text_scale);
	free(fx);
	free(fy);
}

/* A line through the finite points of (x, y), broken where they are not. */
static void
line(size_t n, const double *x, const double *y)
{
	size_t	 i, j;

	for (i = 0; i < n; i = j) {
		while (i < n && !(isfinite(x[i]) && isfinite(y[i])))
			i++;
		for (j = i; j < n && isfinite(x[j]) && isfinite(y[j]); j++)
			;
		if (j - i >= 2)
			plline(j - i, x + i, y + i);
	}
}

/* A window around [lo, hi] with a margin, even when they are equal. */
static void
window(double xmin, double xmax, double lo, double hi)
{
	double	 m, scale;

	if (!(isfinite(lo) && isfinite(hi) && lo <= hi)) {
		lo = 0;
		hi = 1;
	}
	/* A margin PLplot can tell from zero, even around one value. */
	scale = fmax(fabs(lo), fabs(hi));
	m = (hi - lo) * 0.05;
	if (!(m > 1e-9 * scale) || m < 1e-200)
		m = scale > 1e-200 ? scale * 0.05 : 0.5;
	if (xmin == xmax) {
		xmin -= 0.5;
		xmax += 0.5;
	}
	plwind(xmin, xmax, lo - m, hi + m);
}

/* A filled band between lo and hi over x (n points), in colour c. */
static void
band(size_t n, const double *x, const double *lo, const double *hi, int c)
{
	double	*px, *py;
	size_t	 i, k = 0;

	if (n == 0)
		return;
	px = xmallocarray(2 * n, sizeof *px);
	py = xmallocarray(2 * n, sizeof *py);
	for (i = 0; i < n; i++)
		if (isfinite(lo[i]) && isfinite(hi[i])) {
			px[k] = x[i];
			py[k++] = hi[i];
		}
	for (i = n; i-- > 0;)
		if (isfinite(lo[i]) && isfinite(hi[i])) {
			px[k] = x[i];
			py[k++] = lo[i];
		}
	plcol0(c);
	if (k >= 3)
		plfill(k, px, py);
	else if (k == 2) {	/* one point: a bar from lo to hi */
		plwidth(6);
		plline(2, px, py);
		plwidth(1);
	}
	free(px);
	free(py);
}

/* A legend: up to 6 entries of lines, symbols or boxes. */
struct legend {
	int		 n;
	PLINT		 opt[6], colour[6], style[6], sym_n[6];
	const char	*text[6], *sym[6];
	PLFLT		 width[6], scale[6];
};

static void
legend_add(struct legend *l, PLINT opt, int colour, int style, const char *t)
{
	l->opt[l->n] = opt;
	l->colour[l->n] = colour;
	l->style[l->n] = style;
	l->text[l->n] = t;
	l->sym[l->n] = "•";
	l->sym_n[l->n] = 1;
	l->width[l->n] = 1.5;
	l->scale[l->n] = 1;
	l->n++;
}

static void
legend_draw_scaled(const struct legend *l, PLINT position, PLFLT scale)
{
	PLFLT	 w, h;
	PLINT	 pat[6] = { 0 }, tc[6];
	int	 i;

	for (i = 0; i < l->n; i++)
		tc[i] = C_AXES;
	plcol0(C_AXES);
	pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
	    position, 0.01, 0.01, 0.08, C_BG, C_AXES, 1, 0, 0, l->n, l->opt,
	    0.8, scale, 1.6, 0, tc, l->text, l->colour, pat, l->scale, l->width,
	    l->colour, l->style, l->width, l->colour, l->scale, l->sym_n,
	    l->sym);
}

static void
legend_draw(const struct legend *l, PLINT position)
{
	legend_draw_scaled(l, position, 0.7);
}

/*
 * Figure 1: each member's misfit as a point, jittered within its
 * iteration, over the min-max band and the mean's line; a log axis when
 * the misfits span more than two decades.
 */
static void
draw_misfit(const struct ctx *c)
{
	const struct report_data *r = c->r;
	double	 lo = INFINITY, hi = -INFINITY, *x, *y, *jx, *mn, *mx, *mean;
	size_t	 i, m, k, nit = r->niter;
	int	 logy;
	struct legend l = { 0 };

	pladv(0);
	for (i = 0; i < nit; i++)
		extend(r->it[i].misfit, r->it[i].n, 1, &lo, &hi);
	logy = lo > 0 && hi / lo > 100;
	x = xmallocarray(nit + 1, sizeof *x);
	mn = xmallocarray(nit + 1, sizeof *mn);
	mx = xmallocarray(nit + 1, sizeof *mx);
	mean = xmallocarray(nit + 1, sizeof *mean);
	for (i = 0; i < nit; i++) {
		x[i] = r->it[i].iteration;
		mn[i] = INFINITY;
		mx[i] = -INFINITY;
		extend(r->it[i].misfit, r->it[i].n, 1, &mn[i], &mx[i]);
		mean[i] = r->it[i].mmean;
		if (logy) {
			mn[i] = log10(mn[i]);
			mx[i] = log10(mx[i]);
			mean[i] = mean[i] > 0 ? log10(mean[i]) : NAN;
		}
	}
	plcol0(C_AXES);
	plvsta();
	if (logy)
		window(-0.5, nit - 0.5, log10(lo), log10(hi));
	else
		window(-0.5, nit - 0.5, isfinite(lo) ? lo : 0, isfinite(hi) ? hi : 1);
	plbox("bcnst", nit > 10 ? 0 : 1, 0, logy ? "bcnstlv" : "bcnstv", 0, 0);
	pllab("iteration", logy ? "misfit (log scale)" : "misfit", "");
	band(nit, x, mn, mx, C_BAND2);
	plcol0(C_BLUE);
	for (i = 0; i < nit; i++) {
		const struct iter_summary *s = &r->it[i];

		y = xmallocarray(s->n + 1, sizeof *y);
		jx = xmallocarray(s->n + 1, sizeof *jx);
		for (m = k = 0; m < s->n; m++)
			if (isfinite(s->misfit[m])) {
				y[k] = logy ? log10(s->misfit[m]) : s->misfit[m];
				jx[k] = x[i] + 0.3 * ((m + 0.5) / s->n - 0.5);
				k++;
			}
		points(k, jx, y, C_BLUE, "•");
		free(y);
		free(jx);
	}
	plcol0(C_VERMILLION);
	plwidth(2);
	line(nit, x, mean);
	plwidth(1);
	legend_add(&l, PL_LEGEND_SYMBOL, C_BLUE, 1, "members");
	legend_add(&l, PL_LEGEND_LINE, C_VERMILLION, 1, "ensemble mean");
	legend_add(&l, PL_LEGEND_COLOR_BOX, C_BAND2, 1, "min to max");
	legend_draw(&l, PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE);
	free(x);
	free(mn);
	free(mx);
	free(mean);
}

/* The panels of figure 2: a component, or a long vector's summary. */
struct panel {
	size_t		 param;
	long		 comp;		/* -1: every component of a vector */
};

/* The first max panels into v; with v NULL, how many there are in all. */
static size_t
panels(const struct experiment *e, struct panel *v, size_t max)
{
	size_t	 i, j, n = 0;

	for (i = 0; i < e->nparams && n < max; i++) {
		if (e->params[i].fixed)
			continue;
		if (e->params[i].vector && e->params[i].size > FIG_MAX_VECTOR) {
			if (v != NULL) {
				v[n].param = i;
				v[n].comp = -1;
			}
			n++;
			continue;
		}
		for (j = 0; j < e->params[i].size && n < max; j++, n++)
			if (v != NULL) {
				v[n].param = i;
				v[n].comp = j;
			}
	}
	return n;
}

/* Bands of mean +- 1 and 2 std of component k over the iterations. */
static void
param_bands(const struct report_data *r, size_t k, const double *x,
    double *lo, double *hi)
{
	double	*a = xmallocarray(r->niter + 1, sizeof *a);
	double	*b = xmallocarray(r->niter + 1, sizeof *b);
	size_t	 i;
	int	 w;

	for (w = 2; w >= 1; w--) {
		for (i = 0; i < r->niter; i++) {
			a[i] = r->it[i].mean[k] - w * r->it[i].std[k];
			b[i] = r->it[i].mean[k] + w * r->it[i].std[k];
			if (w == 2) {
				extend(&a[i], 1, 1, lo, hi);
				extend(&b[i], 1, 1, lo, hi);
			}
		}
		if (w == 2)
			window(-0.5, r->niter - 0.5, *lo, *hi);
		band(r->niter, x, a, b, w == 2 ? C_BAND2 : C_BAND1);
	}
	free(a);
	free(b);
}

/* The prior's centre (dashed) and +-1 sigma band, across [x0, x1]. */
static void
prior_reference(const double *pb, double x0, double x1)
{
	double	 x[2] = { x0, x1 }, lo[2] = { pb[1], pb[1] };
	double	 hi[2] = { pb[3], pb[3] }, y[2] = { pb[2], pb[2] };

	band(2, x, lo, hi, C_PRIORBAND);
	plcol0(C_ORANGE);
	pllsty(2);
	plwidth(1.5);
	plline(2, x, y);
	pllsty(1);
	plwidth(1);
}

/* One component of figure 2 over the iterations. */
static void
param_panel(const struct report_data *r, size_t k, const char *name)
{
	double	*x = xmallocarray(r->niter + 1, sizeof *x);
	double	*y = xmallocarray(r->niter + 1, sizeof *y);
	double	 lo, hi;
	size_t	 i;

	lo = hi = r->prior_band[k * 5 + 2];
	for (i = 0; i < r->niter; i++) {
		x[i] = r->it[i].iteration;
		y[i] = r->it[i].mean[k];
	}
	plcol0(C_AXES);
	plvsta();
	param_bands(r, k, x, &lo, &hi);
	prior_reference(&r->prior_band[k * 5], -0.5, r->niter - 0.5);
	plcol0(C_AXES);
	plbox("bcnst", r->niter > 10 ? 0 : 1, 0, "bcnstv", 0, 0);
	pllab("iteration", "", name);
	plcol0(C_BLUE);
	plwidth(2);
	line(r->niter, x, y);
	plwidth(1);
	points(r->niter, x, y, C_BLUE, "•");
	free(x);
	free(y);
}

/* A long vector parameter: its components at the first and newest. */
static void
vector_panel(const struct report_data *r, const struct param *p,
    const char *title)
{
	const struct iter_summary *f = &r->it[r->niter - 1], *z = &r->it[0];
	double	*x = xmallocarray(p->size, sizeof *x);
	double	*a = xmallocarray(p->size, sizeof *a);
	double	*b = xmallocarray(p->size, sizeof *b);
	double	 lo = INFINITY, hi = -INFINITY;
	size_t	 j, k;
	int	 w;

	for (j = 0; j < p->size; j++) {
		x[j] = j + 1;
		k = p->offset + j;
		a[j] = f->mean[k] - 2 * f->std[k];
		b[j] = f->mean[k] + 2 * f->std[k];
		extend(&a[j], 1, 1, &lo, &hi);
		extend(&b[j], 1, 1, &lo, &hi);
		extend(&z->mean[k], 1, 1, &lo, &hi);
	}
	plcol0(C_AXES);
	plvsta();
	window(0.5, p->size + 0.5, lo, hi);
	for (w = 2; w >= 1; w--) {
		for (j = 0; j < p->size; j++) {
			a[j] = f->mean[p->offset + j] - w * f->std[p->offset + j];
			b[j] = f->mean[p->offset + j] + w * f->std[p->offset + j];
		}
		band(p->size, x, a, b, w == 2 ? C_BAND2 : C_BAND1);
	}
	for (j = 0; j < p->size; j++)
		a[j] = r->prior_band[(p->offset + j) * 5 + 2];
	plcol0(C_ORANGE);
	pllsty(2);
	line(p->size, x, a);
	for (j = 0; j < p->size; j++)
		a[j] = z->mean[p->offset + j];
	plcol0(C_GREY);
	pllsty(3);
	line(p->size, x, a);
	pllsty(1);
	for (j = 0; j < p->size; j++)
		a[j] = f->mean[p->offset + j];
	plcol0(C_BLUE);
	plwidth(2);
	line(p->size, x, a);
	plwidth(1);
	plcol0(C_AXES);
	plbox("bcnst", 0, 0, "bcnstv", 0, 0);
	pllab("component", "", title);
	free(x);
	free(a);
	free(b);
}

/* Subpages for n panels: rows of about 1.5 times as many columns. */
static void
grid(size_t n, PLINT *cols, PLINT *rows)
{
	*cols = (PLINT)ceil(sqrt(1.5 * (double)n));
	if (*cols < 1)
		*cols = 1;
	if ((size_t)*cols > n && n > 0)
		*cols = (PLINT)n;
	*rows = (PLINT)((n + *cols - 1) / *cols);
	if (*rows < 1)
		*rows = 1;
}

/*
 * Figure 2: every component in constrained space per iteration: the mean,
 * bands of +-1 and +-2 std, and the prior's centre and +-1 sigma band.
 */
static void
draw_params(const struct ctx *c)
{
	const struct experiment *e = c->r->e;
	struct panel	 v[FIG_MAX_PANELS];
	struct legend	 l = { 0 };
	size_t		 n = panels(e, v, FIG_MAX_PANELS), i;
	char		*name;
	int		 vec = 0;

	for (i = 0; i < n; i++) {
		const struct param *p = &e->params[v[i].param];

		pladv((PLINT)i + 1);
		if (v[i].comp < 0) {
			name = xasprintf("%s[1..%zu], newest", p->name,
			    p->size);
			vector_panel(c->r, p, name);
		} else {
			name = param_component_name(p, v[i].comp);
			param_panel(c->r, p->offset + v[i].comp, name);
		}
		free(name);
		vec |= v[i].comp < 0;
	}
	/* The legend has a slot of its own, after the panels. */
	pladv((PLINT)n + 1);
	plvpor(0.05, 0.95, 0.05, 0.95);
	plwind(0, 1, 0, 1);
	legend_add(&l, PL_LEGEND_LINE, C_BLUE, 1, "mean");
	legend_add(&l, PL_LEGEND_COLOR_BOX, C_BAND1, 1, "±1 std");
	legend_add(&l, PL_LEGEND_COLOR_BOX, C_BAND2, 1, "±2 std");
	legend_add(&l, PL_LEGEND_LINE, C_ORANGE, 2, "prior centre");
	legend_add(&l, PL_LEGEND_COLOR_BOX, C_PRIORBAND, 1, "prior ±1σ");
	if (vec)
		legend_add(&l, PL_LEGEND_LINE, C_GREY, 3, "iteration 0 mean");
	legend_draw_scaled(&l, PL_POSITION_TOP | PL_POSITION_LEFT |
	    PL_POSITION_INSIDE, 0.8);
	if (n < panels(e, NULL, SIZE_MAX))
		snprintf(c->note, c->size, "the first %zu of %zu panels; "
		    "calib status lists every component", n,
		    panels(e, NULL, SIZE_MAX));
}

/* Components of figure 3: the first FIG_MAX_PAIRS calibrated ones. */
static size_t
pair_components(const struct experiment *e, size_t *k, char **names)
{
	size_t	 i, j, n = 0;

	for (i = 0; i < e->nparams && n < FIG_MAX_PAIRS; i++)
		for (j = 0; !e->params[i].fixed && j < e->params[i].size &&
		    n < FIG_MAX_PAIRS; j++) {
			k[n] = e->params[i].offset + j;
			names[n++] = param_component_name(&e->params[i], j);
		}
	return n;
}

/*
 * The range of component k shown: the newest ensemble's, widened by a
 * quarter on either side, so that a posterior much narrower than the
 * prior keeps its shape; the prior's samples beyond are cut off.  With no
 * newest points, the prior's +-1 sigma band.
 */
static void
pair_range(const struct report_data *r, size_t k, double *lo, double *hi)
{
	size_t	 p = r->e->ncalib;
	double	 w;

	*lo = INFINITY;
	*hi = -INFINITY;
	if (r->final_pts != NULL)
		extend(r->final_pts + k, r->nfinal, p, lo, hi);
	if (!(*lo <= *hi)) {
		*lo = r->prior_band[k * 5 + 1];
		*hi = r->prior_band[k * 5 + 3];
	}
	w = (*hi - *lo) * 0.25;
	*lo -= w;
	*hi += w;
}

/* Scatter of component kx against ky: prior underneath, then the newest. */
static void
scatter(const struct report_data *r, size_t kx, size_t ky)
{
	size_t	 p = r->e->ncalib, i, n = r->nprior > r->nfinal ? r->nprior :
		    r->nfinal;
	double	*x = xmallocarray(n + 1, sizeof *x);
	double	*y = xmallocarray(n + 1, sizeof *y);

	for (i = 0; i < r->nprior; i++) {
		x[i] = r->prior_pts[i * p + kx];
		y[i] = r->prior_pts[i * p + ky];
	}
	points(r->nprior, x, y, C_PRIORPT, "•");
	for (i = 0; i < r->nfinal; i++) {
		x[i] = r->final_pts[i * p + kx];
		y[i] = r->final_pts[i * p + ky];
	}
	points(r->nfinal, x, y, C_BLUE, "•");
	free(x);
	free(y);
}

/* Densities of v's column k over [lo, hi] in nb bins (gsl_histogram). */
static void
density(const double *v, size_t n, size_t stride, double lo, double hi,
    size_t nb, double *dens, double *max)
{
	gsl_histogram	*h = gsl_histogram_alloc(nb);
	size_t		 i;

	/* Values outside [lo, hi) are left out (gsl_histogram_increment). */
	gsl_histogram_set_ranges_uniform(h, lo, hi);
	for (i = 0; i < n; i++)
		gsl_histogram_increment(h, v[i * stride]);
	for (i = 0; i < nb; i++) {
		dens[i] = n ? gsl_histogram_get(h, i) / (n * (hi - lo) / nb) : 0;
		if (dens[i] > *max)
			*max = dens[i];
	}
	gsl_histogram_free(h);
}

/* The diagonal of figure 3: histograms of the prior and the newest. */
static void
histograms(const struct report_data *r, size_t k, double lo, double hi)
{
	enum { NB = 20 };
	double	 x[NB], dp[NB], df[NB], max = 0;
	size_t	 i, p = r->e->ncalib;

	if (!(hi > lo))
		hi = lo + 1;
	for (i = 0; i < NB; i++)
		x[i] = lo + (hi - lo) * i / NB;
	/* Without points (UKI's covariance not positive definite): none. */
	density(r->prior_pts ? r->prior_pts + k : NULL, r->nprior, p, lo, hi,
	    NB, dp, &max);
	density(r->final_pts ? r->final_pts + k : NULL, r->nfinal, p, lo, hi,
	    NB, df, &max);
	plwind(lo, hi, 0, max > 0 ? max * 1.1 : 1);
	plcol0(C_PRIORPT);
	plbin(NB, x, dp, PL_BIN_NOEXPAND);
	plcol0(C_BLUE);
	plwidth(1.5);
	plbin(NB, x, df, PL_BIN_NOEXPAND);
	plwidth(1);
}

/*
 * Figure 3: the newest ensemble pairwise, with each component's histogram
 * on the diagonal; the prior's samples underneath, in grey.
 */
static void
draw_pairs(const struct ctx *c)
{
	const struct report_data *r = c->r;
	size_t	 k[FIG_MAX_PAIRS], n, i, j;
	char	*names[FIG_MAX_PAIRS];
	double	 lo[FIG_MAX_PAIRS], hi[FIG_MAX_PAIRS], m;

	n = pair_components(r->e, k, names);
	for (i = 0; i < n; i++) {
		pair_range(r, k[i], &lo[i], &hi[i]);
		m = (hi[i] - lo[i]) * 0.05;
		if (m == 0)
			m = fabs(lo[i]) > 0 ? fabs(lo[i]) * 0.05 : 0.5;
		lo[i] -= m;
		hi[i] += m;
	}
	for (i = 0; i < n; i++)
		for (j = 0; j <= i; j++) {
			pladv((PLINT)(i * n + j + 1));
			plcol0(C_AXES);
			plvpor(0.22, 0.95, 0.18, 0.95);
			if (i == j)
				histograms(r, k[i], lo[i], hi[i]);
			else {
				plwind(lo[j], hi[j], lo[i], hi[i]);
				scatter(r, k[j], k[i]);
			}
			plcol0(C_AXES);
			plbox(i == n - 1 ? "bcnst" : "bcst", 0, 0,
			    j == 0 && i != j ? "bcnstv" : "bcst", 0, 0);
			if (i == n - 1)
				plmtex("b", 3.2, 0.5, 0.5, names[j]);
			if (j == 0 && i != 0)
				plmtex("l", 4.4, 0.5, 0.5, names[i]);
		}
	if (n > 1) {
		struct legend l = { 0 };

		pladv((PLINT)n);
		plvpor(0.1, 0.9, 0.1, 0.9);
		plwind(0, 1, 0, 1);
		legend_add(&l, PL_LEGEND_SYMBOL, C_PRIORPT, 1, "prior");
		legend_add(&l, PL_LEGEND_SYMBOL, C_BLUE, 1, "newest");
		legend_draw_scaled(&l, PL_POSITION_TOP | PL_POSITION_RIGHT |
		    PL_POSITION_INSIDE, 1.0);
	}
	if (n < r->e->ncalib)
		snprintf(c->note, c->size, "the first %zu of %zu components",
		    n, r->e->ncalib);
	for (i = 0; i < n; i++)
		free(names[i]);
}

/* The observations shown: every stride-th, for at most FIG_MAX_POINTS. */
static size_t
data_stride(size_t d)
{
	return d > FIG_MAX_POINTS ? (d + FIG_MAX_POINTS - 1) / FIG_MAX_POINTS :
	    1;
}

/* v at the shown observations into out; returns how many. */
static size_t
decimate(const double *v, size_t d, size_t stride, double *out)
{
	size_t	 i, n = 0;

	for (i = 0; i < d; i += stride)
		out[n++] = v[i];
	return n;
}

/* An iteration's outputs at the n shown: mean -/+ std into a, b. */
static void
outputs(const struct report_data *r, int w, size_t n,
    double *a, double *b, double *lo, double *hi)
{
	size_t	 i, s = data_stride(r->d);

	decimate(r->out_mean[w], r->d, s, a);
	decimate(r->out_std[w], r->d, s, b);
	for (i = 0; i < n; i++) {
		double m = a[i], sd = b[i];

		a[i] = m - sd;
		b[i] = m + sd;
	}
	extend(a, n, 1, lo, hi);
	extend(b, n, 1, lo, hi);
}

/* The window of figure 4: half an observation's room at either end. */
static void
data_window(const double *x, size_t n, double lo, double hi)
{
	double	 h = n > 1 ? (x[1] - x[0]) / 2 : 0.5;

	window(x[0] - h, x[n - 1] + h, lo, hi);
}

/* Top of figure 4: observations with their noise, and the outputs. */
static void
data_values(const struct report_data *r, const double *x, size_t n)
{
	double	*a = xmallocarray(n, sizeof *a), *b = xmallocarray(n, sizeof *b);
	double	*y = xmallocarray(n, sizeof *y), *sd = xmallocarray(n, sizeof *sd);
	double	 lo = INFINITY, hi = -INFINITY;
	size_t	 i, s = data_stride(r->d);
	int	 w;
	struct legend l = { 0 };

	decimate(r->y, r->d, s, y);
	decimate(r->sd, r->d, s, sd);
	for (i = 0; i < n; i++) {
		a[i] = y[i] - sd[i];
		b[i] = y[i] + sd[i];
	}
	extend(a, n, 1, &lo, &hi);
	extend(b, n, 1, &lo, &hi);
	for (w = 0; w < 2; w++)
		if (r->out_it[w] >= 0)
			outputs(r, w, n, a, b, &lo, &hi);
	plcol0(C_AXES);
	plvpor(0.07, 0.74, 0.14, 0.92);
	data_window(x, n, lo, hi);
	plbox("bcnst", 0, 0, "bcnstv", 0, 0);
	pllab("observation", "value", "");
	for (w = 1; w >= 0; w--) {
		if (r->out_it[w] < 0 || (w == 0 && r->out_it[0] == r->out_it[1]))
			continue;
		outputs(r, w, n, a, b, &lo, &hi);
		if (w == 1)
			band(n, x, a, b, C_BAND1);
		decimate(r->out_mean[w], r->d, s, a);
		plcol0(w ? C_BLUE : C_GREY);
		pllsty(w ? 1 : 2);
		plwidth(w ? 2 : 1.5);
		if (n > 1)
			line(n, x, a);
		else {	/* a line needs two observations: a bar across */
			double x0 = x[0] - 0.2, x1 = x[0] + 0.2;

			plerrx(1, &x0, &x1, a);
		}
		pllsty(1);
		plwidth(1);
		legend_add(&l, PL_LEGEND_LINE, w ? C_BLUE : C_GREY, w ? 1 : 2,
		    w ? "newest outputs, mean" : "iteration 0 outputs, mean");
		if (w)
			legend_add(&l, PL_LEGEND_COLOR_BOX, C_BAND1, 1,
			    "newest outputs, ±1 std");
	}
	for (i = 0; i < n; i++) {
		a[i] = y[i] - sd[i];
		b[i] = y[i] + sd[i];
	}
	plcol0(C_AXES);
	if (n <= 100) {
		plerry(n, x, a, b);
		points(n, x, y, C_AXES, "•");
		legend_add(&l, PL_LEGEND_SYMBOL, C_AXES, 1,
		    "observations ±1 noise std");
	} else {
		band(n, x, a, b, C_PRIORBAND);
		plcol0(C_AXES);
		line(n, x, y);
		legend_add(&l, PL_LEGEND_LINE, C_AXES, 1, "observations");
		legend_add(&l, PL_LEGEND_COLOR_BOX, C_PRIORBAND, 1,
		    "±1 noise std");
	}
	legend_draw(&l, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE);
	free(a);
	free(b);
	free(y);
	free(sd);
}

/* Bottom of figure 4: (mean output - observation) / noise std. */
static void
data_residuals(const struct report_data *r, const double *x, size_t n)
{
	double	*a = xmallocarray(n, sizeof *a), *y = xmallocarray(n, sizeof *y);
	double	*sd = xmallocarray(n, sizeof *sd);
	double	 lo = -2, hi = 2, lx[2] = { x[0] - 1, x[n - 1] + 1 }, ly[2];
	size_t	 i, s = data_stride(r->d);
	int	 w, k;
	struct legend l = { 0 };

	decimate(r->y, r->d, s, y);
	decimate(r->sd, r->d, s, sd);
	for (w = 0; w < 2; w++)
		if (r->out_it[w] >= 0) {
			decimate(r->out_mean[w], r->d, s, a);
			for (i = 0; i < n; i++)
				a[i] = (a[i] - y[i]) / sd[i];
			extend(a, n, 1, &lo, &hi);
		}
	plcol0(C_AXES);
	plvpor(0.07, 0.74, 0.14, 0.92);
	data_window(x, n, lo, hi);
	plbox("bcnst", 0, 0, "bcnstv", 0, 0);
	pllab("observation", "(mean output - observation) / noise std", "");
	pllsty(2);
	plcol0(C_GREY);
	for (k = -2; k <= 2; k += 2) {
		ly[0] = ly[1] = k;
		plline(2, lx, ly);
	}
	pllsty(1);
	for (w = 0; w < 2; w++) {
		if (r->out_it[w] < 0 || (w == 0 && r->out_it[0] == r->out_it[1]))
			continue;
		decimate(r->out_mean[w], r->d, s, a);
		for (i = 0; i < n; i++)
			a[i] = (a[i] - y[i]) / sd[i];
		points(n, x, a, w ? C_BLUE : C_ORANGE, w ? "•" : "◦");
		legend_add(&l, PL_LEGEND_SYMBOL, w ? C_BLUE : C_ORANGE, 1,
		    w ? "newest" : "iteration 0");
		l.sym[l.n - 1] = w ? "•" : "◦";
	}
	if (l.n)
		legend_draw(&l, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE);
	free(a);
	free(y);
	free(sd);
}

/*
 * Figure 4: the observations with their noise against the outputs of the
 * first closed iteration and the newest, then the residuals in units of
 * the noise.
 */
static void
draw_data(const struct ctx *c)
{
	const struct report_data *r = c->r;
	size_t	 s = data_stride(r->d), n = 0, i;
	double	*x = xmallocarray(r->d + 1, sizeof *x);

	for (i = 0; i < r->d; i += s)
		x[n++] = i + 1;
	if (n == 0) {	/* observations.h5 refuses this; no frame to draw */
		free(x);
		return;
	}
	pladv(1);
	data_values(r, x, n);
	pladv(2);
	data_residuals(r, x, n);
	if (s > 1)
		snprintf(c->note, c->size, "one observation in every %zu of "
		    "%zu drawn", s, r->d);
	else if (r->out_it[1] < 0)
		snprintf(c->note, c->size, "no iteration is closed yet: no "
		    "outputs to show");
	free(x);
}

/* Figure 5: members that failed, per iteration, stacked by reason. */
static void
draw_failures(const struct ctx *c)
{
	static const int colour[MS_COUNT] = {
		0, C_VERMILLION, C_ORANGE, C_PURPLE, C_GREY, 0
	};
	const struct report_data *r = c->r;
	struct legend	 l = { 0 };
	double		 max = 1, bx[4], by[4], base;
	size_t		 i;
	int		 k;

	pladv(0);
	for (i = 0; i < r->niter; i++)
		if (summary_failed(&r->it[i]) > max)
			max = summary_failed(&r->it[i]);
	plcol0(C_AXES);
	plvpor(0.08, 0.84, 0.12, 0.92);
	plwind(-0.5, r->niter - 0.5, 0, max * 1.1);
	for (i = 0; i < r->niter; i++) {
		base = 0;
		for (k = MS_FAILED; k <= MS_NOTRUN; k++) {
			bx[0] = bx[1] = i - 0.35;
			bx[2] = bx[3] = i + 0.35;
			by[0] = by[3] = base;
			base += r->it[i].count[k];
			by[1] = by[2] = base;
			if (by[1] > by[0]) {
				plcol0(colour[k]);
				plfill(4, bx, by);
			}
		}
	}
	plcol0(C_AXES);
	/* Whole members: ticks at integers while they are few. */
	plbox("bcnst", r->niter > 10 ? 0 : 1, 0, "bcnstv", max > 10 ? 0 : 1,
	    max > 10 ? 0 : 1);
	pllab("iteration", "members", "");
	for (k = MS_FAILED; k <= MS_NOTRUN; k++)
		legend_add(&l, PL_LEGEND_COLOR_BOX, colour[k], 1,
		    member_state_name(k));
	legend_draw(&l, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE);
	for (i = max = 0; i < r->niter; i++)
		max += summary_failed(&r->it[i]);
	if (max == 0)
		snprintf(c->note, c->size, "no member has failed");
}

/* Page size in pixels and subpages of a figure. */
static void
layout(const struct report_data *r, enum figure f, double *w, double *h,
    PLINT *nx, PLINT *ny)
{
	struct panel	 v[FIG_MAX_PANELS];
	size_t		 k[FIG_MAX_PAIRS], n, i;
	char		*names[FIG_MAX_PAIRS];

	*nx = *ny = 1;
	*w = 900;
	*h = 520;
	switch (f) {
	case FIG_PARAMS:
		grid(panels(r->e, v, FIG_MAX_PANELS) + 1, nx, ny);
		*w = 440.0 * *nx;
		*h = (*nx > 3 ? 380.0 : 320.0) * *ny;
		break;
	case FIG_PAIRS:
		n = pair_components(r->e, k, names);
		for (i = 0; i < n; i++)
			free(names[i]);
		*nx = *ny = n ? n : 1;
		*w = *h = 340.0 * *nx + 40;
		break;
	case FIG_DATA:
		*ny = 2;
		*w = 1100;
		*h = 760;
		break;
	default:
		break;
	}
}

static void (*const drawers[FIG_COUNT])(const struct ctx *) = {
	draw_misfit, draw_params, draw_pairs, draw_data, draw_failures
};

/* Draw figure f with device dev into the file tmp. */
static int
render(const char *tmp, int fmt, enum figure f, const struct ctx *c,
    char **cause)
{
	double	 w, h;
	PLINT	 nx, ny;

	layout(c->r, f, &w, &h, &nx, &ny);
	plot_errcode = 0;
	plot_error[0] = '\0';
	plsdev(fmt_dev[fmt]);
	plsfnam(tmp);
	plspage(0, 0, (PLINT)w, (PLINT)h, 0, 0);
	palette();
	plssub(nx, ny);
	plsError(&plot_errcode, plot_error);
	plinit();
	text_scale = nx > 3 ? 0.9 : 0.8;
	plschr(0, text_scale);
	drawers[f](c);
	plend();
	if (plot_errcode != 0) {
		plot_error[strcspn(plot_error, "\n")] = '\0';
		return failf(cause, "PLplot: %s", plot_error);
	}
	return 0;
}

/*
 * Did PLplot write the whole file?  It does not check its writes, so a
 * full disk would leave a file cut short: its end must be there.
 */
static int
complete(const char *path, int fmt)
{
	static const char *const end[FMT_COUNT] = {
		"</svg>", "IEND\xae\x42\x60\x82", "%%EOF"
	};
	char	 tail[256];
	ssize_t	 n;
	off_t	 size;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	size = lseek(fd, 0, SEEK_END);
	n = size < 0 ? -1 : pread(fd, tail, sizeof tail - 1,
	    size > (off_t)sizeof tail - 1 ? size - (off_t)(sizeof tail - 1) : 0);
	close(fd);
	if (n <= 0)
		return 0;
	tail[n] = '\0';
	return memmem(tail, n, end[fmt], strlen(end[fmt])) != NULL;
}

int
figure_write(const char *dir, enum figure f, int formats,
    const struct report_data *r, char *note, size_t size, char **cause)
{
	struct atomic_file	 af;
	struct ctx		 c = { r, note, size };
	char			*path, *name;
	int			 fmt, rc = 0;

	for (fmt = 0; fmt < FMT_COUNT && rc == 0; fmt++) {
		if (!(formats & 1 << fmt))
			continue;
		note[0] = '\0';
		name = xasprintf("%s.%s", fig_names[f], fmt_ext[fmt]);
		path = path_join(dir, name);
		free(name);
		rc = af_open(&af, path, cause);
		free(path);
		if (rc != 0)
			break;
		/* PLplot opens the file by name and closes it itself. */
		fclose(af.fp);
		af.fp = NULL;
		rc = render(af.tmp, fmt, f, &c, cause);
		if (rc == 0 && !complete(af.tmp, fmt))
			rc = failf(cause, "%s: PLplot's %s device wrote an "
			    "incomplete file (is the disk full?)", af.path,
			    fmt_dev[fmt]);
		if (rc == 0 && (af.fp = fopen(af.tmp, "r+")) == NULL)
			rc = failf(cause, "%s: %s", af.tmp, strerror(errno));
		if (rc == 0)
			rc = af_commit(&af, cause);
		else
			af_abort(&af);
	}
	return rc;
}
