/*
 * The output directory (calib-state(5)):
 *
 *   experiment.yaml       frozen copy of the experiment file
 *   source                absolute path of the experiment file init read
 *   parameter_template    frozen copy of the template, when one is used
 *   observations.h5       observations and noise, frozen at init
 *   observations.count    their number, for calib exec without HDF5
 *   iteration_NNN/ensemble.h5   the iteration's ensemble, written when the
 *                         iteration is created (by init or by the update
 *                         before it); its presence makes the iteration exist
 *   iteration_NNN/results.h5    outputs, member status and misfits, written
 *                         when the update closes the iteration
 *   iteration_NNN/member_MMM/   parameter file, model output, status, log,
 *                         kept.f64 (the output's values as calib exec
 *                         validated them, what the update reads)
 *
 * Every file is written once under a temporary name and renamed into place.
 */
#ifndef CALIB_STATE_H
#define CALIB_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <gsl/gsl_rng.h>

#include "lib/config.h"

struct ensemble {
	long		 iteration;
	size_t		 n;		/* members */
	size_t		 p;		/* calibrated components */
	double		*u;		/* n x p, unconstrained, row per member */
	double		*theta;		/* n x p, constrained */
	double		 timestep;	/* of the update that made it; 0 at 0 */
	double		 time;		/* sum of timesteps so far */
	gsl_rng		*rng;		/* state the next update draws from */
	/* uki only (else NULL): the analysed mean and covariance, Sigma_omega */
	double		*uki_mean, *uki_cov, *uki_sigma_omega;
};

struct results {
	long		 iteration;
	size_t		 n, d;
	double		*g;		/* n x d; NaN rows for failed members */
	int		*ok;		/* 1 when the member succeeded */
	double		*misfit;	/* per member; NaN when failed */
	uint64_t	*checksum;	/* per member, of its MEMBER_KEPT
					   (output_checksum); 0 when failed;
					   NULL when results.h5 copied G */
	double		 timestep;	/* of the update that follows; 0 if none */
	char		 stop[256];	/* why nothing follows before the last
					   iteration; "" when the loop goes on */
};

struct observations {
	size_t		 d;
	double		*loc;		/* p x d localization matrix, or NULL */
	double		*y;
	double		*std;		/* d, for diagonal noise; else NULL */
	double		*cov;		/* d x d, for full noise; else NULL */
};

/* How `calib exec` records one attempt of a member. */

/* The file of a member's folder holding the values calib exec validated. */
#define MEMBER_KEPT	"kept.f64"
/* The longest attempt token (hex digits). */
#define ATTEMPT_ID_MAX	32

/*
 * How an attempt ended, as calib exec records it (the status file's
 * outcome key): for programs, where reason is for people.
 */
enum outcome {
	OUTCOME_NONE,		/* no status file */
	OUTCOME_RUNNING,	/* calib exec is running the model */
	OUTCOME_OK,		/* the model succeeded, its output is valid */
	OUTCOME_FAILED,		/* the model exited non-zero or was killed */
	OUTCOME_TIMEOUT,	/* the experiment's timeout stopped it */
	OUTCOME_INTERRUPTED,	/* calib exec was told to stop (a signal) */
	OUTCOME_INVALID,	/* exited 0, but its output is unusable */
};

/* The outcome's name in status files, and back (-1 when unknown). */
const char	*outcome_name(enum outcome);
int		 outcome_parse(const char *);

struct member_status {
	enum outcome	 outcome;
	int		 success;
	int		 exit_status;	/* -1 when killed by a signal */
	int		 signal;	/* 0 when it exited */
	int		 attempt;
	double		 start, end;
	char		 host[256];
	char		 reason[512];
	char		 job[64];	/* batch job (array) id; "" outside one */
	/*
	 * The attempt's token (hex, also CALIB_ATTEMPT_ID in the model's
	 * environment); "" in status files written before calib had one.
	 */
	char		 attempt_id[ATTEMPT_ID_MAX + 1];
};

