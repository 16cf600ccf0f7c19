/* calib status: members, misfit and parameter estimates per iteration. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "lib/buf.h"
#include "lib/driver.h"
#include "lib/runlock.h"
#include "lib/eki.h"
#include "lib/fsio.h"
#include "lib/summary.h"
#include "lib/util.h"

static const char usage_text[] =
    "usage: calib status [--json] [experiment]\n";

/* The observations an open iteration's misfits need, read once. */
struct obs_cache {
	int			 loaded;
	struct observations	 o;
	struct noise_factor	 nf;
};

static int
collect(const struct experiment *e, long it, struct obs_cache *c,
    struct iter_summary *s, char **cause)
{
	if (!c->loaded && !iteration_closed(e, it)) {
		if (observations_read(e, &c->o, cause) != 0)
			return -1;
		if (noise_factor_init(&c->nf, c->o.d, c->o.std, c->o.cov,
		    cause) != 0) {
			observations_release(&c->o);
			return -1;
		}
		c->loaded = 1;
	}
	return iteration_summary(e, it, &c->o, &c->nf, s, cause);
}

static void
text_iteration(const struct experiment *e, const struct iter_summary *s)
{
	size_t	 i, j, k;
	char	*name;

	printf("iteration %ld: %zu done, %zu failed, %zu pending; misfit ",
	    s->iteration, s->count[MS_DONE], summary_failed(s),
	    s->count[MS_PENDING]);
	if (isfinite(s->mmean))
		printf("%.6g (std %.3g)\n", s->mmean, s->mstd);
	else
		printf("unknown\n");
	for (i = 0; i < e->nparams; i++)
		for (j = 0; !e->params[i].fixed && j < e->params[i].size; j++) {
			name = param_component_name(&e->params[i], j);
			k = e->params[i].offset + j;
			printf("    %-20s %14.6g  std %-10.4g 90%% in [%.4g, %.4g]\n",
			    name, s->mean[k], s->std[k], s->q[k * SUMMARY_NQ],
			    s->q[k * SUMMARY_NQ + 2]);
			free(name);
		}
}

/* s as a JSON string, escaped by jansson. */
static void
put_json_string(const char *s)
{
	json_t	*j = json_string(s);
	char	*text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	fputs(text ? text : "null", stdout);
	free(text);
	json_decref(j);
}

/* The calib run that drives the experiment now, if one does. */
static void
show_driver(const struct experiment *e, int json)
{
	struct run_owner	 o;
	char			 t[32];

	if (!run_owner_read(e, &o)) {
		if (json)
			fputs(",\"driver\":null", stdout);
		return;
	}
	fmt_time(t, o.since);
	if (json) {
		fputs(",\"driver\":{\"command\":", stdout);
		put_json_string(o.command);
		printf(",\"pid\":%ld,\"host\":", o.pid);
		put_json_string(o.host);
		printf(",\"since\":\"%s\"}", t);
	} else
		printf("driven by %s (pid %ld on %s since %s)\n", o.command,
		    o.pid, o.host, t);
}

/*
 * The experiment's live jobs, from the journal and one query to the
 * scheduler; a scheduler that cannot be asked is a warning, not an error.
 */
static void
show_jobs(const struct experiment *e, int json)
{
	const struct scheduler	*sc = NULL;
	struct job_summary	*v = NULL;
	struct journal		 j;
	char			*cause = NULL;
	size_t			 n = 0, i, shown = 0;
	int			 ok;

	ok = journal_load(e, &j, &cause) == 0 &&
	    driver_jobs(e, &j, &sc, &v, &n, &cause) == 0;
	if (!ok) {
		fprintf(stderr, "calib: cannot tell the state of the "
		    "experiment's jobs: %s\n", cause);
		free(cause);
		if (json)
			fputs(",\"jobs\":null", stdout);
		journal_release(&j);
		return;
	}
	if (json)
		fputs(",\"jobs\":[", stdout);
	for (i = 0; i < n; i++) {
		const struct jentry *x = v[i].entry;

		if (!v[i].live)
			continue;
		if (json) {
			printf("%s{\"id\":\"%s\",\"backend\":\"%s\","
			    "\"kind\":\"%s\",\"iteration\":%ld,", shown ? "," :
			    "", x->id, x->backend, x->kind == JOB_UPDATE ?
			    "update" : "members", x->iteration);
			if (x->kind == JOB_MEMBERS)
				printf("\"members\":\"%s\",", x->members);
			printf("\"queued\":%zu,\"running\":%zu}", v[i].queued,
			    v[i].running);
		} else {
			if (shown == 0)
				printf("live jobs (%s):\n", sc->name);
			if (x->kind == JOB_UPDATE)
				printf("    %-12s iteration %ld update: %s\n",
				    x->id, x->iteration, v[i].state);
			else
				printf("    %-12s iteration %ld members %s: "
				    "%zu running, %zu queued\n", x->id,
				    x->iteration, x->members, v[i].running,
				    v[i].queued);
		}
		shown++;
	}
	if (json)
		fputs("]", stdout);
	free(v);
	journal_release(&j);
}

int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct experiment	 e;
	struct iter_summary	 s;
	struct obs_cache	 oc;
	struct buf		 b = BUF_INIT;
	const char		*arg;
	char			*cause = NULL;
	long			 it, newest;
	int			 ch, json = 0, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		switch (ch) {
		case 'J':
			json = 1;
			break;
		case 'h':
			return usage(usage_text, 1);
		default:
			return usage(usage_text, 0);
		}
	if ((arg = experiment_operand(argc, argv)) == NULL)
		return usage(usage_text, 0);
	if ((rc = open_initialised(arg, &e)) != EXIT_OK)
		return rc;
	memset(&oc, 0, sizeof oc);
	newest = newest_iteration(&e);
	if (json)
		printf("{\"name\":\"%s\",\"ensemble_size\":%ld,\"iterations\":[",
		    e.name, e.ensemble_size);
	else
		printf("%s: %ld members, %ld of %ld updates done (%s)\n", e.name,
		    e.ensemble_size, newest < 0 ? 0 : newest, e.iterations,
		    e.output_dir);
	for (it = 0; it <= newest; it++) {
		if (collect(&e, it, &oc, &s, &cause) != 0) {
			if (json)
				printf("]}\n");
			error_cause(cause);
			rc = EXIT_FAIL;
			goto out;
		}
		if (json) {
			if (it)
				fputs(",", stdout);
			summary_json(&b, &e, &s);
			fputs(b.s, stdout);
			buf_release(&b);
		} else
			text_iteration(&e, &s);
		summary_release(&s);
	}
	if (json)
		fputs("]", stdout);
	/* The reason is calib's own text: words and numbers, no quotes. */
	if (newest >= 0 && newest < e.iterations &&
	    iteration_final(&e, newest, &cause)) {
		if (json)
			printf(",\"stopped\":{\"iteration\":%ld,\"reason\":"
			    "\"%s\"}", newest, cause);
		else
			printf("stopped after iteration %ld: %s\n", newest, cause);
		free(cause);
		cause = NULL;
	}
	show_driver(&e, json);
	show_jobs(&e, json);
	if (json)
		fputs("}\n", stdout);
	rc = finish_stdout(EXIT_OK);
out:
	if (oc.loaded) {
		noise_factor_release(&oc.nf);
		observations_release(&oc.o);
	}
	experiment_release(&e);
	return rc;
}
