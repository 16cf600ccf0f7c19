/*
 * Batch machinery without a cluster: job scripts rendered for every
 * resource key, scheduler output parsed from recorded outputs, the journal
 * and index lists.
 */
#include "test/unit/testutil.h"

#include "lib/jobscript.h"
#include "lib/ranges.h"
#include "lib/fsio.h"
#include "lib/journal.h"
#include "lib/template.h"
#include "lib/util.h"
#include "schedulers/scheduler.h"

static const char base_yaml[] =
    "name: res\n"
    "ensemble_size: 1200\n"
    "iterations: 4\n"
    "parameters:\n"
    "  a: {prior: {normal: {mean: 0, std: 1}}}\n"
    "observations: {values: [1, 2], noise: {std: 1}}\n"
    "forward_model:\n"
    "  command: [model, \"{parameters}\", \"{output}\"]\n"
    "  output: {file: out.txt}\n";


static char *
render(struct experiment *e, enum jkind kind, long it)
{
	char	*text = NULL, *cause = NULL;

	if (job_script(e, &sched_slurm, "/opt/calib 1.0/bin/calib", kind, it,
	    &text, &cause) != 0) {
		print_error("%s\n", cause);
		fail();
	}
	return text;
}

static void
test_script_every_key(void **state)
{
	struct experiment	 e;
	char			*text, *want;

	(void)state;
	load_experiment(base_yaml, "resources:\n"
	    "  time: 1d2h3m4s\n"
	    "  nodes: 2\n"
	    "  ntasks: 8\n"
	    "  cpus_per_task: 4\n"
	    "  gpus_per_task: 1\n"
	    "  mem: 1.5G\n"
	    "  partition: gpu-a100\n"
	    "  account: climate_01\n"
	    "  qos: high\n"
	    "  constraint: \"a100&ib\"\n"
	    "  modules: [gcc/12, openmpi]\n"
	    "  env: {OMP_NUM_THREADS: \"4\", NOTE: \"it's $HOME\"}\n"
	    "  setup:\n"
	    "    - ulimit -s unlimited\n"
	    "    - [source, /opt/site env.sh]\n"
	    "  extra: [--exclusive, --mail-type=END]\n", &e);
	text = render(&e, JOB_MEMBERS, 3);
	want = xasprintf(
	    "#!/bin/bash\n"
	    "# calib member job: experiment res, iteration 3.\n"
	    "# One array task per member: calib exec reads only CALIB_* "
	    "variables, so\n"
	    "# the script tells it the task index and the job id in calib's "
	    "names.\n"
	    "# Rendered by calib run from templates/slurm/member.sbatch; the "
	    "variables\n"
	    "# are described in calib-templates(7).\n"
	    "#SBATCH --time=1-02:03:04\n"
	    "#SBATCH --nodes=2\n"
	    "#SBATCH --ntasks=8\n"
	    "#SBATCH --cpus-per-task=4\n"
	    "#SBATCH --gpus-per-task=1\n"
	    "#SBATCH --mem=1536M\n"
	    "#SBATCH --partition=gpu-a100\n"
	    "#SBATCH --account=climate_01\n"
	    "#SBATCH --qos=high\n"
	    "#SBATCH --constraint=a100&ib\n"
	    "#SBATCH --exclusive\n"
	    "#SBATCH --mail-type=END\n"
	    "#SBATCH --output=%s/output/iteration_003/member_%%4a/"
	    "slurm-%%A_%%a.out\n"
	    "\n"
	    "export CALIB_MEMBER_INDEX=\"$SLURM_ARRAY_TASK_ID\"\n"
	    "export CALIB_JOB_ID=\"${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}\"\n"
	    "module load 'gcc/12'\n"
	    "module load 'openmpi'\n"
	    "export OMP_NUM_THREADS='4'\n"
	    "export NOTE='it'\\''s $HOME'\n"
	    "'ulimit' '-s' 'unlimited'\n"
	    "'source' '/opt/site env.sh'\n"
	    "exec '/opt/calib 1.0/bin/calib' exec --job -i 3 '%s/output'\n",
	    test_dir, test_dir);
	assert_string_equal(text, want);
	free(text);
	free(want);

	/* The update job has its own resources, none here. */
	text = render(&e, JOB_UPDATE, 3);
	want = xasprintf("#SBATCH --output=%s/output/iteration_003/"
	    "update-%%j.out\n\n\nexec '/opt/calib 1.0/bin/calib' update --job -i 3 "
	    "'%s/output'\n", test_dir, test_dir);
	assert_non_null(strstr(text, want));
	assert_null(strstr(text, "--time"));
	free(text);
	free(want);
	experiment_release(&e);
}

