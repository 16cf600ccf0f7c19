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

# results.h5 names the members' kept values by checksum instead of copying
# them: a rerun that finds one changed since refuses, and writes nothing.
rm -rf ex/output/iteration_001
cp ex/output/iteration_000/member_001/kept.f64 kept.saved
printf 'XXXXXXXX' | dd of=ex/output/iteration_000/member_001/kept.f64 conv=notrunc 2>/dev/null
try "$CALIB" update -i 0 ex/calib.yaml
expect_rc 1 "update refuses a kept output changed since its iteration closed"
check "naming it" has err "iteration_000/member_001/kept.f64: changed since iteration 0 was closed"
check "and publishes no next iteration" test ! -e ex/output/iteration_001/ensemble.h5
cp kept.saved ex/output/iteration_000/member_001/kept.f64
try "$CALIB" update -i 0 ex/calib.yaml
expect_rc 0 "with the kept values restored, the rerun succeeds"
check "to the same next iteration" sh -c \
	'for f in saved/member_*/p.env; do cmp -s "$f" "ex/output/iteration_001/${f#saved/}" || exit 1; done'
check "results.h5 holds no copy of the outputs" /usr/bin/python3 -c \
	"import h5py; f = h5py.File('ex/output/iteration_000/results.h5'); assert 'G' not in f and f['checksum'].shape == (6,), list(f)"
mv ex/output/iteration_000/member_001/kept.f64 kept2.saved
try "$CALIB" update -i 0 ex/calib.yaml
expect_rc 0 "an update of a closed iteration only reports, whatever became of its outputs"
check "what results.h5 recorded" has out "iteration 0"
mv kept2.saved ex/output/iteration_000/member_001/kept.f64

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

# handler resample: a member whose output has NaN is redrawn from the
# Gaussian of the updated successful members.
SIZE=8 ITERATIONS=1 make_experiment rs "algorithm: {failures: {handler: resample}}"
"$CALIB" init rs/calib.yaml >/dev/null
echo "nan 3" >rs/mode
for m in 1 2 3 4 5 6 7 8; do "$CALIB" exec -i 0 -m $m rs/calib.yaml 2>/dev/null; done
try "$CALIB" update rs/calib.yaml
expect_rc 0 "update with handler resample"
check "it counts the NaN member as failed" has out "7 of 8 members succeeded"
/usr/bin/python3 - rs/output >rs.check 2>&1 <<'PY'
import sys, h5py, numpy as np
out = sys.argv[1]
r = h5py.File(f"{out}/iteration_000/results.h5")["success"][()]
u0 = h5py.File(f"{out}/iteration_000/ensemble.h5")["unconstrained"][()]
u1 = h5py.File(f"{out}/iteration_001/ensemble.h5")["unconstrained"][()]
ok = r.astype(bool)
assert list(r) == [1, 1, 0, 1, 1, 1, 1, 1], r
assert np.all(np.isfinite(u1)), u1
assert not np.allclose(u1[2], u0[2]), "member 3 was not redrawn"
# within the spread of the successful members
m, s = u1[ok].mean(axis=0), u1[ok].std(axis=0, ddof=1)
assert np.all(np.abs(u1[2] - m) < 6 * s), (u1[2], m, s)
PY
ok $? "the failed member is redrawn near the successful ones$(sed 's/^/ # /' rs.check)"

# Every method keeps its state in the iteration's files: an update killed
# after results.h5 is redone identically from them, random draws included.
for method in etki "eks, eks: {variant: aldi}" uki "esmda, esmda: {weights: [6, 3]}" \
    "eki, localization: {sec: {alpha: 1}}, inflation: {multiplicative: 1.2, additive: 0.01}"; do
	i=$((${i:-0} + 1))
	name=m$i-$(echo "$method" | cut -d, -f1)
	size=6
	case $method in uki*) size=5 ;; esac
	SIZE=$size ITERATIONS=2 make_experiment "$name" "algorithm: {method: $method}"
	"$CALIB" init "$name/calib.yaml" >/dev/null
	for m in 1 2 3 4 5 6; do [ $m -le $size ] && "$CALIB" exec -i 0 -m $m "$name/calib.yaml"; done
	"$CALIB" update "$name/calib.yaml" >/dev/null
	for m in 1 2 3 4 5 6; do [ $m -le $size ] && "$CALIB" exec -i 1 -m $m "$name/calib.yaml"; done
	try "$CALIB" update "$name/calib.yaml"
	expect_rc 0 "$name: two updates"
	cp -r "$name/output/iteration_002" "$name.saved"
	rm -rf "$name/output/iteration_002"
	try "$CALIB" update -i 1 "$name/calib.yaml"
	expect_rc 0 "$name: the update is redone"
	check "$name: to the same ensemble" sh -c \
		"cmp $name.saved/member_001/p.env $name/output/iteration_002/member_001/p.env && cmp $name.saved/member_00$size/p.env $name/output/iteration_002/member_00$size/p.env"
