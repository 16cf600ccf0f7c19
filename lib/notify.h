/*
 * Notifications (calib.yaml(5), notify): an event of the calibration
 * POSTed to the endpoints that take it, as JSON (the iteration as
 * `calib status --json` shows it, with the event's name and a summary
 * line) or as Slack's {"text": ...}.  Each delivery, or why it failed, is
 * recorded as a file under output_dir/notify/.  A notification never
 * fails the calibration; it holds it at most each endpoint's timeout per
 * event, and an endpoint that did not answer is not asked again by the
 * same process.
 */
#ifndef CALIB_NOTIFY_H
#define CALIB_NOTIFY_H

#include "lib/config.h"

/*
 * Send event ev of iteration it.  iteration_json: the iteration's status
 * object (summary_json), or NULL; reason: why the calibration stopped, or
 * NULL.
 */
void	 notify_send(const struct experiment *, long it, enum notify_event ev,
	    const char *summary, const char *iteration_json,
	    const char *reason);

/* Does an endpoint take one of events (1 << enum notify_event, or'ed)? */
int	 notify_wanted(const struct experiment *, unsigned events);

/*
 * The same as notify_send, for a process that has not read the
 * observations (calib run): iteration it's status is computed here, and
 * only when an endpoint takes the event.
 */
void	 notify_iteration(const struct experiment *, long it,
	    enum notify_event ev, const char *summary, const char *reason);

#endif