static void
test_script_update_resources(void **state)
{
	struct experiment	 e;
	char			*text;

	(void)state;
	load_experiment(base_yaml, "resources: {time: 10m}\n"
	    "update_resources: {time: \"00:30:00\", mem: 64G, partition: big}\n",
	    &e);
	text = render(&e, JOB_UPDATE, 0);
	assert_non_null(strstr(text, "#SBATCH --time=0-00:30:00\n"
	    "#SBATCH --mem=65536M\n#SBATCH --partition=big\n"));
	free(text);
	text = render(&e, JOB_MEMBERS, 0);
	assert_non_null(strstr(text, "#SBATCH --time=0-00:10:00\n"
	    "#SBATCH --output="));
	free(text);
	experiment_release(&e);
}

static void
test_bad_resources(void **state)
{
	static const struct {
		const char	*yaml;
		const char	*msg;
	} cases[] = {
		{ "resources: {partition: \"a b\"}\n", ":10:24: 'resources."
		    "partition': 'a b' has a blank" },
		{ "resources: {account: \"x;rm\"}\n", "'resources.account'" },
		{ "resources: {mem: lots}\n", ":10:18: 'resources.mem': "
		    "expected memory" },
		{ "resources: {time: soon}\n", "'resources.time': expected a "
		    "duration" },
		{ "resources: {nodes: 0}\n", "'resources.nodes': must be at "
		    "least 1" },
		{ "resources: {extra: [\"--x\\n#SBATCH --y\"]}\n",
		    "'resources.extra'" },
		{ "resources: {extra: [exclusive]}\n", "must start with '-'" },
		{ "resources: {env: {\"1BAD\": x}}\n", "'1BAD' is not a "
		    "variable name" },
		{ "resources: {modules: [\"a b\"]}\n", "is not a module name" },
		{ "resources: {gpus: 1}\n", "unknown key 'resources.gpus' "
		    "(did you mean 'gpus_per_task'?)" },
		{ "update_resources: {tyme: 1h}\n", "unknown key "
		    "'update_resources.tyme' (did you mean 'time'?)" },
		{ "backend: {calib: bin/calib}\n", "'backend.calib': expected "
		    "an absolute path" },
		{ "backend: {templates: nowhere}\n", "'backend.templates': " },
		{ "backend: {poll_interval: 0s}\n", "'backend.poll_interval'" },
		{ "backend: {max_running: 0}\n", "'backend.max_running': must "
		    "be at least 1" },
	};
	struct experiment	 e;
	char			*cause, *text;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cause = NULL;
		text = xasprintf("%s%s", base_yaml, cases[i].yaml);
		put_text("bad.yaml", text);
		free(text);
		assert_int_not_equal(config_load(test_path("bad.yaml"), NULL,
		    NULL, &e, &cause), 0);
		if (strstr(cause, cases[i].msg) == NULL) {
			print_error("case %zu: '%s' lacks '%s'\n", i, cause,
			    cases[i].msg);
			fail();
		}
		free(cause);
	}
}

