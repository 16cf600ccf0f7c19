/* calib run: drive the calibration from wherever it stands to its end. */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/report.h"
#include "lib/summary.h"
#include "lib/buf.h"
#include "lib/check.h"
#include "lib/driver.h"
#include "lib/fsio.h"
#include "lib/runlock.h"
#include "lib/util.h"
#include "schedulers/scheduler.h"

static const char usage_text[] =
    "usage: calib run [-dnv] [-b backend] [-j jobs] [--report] "
    "[--retry-failed] [experiment]\n";

struct view {
	int	 tty;
	int	 line;		/* a progress line is showing */
	int	 report;	/* --report: write the report after updates */
};

/*
 * --report: the report again, after an update; a report that cannot be
 * written is a warning, never the calibration's failure.  It is drawn in
 * a child process: PLplot exits the process on its fatal errors, and the
 * driver must outlive them.
 */
static void
show_report(const struct experiment *e)
{
	char	*dir, *index = NULL, *cause = NULL;
	pid_t	 pid;
	int	 st;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "calib: warning: cannot write the report: "
		    "fork: %s\n", strerror(errno));
		return;
	}
	if (pid == 0) {
		dir = report_default_dir(e);
		if (report_write(e, dir, &index, &cause) == 0)
			printf("report: %s\n", index);
		else
			fprintf(stderr, "calib: warning: cannot write the "
			    "report: %s\n", cause);
		fflush(stdout);
		_exit(index != NULL ? 0 : 1);
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) > 1))
		fprintf(stderr, "calib: warning: the report's process ended "
		    "badly (%s %d)\n", WIFSIGNALED(st) ? "signal" : "exit status",
		    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static void
show_members(const struct progress *p, void *arg)
{
	struct view	*v = arg;

	if (v->tty) {
		printf("\r\033[Kiteration %ld: %zu kept, %zu done, %zu running, "
		    "%zu failed, %zu queued", p->iteration, p->kept, p->done,
		    p->running, p->failed, p->queued);
		v->line = 1;
	} else if (p->running == 0 && p->queued == 0)
		printf("iteration %ld: members finished: %zu kept, %zu done, "
		    "%zu failed\n", p->iteration, p->kept, p->done, p->failed);
	else if (p->done == 0 && p->failed == 0 && p->running > 0 &&
	    p->running + p->queued == p->n - p->kept)
		printf("iteration %ld: running %zu members (%zu kept from an "
		    "earlier run)\n", p->iteration, p->running + p->queued,
		    p->kept);
	fflush(stdout);
}

static void
show_note(const char *msg, void *arg)
{
	struct view	*v = arg;

	if (v->line)
		printf("\r\033[K");
	v->line = 0;
	printf("%s\n", msg);
	fflush(stdout);
}

static void
show_update(const struct experiment *e, const struct update_report *r,
    void *arg)
{
	struct view	*v = arg;
	struct iter_summary	 s;
	char			*cause = NULL, *name;
	size_t			 i, j, k;

	if (v->line)
		printf("\r\033[K");
	v->line = 0;
	printf("iteration %ld: %zu/%zu succeeded, misfit %.6g (std %.3g)",
	    r->iteration, r->n_ok, r->n, r->misfit_mean, r->misfit_std);
	/* The estimates calib status shows (UKI's are its Gaussian's). */
	if (iteration_summary(e, r->iteration, NULL, NULL, &s, &cause) == 0) {
		for (i = 0; i < e->nparams; i++)
			for (j = 0; !e->params[i].fixed && j < e->params[i].size;
			    j++) {
				name = param_component_name(&e->params[i], j);
				k = e->params[i].offset + j;
				printf("%s %s %.6g±%.3g", i || j ? "," : ";", name,
				    s.mean[k], s.std[k]);
				free(name);
			}
		summary_release(&s);
	} else
		free(cause);
	if (r->stop[0] != '\0')
		printf("; stopped: %s", r->stop);
	printf("\n");
	if (r->n_unreadable > 0)
		printf("iteration %ld: %zu of the members whose status says ok "
		    "counted as failed; %s\n", r->iteration, r->n_unreadable,
		    r->unreadable);
	if (v->report)
		show_report(e);
	fflush(stdout);
}

struct run_args {
	const struct scheduler	*sc;
	const char		*experiment;
	long			 jobs;
	int			 detach;
	int			 verbose;
	int			 retry_failed;
	int			 dry;
	int			 report;
};

int
unknown_backend(const char *name)
{
	const struct scheduler *const *sc;
	const char	*best = NULL;
	size_t		 d, bestd = 3;

	fprintf(stderr, "calib: unknown backend '%s' (", name);
	for (sc = schedulers; *sc; sc++)
		if ((d = edit_distance((*sc)->name, name)) < bestd) {
			bestd = d;
			best = (*sc)->name;
		}
	if (best)
		fprintf(stderr, "did you mean '%s'? ", best);
	fprintf(stderr, "backends:");
	for (sc = schedulers; *sc; sc++)
		fprintf(stderr, " %s", (*sc)->name);
	fprintf(stderr, ")\n");
	return EXIT_USAGE;
}

static int
parse_args(int argc, char **argv, struct run_args *a)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "detach", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "retry-failed", no_argument, NULL, 'R' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "report", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char	*end;
	int	 ch;

	memset(a, 0, sizeof *a);
	a->sc = &sched_local;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "b:dhj:nv", longopts, NULL)) != -1)
		switch (ch) {
		case 'd':
			a->detach = 1;
			break;
		case 'v':
			a->verbose = 1;
			break;
		case 'R':
			a->retry_failed = 1;
			break;
		case 'n':
			a->dry = 1;
			break;
		case 'r':
			a->report = 1;
			break;
		case 'b':
			if ((a->sc = scheduler_find(optarg)) == NULL)
				return unknown_backend(optarg);
			break;
		case 'j':
			a->jobs = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || a->jobs < 1 ||
			    a->jobs > 100000) {
				fprintf(stderr, "calib: -j '%s': the number of "
				    "members run at once is 1 to 100000\n",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			return usage(usage_text, 1);
		default:
			return usage(usage_text, 0);
		}
	if ((a->experiment = experiment_operand(argc, argv)) == NULL)
		return usage(usage_text, 0);
	return -1;
}

