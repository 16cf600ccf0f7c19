/*
 * The PBS backends without a PBS server: directives for every resource
 * key, the exact qsub command lines, and qstat documents of PBS Pro (JSON)
 * and Torque (XML) parsed, see test/data/pbs/README.
 */
#include "test/unit/testutil.h"

#include "lib/fsio.h"
#include "lib/proc.h"
#include "lib/util.h"
#include "schedulers/scheduler.h"

static const char base_yaml[] =
    "name: res\n"
    "ensemble_size: 12\n"
    "iterations: 4\n"
    "parameters:\n"
    "  a: {prior: {normal: {mean: 0, std: 1}}}\n"
    "observations: {values: [1, 2], noise: {std: 1}}\n"
    "forward_model:\n"
    "  command: [model, \"{parameters}\", \"{output}\"]\n"
    "  output: {file: out.txt}\n";

static const char every_key[] = "resources:\n"
    "  time: 1d2h3m4s\n"
    "  nodes: 2\n"
    "  ntasks: 8\n"
    "  cpus_per_task: 4\n"
    "  gpus_per_task: 1\n"
    "  mem: 1.5G\n"
    "  partition: gpu-a100\n"
    "  account: climate_01\n"
    "  extra: [\"-m ae\"]\n";

static char *
directives(const struct scheduler *sc, const struct resources *r)
{
	char	*out = NULL, *cause = NULL;

	if (sc->directives(r, "/out/it/member-^array_index^.log", &out,
	    &cause) != 0) {
		print_error("%s\n", cause);
		fail();
	}
	return out;
}

/*
 * Slurm's counts in PBS's words: 8 tasks on 2 nodes are 4 per node, each
 * with 4 cpus and a gpu; mem is per node.
 */
static void
test_directives(void **state)
{
	struct experiment	 e;
	char			*text, *yaml, *cause = NULL;

	(void)state;
	yaml = xasprintf("%s  constraint: cpu_type=milan\n", every_key);
	load_experiment(base_yaml, yaml, &e);
	free(yaml);
	text = directives(&sched_pbs, &e.res);
	assert_string_equal(text,
	    "#PBS -l walltime=26:03:04\n"
	    "#PBS -l select=2:ncpus=16:mpiprocs=4:ngpus=4:mem=1536mb:"
	    "cpu_type=milan\n"
	    "#PBS -l place=scatter\n"
	    "#PBS -q gpu-a100\n"
	    "#PBS -A climate_01\n"
	    "#PBS -m ae\n"
	    "#PBS -j oe\n"
	    "#PBS -o /out/it/member-^array_index^.log");
	free(text);
	experiment_release(&e);

	/* Torque: node properties and QoS; mem for the whole job. */
	yaml = xasprintf("%s  constraint: ib\n  qos: high\n", every_key);
	load_experiment(base_yaml, yaml, &e);
	free(yaml);
	text = directives(&sched_torque, &e.res);
	assert_string_equal(text,
	    "#PBS -l walltime=26:03:04\n"
	    "#PBS -l nodes=2:ppn=16:gpus=4:ib\n"
	    "#PBS -l mem=3072mb\n"
	    "#PBS -l qos=high\n"
	    "#PBS -q gpu-a100\n"
	    "#PBS -A climate_01\n"
	    "#PBS -m ae\n"
	    "#PBS -j oe\n"
	    "#PBS -o /out/it/member-^array_index^.log");
	free(text);

	/* PBS Pro has no QoS, and its constraints are chunk resources. */
	assert_int_equal(sched_pbs.directives(&e.res, "/l", &text, &cause),
	    -1);
	assert_non_null(strstr(cause, "qos 'high': PBS Pro has no QoS"));
	free(cause);
	cause = NULL;
	free(e.res.qos);
	e.res.qos = NULL;
	assert_int_equal(sched_pbs.directives(&e.res, "/l", &text, &cause),
	    -1);
	assert_non_null(strstr(cause, "constraint 'ib': on PBS Pro"));
	free(cause);
	experiment_release(&e);

	/* Nothing asked: only the log. */
	load_experiment(base_yaml, "", &e);
	text = directives(&sched_pbs, &e.res);
	assert_string_equal(text, "#PBS -j oe\n"
	    "#PBS -o /out/it/member-^array_index^.log");
	free(text);
	text = directives(&sched_torque, &e.res);
	assert_string_equal(text, "#PBS -j oe\n"
	    "#PBS -o /out/it/member-^array_index^.log");
	free(text);
	experiment_release(&e);

	/* One node, cpus only. */
	load_experiment(base_yaml, "resources: {cpus_per_task: 8, time: 90s}\n",
	    &e);
	text = directives(&sched_pbs, &e.res);
	assert_string_equal(text, "#PBS -l walltime=00:01:30\n"
	    "#PBS -l select=1:ncpus=8:mpiprocs=1\n#PBS -j oe\n"
	    "#PBS -o /out/it/member-^array_index^.log");
	free(text);
	text = directives(&sched_torque, &e.res);
	assert_string_equal(text, "#PBS -l walltime=00:01:30\n"
	    "#PBS -l nodes=1:ppn=8\n#PBS -j oe\n"
	    "#PBS -o /out/it/member-^array_index^.log");
	free(text);
	experiment_release(&e);
}

