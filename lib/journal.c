/* The append-only job journal (see journal.h and calib-state(5)). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsio.h"
#include "lib/journal.h"
#include "lib/util.h"

static int parse(struct journal *, char **);

/* A short fingerprint of the output directory, so job names never clash. */
static unsigned long
fingerprint(const char *s)
{
	unsigned long	 h = 2166136261UL;

	while (*s)
		h = ((h ^ (unsigned char)*s++) * 16777619UL) & 0xffffffffUL;
	return h;
}

int
journal_load(const struct experiment *e, struct journal *j, char **cause)
{
	memset(j, 0, sizeof *j);
	j->path = path_join(e->output_dir, "jobs.journal");
	j->exp = xstrdup(e->name ? e->name : "");
	return parse(j, cause);
}

int
journal_refresh(struct journal *j, char **cause)
{
	struct journal	 fresh;
	size_t		 i;

	memset(&fresh, 0, sizeof fresh);
	fresh.path = xstrdup(j->path);
	if (parse(&fresh, cause) != 0) {
		free(fresh.path);
		return -1;
	}
	for (i = 0; i < j->n && i < fresh.n; i++)
		if (fresh.v[i].cancelled && !j->v[i].cancelled)
			j->v[i].cancelled = fresh.v[i].cancelled;
	journal_release(&fresh);
	return 0;
}

static int
parse(struct journal *j, char **cause)
{
	struct jentry	*x;
	char		*buf, *line, *next, *tok, *save, *eq;
	size_t		 len, i;

	if (!is_file(j->path))
		return 0;
	if (read_file(j->path, &buf, &len, cause) != 0)
		return -1;
	for (line = buf; (next = strchr(line, '\n')) != NULL; line = next + 1) {
		/* A line without its newline was torn by a crash: skipped. */
		*next = '\0';
		if ((tok = strtok_r(line, " ", &save)) == NULL)
			continue;
		if (!strcmp(tok, "submit")) {
			j->v = xreallocarray(j->v, j->n + 1, sizeof *j->v);
			x = &j->v[j->n++];
			memset(x, 0, sizeof *x);
		} else
			x = NULL;
		while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
			if ((eq = strchr(tok, '=')) == NULL)
				continue;
			*eq++ = '\0';
			if (x == NULL) {
				/* job, failed, cancel: find the entry. */
				for (i = 0; i < j->n; i++)
					if ((!strcmp(tok, "seq") &&
					    j->v[i].seq == atol(eq)) ||
					    (!strcmp(tok, "id") && j->v[i].id &&
					    !strcmp(j->v[i].id, eq)))
						x = &j->v[i];
				if (x == NULL)
					break;
				if (!strcmp(line, "job") && !strcmp(tok, "seq"))
					continue;
			}
			if (!strcmp(line, "job") && !strcmp(tok, "id")) {
				free(x->id);
				x->id = xstrdup(eq);
			} else if (!strcmp(line, "failed"))
				x->failed = 1;
			else if (!strcmp(line, "cancel")) {
				if (!strcmp(tok, "time"))
					x->cancelled = atof(eq);
			}
			else if (!strcmp(tok, "seq"))
				x->seq = atol(eq);
			else if (!strcmp(tok, "backend")) {
				free(x->backend);
				x->backend = xstrdup(eq);
			}
			else if (!strcmp(tok, "kind"))
				x->kind = strcmp(eq, "update") ? JOB_MEMBERS :
				    JOB_UPDATE;
			else if (!strcmp(tok, "iteration"))
				x->iteration = atol(eq);
			else if (!strcmp(tok, "name")) {
				free(x->name);
				x->name = xstrdup(eq);
			} else if (!strcmp(tok, "members")) {
				free(x->members);
				x->members = xstrdup(eq);
			}
			else if (!strcmp(tok, "offset"))
				x->offset = atol(eq);
			else if (!strcmp(tok, "time"))
				x->time = atof(eq);
			else if (!strcmp(tok, "detached"))
				x->detached = atoi(eq);
		}
	}
	free(buf);
	for (i = 0; i < j->n; i++)
		if (j->v[i].name == NULL || j->v[i].backend == NULL ||
		    (j->v[i].kind == JOB_MEMBERS && j->v[i].members == NULL)) {
			failf(cause, "%s: damaged record %zu", j->path, i + 1);
			journal_release(j);
			return -1;
		}
	return 0;
}

void
journal_release(struct journal *j)
{
	size_t	 i;

	for (i = 0; i < j->n; i++) {
		free(j->v[i].backend);
		free(j->v[i].name);
		free(j->v[i].members);
		free(j->v[i].id);
	}
	free(j->v);
	free(j->path);
	free(j->exp);
	memset(j, 0, sizeof *j);
}

