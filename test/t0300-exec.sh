#!/bin/sh
# calib exec: running one member, the status it records, and every way a
# member can fail.
. "$(dirname "$0")/lib.sh"

TIMEOUT=3s make_experiment ex
"$CALIB" init ex/calib.yaml >/dev/null || exit 1
m1=ex/output/iteration_000/member_001

try "$CALIB" exec -i 0 -m 1 ex/calib.yaml
expect_rc 0 "a member that succeeds exits 0"
check "status says success" has $m1/status "result=success"
check "status records attempt 1" has $m1/status "attempt=1"
check "status records the host" has $m1/status "host=$(hostname)"
check "the model ran in the member directory" test -f $m1/calib.env
check "CALIB_ITERATION is set" has $m1/calib.env "CALIB_ITERATION=0"
check "CALIB_MEMBER is set" has $m1/calib.env "CALIB_MEMBER=1"
check "CALIB_MEMBER_DIR is set" has $m1/calib.env "CALIB_MEMBER_DIR=$TRASH/$m1"
check "CALIB_PARAMETERS is set" has $m1/calib.env "CALIB_PARAMETERS=$TRASH/$m1/p.env"
check "CALIB_OUTPUT is set" has $m1/calib.env "CALIB_OUTPUT=$TRASH/$m1/out.txt"
check "the log has a header per attempt" has $m1/model.log "attempt 1"

try "$CALIB" exec -i 0 -m 1 ex/output
expect_rc 0 "a member that succeeded is not run again"
check "saying so" has out "iteration 0 member 1 already succeeded (attempt 1"
check "its status is untouched" has $m1/status "attempt=1"
try "$CALIB" exec -f -i 0 -m 1 ex/output
check "-f runs it again; the output directory works as operand" \
    has $m1/status "attempt=2"

m2=ex/output/iteration_000/member_002
echo "fail 2" >ex/mode
try "$CALIB" exec -i 0 -m 2 ex/calib.yaml
expect_rc 1 "a failing model makes exec exit 1"
check "status says failed" has $m2/status "result=failed"
check "status has the exit status" has $m2/status "exit_status=3"
check "the reason names it" has $m2/status "reason=exit status 3"
check "the model's stderr is in model.log" has $m2/model.log "failing on purpose"
check "exec says why on stderr" has err "iteration 0 member 2 failed: exit status 3"
check "with the end of model.log and its path" has err \
    "calib: the end of $TRASH/$m2/model.log:
  calib exec: iteration 0 member 2 attempt 1"
check "down to the model's last line" has err "  failing on purpose"

# The program: a relative path is the experiment folder's; one that cannot
# be run says why (errno from the child), not only "exit status 127".
SIZE=3 ITERATIONS=1 make_experiment rel
printf '#!/bin/sh\nexec /bin/sh "%s/test/model.sh" "$@"\n' "$TOP" >rel/m.sh
chmod +x rel/m.sh
sed -i 's|command: .*|command: ["./m.sh", "{parameters}", "{output}"]|' rel/calib.yaml
"$CALIB" init rel/calib.yaml >/dev/null || exit 1
try "$CALIB" exec -i 0 -m 1 rel/calib.yaml
expect_rc 0 "'./m.sh' is run from the experiment's folder, not the member's"
chmod -x rel/m.sh
try "$CALIB" exec -i 0 -m 2 rel/calib.yaml
expect_rc 1 "a program that is not executable fails"
check "saying why" has rel/output/iteration_000/member_002/status \
    "reason=could not run '$TRASH/rel/m.sh': Permission denied"
rm rel/m.sh
try "$CALIB" exec -i 0 -m 3 rel/calib.yaml
expect_rc 1 "a program that is not there fails"
check "saying why" has err \
    "member 3 failed: could not run '$TRASH/rel/m.sh': No such file or directory"
check "and in model.log, where the model's own messages go" \
    has rel/output/iteration_000/member_003/model.log \
    "calib: cannot run '$TRASH/rel/m.sh': No such file or directory"

echo "nan" >ex/mode
try "$CALIB" exec -i 0 -m 2 ex/calib.yaml
expect_rc 1 "NaN in the output is a failure"
check "the reason names the value" has $m2/status "value 1 is NaN"

