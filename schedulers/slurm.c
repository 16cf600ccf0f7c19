/*
 * The Slurm backend: sbatch, squeue, scancel, scontrol and sacct, run
 * without a shell.  One iteration is one array job; squeue is asked about
 * every job of the experiment in one call per poll (SchedMD asks programs
 * not to load slurmctld with many small queries).
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/fsio.h"
#include "lib/ranges.h"
#include "lib/proc.h"
#include "lib/util.h"
#include "schedulers/scheduler.h"

struct slurm {
	struct sched	 base;		/* first: the common handle */
	long		 max_index;	/* 0 until read from scontrol */
};

/* Run a Slurm command; see sched_run. */
static int
run(char *const argv[], int (*drop)(const char *), struct proc_result *r,
    char **cause)
{
	return sched_run(argv, drop, NULL, r, cause);
}

static int
slurm_available(char **cause)
{
	static const char *const progs[] = { "sbatch", "squeue", "scancel",
	    "scontrol", NULL };
	char		*argv[] = { "scontrol", "ping", NULL };
	struct proc_result r;
	char		*why = NULL;
	size_t		 i;
	int		 rc = 0;

	for (i = 0; progs[i]; i++)
		if (!sched_on_path(progs[i]))
			return failf(cause, "'%s' not found in PATH: install "
			    "Slurm's client commands (Debian: apt-get install "
			    "slurm-client) or load them (module load slurm)",
			    progs[i]);
	if (run(argv, NULL, &r, &why) != 0)
		rc = failf(cause, "the Slurm controller does not answer: %s",
		    why);
	else {
		if (strstr(r.out, "DOWN") != NULL)
			rc = failf(cause, "the Slurm controller does not "
			    "answer: %s", r.out);
		proc_result_release(&r);
	}
	free(why);
	return rc;
}

static struct sched *
slurm_open(const struct experiment *e, char **cause)
{
	struct slurm	*s = xcalloc(1, sizeof *s);

	(void)cause;
	s->base.ops = &sched_slurm;
	s->base.exp = e;
	return &s->base;
}

static void
slurm_close(struct sched *s)
{
	free(s);
}

static long
slurm_max_index(struct sched *sp, char **cause)
{
	struct slurm	*s = (struct slurm *)sp;
	char		*argv[] = { "scontrol", "show", "config", NULL };
	struct proc_result r;
	const char	*p;

	if (s->max_index > 0)
		return s->max_index;
	if (run(argv, NULL, &r, cause) != 0)
		return -1;
	/* "MaxArraySize            = 1001": indices go up to one less. */
	if ((p = strstr(r.out, "\nMaxArraySize")) != NULL &&
	    (p = strchr(p, '=')) != NULL)
		s->max_index = atol(p + 1) - 1;
	proc_result_release(&r);
	if (s->max_index < 1)
		s->max_index = 1000;	/* Slurm's default MaxArraySize */
	return s->max_index;
}

static char *
slurm_log_name(int kind, int width, const char *id)
{
	switch (kind) {
	case LOG_MEMBER:
		/* %3a: the task index zero-padded, as in member_001 */
		return xasprintf("member_%%%da/slurm-%%A_%%a.out", width);
	case LOG_ARRAY:
		return xstrdup("slurm-%A_%a.out");
	default:
		/* sbatch puts the job id where the pattern says %j. */
		return id ? xasprintf("update-%s.out", id) :
		    xstrdup("update-%j.out");
	}
}

/* Seconds as D-HH:MM:SS, which --time accepts. */
static void
slurm_time(char *buf, size_t len, double t)
{
	long	 s = (long)(t + 0.5);

	snprintf(buf, len, "%ld-%02ld:%02ld:%02ld", s / 86400, s / 3600 % 24,
	    s / 60 % 60, s % 60);
}

/* Resource keys with a value of their own, and sbatch's option for each. */
static const struct {
	const char	*option;
	size_t		 number;	/* offset of a long, or 0 */
	size_t		 name;		/* offset of a char *, or 0 */
} slurm_keys[] = {
	{ "--nodes=%ld", offsetof(struct resources, nodes), 0 },
	{ "--ntasks=%ld", offsetof(struct resources, ntasks), 0 },
	{ "--cpus-per-task=%ld", offsetof(struct resources, cpus_per_task), 0 },
	{ "--gpus-per-task=%ld", offsetof(struct resources, gpus_per_task), 0 },
	{ "--mem=%ldM", offsetof(struct resources, mem_mb), 0 },
	{ "--partition=%s", 0, offsetof(struct resources, partition) },
	{ "--account=%s", 0, offsetof(struct resources, account) },
	{ "--qos=%s", 0, offsetof(struct resources, qos) },
	{ "--constraint=%s", 0, offsetof(struct resources, constraint) },
};

