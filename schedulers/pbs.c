/*
 * The PBS backends: "pbs" for PBS Professional and OpenPBS, "torque" for
 * Torque.  One iteration is one array job (PBS Pro qsub -J, Torque qsub
 * -t), the update one job after it (qsub -W depend=afterany:).  The state
 * of every job is asked with one qstat per poll: JSON from PBS Pro
 * (qstat -f -F json), XML from Torque (qstat -x).  Options follow qsub(1B),
 * qstat(1B), qselect(1B) and qdel(1B) of the PBS Professional Reference
 * Guide and the Torque Administrator Guide, cited where not obvious.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "lib/buf.h"
#include "lib/ranges.h"
#include "lib/proc.h"
#include "lib/util.h"
#include "schedulers/scheduler.h"

/* PBS Pro's default max_array_size; Torque's max_job_array_size is unset. */
#define PBS_MAX_ARRAY	10000

/* Exit statuses of the PBS commands (pbs_error.h: PBSE_UNKJOBID 15001). */
#define QSTAT_UNKNOWN	153	/* some id is unknown; the others are listed */
#define QDEL_FINISHED	35	/* PBS Pro: the job had already finished */

struct pbs {
	struct sched	 base;		/* first: the common handle */
	long		 max_index;	/* 0 until read from qstat -B */
};

static int
is_torque(const struct scheduler *sc)
{
	return sc == &sched_torque;
}

static int
pbs_available(char **cause)
{
	static const char *const progs[] = { "qsub", "qstat", "qdel", NULL };
	char		*argv[] = { "qstat", "-Q", NULL };
	struct proc_result r;
	char		*why = NULL;
	size_t		 i;

	for (i = 0; progs[i]; i++)
		if (!sched_on_path(progs[i]))
			return failf(cause, "'%s' not found in PATH: load the "
			    "PBS client commands (module load pbs) or install "
			    "them", progs[i]);
	if (sched_run(argv, NULL, NULL, &r, &why) != 0) {
		failf(cause, "the PBS server does not answer: %s", why);
		free(why);
		return -1;
	}
	proc_result_release(&r);
	return 0;
}

static struct sched *
open_flavour(const struct scheduler *sc, const struct experiment *e)
{
	struct pbs	*s = xcalloc(1, sizeof *s);

	s->base.ops = sc;
	s->base.exp = e;
	return &s->base;
}

static struct sched *
pbs_open(const struct experiment *e, char **cause)
{
	(void)cause;
	return open_flavour(&sched_pbs, e);
}

static struct sched *
torque_open(const struct experiment *e, char **cause)
{
	(void)cause;
	return open_flavour(&sched_torque, e);
}

static void
pbs_close(struct sched *s)
{
	free(s);
}

/*
 * The server's largest array: max_array_size (PBS Pro) or
 * max_job_array_size (Torque) in qstat -B -f.  A server that does not say
 * gets PBS Pro's default; qsub refuses a larger array plainly anyway.
 */
static long
pbs_max_index(struct sched *sp, char **cause)
{
	static const char *const keys[] = { "max_array_size",
	    "max_job_array_size", NULL };
	struct pbs	*s = (struct pbs *)sp;
	char		*argv[] = { "qstat", "-B", "-f", NULL };
	struct proc_result r;
	char		*why = NULL;
	const char	*p;
	size_t		 i;

	(void)cause;
	if (s->max_index > 0)
		return s->max_index;
	if (sched_run(argv, NULL, NULL, &r, &why) == 0) {
		for (i = 0; keys[i] && s->max_index == 0; i++)
			if ((p = strstr(r.out, keys[i])) != NULL &&
			    (p = strchr(p, '=')) != NULL)
				s->max_index = atol(p + 1);
		proc_result_release(&r);
	}
	free(why);
	if (s->max_index < 1)
		s->max_index = PBS_MAX_ARRAY;
	return s->max_index;
}

/*
 * Logs, in the iteration folder.  PBS Pro replaces ^array_index^ in a
 * path by the subjob's index (qsub -o); "%o" is replaced here by the
 * array's offset.  Torque names array tasks' logs itself from the path.
 */