done
check "esmda rescales the weights [6, 3] to [3, 1.5]: timesteps 1/3, 2/3" /usr/bin/python3 -c \
	"import h5py; t = [h5py.File(f'm4-esmda/output/iteration_00{i}/ensemble.h5').attrs['timestep'] for i in (1, 2)]; assert abs(t[0] - 1/3) < 1e-12 and abs(t[1] - 2/3) < 1e-12, t"
check "uki keeps its mean and covariance" /usr/bin/python3 -c \
	"import h5py; f = h5py.File('m3-uki/output/iteration_002/ensemble.h5'); assert f['uki_cov'].shape == (2, 2)"

# A localization matrix is checked and frozen by init, used by the update.
SIZE=6 ITERATIONS=1 make_experiment lm "algorithm: {localization: {matrix: loc.txt}}"
printf '1 0.5 0\n0 0.5 1\n' >lm/loc.txt
"$CALIB" init lm/calib.yaml >/dev/null
check "init freezes the 2 x 3 localization matrix" /usr/bin/python3 -c \
	"import h5py, numpy; l = h5py.File('lm/output/observations.h5')['localization'][()]; assert (l == [[1, 0.5, 0], [0, 0.5, 1]]).all(), l"
for m in 1 2 3 4 5 6; do "$CALIB" exec -i 0 -m $m lm/calib.yaml; done
try "$CALIB" update lm/calib.yaml
expect_rc 0 "the localized update runs"
check "and writes the next iteration" test -f lm/output/iteration_001/ensemble.h5

try "$CALIB" update -i 7 ex/calib.yaml
expect_rc 1 "an iteration past the last is refused"
try "$CALIB" update -i -1 ex/calib.yaml
expect_rc 2 "a negative iteration is a usage error"

# Durability is batched: the next iteration's parameter files are written
# and renamed into place, one syncfs makes them durable, and only then is
# ensemble.h5 renamed into place, which publishes the iteration.  Seen in
# the system calls, on 20 members.
SIZE=20 ITERATIONS=1 make_experiment sync
"$CALIB" init sync/calib.yaml >/dev/null || exit 1
for m in $(seq 1 20); do "$CALIB" exec -i 0 -m $m sync/calib.yaml 2>/dev/null; done
# (LeakSanitizer cannot run under ptrace: a SANITIZE=1 build goes without.)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -qq -e trace=fsync,fdatasync,syncfs,rename,renameat,renameat2 \
    -o trace "$CALIB" update sync/calib.yaml >out 2>err
ok $? "calib update under strace"
awk '/syncfs\(/ { print "syncfs"; next }
	/rename/ && /iteration_001\/member_[0-9]*\/p\.env"/ { print "param"; next }
	/rename/ && /iteration_001\/ensemble\.h5"/ { print "ensemble"; next }
	/fsync\(|fdatasync\(/ { print "fsync" }' trace >calls
check "one syncfs for the 20 parameter files" test "$(grep -c '^syncfs$' calls)" = 1
check "20 parameter files renamed into place" test "$(grep -c '^param$' calls)" = 20
check "no fsync per parameter file (results.h5, ensemble.h5 and their folders)" \
    test "$(grep -c '^fsync$' calls)" -le 4
check "the files, then syncfs, then ensemble.h5" test \
    "$(grep -v fsync calls | uniq | tr '\n' ' ')" = "param syncfs ensemble "

done_testing