static int
slurm_directives(const struct resources *r, const char *log, char **dirs,
    char **cause)
{
	const char	*base = (const char *)r;
	struct buf	 out = BUF_INIT;
	char		 tb[64];
	long		 n;
	size_t		 i;

	if (r->time > 0) {
		slurm_time(tb, sizeof tb, r->time);
		sched_directive(&out, "#SBATCH", "--time=%s", tb);
	}
	for (i = 0; i < sizeof slurm_keys / sizeof slurm_keys[0]; i++) {
		if (slurm_keys[i].number) {
			memcpy(&n, base + slurm_keys[i].number, sizeof n);
			if (n > 0)
				sched_directive(&out, "#SBATCH", slurm_keys[i].option, n);
		} else if (*(char *const *)(base + slurm_keys[i].name))
			sched_directive(&out, "#SBATCH", slurm_keys[i].option,
			    *(char *const *)(base + slurm_keys[i].name));
	}
	for (i = 0; i < r->extra.n; i++)
		sched_directive(&out, "#SBATCH", "%s", r->extra.v[i]);
	sched_directive(&out, "#SBATCH", "--output=%s", log);
	/* Drop the last newline: the template puts the line in place. */
	buf_rtrim(&out, "\n");
	*dirs = buf_detach(&out);
	(void)cause;
	return 0;
}

/*
 * Inside an allocation, SLURM_* variables describe that allocation; with
 * sbatch's default --export=ALL they would leak into the jobs and, for
 * some, change what the jobs ask for.  SLURM_CONF names the cluster.
 */
static int
drop_slurm(const char *var)
{
	return !strncmp(var, "SLURM_", 6) && strncmp(var, "SLURM_CONF=", 11);
}

/*
 * What sbatch says when slurmctld is down, restarting or too busy: the
 * submission is tried again.
 */
static const char *const unreachable[] = {
	"Unable to contact slurm controller",
	"Socket timed out",
	"Connection refused",
	"Transport endpoint is not connected",
	"temporarily unable to accept job",
	"Resource temporarily unavailable",
	"Zero Bytes were transmitted",
	"Communication connection failure",
	NULL
};

/* sbatch's argv for q; what it allocated goes to owned[*k]. */
static void
sbatch_argv(const struct job_request *q, char **argv, char **owned, size_t *k)
{
	size_t	 n = 0;

	argv[n++] = "sbatch";
	argv[n++] = "--parsable";
	argv[n++] = owned[(*k)++] = xasprintf("--job-name=%s", q->name);
	if (q->array) {
		if (q->max_running > 0)
			argv[n++] = owned[(*k)++] = xasprintf("--array=%s%%%ld",
			    q->array, q->max_running);
		else
			argv[n++] = owned[(*k)++] = xasprintf("--array=%s",
			    q->array);
	}
	if (q->after_any || q->after_ok) {
		argv[n++] = owned[(*k)++] = xasprintf("--dependency=%s:%s",
		    q->after_any ? "afterany" : "afterok",
		    q->after_any ? q->after_any : q->after_ok);
		argv[n++] = "--kill-on-invalid-dep=yes";
	}
	if (q->log)
		argv[n++] = owned[(*k)++] = xasprintf("--output=%s", q->log);
	if (q->offset > 0)
		argv[n++] = owned[(*k)++] = xasprintf("--export=ALL,"
		    "CALIB_ARRAY_OFFSET=%ld", q->offset);
	argv[n++] = (char *)q->script;
	argv[n] = NULL;
}

static char *
slurm_describe(struct sched *s, const struct job_request *q)
{
	char	*argv[16], *owned[8], *text;
	size_t	 k = 0, i;

	(void)s;
	sbatch_argv(q, argv, owned, &k);
	text = proc_argv_string(argv);
	for (i = 0; i < k; i++)
		free(owned[i]);
	return text;
}

static int
slurm_submit(struct sched *s, const struct job_request *q, char **id,
    char **cause)
{
	struct proc_result r;
	char		*argv[16], *owned[8], *p;
	size_t		 k = 0, i;
	int		 rc;

	(void)s;
	sbatch_argv(q, argv, owned, &k);
	rc = run(argv, drop_slurm, &r, cause);
	for (i = 0; i < k; i++)
		free(owned[i]);
	if (rc != 0)
		return sched_unreachable(*cause, unreachable) ? 1 : -1;
	/* "1234" or "1234;cluster" */
	r.out[strcspn(r.out, ";\n \t")] = '\0';
	for (p = r.out; isdigit((unsigned char)*p); p++)
		;
	if (*r.out == '\0' || *p != '\0') {
		failf(cause, "sbatch answered '%s', not a job id", r.out);
		proc_result_release(&r);
		return -1;
	}
	*id = xstrdup(r.out);
	proc_result_release(&r);
	return 0;
}

