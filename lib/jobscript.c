/* Job scripts from templates (see jobscript.h and calib-templates(7)). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/fsio.h"
#include "lib/jobscript.h"
#include "lib/state.h"
#include "lib/template.h"
#include "lib/util.h"

/*
 * Why path cannot go into a job script, or NULL.  Every line of the script
 * holds it quoted for the shell, except directive lines (in_directive),
 * which the scheduler splits at blanks and where quotes are not the
 * shell's.
 */
static const char *
script_path_why(const char *path, int in_directive)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)path; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return "has a control character (a newline would start a "
			    "line of its own in the job script)";
		if (in_directive && (*p == ' ' || *p == '\t' || *p == '\'' ||
		    *p == '"' || *p == '\\'))
			return "has a blank, a quote or a backslash, which "
			    "scheduler directive lines cannot hold";
	}
	return NULL;
}

int
job_script_check(const struct experiment *e, const char *calib, char **cause)
{
	const char	*why;
	char		*q;
	int		 rc = 0;

	if ((why = script_path_why(e->output_dir, 1)) != NULL) {
		q = quote_bytes(e->output_dir, strlen(e->output_dir), 200);
		rc = failf(cause, "output directory '%s' %s; choose another "
		    "output_dir", q, why);
		free(q);
	} else if ((why = script_path_why(calib, 0)) != NULL) {
		q = quote_bytes(calib, strlen(calib), 200);
		rc = failf(cause, "calib binary '%s' %s; set backend.calib", q,
		    why);
		free(q);
	}
	return rc;
}

/* The setup lines of a job script: modules, variables, commands. */
static char *
setup_lines(const struct resources *r)
{
	struct buf	 b = BUF_INIT;
	char		*q;
	size_t		 i, k;

	for (i = 0; i < r->modules.n; i++) {
		q = shell_quote(r->modules.v[i]);
		buf_addf(&b, "module load %s\n", q);
		free(q);
	}
	for (i = 0; i < r->env_names.n; i++) {
		q = shell_quote(r->env_values.v[i]);
		buf_addf(&b, "export %s=%s\n", r->env_names.v[i], q);
		free(q);
	}
	for (i = 0; i < r->nsetup; i++) {
		for (k = 0; k < r->setup[i].n; k++) {
			q = shell_quote(r->setup[i].v[k]);
			buf_addsep(&b, k ? " " : "", q);
			free(q);
		}
		buf_addc(&b, '\n');
	}
	buf_rtrim(&b, "\n");
	return buf_detach(&b);
}

/* The directive lines of the job, its log in the iteration's folder. */
static int
directives(const struct experiment *e, const struct scheduler *sc,
    const struct resources *r, enum jkind kind, long it, char **out,
    char **cause)
{
	char	*dir = iteration_dir(e, it), *rel, *log;
	int	 rc;

	rel = sc->log_name(kind == JOB_UPDATE ? LOG_UPDATE : LOG_MEMBER,
	    member_width(e), NULL);
	log = path_join(dir, rel);
	rc = sc->directives(r, log, out, cause);
	free(log);
	free(rel);
	free(dir);
	return rc;
}

int
job_script(const struct experiment *e, const struct scheduler *sc,
    const char *calib, enum jkind kind, long it, char **text, char **cause)
{
	const struct resources *r = kind == JOB_UPDATE ? &e->update_res :
	    &e->res;
	struct tvar	 v[7];
	char		*tmpl, *origin, *file, *dirs, *setup, *qcalib, *qout;
	char		*cmd, num[32];
	int		 rc;

	file = xasprintf("%s%s", kind == JOB_UPDATE ? "update" : "member",
	    sc->script_suffix);
	rc = template_load(e->backend.templates, sc->template_dir, file, &tmpl,
	    &origin, cause);
	free(file);
	if (rc != 0)
		return -1;
	if (job_script_check(e, calib, cause) != 0 ||
	    directives(e, sc, r, kind, it, &dirs, cause) != 0) {
		free(tmpl);
		free(origin);
		return -1;
	}
	setup = setup_lines(r);
	qcalib = shell_quote(calib);
	qout = shell_quote(e->output_dir);
	snprintf(num, sizeof num, "%ld", it);
	/* --job: calib runs it; its driver holds the experiment's lock. */
	cmd = xasprintf("%s %s --job -i %ld %s", qcalib, kind == JOB_UPDATE ?
	    "update" : "exec", it, qout);
	v[0] = (struct tvar){ "experiment", e->name };
	v[1] = (struct tvar){ "iteration", num };
	v[2] = (struct tvar){ "directives", dirs };
	v[3] = (struct tvar){ "setup", setup };
	v[4] = (struct tvar){ "command", cmd };
	v[5] = (struct tvar){ "calib", qcalib };
	v[6] = (struct tvar){ "output_dir", qout };
	rc = template_render(tmpl, origin, v, 7, text, cause);
	/* calib exec reads only calib's names: a template must set them. */
	if (rc == 0 && kind == JOB_MEMBERS &&
	    strstr(*text, "CALIB_MEMBER_INDEX=") == NULL) {
		rc = failf(cause, "%s: a member job script must set "
		    "CALIB_MEMBER_INDEX (and CALIB_JOB_ID) from the scheduler's "
		    "array index and job id; see calib-templates(7)", origin);
		free(*text);
		*text = NULL;
	}
	free(tmpl);
	free(origin);
	free(dirs);
	free(setup);
	free(qcalib);
	free(qout);
	free(cmd);
	return rc;
}