static char *
pbs_log_name(int kind, int width, const char *id)
{
	(void)width;
	(void)id;
	switch (kind) {
	case LOG_MEMBER:
		return xstrdup("member-^array_index^.log");
	case LOG_ARRAY:
		return xstrdup("array%o-^array_index^.log");
	default:
		return xstrdup("update.log");
	}
}

static char *
torque_log_name(int kind, int width, const char *id)
{
	(void)width;
	(void)id;
	switch (kind) {
	case LOG_MEMBER:
		return xstrdup("members.log");
	case LOG_ARRAY:
		return xstrdup("array%o.log");
	default:
		return xstrdup("update.log");
	}
}

/* Is s "name=value" pairs joined by ':', as chunk resources are? */
static int
chunk_resources(const char *s)
{
	const char	*p = s;

	while (*p) {
		if (!isalpha((unsigned char)*p))
			return 0;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (*p++ != '=' || *p == '\0' || *p == ':')
			return 0;
		while (*p && *p != ':')
			p++;
		if (*p == ':' && *++p == '\0')
			return 0;
	}
	return *s != '\0';
}

/*
 * Resources the way Slurm counts them (calib.yaml(5)), as PBS asks for
 * them.  PBS Pro: one chunk per node, -l select=N:ncpus=T*C:mpiprocs=T:
 * ngpus=T*G:mem=M (T tasks per node, C cpus per task, G gpus per task, M
 * memory per node), with -l place=scatter so that chunks land on distinct
 * hosts.  Torque: -l nodes=N:ppn=T*C[:gpus=T*G], and -l mem for the whole
 * job (Torque's mem is per job, not per node).
 */
static int
flavour_directives(const struct scheduler *sc, const struct resources *r,
    const char *log, char **dirs, char **cause)
{
	struct buf	 out = BUF_INIT, chunk = BUF_INIT;
	long	 nodes = r->nodes > 0 ? r->nodes : 1, per, tasks;
	size_t	 i;
	long	 s = (long)(r->time + 0.5);

	if (r->qos && !is_torque(sc)) {
		buf_release(&out);
		return failf(cause, "resources: qos '%s': PBS Pro has no QoS; "
		    "ask for a queue with partition, or give PBS's own "
		    "options in extra", r->qos);
	}
	if (r->constraint && !is_torque(sc) && !chunk_resources(r->constraint)) {
		buf_release(&out);
		return failf(cause, "resources: constraint '%s': on PBS Pro "
		    "this is added to every chunk of -l select, as "
		    "name=value[:name=value...] (e.g. cpu_type=milan)",
		    r->constraint);
	}
	if (r->time > 0)
		sched_directive(&out, "#PBS", "-l walltime=%02ld:%02ld:%02ld", s / 3600,
		    s / 60 % 60, s % 60);
	tasks = r->ntasks > 0 ? r->ntasks : nodes;
	per = (tasks + nodes - 1) / nodes;	/* tasks per node */
	if (is_torque(sc)) {
		if (r->nodes > 0 || r->ntasks > 0 || r->cpus_per_task > 0 ||
		    r->gpus_per_task > 0 || r->constraint) {
			buf_addf(&chunk, "nodes=%ld:ppn=%ld", nodes, per *
			    (r->cpus_per_task > 0 ? r->cpus_per_task : 1));
			if (r->gpus_per_task > 0)
				buf_addf(&chunk, ":gpus=%ld",
				    per * r->gpus_per_task);
			/* Node properties follow the node spec (qsub -l). */
			if (r->constraint)
				buf_addf(&chunk, ":%s", r->constraint);
			sched_directive(&out, "#PBS", "-l %s", chunk.s);
			buf_release(&chunk);
		}
		if (r->mem_mb > 0)
			sched_directive(&out, "#PBS", "-l mem=%ldmb", r->mem_mb * nodes);
		if (r->qos)
			/* Moab's QoS, passed on by Torque (qsub -l qos=). */
			sched_directive(&out, "#PBS", "-l qos=%s", r->qos);
	} else if (r->nodes > 0 || r->ntasks > 0 || r->cpus_per_task > 0 ||
	    r->gpus_per_task > 0 || r->mem_mb > 0 || r->constraint) {
		buf_addf(&chunk, "select=%ld:ncpus=%ld:mpiprocs=%ld", nodes,
		    per * (r->cpus_per_task > 0 ? r->cpus_per_task : 1), per);
		if (r->gpus_per_task > 0)
			buf_addf(&chunk, ":ngpus=%ld", per * r->gpus_per_task);
		if (r->mem_mb > 0)
			buf_addf(&chunk, ":mem=%ldmb", r->mem_mb);
		if (r->constraint)
			buf_addf(&chunk, ":%s", r->constraint);
		sched_directive(&out, "#PBS", "-l %s", chunk.s);
		buf_release(&chunk);
		if (nodes > 1)
			sched_directive(&out, "#PBS", "-l place=scatter");
	}
	if (r->partition)
		sched_directive(&out, "#PBS", "-q %s", r->partition);
	if (r->account)
		sched_directive(&out, "#PBS", "-A %s", r->account);
	for (i = 0; i < r->extra.n; i++)
		sched_directive(&out, "#PBS", "%s", r->extra.v[i]);
	sched_directive(&out, "#PBS", "-j oe");
	sched_directive(&out, "#PBS", "-o %s", log);
	buf_rtrim(&out, "\n");
	*dirs = buf_detach(&out);
	return 0;
}