static enum job_phase
phase_of(const char *state)
{
	static const struct {
		const char	*name;
		enum job_phase	 phase;
	} table[] = {
		{ "PENDING", PHASE_QUEUED },
		{ "REQUEUED", PHASE_QUEUED },
		{ "REQUEUE_HOLD", PHASE_QUEUED },
		{ "REQUEUE_FED", PHASE_QUEUED },
		{ "RESV_DEL_HOLD", PHASE_QUEUED },
		{ "SPECIAL_EXIT", PHASE_QUEUED },
		{ "RUNNING", PHASE_RUNNING },
		{ "CONFIGURING", PHASE_RUNNING },
		{ "COMPLETING", PHASE_RUNNING },
		{ "RESIZING", PHASE_RUNNING },
		{ "SIGNALING", PHASE_RUNNING },
		{ "STAGE_OUT", PHASE_RUNNING },
		{ "STOPPED", PHASE_RUNNING },
		{ "SUSPENDED", PHASE_RUNNING },
		{ "COMPLETED", PHASE_COMPLETED },
		{ "FAILED", PHASE_FAILED },
		{ "TIMEOUT", PHASE_FAILED },
		{ "OUT_OF_MEMORY", PHASE_FAILED },
		{ "DEADLINE", PHASE_FAILED },
		{ "CANCELLED", PHASE_CANCELLED },
		{ "NODE_FAIL", PHASE_SYSTEM },
		{ "BOOT_FAIL", PHASE_SYSTEM },
		{ "PREEMPTED", PHASE_SYSTEM },
		{ "REVOKED", PHASE_SYSTEM },
	};
	size_t	 i, k = strcspn(state, " |");

	for (i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strlen(table[i].name) == k &&
		    !strncmp(table[i].name, state, k))
			return table[i].phase;
	/* A state newer than this table: still alive, look again later. */
	return PHASE_QUEUED;
}

static void
add_info(struct job_info **v, size_t *n, const char *id, long task,
    const char *state)
{
	sched_add_info(v, n, id, task, phase_of(state), state);
}

/*
 * One line's job field: "1234", "1234_7" or, for tasks not yet split
 * off, "1234_[8-10%2]".  The state goes to every task it names.
 */
static int
parse_line(char *line, struct job_info **v, size_t *n)
{
	char	*bar, *us, *state, *br, *end;
	long	*idx;
	size_t	 k, i;

	if ((bar = strchr(line, '|')) == NULL)
		return -1;
	*bar = '\0';
	state = bar + 1;
	/* "STATE|reason" from squeue, "STATE|exit" from sacct: keep "STATE reason" */
	if ((bar = strchr(state, '|')) != NULL)
		*bar = ' ';
	if ((us = strchr(line, '_')) == NULL) {
		if (*line == '\0' || line[strspn(line, "0123456789")] != '\0')
			return -1;
		add_info(v, n, line, -1, state);
		return 0;
	}
	*us++ = '\0';
	if (*us == '[') {
		br = us + 1;
		if ((end = strchr(br, ']')) == NULL)
			return -1;
		*end = '\0';
		br[strcspn(br, "%")] = '\0';
		/* No answer about calib's jobs lists more tasks than this. */
		if (ranges_parse(br, &idx, &k) != 0 || k > RANGES_MAX - *n)
			return -1;
		for (i = 0; i < k; i++)
			add_info(v, n, line, idx[i], state);
		free(idx);
		return 0;
	}
	add_info(v, n, line, strtol(us, &end, 10), state);
	return *end == '\0' ? 0 : -1;
}

