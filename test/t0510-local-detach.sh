#!/bin/sh
# The local backend through the one driver: a detached run in the
# background, calib status and calib cancel on it, a resume after the
# cancel, a driver killed outright, and journal records replayed.
. "$(dirname "$0")/lib.sh"

driver_pid() { sed -n "s/^pid=//p" "$1/.output.lock"; }
alive() { kill -0 "$1" 2>/dev/null; }
status_of() { cat "$1/output/iteration_000/member_00$2/status" 2>/dev/null; }
running() { for m; do status_of d "$m" | grep -q '^outcome=running' || return 1; done; }

# 1. Detached: returns at once, runs on, is seen, cancelled, resumed.
SIZE=4 ITERATIONS=2 make_experiment d "algorithm: {failures: {max_retries: 0}}"
echo "block $TRASH/go 2 3 4" >d/mode
try "$CALIB" run -b local -d -j 2 d/calib.yaml
expect_rc 0 "calib run -d returns"
check "while the members it started still wait" \
    test ! -e d/output/iteration_000/results.h5
check "saying where its output goes" has out "d/output/run.log"
pid=$(driver_pid d)
check "the driver runs on in the background" alive "$pid"
check "members 2 and 3 run, two at a time" poll 30 running 2 3
check "member 4 waits for a slot" sh -c "! grep -q outcome= d/output/iteration_000/member_004/status 2>/dev/null"
try "$CALIB" status d/calib.yaml
expect_rc 0 "calib status"
check "shows the driver" has out "driven by calib run -b local --detach (pid $pid"
check "and its member job, running" poll 10 sh -c \
    "'$CALIB' status d/calib.yaml | grep -q 'members 1-4: 2 running, 1 queued'"
try "$CALIB" status --json d/calib.yaml
check "status --json lists the live job" has out '"backend":"local","kind":"members","iteration":0,"members":"1-4","queued":1,"running":2}'
try "$CALIB" run d/calib.yaml
expect_rc 1 "a second calib run is refused"
check "naming the driver that holds the experiment" \
    has err "'calib run -b local --detach' (pid $pid on"
try "$CALIB" cancel d/calib.yaml
expect_rc 0 "calib cancel"
check "cancels the one live job" has out "cancelled 1 job"
check "the driver is gone when cancel returns" sh -c "! kill -0 $pid 2>/dev/null"
check "the running members record that they were interrupted" poll 30 sh -c \
    "grep -q '^outcome=interrupted' d/output/iteration_000/member_002/status &&
     grep -q '^outcome=interrupted' d/output/iteration_000/member_003/status"
check "the journal records the cancel" grep -q '^cancel id=' d/output/jobs.journal
try "$CALIB" status d/calib.yaml
check "no live job is left" sh -c "! grep -q 'live jobs' out"
check "interrupted members count as pending, not failed" \
    has out "iteration 0: 1 done, 0 failed, 3 pending"
cp d/output/iteration_000/member_001/status kept1
touch go
try "$CALIB" run d/calib.yaml
expect_rc 0 "calib run after the cancel finishes the calibration"
check "the cancelled members run again although no retry is allowed" \
    has out "member 2: its job was cancelled by 'calib cancel'; submitting it again (not a retry)"
check "the member that never started runs too" \
    has out "member 4: its job was cancelled by 'calib cancel'; submitting it again"
check "member 1, which had succeeded, did not run again" \
    cmp -s kept1 d/output/iteration_000/member_001/status
check "every member of iteration 0 succeeded" \
    test "$(grep -l '^outcome=ok' d/output/iteration_000/member_*/status | wc -l)" -eq 4
check "the calibration is complete" test -f d/output/iteration_002/ensemble.h5

# 2. Detached to the end on its own: the same result as attached.
rm -f go
SIZE=4 ITERATIONS=2 make_experiment on
SIZE=4 ITERATIONS=2 make_experiment att
try "$CALIB" run -d on/calib.yaml
expect_rc 0 "a detached run starts"
pid=$(driver_pid on)
check "and finishes by itself" poll 120 sh -c "! kill -0 $pid 2>/dev/null"
check "its log ends with done" poll 10 grep -q '^done: 2 iterations' on/output/run.log
try "$CALIB" run att/calib.yaml
expect_rc 0 "the same experiment attached"
check "both end with the same ensembles" same_ensembles on att 2
try "$CALIB" status on/calib.yaml
check "status shows no driver once it has finished" sh -c "! grep -q 'driven by' out"

# 3. The driver killed outright: its members stop with it; a new run
#    resubmits them from the journal without counting a retry.
SIZE=4 ITERATIONS=1 make_experiment k "algorithm: {failures: {max_retries: 0}}"
echo "block $TRASH/go 3 4" >k/mode
try "$CALIB" run -d k/calib.yaml
pid=$(driver_pid k)
kst() { grep -q "^outcome=$2" "k/output/iteration_000/member_00$1/status" 2>/dev/null; }
check "members 3 and 4 run" poll 30 sh -c "$(printf '%s' "grep -q '^outcome=running' k/output/iteration_000/member_003/status 2>/dev/null && grep -q '^outcome=running' k/output/iteration_000/member_004/status 2>/dev/null")"
kill -KILL "$pid"
check "they stop with their driver" poll 30 sh -c \
    "grep -q '^outcome=interrupted' k/output/iteration_000/member_003/status &&
     grep -q '^outcome=interrupted' k/output/iteration_000/member_004/status"