static int
pbs_directives(const struct resources *r, const char *log, char **dirs,
    char **cause)
{
	return flavour_directives(&sched_pbs, r, log, dirs, cause);
}

static int
torque_directives(const struct resources *r, const char *log, char **dirs,
    char **cause)
{
	return flavour_directives(&sched_torque, r, log, dirs, cause);
}

/* s with every "from" replaced by "to". */
static char *
replace(const char *s, const char *from, const char *to)
{
	const char	*p;
	struct buf	 out = BUF_INIT;

	while ((p = strstr(s, from)) != NULL) {
		buf_add(&out, s, p - s);
		buf_adds(&out, to);
		s = p + strlen(from);
	}
	buf_adds(&out, s);
	return buf_detach(&out);
}

void
argv_free(char **argv)
{
	size_t	 i;

	for (i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

char **
pbs_qsub_argv(const struct scheduler *sc, const struct job_request *q)
{
	char	**argv = xcalloc(16, sizeof *argv), *log = NULL, *t, off[32];
	size_t	  n = 0;
	int	  single;

	snprintf(off, sizeof off, "%ld", q->offset);
	single = q->array && strspn(q->array, "0123456789") ==
	    strlen(q->array);
	argv[n++] = xstrdup("qsub");
	argv[n++] = xstrdup("-N");
	argv[n++] = xstrdup(q->name);
	if (q->log) {
		log = replace(q->log, "%o", off);
		if (single && !is_torque(sc)) {
			t = replace(log, "^array_index^", q->array);
			free(log);
			log = t;
		}
	}
	if (q->array && (is_torque(sc) || !single)) {
		/*
		 * Torque: -t list[%slots].  PBS Pro: -J X-Y[%max], the limit
		 * on running subjobs from OpenPBS 20 on.  PBS Pro refuses a
		 * one-element array: that is a plain job, told its index.
		 */
		argv[n++] = xstrdup(is_torque(sc) ? "-t" : "-J");
		argv[n++] = q->max_running > 0 ? xasprintf("%s%%%ld", q->array,
		    q->max_running) : xstrdup(q->array);
	}
	if (q->after_any || q->after_ok) {
		argv[n++] = xstrdup("-W");
		argv[n++] = xasprintf("depend=%s:%s", q->after_any ? "afterany" :
		    "afterok", q->after_any ? q->after_any : q->after_ok);
	}
	if (log) {
		argv[n++] = xstrdup("-o");
		argv[n++] = log;
	}
	if (q->array) {
		argv[n++] = xstrdup("-v");
		argv[n++] = single && !is_torque(sc) ?
		    xasprintf("CALIB_ARRAY_OFFSET=%ld,CALIB_ARRAY_INDEX=%s",
		    q->offset, q->array) :
		    xasprintf("CALIB_ARRAY_OFFSET=%ld", q->offset);
	}
	argv[n++] = xstrdup(q->script);
	argv[n] = NULL;
	return argv;
}

/*
 * Inside a job, PBS_* variables describe that job and SLURM_* those of a
 * Slurm allocation (under Slurm's PBS wrappers); qsub must not pass them
 * on.  PBS_DEFAULT, PBS_SERVER and PBS_CONF_FILE name the server, and
 * SLURM_CONF the cluster behind the wrappers.
 */
static int
drop_job_env(const char *var)
{
	if (!strncmp(var, "PBS_", 4))
		return strncmp(var, "PBS_DEFAULT=", 12) &&
		    strncmp(var, "PBS_SERVER=", 11) &&
		    strncmp(var, "PBS_CONF_FILE=", 14);
	return !strncmp(var, "SLURM_", 6) && strncmp(var, "SLURM_CONF=", 11);
}

static char *
flavour_describe(struct sched *s, const struct job_request *q)
{
	char	**argv = pbs_qsub_argv(s->ops, q), *text;

	text = proc_argv_string(argv);
	argv_free(argv);
	return text;
}

/* What qsub says when the server is down or busy: tried again. */
static const char *const unreachable[] = {
	"cannot connect to server",
	"Cannot connect to specified server",
	"Connection refused",
	"Communication failure",
	"pbs_iff",
	"Server not available",
	NULL
};

static int
flavour_submit(struct sched *s, const struct job_request *q, char **id,
    char **cause)
{
	struct proc_result r;
	char		**argv = pbs_qsub_argv(s->ops, q), *p;
	int		 rc;

	rc = sched_run(argv, drop_job_env, NULL, &r, cause);
	argv_free(argv);
	if (rc != 0)
		return sched_unreachable(*cause, unreachable) ? 1 : -1;
	/* "1234[].server", "1235.server", or "1236" */
	p = r.out + strspn(r.out, " \t\n");
	p[strcspn(p, " \t\n")] = '\0';
	if (!isdigit((unsigned char)*p)) {
		failf(cause, "qsub answered '%s', not a job id", r.out);
		proc_result_release(&r);
		return -1;
	}
	*id = xstrdup(p);
	proc_result_release(&r);
	return 0;
}

/* The sequence number of an id: "1234" of "1234[7].server". */
static size_t
seq_len(const char *id)
{
	return strspn(id, "0123456789");
}

/*
 * A job's phase from its state letter and exit status (has_exit 0 when
 * the server gave none).  Exit statuses: 0 success; 1-255 the script's;
 * 256+N killed by signal N (qdel: SIGTERM); negative, the server's
 * JOB_EXEC_* codes: -24..-29 PBS Pro's and -10..-12 Torque's resource
 * limits (like a model failure), the others failures to start or of the
 * node (retried).
 */
static enum job_phase
phase_of(int torque, char state, int has_exit, long exit)
{
	switch (state) {
	case 'R':
	case 'E':	/* exiting: still staging files out */
	case 'B':	/* PBS Pro: an array whose subjobs have begun */
	case 'S':
	case 'U':
		return PHASE_RUNNING;
	case 'X':	/* PBS Pro: a finished subjob */
	case 'F':	/* PBS Pro: finished (history) */
	case 'C':	/* Torque: completed */
		break;
	default:	/* Q, H, W, T, M and states newer than this table */
		return PHASE_QUEUED;
	}
	if (!has_exit)
		return PHASE_CANCELLED;	/* deleted before it ran */
	if (exit == 0)
		return PHASE_COMPLETED;
	if (exit > 0 && exit < 256)
		return PHASE_FAILED;
	if (exit >= 256)
		return PHASE_CANCELLED;
	if (torque ? exit <= -10 && exit >= -12 : exit <= -24 && exit >= -29)
		return PHASE_FAILED;
	return PHASE_SYSTEM;
}

/*
 * One job of a qstat answer.  key is "1234[7].server" (a subjob),
 * "1234[].server" (an array) or "1235.server"; comment is PBS's
 * explanation, which names a dependency that deleted the job.
 */
static void
add_job(struct job_info **v, size_t *n, int torque, const char *key,
    const char *state, int has_exit, long exit, const char *comment)
{
	const char	*br = strchr(key, '[');
	long		 task = -1;
	enum job_phase	 ph = phase_of(torque, *state, has_exit, exit);
	char		 buf[64], *id;

	if (br && isdigit((unsigned char)br[1]))
		task = atol(br + 1);
	if (comment && strstr(comment, "dependency") && ph > PHASE_RUNNING) {
		/* "Job deleted as result of dependency on job 1234.server" */
		ph = PHASE_CANCELLED;
		snprintf(buf, sizeof buf, "deleted by PBS: its dependency can "
		    "never be met");
	} else if (has_exit)
		snprintf(buf, sizeof buf, "%s exit %ld", state, exit);
	else
		snprintf(buf, sizeof buf, "%s", state);
	/* The array's own id, as qsub printed it, is matched by the caller. */
	id = xasprintf("%.*s", (int)seq_len(key), key);
	sched_add_info(v, n, id, task, ph, buf);
	free(id);
}

/*
 * An array is its subjobs: its own record (state B, begun) goes when they
 * are listed, and stays for an array deleted before any subjob ran.
 */
static void
drop_arrays(struct job_info *v, size_t *n)
{
	char	*drop = xcalloc(*n + 1, 1);
	size_t	 i, k, keep = 0;

	for (i = 0; i < *n; i++)
		for (k = 0; k < *n && v[i].task == -1 && !drop[i]; k++)
			drop[i] = v[k].task >= 0 && !strcmp(v[k].id, v[i].id);
	for (i = 0; i < *n; i++) {
		if (drop[i])
			free(v[i].id);
		else
			v[keep++] = v[i];
	}
	*n = keep;
	free(drop);
}

int
pbs_parse_json(const char *text, struct job_info **v, size_t *n,
    char **cause)
{
	json_t		*root, *jobs, *job, *x;
	json_error_t	 err;
	const char	*key, *state, *comment;
	long		 exit = 0;
	int		 has_exit;

	*v = NULL;
	*n = 0;
	if (*text == '\0')
		return 0;
	if ((root = json_loads(text, 0, &err)) == NULL)
		return failf(cause, "qstat's JSON, line %d column %d: %s",
		    err.line, err.column, err.text);
	jobs = json_object_get(root, "Jobs");
	json_object_foreach(jobs, key, job) {
		x = json_object_get(job, "job_state");
		if ((state = json_string_value(x)) == NULL || *state == '\0') {
			failf(cause, "qstat's JSON: job %s has no job_state",
			    key);
			json_decref(root);
			job_info_free(*v, *n);
			*v = NULL;
			*n = 0;
			return -1;
		}
		x = json_object_get(job, "Exit_status");
		if ((has_exit = json_is_integer(x)))
			exit = (long)json_integer_value(x);
		comment = json_string_value(json_object_get(job, "comment"));
		add_job(v, n, 0, key, state, has_exit, exit, comment);
	}
	json_decref(root);
	drop_arrays(*v, n);
	return 0;
}

/* The text of element name under node, or NULL. */
static char *
child_text(xmlNode *node, const char *name)
{
	xmlNode	*c;

	for (c = node->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)c->name, name))
			return (char *)xmlNodeGetContent(c);
	return NULL;
}

