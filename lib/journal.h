/*
 * The job journal, output_dir/jobs.journal: an append-only record of every
 * batch job calib submits.  A record is written and fsync'd before sbatch
 * or qsub runs (the intent, with the job's unique name) and again the
 * moment it returns the job id, so a calib run killed at any instant can
 * find all of its jobs again.  calib-state(5) describes the format.
 */
#ifndef CALIB_JOURNAL_H
#define CALIB_JOURNAL_H

#include <stddef.h>

#include "lib/config.h"
#include "lib/ranges.h"

enum jkind { JOB_MEMBERS, JOB_UPDATE };

struct jentry {
	long		 seq;		/* 1, 2, ... in submission order */
	char		*backend;
	enum jkind	 kind;
	long		 iteration;
	char		*name;		/* the job name, unique to this record */
	char		*members;	/* "1-20,25": members of a member array */
	long		 offset;	/* member = array index + offset */
	double		 time;		/* when the intent was recorded */
	char		*id;		/* the job id; NULL until known */
	int		 failed;	/* submission failed: there is no job */
	double		 cancelled;	/* when calib cancel cancelled it; 0 */
	int		 detached;	/* part of a chain submitted by --detach */
};

struct journal {
	char		*path;
	char		*exp;		/* the experiment's name, for job names */
	int		 dry;		/* kept in memory only (calib run -n) */
	struct jentry	*v;
	size_t		 n;
};

/* Read the experiment's journal (an absent file is an empty journal). */
int	 journal_load(const struct experiment *, struct journal *, char **cause);
void	 journal_release(struct journal *);

/* Read records other processes appended since (calib cancel's). */
int	 journal_refresh(struct journal *, char **cause);

/* Record the intent to submit *proto; its seq and name are filled in. */
struct jentry *journal_intent(struct journal *, const struct jentry *proto,
	    char **cause);
/* Record the id sbatch or qsub returned for the intent seq. */
int	 journal_job(struct journal *, long seq, const char *id, char **cause);
/* Record that the intent seq was never submitted (why is one line). */
int	 journal_failed(struct journal *, long seq, const char *why,
	    char **cause);
/* Record that calib cancel cancelled job id. */
int	 journal_cancel(struct journal *, const char *id, char **cause);

/* The most recent entry of kind for iteration it, or NULL. */
struct jentry *journal_last(struct journal *, enum jkind, long it);

#endif
