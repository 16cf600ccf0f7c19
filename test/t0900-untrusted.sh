#!/bin/sh
# Files calib did not write itself, and values that would reach a shell:
# each reproduces a defect found by review (issue "Untrusted files never
# crash calib"), and must end in a clear error, never a crash.
. "$(dirname "$0")/lib.sh"

# no_crash: the last try ended by exit, not by a signal or a sanitizer.
no_crash() {
	[ "$rc" -lt 128 ] && ! grep -q 'Sanitizer\|runtime error\|Aborted' err
}

# 1. HDF5 state files of any shape: rank, size, string length.
SIZE=3 ITERATIONS=2 make_experiment h
"$CALIB" run h/calib.yaml >/dev/null 2>&1
h5edit() {
	/usr/bin/python3 - "$@" <<'PY'
import sys, h5py, numpy as np
path, what = sys.argv[1], sys.argv[2]
f = h5py.File(path, "r+")
if what == "rank32":
    # the layout that copied the outputs into /G, still read
    d = int(np.asarray(f.attrs["observations"]).ravel()[0])
    f["G"] = np.zeros([1] * 30 + [3, d])
elif what == "rng_rank32":
    s = f["rng_state"][...]
    t = f["rng_state"].attrs["type"]
    del f["rng_state"]
    f["rng_state"] = s.reshape([1] * 31 + [s.size])
    f["rng_state"].attrs["type"] = t
elif what == "long_type":
    f["rng_state"].attrs["type"] = "m" * 300
elif what == "short_success":
    del f["success"]
    f["success"] = np.ones(1, dtype=np.int32)
elif what == "text_G":
    f["G"] = np.array([b"x" * 8] * 3)
elif what == "rank32_checksum":
    c = f["checksum"][...]
    del f["checksum"]
    f["checksum"] = c.reshape([1] * 31 + [c.size])
elif what == "huge_d":
    f.attrs["observations"] = 1 << 62
elif what == "vlen_stop":
    f.attrs["stop"] = "stopped by a colleague"
elif what == "sparse_y":
    del f["y"]
    f.create_dataset("y", shape=(1 << 33,), dtype="f8", chunks=(1024,))
f.close()
PY
}
cp h/output/iteration_000/results.h5 r0.h5
# results_edited EDIT COMMAND: a fresh copy of results.h5, edited, then
# calib COMMAND on it.
results_edited() {
	cp r0.h5 h/output/iteration_000/results.h5
	h5edit h/output/iteration_000/results.h5 "$1"
	try "$CALIB" "$2" h/calib.yaml
}
results_edited rank32 status
check "status on a results.h5 whose G has rank 32 fails cleanly" no_crash
check "naming the file and the dataset" has err "iteration_000/results.h5: dataset 'G' has rank 32, expected 1 or 2"
results_edited short_success status
check "a 'success' of the wrong length is refused" has err "dataset 'success' has 1 values, expected 3"
results_edited text_G status
check "a G of strings is refused" has err "dataset 'G' is not numeric"
results_edited rank32_checksum status
check "a checksum of rank 32 is refused" has err "dataset 'checksum' has rank 32, expected 1"
results_edited huge_d report
check "an absurd number of observations is refused before allocating" \
    has err "iteration_000/results.h5: missing or invalid attribute 'observations'"
check "cleanly" no_crash
results_edited vlen_stop status
check "a variable-length 'stop' string is refused, not read as a pointer" \
    has err "unreadable attribute 'stop'"
