/*
 * The member decision from the table in test/data/decide.txt: every
 * scheduler state, status file and journal record that matters, each with
 * the decision expected.
 */
#include "test/unit/testutil.h"

#include "lib/decide.h"
#include "lib/util.h"

static const struct {
	const char	*name;
	int		 listed;
	enum job_phase	 phase;
} scheds[] = {
	{ "vanished", 0, PHASE_QUEUED },
	{ "pending", 1, PHASE_QUEUED },
	{ "running", 1, PHASE_RUNNING },
	{ "completed", 1, PHASE_COMPLETED },
	{ "failed", 1, PHASE_FAILED },
	{ "timeout", 1, PHASE_FAILED },
	{ "oom", 1, PHASE_FAILED },
	{ "node_fail", 1, PHASE_SYSTEM },
	{ "preempted", 1, PHASE_SYSTEM },
	{ "cancelled", 1, PHASE_CANCELLED },
};

static const char *const whys[] = { "none", "queued", "running", "lag", "ok",
    "not_run", "scheduler", "cancelled", "interrupted", "model", "no_status",
    "lost", "rerun", NULL };

static int
lookup(const char *const *names, const char *s)
{
	int	 i;

	for (i = 0; names[i]; i++)
		if (!strcmp(names[i], s))
			return i;
	fail_msg("unknown word '%s' in decide.txt", s);
	return -1;
}

/* One line of the table into facts and the expected decision. */
static void
parse_case(char **w, int nw, struct member_facts *f, struct decision *want)
{
	static const char *const journals[] = { "none", "intent", "id",
	    "cancel", "cancel-late", NULL };
	static const char *const actions[] = { "wait", "done", "failed",
	    "submit", "retry", "resubmit", "history", NULL };
	size_t	 i;
	int	 j, o;

	assert_true(nw == 11 || nw == 12);
	memset(f, 0, sizeof *f);
	for (i = 0; i < sizeof scheds / sizeof scheds[0]; i++)
		if (!strcmp(scheds[i].name, w[0]))
			break;
	assert_true(i < sizeof scheds / sizeof scheds[0]);
	f->listed = scheds[i].listed;
	f->phase = scheds[i].phase;
	assert_true((o = outcome_parse(w[1])) >= 0);
	f->outcome = o;
	/* alive, dead: this job's, and its calib exec holds the member or not */
	f->this_job = !strcmp(w[2], "this") || !strcmp(w[2], "alive") ||
	    !strcmp(w[2], "dead");
	f->exec_alive = !strcmp(w[2], "alive");
	f->exec_gone = !strcmp(w[2], "dead");
	j = lookup(journals, w[3]);
	f->has_job = j > 0;
	f->has_id = j > 1;
	f->cancelled = j >= 3;
	f->cancel_first = j == 3;
	f->earlier = !strcmp(w[4], "old");
	f->attempts = atoi(w[5]);
	f->gone_for = atof(w[6]);
	f->lag = 10;
	f->may_retry = strcmp(w[7], "chain") != 0;
	f->rerun = !strcmp(w[7], "rerun");
	f->max_retries = 2;
	f->may_ask_history = !strcmp(w[8], "yes");
	want->action = lookup(actions, w[9]);
	want->why = lookup(whys, w[10]);
	want->exhausted = nw == 12 && !strcmp(w[11], "exhausted");
}

static void
test_table(void **state)
{
	struct member_facts	 f;
	struct decision		 want, got;
	char			*text = read_fixture(".", "decide.txt"), *line;
	char			*save, *w[16], *ws;
	int			 nw, n = 0, lineno = 0;

	(void)state;
	for (line = strtok_r(text, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (*line == '#')
			continue;
		for (nw = 0, w[0] = strtok_r(line, " ", &ws); w[nw] && nw < 15;
		    w[++nw] = strtok_r(NULL, " ", &ws))
			;
		parse_case(w, nw, &f, &want);
		got = decide(&f);
		if (got.action != want.action || got.why != want.why ||
		    got.exhausted != want.exhausted)
			fail_msg("case %d (%s %s %s %s): decided %s/%s%s, "
			    "expected %s/%s%s", n + 1, w[0], w[1], w[2], w[3],
			    action_name(got.action), whys[got.why],
			    got.exhausted ? " exhausted" : "",
			    action_name(want.action), whys[want.why],
			    want.exhausted ? " exhausted" : "");
		n++;
	}
	free(text);
	/* The table must cover what the issue of record asks for. */
	assert_true(n >= 40);
}

/* A success is never run again, whatever else is true. */
static void
test_success_stands(void **state)
{
	struct member_facts	 f;
	size_t			 i;
	int			 k;

	(void)state;
	for (i = 0; i < sizeof scheds / sizeof scheds[0]; i++)
		for (k = 0; k < 16; k++) {
			memset(&f, 0, sizeof f);
			f.listed = scheds[i].listed;
			f.phase = scheds[i].phase;
			f.outcome = OUTCOME_OK;
			f.has_job = 1;
			f.has_id = k & 1;
			f.cancelled = (k & 2) != 0;
			f.earlier = (k & 4) != 0;
			f.may_retry = (k & 8) != 0;
			f.gone_for = 100;
			f.lag = 10;
			if (f.listed && f.phase <= PHASE_RUNNING)
				assert_int_equal(decide(&f).action, ACT_WAIT);
			else
				assert_int_equal(decide(&f).action, ACT_DONE);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_success_stands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