# A submission whose id was never recorded (calib killed in between).
seq=$(grep -c '^submit' k/output/jobs.journal)
printf 'submit seq=%d backend=local kind=members iteration=0 name=lost.%d members=1-2 offset=0 detached=0 time=%s\n' \
    $((seq + 1)) $((seq + 1)) "$(date +%s.%N)" >>k/output/jobs.journal
touch go
try "$CALIB" run k/calib.yaml
expect_rc 0 "calib run after the kill finishes"
check "the interrupted members ran again, not as retries" \
    has out "member 3: interrupted by Terminated; submitting it again (not a retry)"
check "the intent without an id is recorded as never submitted" \
    grep -q "^failed seq=$((seq + 1)) " k/output/jobs.journal
check "members 1 and 2 ran once" sh -c \
    "grep -q '^attempt=1$' k/output/iteration_000/member_001/status &&
     grep -q '^attempt=1$' k/output/iteration_000/member_002/status"
check "the calibration is complete" test -f k/output/iteration_001/ensemble.h5

# 4. Cancelled before its first member started: the driver stops all the
#    same.
SIZE=2 ITERATIONS=1 make_experiment early
try "$CALIB" run -d early/calib.yaml
pid=$(driver_pid early)
try "$CALIB" cancel early/calib.yaml
expect_rc 0 "calib cancel at once after calib run -d"
check "stops the driver" sh -c "! kill -0 $pid 2>/dev/null"
check "and says so" sh -c "grep -q 'cancelled 1 job' out || grep -q 'stopped calib run (pid $pid)' out"

# 5. Started again while the killed driver's members are still stopping:
#    they are waited for, then run again, not counted as retries.
rm -f go
SIZE=2 ITERATIONS=1 make_experiment s "algorithm: {failures: {max_retries: 0}}"
echo "stubborn $TRASH/go 2" >s/mode
try "$CALIB" run -d s/calib.yaml
pid=$(driver_pid s)
check "member 2 runs" poll 30 sh -c \
    "grep -q '^outcome=running' s/output/iteration_000/member_002/status 2>/dev/null"
kill -KILL "$pid"
touch go
try "$CALIB" run s/calib.yaml
expect_rc 0 "calib run right after the kill finishes"
check "member 2 was waited for, then run again as no retry" \
    has out "member 2: interrupted by Terminated; submitting it again (not a retry)"
check "its second attempt succeeded" \
    grep -q '^attempt=2$' s/output/iteration_000/member_002/status

# 6. A model that fails is failed, not retried, and the update says why.
SIZE=3 ITERATIONS=1 make_experiment f "algorithm: {failures: {min_success: 3}}"
echo "fail 2" >f/mode
try "$CALIB" run f/calib.yaml
expect_rc 1 "an update with too few members fails the run"
check "naming the update job and the reason from its log" \
    has err "update job calib."
check "with the reason" has err "2 of 3 members succeeded"
check "member 2 ran once: a model failure is not retried" \
    grep -q '^attempt=1$' f/output/iteration_000/member_002/status
check "its exec log says why" has f/output/iteration_000/member_002/exec.log "member 2 failed: exit status 3"

# 7. A member of the local backend is calib's front, started by posix_spawn
#    (the driver's memory is not copied): a child of the driver running the
#    same executable, which has not loaded the core (no HDF5, no BLAS), and
#    holds none of the driver's files, its run lock above all.
rm -f go
SIZE=2 ITERATIONS=0 make_experiment fk
echo "block $TRASH/go 1 2" >fk/mode
"$CALIB" run fk/calib.yaml >fk.out 2>&1 &
drv=$!
check "the member runs" poll 30 sh -c \
    "grep -q '^outcome=running' fk/output/iteration_000/member_001/status 2>/dev/null"
member=$(for p in $(cat /proc/$drv/task/*/children 2>/dev/null); do
	tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | grep -q ' exec ' && echo $p
	done | head -n 1)
check "as a child of the driver running calib exec" test -n "$member"
check "from the driver's executable" \
    test "$(readlink /proc/$member/exe)" = "$(readlink /proc/$drv/exe)"
cat /proc/$member/maps >maps 2>&1
check "the driver has loaded calib-core.so" grep -q 'calib-core\.so' /proc/$drv/maps
check "the member has not, nor HDF5 nor BLAS" \
    sh -c "grep -q 'libc\.so' maps && ! grep -q 'calib-core\|hdf5\|blas' maps"
# The driver waits for SIGCHLD with sigtimedwait: a thread that a library
# started (OpenBLAS's) must not take it, or the driver sleeps its whole
# poll interval with members ended.
takers=
for t in /proc/$drv/task/*; do
	[ "${t##*/}" = "$drv" ] && continue
	mask=$(awk '$1 == "SigBlk:" { print $2 }' $t/status 2>/dev/null)
	[ -n "$mask" ] && [ $((0x${mask#????????} & 0x10000)) -eq 0 ] &&
	    takers="$takers ${t##*/}"
done
check "no thread of the driver but its main one can take SIGCHLD" test -z "$takers"
ls -l /proc/$member/fd >fds 2>&1
check "holding none of the driver's files (its run lock, its journal)" \
    sh -c "! grep -q 'output.lock\|journal' fds"
check "but its log and the member's lock" sh -c \
    "grep -q 'member_00[12]/exec.log' fds && grep -q 'member_00[12]/.lock' fds"
touch go
wait $drv
ok $? "and the run ends well"
check "the model saw its member in the environment" \
    grep -q '^CALIB_MEMBER=1$' fk/output/iteration_000/member_001/calib.env

done_testing
