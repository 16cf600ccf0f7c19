#!/bin/sh
# Arrays larger than the cluster's MaxArraySize are split; the submitting
# environment's SLURM_* variables stay out of the jobs; values from the
# experiment reach the job script quoted.
. "$(dirname "$0")/lib.sh"
start_slurm CALIB_TEST_MAX_ARRAY=5
wrap_commands sbatch squeue scancel scontrol

SIZE=11 ITERATIONS=1 make_experiment s "backend: {poll_interval: 1s}
resources:
  env: {TRICKY: \"it's \$(touch $TRASH/pwned) \\\"x\\\" \`id\`\"}
  setup:
    - [/bin/sh, -c, 'env >\"\$0\".\$SLURM_ARRAY_TASK_ID', $TRASH/job.env]"
try env SLURM_LEAK=1 SLURM_CPUS_PER_TASK=7 "$CALIB" run -b slurm s/calib.yaml
expect_rc 0 "11 members run with MaxArraySize=5"
check "3 arrays and an update per iteration" test "$(calls sbatch)" -eq 8
check "arrays of indices 1-4, 1-4 and 1-3 in each iteration" \
    test "$(grep -o -- '--array=[0-9-]*' "$TRASH/calls" | sort | uniq -c |
    awk '{ printf "%s %s;", $1, $2 }')" = "2 --array=1-3;4 --array=1-4;"
check "with the offsets of their members" \
    test "$(grep -c 'CALIB_ARRAY_OFFSET=4 ' "$TRASH/calls")" -eq 2 -a \
    "$(grep -c 'CALIB_ARRAY_OFFSET=8 ' "$TRASH/calls")" -eq 2
check "the journal names the members of each array" \
    test "$(sed -n 's/.*kind=members iteration=0 .*members=\([^ ]*\) offset=\([0-9]*\).*/\1@\2/p' \
    s/output/jobs.journal | tr '\n' ' ')" = "1-4@0 5-8@4 9-11@8 "
try "$CALIB" status --json s/calib.yaml
check "every member ran, as itself" has out '"members":{"done":11,"failed":0'
check "member 11 ran once" grep -q '^attempt=1$' s/output/iteration_001/member_011/status
check "logs of offset arrays are in the iteration folder" \
    test -n "$(ls s/output/iteration_000/slurm-*_3.out)"
check "SLURM_* of the submitting shell stay out of the job" \
    sh -c "! grep -q '^SLURM_LEAK=' '$TRASH'/job.env.1"
check "the job's own allocation is not overridden" \
    grep -q '^SLURM_CPUS_PER_TASK=\|^SLURM_JOB_ID=' "$TRASH/job.env.1"
check "an env value reaches the job literally" \
    grep -qF "TRICKY=it's \$(touch $TRASH/pwned) \"x\" \`id\`" "$TRASH/job.env.1"
check "and is never run by a shell" test ! -e "$TRASH/pwned"
check "setup commands are quoted word by word" \
    grep -qF "'/bin/sh' '-c' 'env >\"\$0\".\$SLURM_ARRAY_TASK_ID' '$TRASH/job.env'" \
    s/output/iteration_000/member.sbatch
done_testing