static void
test_own_templates(void **state)
{
	struct experiment	 e;
	char			*text = NULL, *cause = NULL;

	(void)state;
	assert_int_equal(mkdirs(test_path("tmpl"), NULL), 0);
	/* A template of an older calib, which read Slurm's variables. */
	put_text("tmpl/member.sbatch", "#!/bin/sh\n{{directives}}\nexec "
	    "{{calib}} exec -i {{iteration}} {{output_dir}}\n");
	load_experiment(base_yaml, "backend: {templates: tmpl}\n", &e);
	assert_int_equal(job_script(&e, &sched_slurm, "/c", JOB_MEMBERS, 1,
	    &text, &cause), -1);
	assert_null(text);
	assert_non_null(strstr(cause, "tmpl/member.sbatch: a member job script "
	    "must set CALIB_MEMBER_INDEX"));
	free(cause);
	cause = NULL;
	put_text("tmpl/member.sbatch", "#!/bin/sh\n{{directives}}\n"
	    "export CALIB_MEMBER_INDEX=$SLURM_ARRAY_TASK_ID\nexec "
	    "{{calib}} exec -i {{iteration}} {{output_dir}}\n");
	text = render(&e, JOB_MEMBERS, 1);
	assert_non_null(strstr(text, "\nexec '/opt/calib 1.0/bin/calib' exec "
	    "-i 1 '"));
	free(text);
	/* update.sbatch is not in the folder: the built-in one is used. */
	text = render(&e, JOB_UPDATE, 1);
	assert_non_null(strstr(text, "# calib update job"));
	free(text);
	put_text("tmpl/member.sbatch", "#!/bin/sh\n\n  {{nodes}}\n");
	assert_int_equal(job_script(&e, &sched_slurm, "/c", JOB_MEMBERS, 1,
	    &text, &cause), -1);
	assert_non_null(strstr(cause, "tmpl/member.sbatch:3:3: unknown "
	    "template variable '{{nodes}}'"));
	free(cause);
	experiment_release(&e);
}

static void
test_shell_quote(void **state)
{
	char	*q;

	(void)state;
	q = shell_quote("it's $(x) `y` \"z\"");
	assert_string_equal(q, "'it'\\''s $(x) `y` \"z\"'");
	free(q);
	q = shell_quote("");
	assert_string_equal(q, "''");
	free(q);
}

/* squeue --array output recorded on the test cluster (slurm-wlm 22.05). */
static void
test_parse_squeue(void **state)
{
	struct job_info	*v;
	char		*text = read_fixture("slurm", "squeue-array.txt");
	char		*cause = NULL;
	size_t		 n, running = 0, queued = 0, i;

	(void)state;
	assert_int_equal(slurm_parse_squeue(text, &v, &n, &cause), 0);
	assert_int_equal(n, 40);
	for (i = 0; i < n; i++) {
		assert_string_equal(v[i].id, "21");
		running += v[i].phase == PHASE_RUNNING;
		queued += v[i].phase == PHASE_QUEUED;
	}
	assert_int_equal(running, 2);
	assert_int_equal(queued, 38);
	job_info_free(v, n);
	free(text);

	/* A range no array of calib's has is refused, not expanded. */
	assert_int_equal(slurm_parse_squeue("7_[1-9223372036854775807]|PENDING|"
	    "None\n", &v, &n, &cause), -1);
	assert_non_null(strstr(cause, "cannot read squeue output line"));
	free(cause);
	cause = NULL;
	assert_int_equal(slurm_parse_squeue("7_[5-3]|PENDING|None\n", &v, &n,
	    &cause), -1);
	free(cause);
	cause = NULL;

	/* Without --array, pending tasks come as one line: 24_[3-12%2]. */
	text = read_fixture("slurm", "squeue-compressed.txt");
	assert_int_equal(slurm_parse_squeue(text, &v, &n, &cause), 0);
	assert_int_equal(n, 13);
	assert_string_equal(v[0].id, "24");
	assert_int_equal(v[0].task, 3);
	assert_int_equal(v[9].task, 12);
	assert_string_equal(v[10].id, "25");
	assert_int_equal(v[10].task, -1);
	assert_string_equal(v[10].state, "PENDING Dependency");
	job_info_free(v, n);
	free(text);

	assert_int_equal(slurm_parse_squeue("garbage\n", &v, &n, &cause), -1);
	assert_non_null(strstr(cause, "cannot read squeue output line "
	    "'garbage'"));
	free(cause);
}

/*
 * sacct --parsable2 --allocations --format=JobID,State,ExitCode, in the
 * form sacct(1) documents: array tasks as JOB_TASK, tasks never started
 * as JOB_[a-b], "CANCELLED by UID".  No slurmdbd runs on the test machine,
 * so this is written from the documented format, not captured.
 */