check "cleanly" no_crash
cp r0.h5 h/output/iteration_000/results.h5
cp h/output/iteration_001/ensemble.h5 e1.h5
h5edit h/output/iteration_001/ensemble.h5 rng_rank32
rm -f h/output/iteration_001/results.h5 h/output/iteration_002/*.h5
try "$CALIB" update -i 1 h/calib.yaml
check "update with a random state of rank 32 fails cleanly" no_crash
check "saying the state is foreign" has err "missing or foreign random state"
cp e1.h5 h/output/iteration_001/ensemble.h5
h5edit h/output/iteration_001/ensemble.h5 long_type
try "$CALIB" update -i 1 h/calib.yaml
check "a 300-byte generator name does not overrun" no_crash
check "and is refused" has err "missing or foreign random state"
cp e1.h5 h/output/iteration_001/ensemble.h5
cp h/output/observations.h5 obs.h5
h5edit h/output/observations.h5 sparse_y
try "$CALIB" status h/calib.yaml
check "an observations.h5 claiming 2^33 values it does not hold is refused" \
    has err "dataset 'y' holds"
check "without trying to allocate them" no_crash
cp obs.h5 h/output/observations.h5

# 2. A newline in a path that would go into a job script.
SIZE=2 ITERATIONS=1 make_experiment nl 'output_dir: "out\ntouch /tmp/calib-injected\n#"'
for b in slurm pbs torque; do
	try "$CALIB" run -b $b nl/calib.yaml
	expect_rc 2 "run -b $b refuses an output_dir with a newline"
	check "saying why, the newline escaped" has err 'output directory'
	check "and what to do" has err "has a control character (a newline would start a line of its own in the job script); choose another output_dir"
done
check "nothing was written" sh -c "! ls nl | grep -q out"
d=$(printf 'ex\nperiment')
mkdir -p "$d"
SIZE=2 ITERATIONS=1 make_experiment "$d"
try "$CALIB" run -b slurm "$d/calib.yaml"
expect_rc 2 "an experiment folder with a newline in its name is refused for a batch backend"
check "naming the output directory, escaped" has err 'ex\x0aperiment/output'
try "$CALIB" run "$d/calib.yaml"
expect_rc 0 "and runs on the local backend, where no script is written"
check "to its end" test -f "$d/output/iteration_001/ensemble.h5"
SIZE=2 ITERATIONS=1 make_experiment sp 'output_dir: "my output"'
try "$CALIB" run -b pbs sp/calib.yaml
expect_rc 2 "a blank in the output directory is refused where a directive holds it"

# 3. Sizes that overflow: a .npy shape, an array offset.
SIZE=2 ITERATIONS=1 make_experiment np
sed -i 's/out\.txt/out.npy/' np/calib.yaml
"$CALIB" init np/calib.yaml >/dev/null
echo "npyhuge 1" >np/mode
try "$CALIB" exec -i 0 -m 1 np/calib.yaml
expect_rc 1 "a .npy output whose shape wraps 64 bits fails the member"
check "as a malformed header" has err "out.npy: malformed .npy header"
check "without a crash" no_crash
CALIB_MEMBER_INDEX=1 CALIB_ARRAY_OFFSET=9223372036854775807 \
    try "$CALIB" exec -i 0 np/calib.yaml
expect_rc 2 "an array offset that overflows the member number is refused"
check "saying so" has err "is out of range"
CALIB_MEMBER_INDEX=99999999999999999999 try "$CALIB" exec -i 0 np/calib.yaml
expect_rc 2 "an index beyond a long is refused"

# 5. Outputs that are not text a person may read, or not files at all.
SIZE=2 ITERATIONS=1 make_experiment o
"$CALIB" init o/calib.yaml >/dev/null
echo "binary 1" >o/mode
try "$CALIB" exec -i 0 -m 1 o/calib.yaml
expect_rc 1 "a binary output fails the member"
check "its bytes are escaped in the message" has err "not a number: '\\x1b[31m\\x01\\x02zz'"
check "and in the status file" has o/output/iteration_000/member_001/status '\x1b[31m\x01\x02zz'
check "no control byte reaches them" sh -c "! grep -q \"\$(printf '\\033')\" err o/output/iteration_000/member_001/status"
echo "dir 1" >o/mode
try "$CALIB" exec -i 0 -m 1 o/calib.yaml
check "an output that is a folder is named as such" has err "out.txt' is a directory, not a file"
rm -rf o/output/iteration_000/member_001/out.txt
echo "fifo 1" >o/mode
try "$CALIB" exec -i 0 -m 1 o/calib.yaml
check "a FIFO too, without blocking on it" has err "out.txt' is a FIFO, not a file"
check "the status says outcome=invalid" grep -q '^outcome=invalid' o/output/iteration_000/member_001/status

# 6. Files: stale temporary files swept, modes from the umask.
SIZE=2 ITERATIONS=1 make_experiment t
(umask 002 && "$CALIB" init t/calib.yaml >/dev/null)
mode() { stat -c %a "$1"; }
check "with umask 002 the output directory is group-writable" test "$(mode t/output)" = 775
check "and so are the files init writes" test "$(mode t/output/iteration_000/ensemble.h5)" = 664
check "the parameter files too" test "$(mode t/output/iteration_000/member_001/p.env)" = 664
m=t/output/iteration_000/member_001
: >$m/.status.tmpAb12Cd
: >t/output/iteration_000/.results.h5.tmpZz99Yy
: >$m/.status.tmpFresh1
touch -d '1 hour ago' $m/.status.tmpAb12Cd t/output/iteration_000/.results.h5.tmpZz99Yy
(umask 002 && "$CALIB" run t/calib.yaml >/dev/null 2>&1)
check "calib run sweeps temporary files left by writers killed long ago" \
    sh -c "test ! -e $m/.status.tmpAb12Cd && test ! -e t/output/iteration_000/.results.h5.tmpZz99Yy"
check "and keeps a fresh one, whose writer may still be at work" test -e $m/.status.tmpFresh1
check "the status files follow the umask" test "$(mode $m/status)" = 664
check "results.h5 too" test "$(mode t/output/iteration_000/results.h5)" = 664
(umask 077 && SIZE=2 ITERATIONS=1 make_experiment u && "$CALIB" init u/calib.yaml >/dev/null)
check "with umask 077 the output directory is private" test "$(mode u/output)" = 700
check "and its files too" test "$(mode u/output/iteration_000/ensemble.h5)" = 600

done_testing
