#!/bin/sh
# Members whose jobs die outside the model: attached mode resubmits them,
# a detached chain goes on under the failure policy; calib cancel; an
# update that fails says why.
. "$(dirname "$0")/lib.sh"
start_slurm
wrap_commands sbatch squeue scancel scontrol

running() {
	test -f "$1/status" && grep -q '^reason=running' "$1/status"
}
array_of() {
	sed -n 's/^job seq=1 id=//p' "$1/output/jobs.journal"
}

# 1. Attached: scancel one running member; calib resubmits it.
SIZE=4 ITERATIONS=1 make_experiment a "backend: {poll_interval: 1s}"
echo "block $TRASH/a/go 2" >a/mode
"$CALIB" run -b slurm a/calib.yaml >a.out 2>&1 </dev/null &
pid=$!
check "member 2 runs" poll 60 running a/output/iteration_000/member_002
scancel "$(array_of a)_2"
check "calib resubmits the cancelled member" \
    poll 60 grep -q 'member 2: job ended CANCELLED.*submitting attempt 2' a.out
touch a/go
wait $pid
ok $? "the calibration completes"
check "member 2 ran twice, in a job of its own" \
    grep -q 'kind=members iteration=0 .* members=2 ' a/output/jobs.journal
check "member 2's second attempt succeeded" \
    grep -q '^attempt=2$' a/output/iteration_000/member_002/status
try "$CALIB" status --json a/calib.yaml
check "iteration 0 closed with every member" \
    has out '{"iteration":0,"members":{"done":4,"failed":0'

# 2. Detached: the update job already waits on the array, so the update
#    goes ahead with the member failed, as the failure policy allows.
SIZE=4 ITERATIONS=1 make_experiment d "backend: {poll_interval: 1s}"
echo "block $TRASH/d/go 2" >d/mode
try "$CALIB" run -d -b slurm d/calib.yaml
expect_rc 0 "a detached chain is submitted"
check "member 2 runs" poll 60 running d/output/iteration_000/member_002
scancel "$(array_of d)_2"
check "member 2 records that its attempt ended" poll 60 \
    grep -q '^reason=interrupted\|^reason=killed by signal 15' \
    d/output/iteration_000/member_002/status
touch d/go
check "the chain finishes" poll 300 test -f d/output/iteration_001/results.h5
try "$CALIB" status --json d/calib.yaml
check "iteration 0 was updated without member 2" \
    has out '{"iteration":0,"members":{"done":3,"failed":1'
check "no member was resubmitted" \
    test "$(grep -c '^submit.*kind=members' d/output/jobs.journal)" -eq 2

# 3. Neither a local run nor calib init --force goes under a live chain;
#    calib cancel stops every job of the experiment and records it; a
#    later calib run carries on from there.
SIZE=4 ITERATIONS=1 make_experiment c "backend: {poll_interval: 1s}"
echo "block $TRASH/c/go" >c/mode
try "$CALIB" run -d -b slurm c/calib.yaml
expect_rc 0 "a detached chain is submitted"
try "$CALIB" run -b local c/calib.yaml
expect_rc 1 "a local run is refused while the Slurm chain is live"
check "naming the backend and what to do" has err \
    "jobs of backend 'slurm' are still queued or running"
try "$CALIB" init --force c/calib.yaml
expect_rc 1 "calib init --force is refused while the chain is live"
check "saying to cancel first" has err "stop them with 'calib cancel' before starting over"
check "the iteration is still there" test -e c/output/iteration_000/ensemble.h5
: >"$TRASH/calls"
try "$CALIB" cancel c/calib.yaml
expect_rc 0 "calib cancel"
check "it cancels the 4 jobs of the chain" has out "cancelled 4 jobs"
check "with one scancel call" test "$(calls scancel)" -eq 1
check "the cluster has no live job left" poll 60 no_live_jobs
check "the journal records the cancellations" \
    test "$(grep -c '^cancel id=' c/output/jobs.journal)" -eq 4
try "$CALIB" cancel c/calib.yaml
check "a second calib cancel finds nothing" has out "no live jobs"
touch c/go
try "$CALIB" run -b slurm c/calib.yaml
expect_rc 0 "calib run afterwards completes the calibration"

# 4. An update that fails (too few members succeeded) says why.
SIZE=4 ITERATIONS=1 make_experiment f "backend: {poll_interval: 1s}"
echo "fail 1 2 3" >f/mode
try "$CALIB" run -b slurm f/calib.yaml
expect_rc 1 "calib run fails when the update job fails"
check "naming the update job and the reason from its log" \
    has err "without closing the iteration: calib: iteration 0: 1 of 4 members succeeded; min_success needs 2"
check "failed members are not resubmitted" \
    test "$(grep -c '^submit.*kind=members' f/output/jobs.journal)" -eq 1
check "their status says why" has f/output/iteration_000/member_001/status \
    "reason=exit status 3"
done_testing