static void
assert_argv(char **argv, const char *want)
{
	char	*got = proc_argv_string(argv);

	assert_string_equal(got, want);
	free(got);
	argv_free(argv);
}

static void
test_qsub_argv(void **state)
{
	struct job_request	 q;

	(void)state;
	memset(&q, 0, sizeof q);
	q.script = "/o/iteration_000/member.pbs";
	q.name = "calib.5f3a9c01.1";
	q.array = "1-20";
	q.max_running = 4;
	q.log = "/o/iteration_000/member-^array_index^.log";
	assert_argv(pbs_qsub_argv(&sched_pbs, &q), "qsub -N calib.5f3a9c01.1 "
	    "-J 1-20%4 -o /o/iteration_000/member-^array_index^.log "
	    "-v CALIB_ARRAY_OFFSET=0 /o/iteration_000/member.pbs");
	assert_argv(pbs_qsub_argv(&sched_torque, &q), "qsub -N "
	    "calib.5f3a9c01.1 -t 1-20%4 -o "
	    "/o/iteration_000/member-^array_index^.log "
	    "-v CALIB_ARRAY_OFFSET=0 /o/iteration_000/member.pbs");

	/* PBS Pro refuses a one-element array: a plain job told its index. */
	q.array = "7";
	q.max_running = 0;
	assert_argv(pbs_qsub_argv(&sched_pbs, &q), "qsub -N calib.5f3a9c01.1 "
	    "-o /o/iteration_000/member-7.log -v "
	    "CALIB_ARRAY_OFFSET=0,CALIB_ARRAY_INDEX=7 "
	    "/o/iteration_000/member.pbs");
	assert_argv(pbs_qsub_argv(&sched_torque, &q), "qsub -N "
	    "calib.5f3a9c01.1 -t 7 -o "
	    "/o/iteration_000/member-^array_index^.log "
	    "-v CALIB_ARRAY_OFFSET=0 /o/iteration_000/member.pbs");

	/* A later chunk of a split array, waiting on an update. */
	q.array = "1-3";
	q.offset = 10000;
	q.after_ok = "1001.pbs01";
	q.log = "/o/iteration_001/array%o-^array_index^.log";
	assert_argv(pbs_qsub_argv(&sched_pbs, &q), "qsub -N calib.5f3a9c01.1 "
	    "-J 1-3 -W depend=afterok:1001.pbs01 -o "
	    "/o/iteration_001/array10000-^array_index^.log "
	    "-v CALIB_ARRAY_OFFSET=10000 /o/iteration_000/member.pbs");

	/* Torque takes lists of indices. */
	q.array = "2,5-6";
	q.offset = 0;
	q.after_ok = NULL;
	q.log = NULL;
	assert_argv(pbs_qsub_argv(&sched_torque, &q), "qsub -N "
	    "calib.5f3a9c01.1 -t 2,5-6 -v CALIB_ARRAY_OFFSET=0 "
	    "/o/iteration_000/member.pbs");

	/* The update: after every array, no index. */
	memset(&q, 0, sizeof q);
	q.script = "/o/iteration_000/update.pbs";
	q.name = "calib.5f3a9c01.2";
	q.after_any = "1000[].pbs01:1002[].pbs01";
	assert_argv(pbs_qsub_argv(&sched_pbs, &q), "qsub -N calib.5f3a9c01.2 "
	    "-W depend=afterany:1000[].pbs01:1002[].pbs01 "
	    "/o/iteration_000/update.pbs");
}

