/*
 * What to do about one member of an open iteration, decided from facts
 * alone: what the journal says of its job, what the scheduler says of that
 * job, what its status file says, and the clock.  decide() does no I/O, so
 * every combination is tested from a table (test/data/decide.txt); the
 * driver (lib/driver.c) gathers the facts and carries out the decision.
 */
#ifndef CALIB_DECIDE_H
#define CALIB_DECIDE_H

#include "lib/state.h"
#include "schedulers/scheduler.h"

struct member_facts {
	/* The journal. */
	int		 has_job;	/* a member job of the iteration covered it */
	int		 has_id;	/* and the scheduler's id for it is known */
	int		 cancelled;	/* calib cancel cancelled that job */
	int		 cancel_first;	/* before the status says it ended */
	int		 earlier;	/* submitted before this driver started */
	int		 attempts;	/* this run's jobs for it, those calib
					   cancelled aside */
	/* The scheduler: its answer for the job's task, if it gave one. */
	int		 listed;	/* the scheduler knows the task now */
	enum job_phase	 phase;		/* when listed */
	int		 may_ask_history; /* accounting not asked yet, may answer */
	/* The member's status file. */
	enum outcome	 outcome;	/* OUTCOME_NONE: no status file */
	int		 this_job;	/* the status was written by that job */
	/*
	 * Whether that calib exec still holds the member (jobs on this
	 * machine only; both 0 when it cannot be told).
	 */
	int		 exec_alive, exec_gone;
	/* The clock: how long the job has been gone without a status. */
	double		 gone_for;	/* since first seen so; 0: just now */
	double		 lag;		/* the shared filesystem's allowance */
	/* The policy. */
	int		 may_retry;	/* 0 inside a detached chain */
	int		 rerun;		/* --retry-failed, and its attempt ended
					   before this run started */
	long		 max_retries;
};

enum member_action {
	ACT_WAIT,	/* queued or running, or its end not visible yet */
	ACT_DONE,	/* succeeded */
	ACT_FAILED,	/* settled: the update counts it as failed */
	ACT_SUBMIT,	/* never run: submit it */
	ACT_RETRY,	/* died outside the model: again, as a retry */
	ACT_RESUBMIT,	/* cancelled by calib or stopped with its driver:
			   again, not counted as a retry */
	ACT_HISTORY,	/* ask the scheduler's accounting, then decide */
};

enum member_why {
	WHY_NONE,
	WHY_QUEUED,
	WHY_RUNNING,
	WHY_LAG,		/* ended; its status may still be on its way */
	WHY_OK,
	WHY_NOT_RUN,
	WHY_SCHEDULER,		/* the scheduler ended the job (system, cancel) */
	WHY_CANCELLED,		/* calib cancel cancelled it */
	WHY_INTERRUPTED,	/* calib exec was stopped with its driver */
	WHY_MODEL,		/* the status file says why */
	WHY_NO_STATUS,		/* the job ended without a status */
	WHY_LOST,		/* gone from the scheduler without a status */
	WHY_RERUN,		/* failed before this run; --retry-failed */
};

struct decision {
	enum member_action	 action;
	enum member_why		 why;
	int			 running;	/* for ACT_WAIT: running, not queued */
	int			 exhausted;	/* failed for want of retries */
};

struct decision	 decide(const struct member_facts *);

/* Names, for messages and the tests. */
const char	*action_name(enum member_action);

#endif
