#!/bin/sh
# Commands that race on one experiment: one lock for init, run, and update
# and exec by hand, each refusal naming the holder; calib update never
# closes an iteration under a running member; a filesystem without flock
# is named as such.
. "$(dirname "$0")/lib.sh"

lock_pid() { sed -n "s/^pid=//p" "$1/.output.lock"; }
status_of() { cat "$1/output/iteration_000/member_00$2/status" 2>/dev/null; }
running() { status_of "$1" "$2" | grep -q '^outcome=running'; }
# Each member of iteration 0 in exactly one member job of the journal.
once() {
	awk '/^submit .*kind=members iteration=0 / {
		for (i = 1; i <= NF; i++) if ($i ~ /^members=/) print substr($i, 9)
	}' "$1/output/jobs.journal" | tr ',' '\n' | sort | uniq -d | grep -q . &&
	    return 1
	test "$(grep -c '^submit .*kind=members iteration=0 ' "$1/output/jobs.journal")" -eq 1
}

# 1. Two detached runs on a fresh experiment: one initialises and drives,
#    the other is refused, naming it; nothing is submitted twice.
SIZE=4 ITERATIONS=1 make_experiment two
echo "block $TRASH/two-go" >two/mode
"$CALIB" run -b local -d two/calib.yaml >a.out 2>a.err </dev/null &
p1=$!
"$CALIB" run -b local -d two/calib.yaml >b.out 2>b.err </dev/null &
p2=$!
wait $p1
r1=$?
wait $p2
r2=$?
check "one of two runs on a fresh experiment drives it" \
    test $((r1 + r2)) -eq 1 -a "$r1" -le 1 -a "$r2" -le 1
cat a.err b.err >ab.err
check "the other is refused, naming the holder" \
    grep -q "another calib command is using this experiment: 'calib run -b local" ab.err
check "the experiment was initialised once" \
    test "$(grep -c '^initialised' a.out b.out | awk -F: '{ s += $2 } END { print s }')" -eq 1
check "its members were submitted once" poll 10 once two
pid=$(lock_pid two)

# 2. calib init --force during that run is refused; nothing changes.
cp two/output/iteration_000/member_001/p.env p1.before
try "$CALIB" init --force two/calib.yaml
expect_rc 1 "calib init --force is refused while calib run drives"
check "naming the run (pid $pid)" has err "'calib run -b local --detach' (pid $pid on"
check "the members' parameters are unchanged" \
    cmp -s p1.before two/output/iteration_000/member_001/p.env

# 3. calib update and calib exec by hand during the run are refused.
try "$CALIB" update -i 0 two/calib.yaml
expect_rc 1 "calib update by hand is refused while calib run drives"
check "naming the run" has err "'calib run -b local --detach' (pid $pid on"
check "the iteration stays open" test ! -e two/output/iteration_000/results.h5
try "$CALIB" exec -i 0 -m 1 two/calib.yaml
expect_rc 1 "calib exec by hand of a member the run is running is refused"
check "naming the run" has err "'calib run -b local --detach' (pid $pid on"
check "the member's attempt is the run's" has two/output/iteration_000/member_001/status "attempt=1"
touch "$TRASH/two-go"
check "the run completes" poll 60 test -e two/output/iteration_001/ensemble.h5
check "and lets go of the lock" poll 30 sh -c "! kill -0 $pid 2>/dev/null"
try "$CALIB" init --force two/calib.yaml
expect_rc 0 "calib init --force once the run is over"

# 4. calib update, even from a job, does not close an iteration while a
#    member still runs; a calib exec by hand holds the lock meanwhile.
SIZE=2 ITERATIONS=1 make_experiment up
"$CALIB" init up/calib.yaml >/dev/null || exit 1
"$CALIB" exec -i 0 -m 1 up/calib.yaml >/dev/null 2>&1 || exit 1
echo "block $TRASH/up-go 2" >up/mode
"$CALIB" exec -i 0 -m 2 up/calib.yaml >/dev/null 2>&1 </dev/null &
ex=$!
check "member 2 runs (by hand)" poll 30 running up 2
try "$CALIB" update -i 0 up/calib.yaml
expect_rc 1 "calib update by hand is refused while calib exec runs by hand"
check "naming it" has err "'calib exec -i 0 -m 2' (pid $ex on"
try "$CALIB" update --job -i 0 up/calib.yaml
expect_rc 1 "calib update from a job is refused while a member runs"
check "saying which" has err "iteration 0: member 2 is still running"
check "the iteration stays open" test ! -e up/output/iteration_000/results.h5
touch "$TRASH/up-go"
wait $ex
ok $? "the member ends well"
try "$CALIB" update -i 0 up/calib.yaml
expect_rc 0 "then calib update closes the iteration with both members"
check "both counted" has out "2 of 2 members succeeded"

# 4b. Two calib exec of one member from jobs (a requeued job beside the
#     first): the second waits for the member, then does not run over the
#     success it finds.
SIZE=2 ITERATIONS=1 make_experiment dup
"$CALIB" init dup/calib.yaml >/dev/null || exit 1
echo "block $TRASH/dup-go 1" >dup/mode
"$CALIB" exec --job -i 0 -m 1 dup/calib.yaml >/dev/null 2>&1 </dev/null &
e1=$!
check "member 1 runs (in a job)" poll 30 running dup 1
"$CALIB" exec --job -i 0 -m 1 dup/calib.yaml >dup2.out 2>&1 </dev/null &
e2=$!
check "a second calib exec of it waits for the member" poll 10 sh -c \
    "grep -q -- --job /proc/$e2/cmdline 2>/dev/null"
touch "$TRASH/dup-go"
wait $e1
ok $? "the first ends well"
wait $e2
ok $? "the second exits 0"
check "saying the member already succeeded" has dup2.out "already succeeded (attempt 1"
check "the member ran once" has dup/output/iteration_000/member_001/status "attempt=1"

# 5. A lock the filesystem cannot provide is named as such, with its
#    mount.  No filesystem here refuses flock, so the refusal of a Lustre
#    client mounted without -o flock (ENOSYS) is replayed by a preload.
cat >noflock.c <<'C'
#include <errno.h>
int flock(int fd, int op) { (void)fd; (void)op; errno = ENOSYS; return -1; }
C
if cc -shared -fPIC -o noflock.so noflock.c 2>/dev/null; then
	SIZE=2 ITERATIONS=1 make_experiment nl
	# (A sanitizer build wants its runtime first: let it run after the shim.)
	try env LD_PRELOAD="$TRASH/noflock.so" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "$CALIB" run nl/calib.yaml
	expect_rc 1 "calib run on a filesystem without flock fails"
	mnt=$(df -P "$TRASH/nl" | awk 'NR == 2 { print $6 }')
	check "saying so, with the mount" has err \
	    "cannot lock (Function not implemented): the filesystem mounted on $mnt ("
	check "not that another calib holds it" sh -c "! grep -q 'another calib' err"
	check "and nothing was initialised" test ! -e nl/output
else
	ok 1 "cc builds the flock preload"
fi
done_testing
