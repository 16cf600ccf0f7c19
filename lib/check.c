/* Checks before anything is created or submitted (see check.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/calib.h"
#include "lib/check.h"
#include "lib/forward.h"
#include "lib/fsio.h"
#include "lib/jobscript.h"
#include "lib/paramfile.h"
#include "lib/prior.h"
#include "lib/util.h"

/* Do member jobs load modules or run setup lines before the model? */
static int
prepared(const struct experiment *e)
{
	return e->res.modules.n > 0 || e->res.nsetup > 0;
}

int
check_model(const struct experiment *e, const struct scheduler *sc,
    char **warning, char **cause)
{
	char	*why = NULL;

	*warning = NULL;
	if (model_check(e, &why) == 0)
		return 0;
	if ((sc == NULL || sched_has(sc, SCHED_SCRIPTS)) && prepared(e)) {
		*warning = xasprintf("%s (the jobs' modules and setup lines "
		    "may bring it on the compute nodes)", why);
		free(why);
		return 0;
	}
	free(*cause);
	*cause = why;
	return -1;
}

int
check_scripts(const struct experiment *e, const struct scheduler *sc,
    const char *calib, char **cause)
{
	char	*text = NULL;
	int	 rc;

	if (!sched_has(sc, SCHED_SCRIPTS))
		return 0;
	if (job_script_check(e, calib, cause) != 0 ||
	    job_script(e, sc, calib, JOB_MEMBERS, 0, &text, cause) != 0)
		return -1;
	free(text);
	text = NULL;
	rc = job_script(e, sc, calib, JOB_UPDATE, 0, &text, cause);
	free(text);
	return rc;
}

/* Member 1's parameter file at the prior's centre, over the sampled one. */
static int
centre(const struct experiment *e, char **cause)
{
	double	*theta = xcalloc(e->ncalib + 1, sizeof *theta);
	char	*tmpl = NULL, *text = NULL, *dir, *path;
	size_t	 i, j;
	int	 rc = -1;

	for (i = 0; i < e->nparams; i++)
		for (j = 0; !e->params[i].fixed && j < e->params[i].size; j++)
			theta[e->params[i].offset + j] = to_constrained(
			    &e->params[i].prior, e->params[i].prior.mu);
	dir = member_dir(e, 0, 1);
	path = path_join(dir, e->pfile);
	if ((e->pformat != PF_TEMPLATE ||
	    read_file(e->ptemplate, &tmpl, NULL, cause) == 0) &&
	    paramfile_render(e, theta, 0, 1, tmpl, &text, cause) == 0)
		rc = write_file_atomic(path, text, strlen(text), cause);
	free(text);
	free(tmpl);
	free(path);
	free(dir);
	free(theta);
	return rc;
}

int
check_smoke(const struct experiment *e, struct member_status *st,
    char **log, char **cause)
{
	struct experiment	 t = *e;
	const char		*tmpdir = getenv("TMPDIR");
	char			*dir, *mdir, *path;
	sigset_t		 set, old;
	size_t			 d;
	int			 rc = -1;

	*log = NULL;
	dir = xasprintf("%s/calib-smoke.XXXXXX", tmpdir && *tmpdir ? tmpdir :
	    "/tmp");
	if (mkdtemp(dir) == NULL) {
		failf(cause, "%s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	/*
	 * A whole experiment of its own, so that calib exec's checks apply;
	 * an interrupt waits until its folder is gone.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	t.output_dir = path_join(dir, "output");
	if (init_experiment(&t, 0, cause) == EXIT_OK &&
	    centre(&t, cause) == 0 && observations_count(&t, &d, cause) == 0 &&
	    forward_run(&t, 0, 1, d, 1, st, cause) >= 0) {
		mdir = member_dir(&t, 0, 1);
		path = path_join(mdir, "model.log");
		*log = file_tail(path, 5);
		free(path);
		free(mdir);
		rc = 0;
	}
	remove_tree(dir, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(t.output_dir);
	free(dir);
	return rc;
}
