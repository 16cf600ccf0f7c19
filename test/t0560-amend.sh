#!/bin/sh
# calib amend takes the changes closed iterations allow and refuses the
# others with the reason; more iterations continue a finished calibration;
# a fixed model plus calib run --retry-failed completes the iteration.
. "$(dirname "$0")/lib.sh"

# mean_of EXP IT: the mean of a's values in iteration IT's ensemble.
mean_of() {
	/usr/bin/python3 -c '
import sys, h5py
print(repr(h5py.File(sys.argv[1])["constrained"][()][:, 0].mean()))' \
	    "$1/output/iteration_00$2/ensemble.h5"
}

# 1. More iterations continue a finished eki calibration.
SIZE=6 ITERATIONS=1 make_experiment it
try "$CALIB" run it/calib.yaml
expect_rc 0 "a one-iteration calibration runs to its end"
cp it/output/experiment.yaml frozen.before
sed -i 's/^iterations: 1$/iterations: 3/' it/calib.yaml
try "$CALIB" amend -n it/calib.yaml
expect_rc 0 "amend -n"
check "shows the change" has out "  iterations: 1 -> 3"
check "and changes nothing" cmp -s frozen.before it/output/experiment.yaml
try "$CALIB" status it/calib.yaml
check "calib status says the file changed, and that amend takes it" has err \
    "calib:   iterations: 'calib amend' takes it"
try "$CALIB" amend it/calib.yaml
expect_rc 0 "amend takes iterations"
check "shows it" has out "  iterations: 1 -> 3"
check "records it, with the time and the old value" grep -Eq \
    '^[0-9T:-]+Z iterations: 1 -> 3$' it/output/amendments
check "the frozen copy is the file now" cmp -s it/calib.yaml it/output/experiment.yaml
try "$CALIB" run it/calib.yaml
expect_rc 0 "calib run goes on"
check "to iteration 3" test -f it/output/iteration_003/results.h5
check "saying how it goes past the former last" has out \
    "iteration 1 is closed but has no successor yet; submitting its update again to write iteration 2"
check "the new iterations move the ensemble" \
    test "$(mean_of it 1)" != "$(mean_of it 3)"
SIZE=6 ITERATIONS=3 make_experiment whole
"$CALIB" run whole/calib.yaml >/dev/null 2>&1
check "bitwise those of a calibration given 3 iterations from the start" \
    same_ensembles whole it 3
check "the members of closed iterations ran once" \
    sh -c '! grep -q "^attempt=2" it/output/iteration_00[01]/member_*/status'
try "$CALIB" amend it/calib.yaml
check "amend again: nothing to amend" has out "nothing to amend"
sed -i 's/^iterations: 3$/iterations: 2/' it/calib.yaml
try "$CALIB" amend it/calib.yaml
expect_rc 2 "iterations below one that exists is refused"
check "saying why" has err "iteration 3 exists already"

# 2. What closed iterations depend on is refused, with the reason.
SIZE=4 ITERATIONS=1 make_experiment bad
"$CALIB" init bad/calib.yaml >/dev/null || exit 1
cp bad/output/experiment.yaml frozen.bad
sed -i 's/^ensemble_size: 4$/ensemble_size: 5/; s/noise: {std: 0.5}/noise: {std: 0.4}/; s/mean: 0, std: 1/mean: 1, std: 1/; s/^iterations: 1$/iterations: 2/' bad/calib.yaml
try "$CALIB" amend bad/calib.yaml
expect_rc 2 "changes to the ensemble size, noise and prior are refused"
check "the ensemble size, with the reason" has err \
    "  ensemble_size: 4 -> 5: refused: every iteration has this many members"
check "the noise" has err \
    "  observations.noise.std: 0.5 -> 0.4: refused: closed iterations were fitted to these data"
check "the prior" has err "  parameters.a.prior.normal.mean: 0 -> 1: refused: the ensembles were drawn from these priors"
check "how many, and that nothing changed" has err \
    "3 of the changes would change the meaning of closed iterations; nothing was changed"
check "nothing changed, even what was allowed" cmp -s frozen.bad bad/output/experiment.yaml
check "nothing recorded" test ! -e bad/output/amendments