/*
 * --detach on a backend whose jobs die with calib (local): the driver goes
 * on in the background, in a session of its own, its output in run.log.
 * The parent returns once the child has recorded itself as the driver, so
 * that calib status and calib cancel find it at once.  The run lock, taken
 * before the fork, is shared with the child and outlives the parent.
 */
static int
background(const struct experiment *e, int *child)
{
	char	*log = path_join(e->output_dir, "run.log"), c;
	ssize_t	 n;
	int	 fd, p[2];
	pid_t	 pid;

	if (pipe2(p, O_CLOEXEC) == -1 || (fd = open(log, O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC, 0666)) == -1) {
		fprintf(stderr, "calib: %s: %s\n", log, strerror(errno));
		free(log);
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "calib: fork: %s\n", strerror(errno));
		free(log);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		setsid();
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
		if ((fd = open("/dev/null", O_RDONLY)) != -1) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		*child = p[1];
		free(log);
		return 0;
	}
	close(fd);
	close(p[1]);
	/* The child says '1' once it is the recorded driver. */
	while ((n = read(p[0], &c, 1)) == -1 && errno == EINTR)
		;
	close(p[0]);
	if (n != 1) {
		fprintf(stderr, "calib: the background calib run (pid %ld) "
		    "stopped before it started driving; see %s\n", (long)pid,
		    log);
		free(log);
		return -1;
	}
	printf("calib run: driving %s in the background (pid %ld); its output "
	    "goes to %s; 'calib status' shows it, 'calib cancel' stops it\n",
	    e->output_dir, (long)pid, log);
	free(log);
	return 1;
}

static int
report_end(const struct experiment *e, int rc, const char *cause,
    const struct view *v)
{
	long	 last;
	char	*why = NULL;

	if (rc != 0) {
		if (v->line)
			printf("\n");
		fflush(stdout);
		error_cause(xstrdup(cause));
		return EXIT_FAIL;
	}
	last = newest_iteration(e);
	if (last < e->iterations && iteration_final(e, last, &why))
		printf("done: stopped after iteration %ld of %ld (%s) in %s\n",
		    last, e->iterations, why, e->output_dir);
	else
		printf("done: %ld iteration%s in %s\n", e->iterations,
		    e->iterations == 1 ? "" : "s", e->output_dir);
	free(why);
	return EXIT_OK;
}

/*
 * Hold the experiment's lock in *lock, then initialise it when needed.
 * Jobs of another backend still queued or running (a detached chain) are
 * not this run's to finish.
 */
static int
take_experiment(struct experiment *e, const struct scheduler *sc, int *lock,
    char **cause)
{
	struct buf	 ids = BUF_INIT;
	const char	*other;
	char		*what = xasprintf("calib run -b %s", sc->name);
	long		 n;
	int		 rc = EXIT_FAIL;

	*lock = run_lock(e, sc->name, what, cause);
	free(what);
	if (*lock < 0)
		return EXIT_FAIL;
	if (!experiment_initialised(e)) {
		if ((rc = init_experiment(e, 0, cause)) == EXIT_OK)
			printf("initialised %s\n", e->output_dir);
	} else if ((n = driver_live(e, -1, -1, &other, &ids, cause)) < 0)
		rc = EXIT_FAIL;
	else if (n > 0 && strcmp(other, sc->name) != 0)
		failf(cause, "%s: %ld jobs of backend '%s' are still queued or "
		    "running (%s): follow them with 'calib run -b %s', or stop "
		    "them with 'calib cancel'", e->output_dir, n, other, ids.s,
		    other);
	else
		rc = EXIT_OK;
	buf_release(&ids);
	if (rc != EXIT_OK) {
		close(*lock);
		*lock = -1;
	}
	return rc;
}