/*
 * Open an experiment from a YAML file or from the output directory that
 * init made.  When the output directory exists, its frozen copy is what is
 * loaded; *differs (when not NULL) is set when the YAML file given no
 * longer matches it.  Returns 0, or -1 with *cause set (invalid experiment).
 */
int	 experiment_open(const char *arg, struct experiment *, int *differs,
	    char **cause);
/* Whether init has published the output directory of e. */
int	 experiment_initialised(const struct experiment *);

/* Digits in member folder names: 3, or more for 1000 members and up. */
int	 member_width(const struct experiment *);
char	*iteration_dir(const struct experiment *, long it);
char	*member_dir(const struct experiment *, long it, long member);
char	*iteration_file(const struct experiment *, long it, const char *name);

/* The highest N with iteration_N/ensemble.h5 (-1 when none). */
long	 newest_iteration(const struct experiment *);
int	 iteration_exists(const struct experiment *, long it);
int	 iteration_closed(const struct experiment *, long it);
/*
 * Is iteration it closed with nothing to follow: the last one, or one whose
 * update stopped the calibration (then *why, when not NULL, says why)?
 */
int	 iteration_final(const struct experiment *, long it, char **why);

int	 ensemble_write(const struct experiment *, const struct ensemble *,
	    char **cause);
int	 ensemble_read(const struct experiment *, long it, struct ensemble *,
	    char **cause);
void	 ensemble_release(struct ensemble *);

int	 results_write(const struct experiment *, const struct results *,
	    char **cause);
int	 results_read(const struct experiment *, long it, struct results *,
	    char **cause);
/* The same without the outputs (r->g is NULL): member success and misfit. */
int	 results_read_outcomes(const struct experiment *, long it,
	    struct results *, char **cause);
void	 results_release(struct results *);

int	 observations_write(const struct experiment *, const struct observations *,
	    char **cause);
int	 observations_read(const struct experiment *, struct observations *,
	    char **cause);
/* The number of observations, without reading the noise. */
int	 observations_count(const struct experiment *, size_t *d, char **cause);
/*
 * The count without opening observations.h5: from this process's memory or
 * from observations.count.  1 when known, 0 when observations_count must
 * read it.
 */
int	 observations_count_known(const struct experiment *, size_t *d);
void	 observations_release(struct observations *);

/* member_MMM/status: returns 1 when read, 0 when absent, -1 on error. */
int	 status_read(const char *dir, struct member_status *, char **cause);
int	 status_write(const char *dir, const struct member_status *, char **cause);
/*
 * The same, atomic (a temporary file renamed) but not made durable: for a
 * mark that a crash of the machine may lose without harm, as "running"
 * over anything but a success (lib/forward.c).
 */
int	 status_mark(const char *dir, const struct member_status *, char **cause);

/*
 * Write every member's parameter file for ensemble `en` (the iteration's
 * directories are created as needed).
 */
int	 write_parameter_files(const struct experiment *, const struct ensemble *,
	    char **cause);

/* Read and check one member's output: length d, all finite. */
int	 read_member_output(const struct experiment *, long it, long member,
	    size_t d, double **g, char **cause);

/*
 * Keep the d values calib exec validated in folder dir as MEMBER_KEPT:
 * native float64, written atomically and durably.
 */
int	 keep_member_output(const char *dir, const double *g, size_t d,
	    char **cause);

/*
 * The values of a member whose status st says ok, as the update uses them,
 * into g (d values): MEMBER_KEPT, exactly d finite float64.  A status file
 * written before calib kept them (no attempt_id) has the output read again,
 * and with keep set (the update) written to MEMBER_KEPT.
 */
int	 read_member_values(const struct experiment *, long it, long member,
	    size_t d, const struct member_status *st, double *g, int keep,
	    char **cause);

/* The checksum results.h5 records of a member's d kept values (XXH3). */
uint64_t output_checksum(const double *g, size_t d);

#endif
