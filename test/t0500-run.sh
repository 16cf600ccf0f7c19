#!/bin/sh
# calib run on the local backend: to the end, killed with SIGKILL in the
# middle of an iteration and started again, and one driver at a time.
. "$(dirname "$0")/lib.sh"

SIZE=5 ITERATIONS=3 make_experiment ex
try "$CALIB" run -j 2 ex/calib.yaml
expect_rc 0 "run initialises and drives the experiment to its end"
check "it reports the end" has out "done: 3 iterations"
check "every iteration ran, the last included" test -f ex/output/iteration_003/results.h5
check "nothing past the last" test ! -e ex/output/iteration_004
check "plain progress lines when not on a terminal" has out "iteration 2: 5/5 succeeded, misfit"
try "$CALIB" run ex/calib.yaml
expect_rc 0 "run on a finished experiment succeeds"
check "and runs no member again" sh -c '! grep -q "attempt=2" ex/output/iteration_*/member_*/status'

# Killed with SIGKILL while members 4-6 run, then started again.
SIZE=6 ITERATIONS=2 make_experiment k
echo "block $TRASH/go 4 5 6" >k/mode
"$CALIB" run -j 6 k/calib.yaml >run1.log 2>&1 &
run_pid=$!
st=k/output/iteration_000/member_00
succeeded() { for m in 1 2 3; do grep -q result=success $st$m/status 2>/dev/null || return 1; done; }
running() { for m in 4 5 6; do grep -q reason=running $st$m/status 2>/dev/null || return 1; done; }
check "members 1-3 succeed" poll 30 succeeded
check "members 4-6 are running" poll 30 running
for m in 1 2 3; do cp $st$m/status kept$m; done
kill -KILL $run_pid
wait $run_pid 2>/dev/null
stopped() { for m in 4 5 6; do grep -q 'reason=interrupted' $st$m/status || return 1; done; }
check "the orphaned members stop and record it" poll 30 stopped
touch go
try "$CALIB" run -j 6 k/calib.yaml
expect_rc 0 "run started again finishes the calibration"
check "it says which members it kept" has out "iteration 0: running 3 members (3 kept from an earlier run)"
check "members that had succeeded were not run again" sh -c \
	"cmp -s kept1 ${st}1/status && cmp -s kept2 ${st}2/status && cmp -s kept3 ${st}3/status"
check "interrupted members ran again" has ${st}5/status "attempt=2"
check "and succeeded" has ${st}5/status "result=success"
check "the calibration reached its end" test -f k/output/iteration_002/results.h5

# One driver per experiment.
SIZE=2 ITERATIONS=1 make_experiment two
rm -f go
echo "block $TRASH/go" >two/mode
"$CALIB" run two/calib.yaml >run2.log 2>&1 &
first=$!
check "the first run starts a member" poll 30 test -f two/output/iteration_000/member_001/status
try "$CALIB" run two/calib.yaml
expect_rc 1 "a second calib run on the same experiment is refused"
check "saying another run drives it" has err "another calib command is using this experiment"
touch go
wait $first
ok $? "the first run completes"

# An edited experiment file does not change a started calibration.
sed -i 's/seed: 7/seed: 9/' two/calib.yaml
try "$CALIB" status two/calib.yaml
check "a warning says the frozen copy is used" has err "has changed since 'calib init'"

try "$CALIB" run -b nosuch ex/calib.yaml
expect_rc 2 "an unknown backend is a usage error"
check "listing the backends" has err "unknown backend 'nosuch' (backends: local slurm pbs torque)"
try "$CALIB" run -b slurmm ex/calib.yaml
check "suggesting the one meant" has err "unknown backend 'slurmm' (did you mean 'slurm'? backends:"
try "$CALIB" run -j 0 ex/calib.yaml
expect_rc 2 "-j 0 is a usage error"
check "saying what -j takes" has err "-j '0': the number of members run at once is 1 to 100000"
SIZE=2 ITERATIONS=1 make_experiment one
try "$CALIB" run one/calib.yaml
check "one iteration is 'iteration', not 'iterations'" has out "done: 1 iteration in"

# A member whose model fails is named, with the last line of its log.
SIZE=4 ITERATIONS=1 make_experiment mf "algorithm: {failures: {min_success: 0.5}}"
echo "fail 3" >mf/mode
try "$CALIB" run mf/calib.yaml
expect_rc 0 "a run with one failing member completes"
check "saying which member failed, why, and how its log ends" has out \
    "iteration 0: member 3 failed: exit status 3; $TRASH/mf/output/iteration_000/member_003/model.log ends: failing on purpose"

done_testing
