#!/bin/sh
# calib update: closing an iteration, running it twice, and the failure
# policy.
. "$(dirname "$0")/lib.sh"

snapshot() {
	(cd "$1" && find . -type f ! -name '.run.lock' -exec sha256sum {} + | sort -k 2)
}

SIZE=6 ITERATIONS=1 make_experiment ex
"$CALIB" init ex/calib.yaml >/dev/null || exit 1
echo "fail 2" >ex/mode
for m in 1 2 3 4 5 6; do "$CALIB" exec -i 0 -m $m ex/calib.yaml 2>/dev/null; done

try "$CALIB" update ex/calib.yaml
expect_rc 0 "update closes iteration 0"
check "it reports the successes" has out "iteration 0: 5 of 6 members succeeded"
check "results.h5 is written" test -f ex/output/iteration_000/results.h5
check "iteration 1 exists" test -f ex/output/iteration_001/ensemble.h5
check "with every member's parameter file" test -f ex/output/iteration_001/member_006/p.env
check "the failed member keeps its parameters (handler ignore)" \
	cmp ex/output/iteration_000/member_002/p.env ex/output/iteration_001/member_002/p.env
check "a successful member moved" sh -c '! cmp -s ex/output/iteration_000/member_001/p.env ex/output/iteration_001/member_001/p.env'

snapshot ex/output >before
try "$CALIB" update -i 0 ex/calib.yaml
expect_rc 0 "update run again for the same iteration succeeds"
check "and says there is nothing to do" has out "iteration 0: already updated; nothing to do"
snapshot ex/output >after
check "and changes nothing on disk" cmp before after

# An update killed after results.h5 and before the next ensemble: the rerun
# computes the same next iteration from the same published inputs.
cp -r ex/output/iteration_001 saved
rm -rf ex/output/iteration_001
try "$CALIB" update -i 0 ex/calib.yaml
expect_rc 0 "update recovers from a half-done update"
check "the recovered next iteration is the same" sh -c \
	'for f in saved/member_*/p.env; do cmp -s "$f" "ex/output/iteration_001/${f#saved/}" || exit 1; done'

# The last iteration is closed without a successor.
rm -f ex/mode
for m in 1 2 3 4 5 6; do "$CALIB" exec -i 1 -m $m ex/calib.yaml; done
try "$CALIB" update ex/calib.yaml
expect_rc 0 "update closes the last iteration"
check "saying nothing follows" has out "the last iteration, nothing follows"
check "no iteration past the last" test ! -e ex/output/iteration_002
try "$CALIB" exec -i 1 -m 1 ex/calib.yaml
expect_rc 1 "a closed iteration's members cannot run again"
check "saying so" has err "iteration 1 is closed"

# min_success: too few successes stops with a message and writes nothing.
SIZE=4 make_experiment ms "algorithm: {failures: {min_success: 3}}"
"$CALIB" init ms/calib.yaml >/dev/null
echo "fail 1 2" >ms/mode
for m in 1 2 3 4; do "$CALIB" exec -i 0 -m $m ms/calib.yaml 2>/dev/null; done
snapshot ms/output >before
try "$CALIB" update ms/calib.yaml
expect_rc 1 "too few successful members fail the update"
check "the message gives the counts" has err "iteration 0: 2 of 4 members succeeded; min_success needs 3"
snapshot ms/output >after
check "nothing is written" cmp before after
rm -f ms/mode
"$CALIB" exec -i 0 -m 1 ms/calib.yaml
try "$CALIB" update ms/calib.yaml
expect_rc 0 "rerunning a failed member lets the update proceed"

# Members that never ran count as failed.
SIZE=4 make_experiment pend
"$CALIB" init pend/calib.yaml >/dev/null
"$CALIB" exec -i 0 -m 1 pend/calib.yaml
try "$CALIB" update pend/calib.yaml
expect_rc 1 "an iteration with 1 of 4 run does not meet min_success 0.5"

try "$CALIB" update -i 7 ex/calib.yaml
expect_rc 1 "an iteration past the last is refused"
try "$CALIB" update -i -1 ex/calib.yaml
expect_rc 2 "a negative iteration is a usage error"

done_testing