int
torque_parse_xml(const char *text, struct job_info **v, size_t *n,
    char **cause)
{
	xmlDoc		*doc;
	xmlNode		*root, *job;
	const xmlError	*e;
	char		*id, *state, *ex, *end;
	long		 exit = 0;
	int		 has_exit;

	*v = NULL;
	*n = 0;
	if (text[strspn(text, " \t\n")] == '\0')
		return 0;
	doc = xmlReadMemory(text, (int)strlen(text), "qstat.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		e = xmlGetLastError();
		return failf(cause, "qstat's XML, line %d: %s", e ? e->line : 0,
		    e && e->message ? e->message : "not XML");
	}
	root = xmlDocGetRootElement(doc);
	for (job = root ? root->children : NULL; job; job = job->next) {
		if (job->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)job->name, "Job") != 0)
			continue;
		id = child_text(job, "Job_Id");
		state = child_text(job, "job_state");
		ex = child_text(job, "exit_status");
		has_exit = ex != NULL && *ex != '\0';
		if (has_exit)
			exit = strtol(ex, &end, 10);
		if (id == NULL || !isdigit((unsigned char)*id) ||
		    state == NULL || *state == '\0' ||
		    (has_exit && *end != '\0')) {
			failf(cause, "qstat's XML: a job without a readable "
			    "Job_Id, job_state or exit_status (%s)",
			    id ? id : "no id");
			xmlFree(id);
			xmlFree(state);
			xmlFree(ex);
			xmlFreeDoc(doc);
			job_info_free(*v, *n);
			*v = NULL;
			*n = 0;
			return -1;
		}
		add_job(v, n, 1, id, state, has_exit, exit, NULL);
		xmlFree(id);
		xmlFree(state);
		xmlFree(ex);
	}
	xmlFreeDoc(doc);
	return 0;
}