static void
test_parse_sacct(void **state)
{
	static const enum job_phase want[] = { PHASE_COMPLETED, PHASE_FAILED,
	    PHASE_CANCELLED, PHASE_SYSTEM, PHASE_FAILED, PHASE_FAILED,
	    PHASE_SYSTEM, PHASE_SYSTEM, PHASE_QUEUED, PHASE_QUEUED,
	    PHASE_QUEUED, PHASE_COMPLETED };
	struct job_info	*v;
	char		*text = read_fixture("slurm", "sacct.txt");
	char		*cause = NULL;
	size_t		 n, i;

	(void)state;
	assert_int_equal(slurm_parse_sacct(text, &v, &n, &cause), 0);
	assert_int_equal(n, 12);
	for (i = 0; i < n; i++)
		assert_int_equal(v[i].phase, want[i]);
	assert_int_equal(v[10].task, 11);
	assert_string_equal(v[2].state, "CANCELLED by 1000 0:15");
	assert_int_equal(v[11].task, -1);
	job_info_free(v, n);
	free(text);
}

static void
test_ranges(void **state)
{
	static const long v[] = { 1, 2, 3, 5, 7, 8, 20 };
	long	*back;
	size_t	 n;
	char	*s;

	(void)state;
	s = ranges_format(v, 7);
	assert_string_equal(s, "1-3,5,7-8,20");
	assert_int_equal(ranges_parse(s, &back, &n), 0);
	assert_int_equal(n, 7);
	assert_memory_equal(back, v, sizeof v);
	assert_true(ranges_contain(s, 8));
	assert_false(ranges_contain(s, 9));
	free(back);
	free(s);
	assert_int_equal(ranges_parse("3-1", &back, &n), -1);
	assert_int_equal(ranges_parse("1,,2", &back, &n), -1);
}

static void
test_journal(void **state)
{
	struct experiment	 e;
	struct journal		 j, k;
	struct jentry		 proto, *x;
	char			*cause = NULL, *path;
	FILE			*fp;

	(void)state;
	load_experiment(base_yaml, "", &e);
	assert_int_equal(mkdirs(e.output_dir, NULL), 0);
	assert_int_equal(journal_load(&e, &j, &cause), 0);
	assert_int_equal(j.n, 0);
	memset(&proto, 0, sizeof proto);
	proto.backend = "slurm";
	proto.kind = JOB_MEMBERS;
	proto.iteration = 2;
	proto.members = "1-1000";
	x = journal_intent(&j, &proto, &cause);
	assert_non_null(x);
	assert_int_equal(x->seq, 1);
	assert_int_equal(journal_job(&j, 1, "4101", &cause), 0);
	proto.kind = JOB_UPDATE;
	proto.members = NULL;
	assert_non_null(journal_intent(&j, &proto, &cause));
	assert_int_equal(journal_failed(&j, 2, "sbatch: error: bad\nqos",
	    &cause), 0);
	proto.members = "1001-1200";
	proto.kind = JOB_MEMBERS;
	proto.offset = 1000;
	assert_non_null(journal_intent(&j, &proto, &cause));
	assert_int_equal(journal_cancel(&j, "4101", &cause), 0);
	/* A crash in the middle of a line leaves it without its newline. */
	path = xstrdup(j.path);
	fp = fopen(path, "a");
	fputs("job seq=3 id=41", fp);
	fclose(fp);

	assert_int_equal(journal_load(&e, &k, &cause), 0);
	assert_int_equal(k.n, 3);
	assert_string_equal(k.v[0].id, "4101");
	assert_true(k.v[0].cancelled > 0);
	assert_string_equal(k.v[0].members, "1-1000");
	assert_true(k.v[1].failed);
	assert_int_equal(k.v[1].kind, JOB_UPDATE);
	assert_null(k.v[2].id);
	assert_int_equal(k.v[2].offset, 1000);
	assert_int_equal(k.v[2].iteration, 2);
	assert_string_equal(k.v[0].name + strlen(k.v[0].name) - 2, ".1");
	assert_string_not_equal(k.v[0].name, k.v[2].name);
	assert_ptr_equal(journal_last(&k, JOB_MEMBERS, 2), &k.v[2]);
	assert_null(journal_last(&k, JOB_UPDATE, 2));
	journal_release(&k);
	journal_release(&j);
	free(path);
	experiment_release(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script_every_key),
		cmocka_unit_test(test_script_update_resources),
		cmocka_unit_test(test_bad_resources),
		cmocka_unit_test(test_own_templates),
		cmocka_unit_test(test_shell_quote),
		cmocka_unit_test(test_parse_squeue),
		cmocka_unit_test(test_parse_sacct),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_journal),
	};

	make_test_dir();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