static int
parse_lines(const char *text, const char *what, struct job_info **v,
    size_t *n, char **cause)
{
	char	*copy = xstrdup(text), *line, *save;

	*v = NULL;
	*n = 0;
	for (line = strtok_r(copy, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		if (*line == '\0')
			continue;
		if (parse_line(line, v, n) != 0) {
			failf(cause, "cannot read %s output line '%s'", what,
			    line);
			free(copy);
			job_info_free(*v, *n);
			*v = NULL;
			*n = 0;
			return -1;
		}
	}
	free(copy);
	return 0;
}

int
slurm_parse_squeue(const char *text, struct job_info **v, size_t *n,
    char **cause)
{
	return parse_lines(text, "squeue", v, n, cause);
}

int
slurm_parse_sacct(const char *text, struct job_info **v, size_t *n,
    char **cause)
{
	size_t	 i;

	if (parse_lines(text, "sacct", v, n, cause) != 0)
		return -1;
	/* sacct lists steps too ("1234.batch") unless -X; keep allocations. */
	for (i = 0; i < *n; i++)
		if (strchr((*v)[i].id, '.') != NULL)
			(*v)[i].phase = PHASE_QUEUED;
	return 0;
}

static int
slurm_query(struct sched *s, char *const *ids, size_t n,
    struct job_info **v, size_t *nv, char **cause)
{
	char		*list = sched_join(ids, n, ",");
	char		*argv[] = { "squeue", "--noheader", "--array",
	    "--states=all", "--format=%i|%T|%r", "--jobs", list, NULL };
	struct proc_result r;
	int		 rc;

	(void)s;
	*v = NULL;
	*nv = 0;
	if (n == 0) {
		free(list);
		return 0;
	}
	rc = run(argv, NULL, &r, cause);
	free(list);
	if (rc != 0)
		/* Every id given has left slurmctld's memory: none is known. */
		return sched_failed_with(cause, "Invalid job id") ? 0 : -1;
	rc = slurm_parse_squeue(r.out, v, nv, cause);
	proc_result_release(&r);
	return rc;
}

static int
slurm_find(struct sched *s, char *const *names, size_t n, char ***ids,
    char **cause)
{
	char		*list = sched_join(names, n, ",");
	char		*argv[] = { "squeue", "--noheader", "--states=all",
	    "--format=%F|%j", "--name", list, NULL };
	char		*line, *save, *bar;
	struct proc_result r;
	size_t		 i;
	int		 rc;

	(void)s;
	*ids = xcalloc(n, sizeof **ids);
	if (n == 0) {
		free(list);
		return 0;
	}
	rc = run(argv, NULL, &r, cause);
	free(list);
	if (rc != 0)
		return -1;
	for (line = strtok_r(r.out, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((bar = strchr(line, '|')) == NULL)
			continue;
		*bar = '\0';
		for (i = 0; i < n; i++)
			if (!strcmp(bar + 1, names[i]) && (*ids)[i] == NULL)
				(*ids)[i] = xstrdup(line);
	}
	proc_result_release(&r);
	return 0;
}

static int
slurm_history(struct sched *s, char *const *ids, size_t n,
    struct job_info **v, size_t *nv, char **cause)
{
	char		*list = sched_join(ids, n, ",");
	char		*argv[] = { "sacct", "--noheader", "--parsable2",
	    "--allocations", "--format=JobID,State,ExitCode", "--jobs", list,
	    NULL };
	struct proc_result r;
	int		 rc;

	(void)s;
	*v = NULL;
	*nv = 0;
	rc = run(argv, NULL, &r, cause);
	free(list);
	if (rc != 0)
		return sched_failed_with(cause, "accounting storage is disabled") ?
		    1 : -1;
	rc = slurm_parse_sacct(r.out, v, nv, cause);
	proc_result_release(&r);
	return rc;
}

static int
slurm_cancel_jobs(struct sched *s, char *const *ids, size_t n, char **cause)
{
	char		**argv = xcalloc(n + 2, sizeof *argv);
	struct proc_result r;
	size_t		 i;
	int		 rc;

	(void)s;
	argv[0] = "scancel";
	for (i = 0; i < n; i++)
		argv[i + 1] = ids[i];
	rc = run(argv, NULL, &r, cause);
	free(argv);
	if (rc == 0)
		proc_result_release(&r);
	return rc;
}

const struct scheduler sched_slurm = {
	.name = "slurm",
	.summary = "Slurm: one array job per iteration, sbatch/squeue/scancel",
	.features = SCHED_SCRIPTS | SCHED_CHAINS | SCHED_FIND | SCHED_HISTORY,
	.available = slurm_available,
	.open = slurm_open,
	.close = slurm_close,
	.template_dir = "slurm",
	.script_suffix = ".sbatch",
	.log_name = slurm_log_name,
	.max_index = slurm_max_index,
	.directives = slurm_directives,
	.submit = slurm_submit,
	.describe = slurm_describe,
	.query = slurm_query,
	.find = slurm_find,
	.history = slurm_history,
	.cancel_jobs = slurm_cancel_jobs,
	.wait = sched_sleep,
};