/*
 * Give each answer the id it was asked by (qsub's "1234[].server"), by
 * sequence number; drop answers about jobs not asked for.
 */
static void
match_ids(char *const *ids, size_t nids, struct job_info *v, size_t *n)
{
	size_t	 i, k, keep = 0;

	for (i = 0; i < *n; i++) {
		for (k = 0; k < nids; k++)
			if (seq_len(ids[k]) == strlen(v[i].id) &&
			    !strncmp(ids[k], v[i].id, strlen(v[i].id)))
				break;
		if (k == nids) {
			free(v[i].id);
			continue;
		}
		free(v[i].id);
		v[i].id = xstrdup(ids[k]);
		v[keep++] = v[i];
	}
	*n = keep;
}

/* One qstat about ids; answers appended to *v. */
static int
ask(struct sched *s, char *const *ids, size_t nids, struct job_info **v,
    size_t *n, char ***unknown, size_t *nunknown, char **cause)
{
	static const int accept[] = { QSTAT_UNKNOWN, 0 };
	int		 torque = is_torque(s->ops);
	char		**argv = xcalloc(nids + 8, sizeof *argv), *line, *save;
	struct proc_result r;
	struct job_info	*got;
	size_t		 k = 0, i, ngot;
	int		 rc;

	argv[k++] = "qstat";
	if (torque) {
		/* -x: XML, -t: every task of an array. */
		argv[k++] = "-x";
		argv[k++] = "-t";
	} else {
		/* -t: subjobs too; -x: finished jobs kept as history. */
		argv[k++] = "-t";
		argv[k++] = "-f";
		argv[k++] = "-F";
		argv[k++] = "json";
		argv[k++] = "-x";
	}
	for (i = 0; i < nids; i++)
		argv[k++] = ids[i];
	rc = sched_run(argv, NULL, accept, &r, cause);
	free(argv);
	if (rc != 0)
		return -1;
	rc = torque ? torque_parse_xml(r.out, &got, &ngot, cause) :
	    pbs_parse_json(r.out, &got, &ngot, cause);
	if (rc == 0) {
		match_ids(ids, nids, got, &ngot);
		for (i = 0; i < ngot; i++) {
			sched_info_room(v, *n);
			(*v)[(*n)++] = got[i];
		}
		free(got);
		/* "qstat: Unknown Job Id 1234[].server" */
		for (line = strtok_r(r.err, "\n", &save); line && unknown;
		    line = strtok_r(NULL, "\n", &save))
			for (i = 0; i < nids; i++)
				if (strstr(line, ids[i]) != NULL) {
					*unknown = xreallocarray(*unknown,
					    *nunknown + 1, sizeof **unknown);
					(*unknown)[(*nunknown)++] = ids[i];
				}
	}
	proc_result_release(&r);
	return rc;
}

