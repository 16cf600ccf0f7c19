/* calib run: drive the calibration from wherever it stands to its end. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/batch.h"
#include "lib/driver.h"
#include "lib/util.h"

static const char usage_text[] =
    "usage: calib run [-dv] [-b backend] [-j jobs] [experiment]\n";

struct view {
	int	 tty;
	int	 line;		/* a progress line is showing */
};

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
	struct ensemble	 en;
	char		*cause = NULL, *name;
	double		 mean, sd;
	size_t		 i, j;

	if (v->line)
		printf("\r\033[K");
	v->line = 0;
	printf("iteration %ld: %zu/%zu succeeded, misfit %.6g (std %.3g)",
	    r->iteration, r->n_ok, r->n, r->misfit_mean, r->misfit_std);
	if (ensemble_read(e, r->iteration, &en, &cause) == 0) {
		for (i = 0; i < e->nparams; i++)
			for (j = 0; !e->params[i].fixed && j < e->params[i].size;
			    j++) {
				name = param_component_name(&e->params[i], j);
				mean_std(en.theta + e->params[i].offset + j, en.n,
				    en.p, &mean, &sd, NULL);
				printf("%s %s %.6g±%.3g", i || j ? "," : ";", name,
				    mean, sd);
				free(name);
			}
		ensemble_release(&en);
	} else
		free(cause);
	if (r->stop[0] != '\0')
		printf("; stopped: %s", r->stop);
	printf("\n");
	fflush(stdout);
}

int
cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "detach", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct scheduler	*sc = &sched_local;
	struct driver_hooks	 hooks;
	struct experiment	 e;
	struct view		 view;
	const char		*arg;
	char			*cause = NULL, *end, self[PATH_MAX];
	ssize_t			 len;
	struct batch_opts	 bo;
	long			 jobs = 0;
	int			 ch, rc, lock, detach = 0, verbose = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "b:dhj:v", longopts, NULL)) != -1)
		switch (ch) {
		case 'd':
			detach = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'b':
			if ((sc = scheduler_find(optarg)) == NULL) {
				fprintf(stderr, "calib: unknown backend '%s'\n",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			jobs = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || jobs < 1 || jobs > 100000)
				return usage(usage_text, 0);
			break;
		case 'h':
			return usage(usage_text, 1);
		default:
			return usage(usage_text, 0);
		}
	if ((arg = experiment_operand(argc, argv)) == NULL)
		return usage(usage_text, 0);
	if (detach && sc->submit == NULL) {
		fprintf(stderr, "calib: --detach needs a batch backend; '%s' "
		    "runs members as children of calib run\n", sc->name);
		return EXIT_USAGE;
	}
	if (sched_available(sc, &cause) != 0) {
		error_cause(cause);
		return EXIT_FAIL;
	}
	/* Jobs run the very binary that drives them. */
	if ((len = readlink("/proc/self/exe", self, sizeof self - 1)) < 0) {
		fprintf(stderr, "calib: cannot find its own executable\n");
		return EXIT_FAIL;
	}
	self[len] = '\0';
	if ((rc = open_experiment(arg, &e)) != EXIT_OK)
		return rc;
	if (!experiment_initialised(&e)) {
		if ((rc = init_experiment(&e, 0, &cause)) != EXIT_OK) {
			error_cause(cause);
			experiment_release(&e);
			return rc;
		}
		printf("initialised %s\n", e.output_dir);
	}
	if ((lock = run_lock(&e, &cause)) < 0) {
		error_cause(cause);
		experiment_release(&e);
		return EXIT_FAIL;
	}
	view.tty = isatty(STDOUT_FILENO);
	view.line = 0;
	hooks.members = show_members;
	hooks.updated = show_update;
	hooks.note = show_note;
	hooks.arg = &view;
	rc = EXIT_OK;
	if (sc->submit != NULL) {
		bo.calib = e.backend.calib ? e.backend.calib : self;
		bo.max_running = jobs ? jobs : e.backend.max_running;
		bo.detach = detach;
		bo.verbose = verbose;
		rc = batch_drive(&e, sc, &bo, &hooks, &cause);
	} else
		rc = drive(&e, sc, jobs ? jobs : sysconf(_SC_NPROCESSORS_ONLN),
		    self, &hooks, &cause);
	if (rc != 0) {
		if (view.line)
			printf("\n");
		fflush(stdout);
		error_cause(cause);
		rc = EXIT_FAIL;
	} else if (!detach) {
		long last = newest_iteration(&e);
		char *why = NULL;

		if (last < e.iterations && iteration_final(&e, last, &why))
			printf("done: stopped after iteration %ld of %ld (%s) in "
			    "%s\n", last, e.iterations, why, e.output_dir);
		else
			printf("done: %ld iterations in %s\n", e.iterations,
			    e.output_dir);
		free(why);
	}
	close(lock);
	experiment_release(&e);
	return finish_stdout(rc);
}