static const struct job_info *
find(const struct job_info *v, size_t n, const char *id, long task)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].id, id) && v[i].task == task)
			return &v[i];
	fail_msg("no job %s task %ld", id, task);
	return NULL;
}

static void
test_parse_json(void **state)
{
	struct job_info	*v;
	char		*text = read_fixture("pbs", "qstat-array.json");
	char		*cause = NULL;
	size_t		 n;

	(void)state;
	assert_int_equal(pbs_parse_json(text, &v, &n, &cause), 0);
	/* Subjobs by index; the array's own record goes. */
	assert_int_equal(n, 7);
	assert_int_equal(find(v, n, "1000", 1)->phase, PHASE_COMPLETED);
	assert_int_equal(find(v, n, "1000", 2)->phase, PHASE_FAILED);
	assert_string_equal(find(v, n, "1000", 2)->state, "X exit 1");
	assert_int_equal(find(v, n, "1000", 3)->phase, PHASE_RUNNING);
	assert_int_equal(find(v, n, "1000", 4)->phase, PHASE_RUNNING);
	assert_int_equal(find(v, n, "1000", 5)->phase, PHASE_QUEUED);
	/* Held on its dependency. */
	assert_int_equal(find(v, n, "1001", -1)->phase, PHASE_QUEUED);
	/* Killed at its walltime (JOB_EXEC_KILL_WALLTIME): not retried. */
	assert_int_equal(find(v, n, "998", -1)->phase, PHASE_FAILED);
	assert_string_equal(find(v, n, "998", -1)->state, "F exit -29");
	job_info_free(v, n);
	free(text);

	/* Deleted by the server: its afterok can never be met. */
	text = read_fixture("pbs", "qstat-dependency.json");
	assert_int_equal(pbs_parse_json(text, &v, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_int_equal(find(v, n, "1003", -1)->phase, PHASE_CANCELLED);
	assert_string_equal(find(v, n, "1003", -1)->state,
	    "deleted by PBS: its dependency can never be met");
	assert_int_equal(find(v, n, "1002", -1)->phase, PHASE_FAILED);
	job_info_free(v, n);
	free(text);

	/* Every id unknown: qstat printed nothing. */
	assert_int_equal(pbs_parse_json("", &v, &n, &cause), 0);
	assert_int_equal(n, 0);

	assert_int_equal(pbs_parse_json("{\"Jobs\": {\"1.s\": {\"job_state\": "
	    "\"R\",}}}", &v, &n, &cause), -1);
	assert_non_null(strstr(cause, "qstat's JSON, line 1"));
	free(cause);
	cause = NULL;
	assert_int_equal(pbs_parse_json("{\"Jobs\": {\"1.s\": {}}}", &v, &n,
	    &cause), -1);
	assert_string_equal(cause, "qstat's JSON: job 1.s has no job_state");
	free(cause);
}

static void
test_parse_xml(void **state)
{
	struct job_info	*v;
	char		*text = read_fixture("pbs", "torque.xml");
	char		*cause = NULL;
	size_t		 n;

	(void)state;
	assert_int_equal(torque_parse_xml(text, &v, &n, &cause), 0);
	assert_int_equal(n, 4);
	assert_int_equal(find(v, n, "2040", 1)->phase, PHASE_RUNNING);
	assert_int_equal(find(v, n, "2040", 2)->phase, PHASE_COMPLETED);
	/* 256 + SIGTERM: deleted while running. */
	assert_int_equal(find(v, n, "2040", 3)->phase, PHASE_CANCELLED);
	assert_int_equal(find(v, n, "2041", -1)->phase, PHASE_QUEUED);
	job_info_free(v, n);
	free(text);

	assert_int_equal(torque_parse_xml("<Data><Job><Job_Id>1.t</Job_Id>"
	    "</Data>", &v, &n, &cause), -1);
	assert_non_null(strstr(cause, "qstat's XML, line 1"));
	free(cause);
	cause = NULL;
	assert_int_equal(torque_parse_xml("<Data><Job><Job_Id>1.t</Job_Id>"
	    "<job_state>C</job_state><exit_status>x</exit_status></Job>"
	    "</Data>", &v, &n, &cause), -1);
	assert_non_null(strstr(cause, "qstat's XML: a job without a readable"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directives),
		cmocka_unit_test(test_qsub_argv),
		cmocka_unit_test(test_parse_json),
		cmocka_unit_test(test_parse_xml),
	};

	make_test_dir();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
