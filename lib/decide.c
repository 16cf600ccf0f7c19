/*
 * The member decision (see decide.h).  Trust runs from the most direct
 * witness to the least: a job the scheduler still holds is waited for; a
 * success in the status file stands whoever wrote it; the scheduler's word
 * that it ended the job (node failure, cancellation) comes before what
 * calib exec managed to record; then calib exec's record of this job; and
 * only when neither speaks, after the filesystem's lag, is the job lost.
 */
#include <stddef.h>

#include "lib/decide.h"

static const char *const actions[] = { "wait", "done", "failed", "submit",
    "retry", "resubmit", "history" };

const char *
action_name(enum member_action a)
{
	return actions[a];
}

static struct decision
make(enum member_action a, enum member_why why)
{
	struct decision	 d = { a, why, 0, 0 };

	return d;
}

/*
 * Run the member again: a retry counts against max_retries, a resubmission
 * (calib cancelled the job, or its driver stopped) does not.  Inside a
 * detached chain nothing runs again: the update already waits on the array.
 */
static struct decision
again(const struct member_facts *f, enum member_why why, int counted)
{
	struct decision	 d = make(ACT_FAILED, why);

	if (!f->may_retry)
		return d;
	if (!counted)
		d.action = ACT_RESUBMIT;
	else if (f->attempts <= f->max_retries)
		d.action = ACT_RETRY;
	else
		d.exhausted = 1;
	return d;
}

/* calib exec recorded how this job's attempt ended, and it failed. */
static struct decision
recorded_end(const struct member_facts *f)
{
	/*
	 * Cancelled by calib before it ended: a model that exits non-zero on
	 * SIGTERM, or dies before calib exec sees its own signal, failed
	 * because of the cancel, not of itself.
	 */
	if (f->cancelled && f->cancel_first &&
	    (f->outcome == OUTCOME_INTERRUPTED || f->outcome == OUTCOME_FAILED))
		return again(f, WHY_CANCELLED, 0);
	if (f->outcome != OUTCOME_INTERRUPTED)
		return make(ACT_FAILED, WHY_MODEL);
	if (f->cancelled)
		return again(f, WHY_CANCELLED, 0);
	/*
	 * Interrupted, and the scheduler says the job ended normally: its
	 * time limit, say, which is the model's to respect.
	 */
	if (f->listed)
		return make(ACT_FAILED, WHY_MODEL);
	/* Stopped together with an earlier driver (the local backend). */
	return again(f, WHY_INTERRUPTED, !f->earlier);
}

struct decision
decide(const struct member_facts *f)
{
	struct decision	 d;

	if (f->listed && f->phase == PHASE_QUEUED)
		return make(ACT_WAIT, WHY_QUEUED);
	if (f->listed && f->phase == PHASE_RUNNING) {
		d = make(ACT_WAIT, WHY_RUNNING);
		d.running = 1;
		return d;
	}
	if (f->outcome == OUTCOME_OK)
		return make(ACT_DONE, WHY_OK);
	if (!f->has_job)
		return make(ACT_SUBMIT, WHY_NOT_RUN);
	/* Asked to run what failed before (the model has been fixed). */
	if (f->rerun && (f->outcome == OUTCOME_FAILED ||
	    f->outcome == OUTCOME_TIMEOUT || f->outcome == OUTCOME_INVALID))
		return make(ACT_RESUBMIT, WHY_RERUN);
	if (!f->listed && f->has_id && f->may_ask_history)
		return make(ACT_HISTORY, WHY_NONE);
	if (f->listed && f->phase == PHASE_SYSTEM)
		return again(f, WHY_SCHEDULER, 1);
	if (f->listed && f->phase == PHASE_CANCELLED)
		return f->cancelled ? again(f, WHY_CANCELLED, 0) :
		    again(f, WHY_SCHEDULER, 1);
	if (f->this_job && f->outcome != OUTCOME_NONE &&
	    f->outcome != OUTCOME_RUNNING)
		return recorded_end(f);
	/*
	 * "running", and calib exec is on this machine: while it holds the
	 * member it is still stopping; once it has let go without a word it
	 * was killed outright, with its driver or by someone.
	 */
	if (f->this_job && f->outcome == OUTCOME_RUNNING && f->exec_alive) {
		d = make(ACT_WAIT, WHY_RUNNING);
		d.running = 1;
		return d;
	}
	if (f->this_job && f->outcome == OUTCOME_RUNNING && f->exec_gone)
		return f->cancelled ? again(f, WHY_CANCELLED, 0) :
		    again(f, WHY_INTERRUPTED, !f->earlier);
	/* Ended or gone, no word from calib exec: shared filesystems lag. */
	if (f->gone_for < f->lag) {
		d = make(ACT_WAIT, WHY_LAG);
		d.running = 1;
		return d;
	}
	if (f->listed)
		return make(ACT_FAILED, WHY_NO_STATUS);
	if (f->cancelled)
		return again(f, WHY_CANCELLED, 0);
	return again(f, WHY_LOST, 1);
}
