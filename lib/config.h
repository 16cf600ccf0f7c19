/*
 * The experiment file (calib.yaml(5)): parsing and validation.  Every error
 * names the file, line and column, and the key.
 */
#ifndef CALIB_CONFIG_H
#define CALIB_CONFIG_H

#include <stddef.h>

#include "lib/prior.h"
#include "lib/vecio.h"

struct param {
	char		*name;
	size_t		 size;		/* components; 1 for a scalar */
	int		 vector;	/* declared with size: */
	int		 fixed;		/* fixed: values, never calibrated */
	double		*values;	/* the fixed values */
	struct prior	 prior;
	size_t		 offset;	/* first column in the parameter matrix */
};

enum param_format { PF_TOML, PF_JSON, PF_YAML, PF_ENV, PF_TEMPLATE };

enum noise_kind { NOISE_STD, NOISE_VARIANCE, NOISE_COVARIANCE };

struct noise {
	enum noise_kind	 kind;
	int		 scalar;	/* one value for every observation */
	double		 value;
	struct vsource	 src;		/* per-observation values, or the matrix */
};

/* A list of strings. */
struct strlist {
	char		**v;
	size_t		 n;
};

/*
 * What a batch job asks of the scheduler (resources: and update_resources:).
 * Zero and NULL mean "not given": the cluster's defaults apply.  Values are
 * checked when the file is read, so that they can go into job scripts.
 */
struct resources {
	double		 time;		/* wall time, seconds */
	long		 nodes, ntasks, cpus_per_task, gpus_per_task;
	long		 mem_mb;	/* memory per node, MiB */
	char		*partition, *account, *qos, *constraint;
	struct strlist	 modules;	/* module load, in order */
	struct strlist	*setup;		/* commands: words, quoted in scripts */
	size_t		 nsetup;
	struct strlist	 env_names, env_values;
	struct strlist	 extra;		/* raw scheduler options */
};

/* The backend: section. */
struct backend_conf {
	char		*templates;	/* folder of the experiment's templates */
	char		*calib;		/* calib binary the jobs run */
	long		 max_running;	/* members at once; 0: no limit */
	double		 poll_interval;	/* longest wait between polls, s */
};

/* algorithm.method */
enum method { METHOD_EKI, METHOD_ETKI, METHOD_UKI, METHOD_EKS, METHOD_ESMDA };

enum localization { LOC_NONE, LOC_SEC, LOC_MATRIX };

/* The algorithm: section beyond method, timestep and failures. */
struct algorithm {
	enum method	 method;
	int		 adaptive;	/* timestep: data_misfit */
	double		 terminate_at;	/* of data_misfit: total time */
	double		*weights;	/* esmda: alpha_i, sum of 1/alpha_i = 1 */
	size_t		 nweights;
	double		 alpha_reg;	/* uki */
	long		 update_freq;	/* uki: 0 keeps the first Sigma_omega */
	int		 impose_prior;	/* uki */
	int		 aldi;		/* eks: the ALDI variant */
	double		 eks_step;	/* eks: dt = step / |D| */
	double		 inflate_mult;	/* covariance factor, >= 1 */
	double		 inflate_add;	/* times the prior covariance, >= 0 */
	enum localization loc;
	double		 sec_alpha, sec_cutoff;
	struct vsource	 loc_matrix;	/* p x d */
	int		 resample;	/* failures.handler: resample */
};

/* Events a notify endpoint may take (calib.yaml(5), notify). */
enum notify_event {
	NOTIFY_ITERATION,	/* an iteration closed */
	NOTIFY_FAILURE,		/* too few members succeeded to go on */
	NOTIFY_STOP,		/* the calibration stopped early */
	NOTIFY_DONE,		/* it ran its last iteration */
	NOTIFY_TIMEOUT,		/* members of a closed iteration timed out */
	NOTIFY_NEVENTS
};

struct notify_endpoint {
	char		*url;		/* http:// or https:// */
	char		**headers;	/* name, value, ...; NULL-terminated */
	unsigned	 events;	/* 1 << enum notify_event */
	int		 slack;		/* format: slack ({"text": ...}) */
	double		 timeout;	/* seconds, for one event, retries in */
	long		 retries;
};

struct experiment {
	char		*file;		/* the YAML file read */
	char		*dir;		/* absolute folder of the experiment */
	char		*output_dir;	/* absolute */
	char		*name;
	long		 ensemble_size;
	long		 iterations;
	unsigned long	 seed;

	struct param	*params;
	size_t		 nparams;
	size_t		 ncalib;	/* calibrated components in all */

	struct vsource	 obs;
	struct noise	 noise;

	char		**command;
	size_t		 ncommand;
	size_t		 command_line, command_col; /* of the program, in file */
	enum param_format pformat;
	char		*pfile;		/* parameter file name in member dir */
	char		*ptemplate;	/* template path, absolute */
	struct vsource	 output;	/* path relative to the member dir */
	double		 timeout;	/* seconds; 0 for none */

	char		*method;
	double		 timestep;
	double		 min_success;	/* a fraction when < 1, else a count */
	char		*handler;
	long		 max_retries;	/* resubmissions after system failures */
	struct algorithm alg;

	struct resources res;		/* member jobs */
	struct resources update_res;	/* update jobs */
	struct backend_conf backend;

	struct notify_endpoint *notify;
	size_t		 nnotify;
};

/* "iteration", "failure", ... */
extern const char *const notify_event_names[NOTIFY_NEVENTS];

/*
 * Parse and validate the experiment in `path`.  dir, when not NULL, replaces
 * the file's folder as the experiment folder (for a frozen copy); output_dir,
 * when not NULL, replaces the output_dir key.  Fills *cause on error.
 */
int	 config_load(const char *path, const char *dir, const char *output_dir,
	    struct experiment *, char **cause);
void	 experiment_release(struct experiment *);

/* The name of a calibrated component: "F", or "coupling[2]" (1-based). */
char	*param_component_name(const struct param *, size_t);

/*
 * Expand the placeholders {experiment_dir}, {member_dir}, {iteration},
 * {member}, {parameters} and {output} in one command argument.  vals holds
 * their values in that order; with vals NULL the argument is only checked.
 */
int	 command_expand(const char *arg, const char *const *vals, char **out,
	    char **cause);

/* Free the contents of a strlist or resources. */
void	 strlist_release(struct strlist *);
void	 resources_release(struct resources *);

/* The name of a method as the experiment file spells it. */
const char	*method_name(enum method);

/* Parse a duration: seconds, "90s", "10m", "2h30m", "1d", "HH:MM:SS". */
int	 parse_duration(const char *, double *);

#endif