echo "short" >ex/mode
try "$CALIB" exec -i 0 -m 2 ex/calib.yaml
expect_rc 1 "an output of the wrong length is a failure"
check "the reason gives both lengths" has $m2/status "has 2 values, expected 3"

echo "nooutput" >ex/mode
try "$CALIB" exec -i 0 -m 2 ex/calib.yaml
expect_rc 1 "a missing output is a failure even with exit 0"
check "the reason says so" has $m2/status "was not written"

echo "kill" >ex/mode
try "$CALIB" exec -i 0 -m 2 ex/calib.yaml
expect_rc 1 "a model killed by a signal is a failure"
check "status records the signal" has $m2/status "signal=9"

echo "hang" >ex/mode
try "$CALIB" exec -i 0 -m 2 ex/calib.yaml
expect_rc 1 "a model past its timeout is a failure"
check "the reason says timeout" has $m2/status "reason=timeout after 3 s"
pid=$(cat $m2/child.pid)
check "the model's whole process group was killed" poll 5 sh -c "! kill -0 $pid 2>/dev/null"
check "the attempt count went on" has $m2/status "attempt=6"

# SIGTERM to exec (a batch system cancelling the job) stops the model.
echo "hang" >ex/mode
rm -f $m2/child.pid
"$CALIB" exec -i 0 -m 2 ex/calib.yaml >/dev/null 2>&1 &
exec_pid=$!
poll 10 test -s $m2/child.pid
check "a running member's status says running" has $m2/status "reason=running"
kill -TERM $exec_pid
wait $exec_pid
rc=$?
ok $((rc != 1)) "exec interrupted by SIGTERM exits 1"
check "the reason says interrupted" has $m2/status "reason=interrupted by Terminated"
pid=$(cat $m2/child.pid)
check "the model's process group is gone" poll 5 sh -c "! kill -0 $pid 2>/dev/null"

rm -f ex/mode
try "$CALIB" exec -i 0 -m 9 ex/calib.yaml
expect_rc 1 "a member out of range is refused"
check "saying the range" has err "member 9 is out of range 1..4"
CALIB_FS_LAG=0 try "$CALIB" exec -i 5 -m 1 ex/calib.yaml
expect_rc 1 "an iteration that does not exist is refused"
try "$CALIB" exec -m 1 ex/calib.yaml
expect_rc 2 "exec without -i is a usage error"
try "$CALIB" exec -i x -m 1 ex/calib.yaml
expect_rc 2 "a non-numeric iteration is a usage error"

# The command gets its placeholders as separate arguments, never a shell.
make_experiment argv
cat >argv/show.sh <<'SH'
printf '%s\n' "$@" >args.txt
printf '1\n2\n3\n' >"$CALIB_OUTPUT"
SH
sed -i 's|command: .*|command: ["/bin/sh", "{experiment_dir}/show.sh", "{iteration}-{member}", "$(touch pwned)", "{member_dir}"]|' argv/calib.yaml
"$CALIB" init argv/calib.yaml >/dev/null
try "$CALIB" exec -i 0 -m 3 argv/calib.yaml
expect_rc 0 "a command with placeholders runs"
check "placeholders are expanded inside arguments" has argv/output/iteration_000/member_003/args.txt "0-3"
check "shell syntax is passed through untouched" has argv/output/iteration_000/member_003/args.txt '$(touch pwned)'
check "and never run" test ! -e argv/output/iteration_000/member_003/pwned

# calib's jobs run members with the front alone: no calib-core.so, no HDF5
# (LD_DEBUG=files names every object a process loads, one file per pid).
SIZE=3 ITERATIONS=0 make_experiment lt
"$CALIB" init lt/calib.yaml >/dev/null
check "calib init counts the observations beside observations.h5" \
    grep -qx 'observations=3' lt/output/observations.count
loaded() { cat "$TRASH"/ld.* 2>/dev/null | grep -q "$1"; }
rm -f "$TRASH"/ld.*
CALIB_JOB_ID=job.7 LD_DEBUG=files LD_DEBUG_OUTPUT="$TRASH/ld" \
    try "$CALIB" exec --job -i 0 -m 1 lt/calib.yaml
