/* The operations behind calib's subcommands, free of any terminal output. */
#ifndef CALIB_CALIB_H
#define CALIB_CALIB_H

#include "lib/config.h"
#include "lib/state.h"

/* Exit statuses, documented in every man page's EXIT STATUS. */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

/*
 * Validate the experiment's inputs, sample the prior ensemble and publish
 * the output directory.  The directory is built under a temporary name and
 * renamed into place, so it appears complete or not at all.  An existing
 * output directory is replaced only with force.  Returns 0, or EXIT_FAIL /
 * EXIT_USAGE with *cause set.
 */
int	 init_experiment(struct experiment *, int force, char **cause);

/*
 * What init checks of the experiment's inputs (observations, noise, the
 * prior and the parameter file), writing nothing.  Returns 0 or
 * EXIT_USAGE with *cause set.
 */
int	 init_check(struct experiment *, char **cause);

/* Read observations and noise as the experiment declares them. */
int	 load_observations(const struct experiment *, struct observations *,
	    char **cause);

struct update_report {
	long		 iteration;	/* the iteration closed */
	int		 done;		/* 0: nothing to do, it was done before */
	int		 final;		/* the last iteration: nothing follows */
	size_t		 n_ok, n;
	double		 misfit_mean, misfit_std;
	double		 timestep;	/* of the update that followed */
	int		 too_few;	/* failed: min_success not met */
	char		 stop[256];	/* why the calibration stopped early */
	/*
	 * Members whose status says ok but whose values could not be read,
	 * counted as failed, and why for the first of them.
	 */
	size_t		 n_unreadable;
	char		 unreadable[640];
};

/*
 * Close iteration `it` (-1: the newest one) from its members' outputs and,
 * unless it is the last, write iteration it+1.  Run again for the same
 * iteration it changes nothing and reports done = 0.
 */
int	 update_experiment(const struct experiment *, long it,
	    struct update_report *, char **cause);

/* The prior's mean and std of every calibrated component, unconstrained. */
void	 prior_moments(const struct experiment *, double *m0, double *s0);
/* Set en->theta from en->u. */
void	 ensemble_constrain(const struct experiment *, struct ensemble *);

/* Mean and standard deviation of the finite values of v (n of them). */
void	 mean_std(const double *v, size_t n, size_t stride, double *mean,
	    double *std, size_t *count);

#endif
