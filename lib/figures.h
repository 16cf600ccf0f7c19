/*
 * The figures of calib report, drawn by PLplot: every axis, tick, label,
 * legend and histogram is the library's.  Each figure is written as SVG
 * (PLplot's own svg device) and, when PLplot's cairo driver is installed,
 * as PNG and PDF; each file atomically.
 */
#ifndef CALIB_FIGURES_H
#define CALIB_FIGURES_H

#include <stddef.h>

#include "lib/summary.h"

/* What the figures show, gathered by lib/report.c. */
struct report_data {
	const struct experiment	*e;
	struct iter_summary	*it;		/* iterations 0 .. niter-1 */
	size_t			 niter;
	/* The prior in constrained space: its centre and +-1, +-2 sigma. */
	double			*prior_band;	/* p x 5: -2s, -s, 0, s, 2s */
	/* Samples to scatter: the prior's and the newest iteration's. */
	double			*prior_pts, *final_pts;	/* rows of p */
	size_t			 nprior, nfinal;
	/* Data space: observations, their noise std, and two iterations. */
	size_t			 d;
	double			*y, *sd;
	long			 out_it[2];	/* first and newest closed; -1 */
	double			*out_mean[2], *out_std[2];	/* d each */
};

enum figure {
	FIG_MISFIT,
	FIG_PARAMS,
	FIG_PAIRS,
	FIG_DATA,
	FIG_FAILURES,
	FIG_COUNT
};

/* What a figure's files are called ("misfit") and what it shows. */
const char	*figure_name(enum figure);
const char	*figure_title(enum figure);

/* Which formats a figure is written in: bits of 1 << FMT_*. */
enum { FMT_SVG, FMT_PNG, FMT_PDF, FMT_COUNT };
const char	*figure_ext(int fmt);
/*
 * The formats this PLplot can write (bits), loading PLplot on the first
 * call; -1 with *cause set when it cannot be loaded.  figure_write may
 * only be called after it succeeded.
 */
int		 figure_formats(char **cause);

/*
 * Draw figure f into folder dir as NAME.svg, NAME.png and NAME.pdf (those
 * of formats).  A note for the page's caption (a decimation, a cap on the
 * components shown) goes to note (size bytes; "" when none).  Returns 0,
 * or -1 with *cause set.
 */
int	 figure_write(const char *dir, enum figure f, int formats,
	    const struct report_data *, char *note, size_t size, char **cause);

/* At most this many components are drawn one by one, or scattered. */
#define FIG_MAX_PANELS	30
#define FIG_MAX_PAIRS	6
#define FIG_MAX_VECTOR	8	/* a longer vector gets one summary panel */
#define FIG_MAX_POINTS	2000	/* observations drawn one by one */

#endif