static int
answered(char *const *list, size_t n, const char *id, const struct job_info *v,
    size_t nv)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!strcmp(list[i], id))
			return 1;
	for (i = 0; i < nv; i++)
		if (!strcmp(v[i].id, id))
			return 1;
	return 0;
}

/*
 * One qstat for every id.  An id neither answered nor said to be unknown
 * was lost by qstat itself (some OpenPBS releases answer -F json about
 * the first id only): it is asked again on its own, so that a live job is
 * never taken for a vanished one.
 */
static int
pbs_query(struct sched *s, char *const *ids, size_t n, struct job_info **v,
    size_t *nv, char **cause)
{
	char	**unknown = NULL;
	size_t	  nunknown = 0, i;
	int	  rc = 0;

	*v = NULL;
	*nv = 0;
	if (n == 0)
		return 0;
	if (ask(s, ids, n, v, nv, &unknown, &nunknown, cause) != 0)
		return -1;
	for (i = 0; i < n && rc == 0; i++)
		if (!answered(unknown, nunknown, ids[i], *v, *nv))
			rc = ask(s, ids + i, 1, v, nv, NULL, NULL, cause);
	free(unknown);
	if (rc != 0) {
		job_info_free(*v, *nv);
		*v = NULL;
		*nv = 0;
	}
	return rc;
}