# 3. A model fixed after its members failed, and --retry-failed.  The
#    first failures alike may stop the others before they fail (3b): those
#    run with the fix, so every member must succeed (min_success: 4) for
#    the iteration to close.
SIZE=4 ITERATIONS=1 make_experiment fix "algorithm: {failures: {min_success: 4}}"
sed -i 's|command: \["/bin/sh", "[^"]*"|command: ["/bin/sh", "broken.sh"|' fix/calib.yaml
try "$CALIB" run fix/calib.yaml
expect_rc 1 "every member fails with a broken model path"
check "saying they all failed alike" has err "members all failed the same way (exit status 2)"
sed -i "s|\"broken.sh\"|\"$TOP/test/model.sh\"|" fix/calib.yaml
try "$CALIB" amend fix/calib.yaml
expect_rc 0 "amend takes the fixed command"
try "$CALIB" run fix/calib.yaml
expect_rc 1 "without --retry-failed the failed members stay failed"
try "$CALIB" run --retry-failed fix/calib.yaml
expect_rc 0 "calib run --retry-failed completes the iteration"
check "saying why each runs again" grep -q \
    "iteration 0: member [1-4]: failed before (exit status 2); --retry-failed; submitting it again (not a retry)" out
check "every member succeeded in the end" sh -c \
    "grep -c '^outcome=ok' fix/output/iteration_000/member_*/status | grep -c ':1$' | grep -qx 4"

# 3b. The local backend stops launching members once the first ones all
#     failed the same way and none succeeded; the fix and --retry-failed
#     run every member.
SIZE=10 ITERATIONS=1 make_experiment ff
sed -i 's|command: \["/bin/sh", "[^"]*"|command: ["/bin/sh", "broken.sh"|' ff/calib.yaml
try "$CALIB" run -j 2 ff/calib.yaml
expect_rc 1 "a run whose first members all fail alike stops"
check "saying so, with the reason and what to do" has err \
    "members all failed the same way (exit status 2) and none succeeded: stopped launching the others; fix the model ('calib amend'), then 'calib run --retry-failed'"
check "before launching them all" test \
    "$(ls ff/output/iteration_000/member_*/status 2>/dev/null | wc -l)" -lt 10
check "the job is recorded as cancelled by calib" grep -q '^cancel id=' ff/output/jobs.journal
sed -i "s|\"broken.sh\"|\"$TOP/test/model.sh\"|" ff/calib.yaml
"$CALIB" amend ff/calib.yaml >/dev/null 2>&1
try "$CALIB" run -j 2 --retry-failed ff/calib.yaml
expect_rc 0 "fixed, calib run --retry-failed completes"
check "with all 10 members" has out "iteration 0: 10/10 succeeded"

# 4. A data_misfit timestep that has finished is not continued.
SIZE=6 ITERATIONS=30 make_experiment dm "algorithm: {timestep: {data_misfit: {terminate_at: 1}}}"
try "$CALIB" run dm/calib.yaml
expect_rc 0 "a data_misfit calibration stops early"
sed -i 's/^iterations: 30$/iterations: 40/' dm/calib.yaml
try "$CALIB" amend dm/calib.yaml
expect_rc 2 "raising its iterations is refused"
check "saying that the controller has finished" has err \
    "its data_misfit controller has finished, and more iterations would not move the ensemble"

# esmda's weights are set for the number of iterations.
SIZE=4 ITERATIONS=2 make_experiment es "algorithm: {method: esmda}"
"$CALIB" init es/calib.yaml >/dev/null || exit 1
sed -i 's/^iterations: 2$/iterations: 3/' es/calib.yaml
try "$CALIB" amend es/calib.yaml
expect_rc 2 "raising esmda's iterations is refused"
check "saying why" has err "esmda's inflation weights are set for the number of iterations"

# 5. Not beside a run.
SIZE=2 ITERATIONS=1 make_experiment busy
echo "block $TRASH/busy-go" >busy/mode
"$CALIB" run -d busy/calib.yaml >/dev/null 2>&1 </dev/null
sed -i 's/^iterations: 1$/iterations: 2/' busy/calib.yaml
try "$CALIB" amend busy/calib.yaml
expect_rc 1 "amend is refused while calib run drives the experiment"
check "naming it" has err "another calib command is using this experiment: 'calib run -b local --detach'"
touch "$TRASH/busy-go"
try "$CALIB" cancel busy/calib.yaml
done_testing