expect_rc 0 "a job's member runs"
check "recorded as the job's" has lt/output/iteration_000/member_001/status "job=job.7"
check "with its values kept" test -s lt/output/iteration_000/member_001/kept.f64
check "without loading calib-core.so" sh -c "cat '$TRASH'/ld.* | grep -q libyaml && ! cat '$TRASH'/ld.* | grep -q calib-core"
check "nor HDF5" sh -c "! cat '$TRASH'/ld.* | grep -q hdf5"
# The same member run by hand takes the experiment's lock: the core does.
rm -f "$TRASH"/ld.*
LD_DEBUG=files LD_DEBUG_OUTPUT="$TRASH/ld" try "$CALIB" exec -f -i 0 -m 1 lt/calib.yaml
expect_rc 0 "run by hand, it runs"
check "through the core" loaded calib-core
# A damaged count: the core reads observations.h5, and the member runs.
echo 'observations=99' >lt/output/observations.count
rm -f "$TRASH"/ld.*
CALIB_JOB_ID=job.8 LD_DEBUG=files LD_DEBUG_OUTPUT="$TRASH/ld" \
    try "$CALIB" exec --job -i 0 -m 2 lt/calib.yaml
expect_rc 0 "a member runs with observations.count damaged"
check "through the core" loaded calib-core
check "checked against the 3 observations of observations.h5" \
    has lt/output/iteration_000/member_002/status "outcome=ok"
rm -f lt/output/observations.count
try "$CALIB" exec --job -i 0 -m 3 lt/calib.yaml
expect_rc 0 "and with no observations.count at all (made by an older calib)"
# "running" is made durable only over a success (calib-state(5)): a first
# attempt syncs its kept values and its ending (two files, two directory
# syncs), a rerun of a success its "running" too.
SIZE=2 ITERATIONS=0 make_experiment fs
"$CALIB" init fs/calib.yaml >/dev/null
CALIB_JOB_ID=job.11 strace -f -qq -e trace=fsync -o fs.trace \
    "$CALIB" exec --job -i 0 -m 1 fs/calib.yaml >/dev/null 2>&1
check "a first attempt makes 4 fsyncs" test "$(grep -c 'fsync(' fs.trace)" -eq 4
CALIB_JOB_ID=job.12 strace -f -qq -e trace=fsync -o fs.trace \
    "$CALIB" exec --job -f -i 0 -m 1 fs/calib.yaml >/dev/null 2>&1
check "a rerun over a success 6" test "$(grep -c 'fsync(' fs.trace)" -eq 6
check "and ends well" has fs/output/iteration_000/member_001/status "attempt=2"
# An HDF5 output is read by the core.
make_experiment h5
cat >h5/model.py <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "w") as f:
    f["y"] = [1.0, 2.0, 3.0]
PY
sed -i 's|command: .*|command: ["/usr/bin/python3", "{experiment_dir}/model.py", "{output}"]|;
    s|output: .*|output: {file: out.h5, dataset: /y}|' h5/calib.yaml
"$CALIB" init h5/calib.yaml >/dev/null
rm -f "$TRASH"/ld.*
CALIB_JOB_ID=job.9 LD_DEBUG=files LD_DEBUG_OUTPUT="$TRASH/ld" \
    try "$CALIB" exec --job -i 0 -m 1 h5/calib.yaml
expect_rc 0 "a member with an HDF5 output runs"
check "through the core" loaded calib-core
check "its values checked and kept" has h5/output/iteration_000/member_001/status "outcome=ok"
# So is one whose format says HDF5 whatever its name.
sed -i 's|output: .*|output: {file: out.dat, format: hdf5, dataset: /y}|' h5/calib.yaml
rm -rf h5/output
"$CALIB" init h5/calib.yaml >/dev/null
CALIB_JOB_ID=job.10 try "$CALIB" exec --job -i 0 -m 1 h5/calib.yaml
expect_rc 0 "a member with format: hdf5 and another file name runs"
check "its values checked and kept" has h5/output/iteration_000/member_001/status "outcome=ok"
# The front hands usage to the core: -h in a cluster of options is help.
try "$CALIB" exec -hf -i 0 -m 2 h5/calib.yaml
expect_rc 0 "exec -hf prints help"
check "the usage" has out "usage: calib exec"
check "and runs nothing" test ! -e h5/output/iteration_000/member_002/status

done_testing