/*
 * Jobs by name, one qselect -N each (intents are rare: calib was killed
 * between qsub and recording its answer).  PBS Pro's -x includes finished
 * jobs.
 */
static int
pbs_find(struct sched *s, char *const *names, size_t n, char ***ids,
    char **cause)
{
	char		*argv[5], *p;
	struct proc_result r;
	size_t		 i, k = 0;

	argv[k++] = "qselect";
	if (!is_torque(s->ops))
		argv[k++] = "-x";
	argv[k++] = "-N";
	argv[k + 1] = NULL;
	*ids = xcalloc(n + 1, sizeof **ids);
	for (i = 0; i < n; i++) {
		argv[k] = names[i];
		if (sched_run(argv, NULL, NULL, &r, cause) != 0) {
			while (i > 0)
				free((*ids)[--i]);
			free(*ids);
			*ids = NULL;
			return -1;
		}
		p = r.out + strspn(r.out, " \t\n");
		p[strcspn(p, " \t\n")] = '\0';
		if (*p)
			(*ids)[i] = xstrdup(p);
		proc_result_release(&r);
	}
	return 0;
}

static int
pbs_cancel_jobs(struct sched *s, char *const *ids, size_t n, char **cause)
{
	/* Jobs that ended meanwhile: finished (PBS Pro), unknown (both). */
	static const int accept[] = { QDEL_FINISHED, QSTAT_UNKNOWN, 0 };
	char		**argv = xcalloc(n + 2, sizeof *argv);
	struct proc_result r;
	size_t		 i;
	int		 rc;

	(void)s;
	argv[0] = "qdel";
	for (i = 0; i < n; i++)
		argv[i + 1] = ids[i];
	rc = sched_run(argv, drop_job_env, accept, &r, cause);
	free(argv);
	if (rc == 0)
		proc_result_release(&r);
	return rc;
}

const struct scheduler sched_pbs = {
	.name = "pbs",
	.summary = "PBS Pro and OpenPBS: one array job (qsub -J) per "
	    "iteration, qsub/qstat/qdel",
	.features = SCHED_SCRIPTS | SCHED_CHAINS | SCHED_FIND |
	    SCHED_RANGES_ONLY,
	.available = pbs_available,
	.open = pbs_open,
	.close = pbs_close,
	.template_dir = "pbs",
	.script_suffix = ".pbs",
	.log_name = pbs_log_name,
	.max_index = pbs_max_index,
	.directives = pbs_directives,
	.submit = flavour_submit,
	.describe = flavour_describe,
	.query = pbs_query,
	.find = pbs_find,
	.cancel_jobs = pbs_cancel_jobs,
	.wait = sched_sleep,
};

const struct scheduler sched_torque = {
	.name = "torque",
	.summary = "Torque: one array job (qsub -t) per iteration, "
	    "qsub/qstat/qdel",
	.features = SCHED_SCRIPTS | SCHED_CHAINS | SCHED_FIND,
	.available = pbs_available,
	.open = torque_open,
	.close = pbs_close,
	.template_dir = "pbs",
	.script_suffix = ".pbs",
	.log_name = torque_log_name,
	.max_index = pbs_max_index,
	.directives = torque_directives,
	.submit = flavour_submit,
	.describe = flavour_describe,
	.query = pbs_query,
	.find = pbs_find,
	.cancel_jobs = pbs_cancel_jobs,
	.wait = sched_sleep,
};