/* Append one line and make it durable before returning. */
static int
append(struct journal *j, const char *line, char **cause)
{
	size_t	 len = strlen(line), off = 0;
	ssize_t	 n;
	int	 fd, created = !is_file(j->path);

	if (j->dry)
		return 0;
	fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd == -1)
		return failf(cause, "%s: %s", j->path, strerror(errno));
	while (off < len) {
		if ((n = write(fd, line + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return failf(cause, "%s: write: %s", j->path,
			    strerror(errno));
		}
		off += n;
	}
	if (fsync(fd) == -1 || close(fd) == -1)
		return failf(cause, "%s: fsync: %s", j->path, strerror(errno));
	if (created)
		return sync_path(j->path, cause);
	return 0;
}

struct jentry *
journal_intent(struct journal *j, const struct jentry *proto, char **cause)
{
	struct jentry	*x;
	char		*line, *dir = path_dir(j->path), t[32];
	long		 seq = j->n ? j->v[j->n - 1].seq + 1 : 1;

	snprintf(t, sizeof t, "%.3f", now());
	j->v = xreallocarray(j->v, j->n + 1, sizeof *j->v);
	x = &j->v[j->n];
	*x = *proto;
	x->seq = seq;
	x->time = atof(t);
	x->backend = xstrdup(proto->backend);
	/*
	 * "calib.NAME.FINGERPRINT.SEQ": the experiment's name tells jobs
	 * apart in squeue and qstat (cut to 40 characters, which every
	 * scheduler takes), the output directory's fingerprint keeps two
	 * experiments of one name from finding each other's jobs.
	 */
	x->name = xasprintf("calib.%.40s%s%08lx.%ld", j->exp,
	    *j->exp ? "." : "", fingerprint(dir), seq);
	x->members = proto->members ? xstrdup(proto->members) : NULL;
	x->id = NULL;
	free(dir);
	line = xasprintf("submit seq=%ld backend=%s kind=%s iteration=%ld "
	    "name=%s members=%s offset=%ld detached=%d time=%s\n", seq,
	    x->backend, x->kind == JOB_UPDATE ? "update" : "members",
	    x->iteration, x->name, x->members ? x->members : "-", x->offset,
	    x->detached, t);
	if (append(j, line, cause) != 0) {
		free(line);
		free(x->backend);
		free(x->name);
		free(x->members);
		return NULL;
	}
	free(line);
	j->n++;
	return x;
}

static struct jentry *
by_seq(struct journal *j, long seq)
{
	size_t	 i;

	for (i = 0; i < j->n; i++)
		if (j->v[i].seq == seq)
			return &j->v[i];
	return NULL;
}

int
journal_job(struct journal *j, long seq, const char *id, char **cause)
{
	struct jentry	*x = by_seq(j, seq);
	char		*line = xasprintf("job seq=%ld id=%s\n", seq, id);
	int		 rc = append(j, line, cause);

	free(line);
	if (rc == 0 && x) {
		free(x->id);
		x->id = xstrdup(id);
	}
	return rc;
}

int
journal_failed(struct journal *j, long seq, const char *why, char **cause)
{
	struct jentry	*x = by_seq(j, seq);
	char		*line, *w = xstrdup(why), *p;
	int		 rc;

	for (p = w; *p; p++)
		if (*p == '\n' || *p == ' ')
			*p = '_';
	line = xasprintf("failed seq=%ld why=%s\n", seq, w);
	rc = append(j, line, cause);
	free(line);
	free(w);
	if (rc == 0 && x)
		x->failed = 1;
	return rc;
}

int
journal_cancel(struct journal *j, const char *id, char **cause)
{
	char	 t[32], *line;
	size_t	 i;
	int	 rc;

	snprintf(t, sizeof t, "%.3f", now());
	line = xasprintf("cancel id=%s time=%s\n", id, t);
	rc = append(j, line, cause);
	free(line);
	for (i = 0; rc == 0 && i < j->n; i++)
		if (j->v[i].id && !strcmp(j->v[i].id, id))
			j->v[i].cancelled = atof(t);
	return rc;
}

struct jentry *
journal_last(struct journal *j, enum jkind kind, long it)
{
	size_t	 i;

	for (i = j->n; i-- > 0;)
		if (j->v[i].kind == kind && j->v[i].iteration == it &&
		    !j->v[i].failed)
			return &j->v[i];
	return NULL;
}