/*
 * calib run --dry-run: what calib run -d would initialise, write and
 * submit from where the experiment stands, with the scheduler's answers
 * for its jobs so far; nothing is written, locked or submitted.
 */
static int
dry_run(struct experiment *e, const struct run_args *a, const char *self,
    char **cause)
{
	struct driver_hooks	 hooks;
	struct drive_opts	 o;
	struct view		 view;
	int			 rc;

	if (!experiment_initialised(e)) {
		if ((rc = init_check(e, cause)) != EXIT_OK)
			return rc;
		printf("would initialise %s: %ld members, %zu calibrated "
		    "values, %ld iterations\n", e->output_dir,
		    e->ensemble_size, e->ncalib, e->iterations);
	}
	memset(&view, 0, sizeof view);
	memset(&hooks, 0, sizeof hooks);
	memset(&o, 0, sizeof o);
	hooks.note = show_note;
	hooks.arg = &view;
	o.calib = e->backend.calib && sched_has(a->sc, SCHED_SCRIPTS) ?
	    e->backend.calib : self;
	o.max_running = a->jobs ? a->jobs : e->backend.max_running;
	o.retry_failed = a->retry_failed;
	o.dry = 1;
	return drive(e, a->sc, &o, &hooks, cause) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int
drive_experiment(const struct experiment *e, const struct run_args *a,
    const char *self)
{
	struct driver_hooks	 hooks;
	struct drive_opts	 o;
	struct view		 view;
	char			*cause = NULL, *what;
	int			 rc, ready = -1;

	if (a->detach && !sched_has(a->sc, SCHED_CHAINS) &&
	    (rc = background(e, &ready)) != 0)
		return rc < 0 ? EXIT_FAIL : EXIT_OK;
	what = xasprintf("calib run -b %s%s", a->sc->name, ready >= 0 ?
	    " --detach" : "");
	rc = run_owner_write(e, a->sc->name, what, &cause);
	free(what);
	if (ready >= 0) {
		if (rc == 0 && write(ready, "1", 1) != 1)
			rc = failf(&cause, "cannot tell calib run it started: %s",
			    strerror(errno));
		close(ready);
	}
	if (rc != 0) {
		error_cause(cause);
		return EXIT_FAIL;
	}
	memset(&o, 0, sizeof o);
	view.tty = isatty(STDOUT_FILENO);
	view.line = 0;
	view.report = a->report;
	hooks.members = show_members;
	hooks.updated = show_update;
	hooks.note = show_note;
	hooks.arg = &view;
	o.calib = e->backend.calib && sched_has(a->sc, SCHED_SCRIPTS) ?
	    e->backend.calib : self;
	o.max_running = a->jobs ? a->jobs : e->backend.max_running;
	o.chain = a->detach && sched_has(a->sc, SCHED_CHAINS);
	o.verbose = a->verbose;
	o.retry_failed = a->retry_failed;
	rc = drive(e, a->sc, &o, &hooks, &cause);
	if (rc == 0 && o.chain) {
		/* The chain's updates are jobs: report what exists now. */
		if (a->report)
			show_report(e);
		return EXIT_OK;
	}
	rc = report_end(e, rc, cause, &view);
	free(cause);
	return rc;
}

int
cmd_run(int argc, char **argv)
{
	struct run_args		 a;
	struct experiment	 e;
	char			*cause = NULL, *warning = NULL, self[PATH_MAX];
	ssize_t			 len;
	int			 rc, lock;

	if ((rc = parse_args(argc, argv, &a)) >= 0)
		return rc;
	/* Jobs run the very binary that drives them. */
	if ((len = readlink("/proc/self/exe", self, sizeof self - 1)) < 0) {
		fprintf(stderr, "calib: cannot find its own executable\n");
		return EXIT_FAIL;
	}
	self[len] = '\0';
	if ((rc = open_experiment(a.experiment, &e)) != EXIT_OK)
		return rc;
	/*
	 * What would fail in every job fails here, before anything is
	 * submitted: the model's program, the job scripts (and nothing that
	 * would break their lines).
	 */
	if (check_model(&e, a.sc, &warning, &cause) != 0 ||
	    check_scripts(&e, a.sc, e.backend.calib ? e.backend.calib : self,
	    &cause) != 0)
		rc = EXIT_USAGE;
	else if (a.dry)
		rc = dry_run(&e, &a, self, &cause);
	else if (sched_available(a.sc, &cause) != 0)
		rc = EXIT_FAIL;
	else
		rc = take_experiment(&e, a.sc, &lock, &cause);
	if (warning != NULL) {
		fprintf(stderr, "calib: warning: %s\n", warning);
		free(warning);
	}
	if (rc != EXIT_OK || a.dry) {
		if (rc != EXIT_OK)
			error_cause(cause);
		experiment_release(&e);
		return a.dry ? finish_stdout(rc) : rc;
	}
	rc = drive_experiment(&e, &a, self);
	close(lock);
	experiment_release(&e);
	return finish_stdout(rc);
}
