#!/bin/sh
# The exact PBS Pro command lines, without a PBS server (none is packaged
# for Debian): qsub, qstat, qdel and qselect are shims that record their
# arguments and answer as a PBS Pro server does: ids such as 1000[].pbs01,
# the qstat -F json documents of test/data/pbs, the error exits.
. "$(dirname "$0")/lib.sh"

bin=$TRASH/pbsbin
mkdir -p "$bin"
cat >"$bin/qsub" <<'SH'
#!/bin/sh
echo "qsub $*" >>"$TRASH/calls"
if [ -n "${QSUB_FAIL:-}" ]; then
	echo "qsub: Invalid credential" >&2
	exit 171
fi
n=$(($(cat "$TRASH/seq" 2>/dev/null || echo 999) + 1))
echo $n >"$TRASH/seq"
case " $* " in
*" -J "*) echo "$n[].pbs01" ;;
*) echo "$n.pbs01" ;;
esac
SH
cat >"$bin/qstat" <<'SH'
#!/bin/sh
echo "qstat $*" >>"$TRASH/calls"
case "$1" in
-Q) exit 0 ;;
-B) printf 'Server: pbs01\n    server_state = Active\n    max_array_size = 3\n'
    exit 0 ;;
esac
cat "${QSTAT_JSON:-/dev/null}"
[ -n "${QSTAT_ERR:-}" ] && echo "$QSTAT_ERR" >&2
exit "${QSTAT_RC:-0}"
SH
cat >"$bin/qdel" <<'SH'
#!/bin/sh
echo "qdel $*" >>"$TRASH/calls"
exit "${QDEL_RC:-0}"
SH
cat >"$bin/qselect" <<'SH'
#!/bin/sh
echo "qselect $*" >>"$TRASH/calls"
SH
chmod +x "$bin"/*
PATH=$bin:$PATH
export TRASH

try "$CALIB" backends
check "calib backends finds pbs usable" has out "pbs      usable"

# A detached chain of 5 members on a server whose arrays hold 3: two
# arrays per iteration, the second with its offset; then the update.
SIZE=5 ITERATIONS=1 make_experiment chain \
    "resources: {time: 2h, cpus_per_task: 4, mem: 2G, partition: workq}"
d=$PWD/chain/output
: >"$TRASH/calls"
try "$CALIB" run -d -b pbs chain/calib.yaml
expect_rc 0 "calib run -d submits the chain"
h=$(sed -n 's/.* name=calib\.\(tiny\.[0-9a-f]*\)\.1 .*/\1/p' $d/jobs.journal)
cat >want <<EOF2
qsub -N calib.$h.1 -J 1-3 -o $d/iteration_000/member-^array_index^.log -v CALIB_ARRAY_OFFSET=0 $d/iteration_000/member.pbs
qsub -N calib.$h.2 -J 1-2 -o $d/iteration_000/array3-^array_index^.log -v CALIB_ARRAY_OFFSET=3 $d/iteration_000/member.pbs
qsub -N calib.$h.3 -W depend=afterany:1000[].pbs01:1001[].pbs01 $d/iteration_000/update.pbs
qsub -N calib.$h.4 -J 1-3 -W depend=afterok:1002.pbs01 -o $d/iteration_001/member-^array_index^.log -v CALIB_ARRAY_OFFSET=0 $d/iteration_001/member.pbs
qsub -N calib.$h.5 -J 1-2 -W depend=afterok:1002.pbs01 -o $d/iteration_001/array3-^array_index^.log -v CALIB_ARRAY_OFFSET=3 $d/iteration_001/member.pbs
qsub -N calib.$h.6 -W depend=afterany:1003[].pbs01:1004[].pbs01 $d/iteration_001/update.pbs
EOF2
grep '^qsub ' "$TRASH/calls" >got
check "the qsub command lines, exactly" cmp want got
check "the journal has every id as qsub printed it" \
    test "$(grep -c '^job seq=[0-9]* id=100[0-5]' $d/jobs.journal)" -eq 6
check "PBS Pro directives in the member script" \
    grep -qx '#PBS -l select=1:ncpus=4:mpiprocs=1:mem=2048mb' \
    $d/iteration_000/member.pbs
check "the walltime and queue" \
    grep -qx '#PBS -l walltime=02:00:00' $d/iteration_000/member.pbs -a \
    grep -qx '#PBS -q workq' $d/iteration_000/member.pbs

# One qstat for every job, JSON with subjobs and history.
: >"$TRASH/calls"
QSTAT_JSON=$TOP/test/data/pbs/qstat-array.json try "$CALIB" status chain/calib.yaml
expect_rc 0 "calib status asks PBS"
check "one qstat asks about all six jobs" \
    test "$(grep '^qstat -t' "$TRASH/calls" | head -1)" = \
    "qstat -t -f -F json -x 1000[].pbs01 1001[].pbs01 1002.pbs01 1003[].pbs01 1004[].pbs01 1005.pbs01"
# The document lists 1000 and 1001 only, with exit 0: the other four were
# lost by qstat, not by PBS, and each is asked again.
check "ids missing from an exit-0 answer are asked again, one by one" \
    test "$(grep -c '^qstat -t' "$TRASH/calls")" -eq 5 -a \
    "$(grep -c '^qstat -t -f -F json -x 100[2-5][^ ]*$' "$TRASH/calls")" -eq 4
check "subjobs counted by state" has out "2 running"

# Exit 153 names the unknown ids; an id neither listed nor said unknown
# (some OpenPBS releases list only the first id with -F json) is asked
# again on its own.
: >"$TRASH/calls"
QSTAT_JSON=$TOP/test/data/pbs/qstat-array.json QSTAT_RC=153 \
QSTAT_ERR="qstat: Unknown Job Id 1002.pbs01
qstat: Unknown Job Id 1003[].pbs01
qstat: Unknown Job Id 1004[].pbs01" try "$CALIB" status chain/calib.yaml
expect_rc 0 "exit 153 is an answer"
check "only 1005 is asked again" \
    test "$(grep -c '^qstat -t' "$TRASH/calls")" -eq 2 -a \
    "$(grep -c '^qstat -t -f -F json -x 1005\.pbs01$' "$TRASH/calls")" -eq 1

# A qstat that fails otherwise is an error that quotes it.
QSTAT_RC=15 QSTAT_ERR="qstat: cannot connect to server pbs01 (errno=15010)" \
    try "$CALIB" status chain/calib.yaml
check "a failing qstat is reported" has err "cannot connect to server pbs01"

# calib cancel: one qdel for the live jobs; "already finished" (35) is fine.
: >"$TRASH/calls"
QSTAT_JSON=$TOP/test/data/pbs/qstat-array.json QDEL_RC=35 \
    try "$CALIB" cancel chain/calib.yaml
expect_rc 0 "calib cancel"
check "qdel of the live array and the held update" \
    test "$(grep -c '^qdel 1000\[\]\.pbs01 1001\[\]\.pbs01$' "$TRASH/calls")" -eq 1

# A one-element array (member 4 beside an array of 3): PBS Pro refuses
# those, so it is a plain job told its index, which calib exec takes from
# CALIB_ARRAY_INDEX.
SIZE=4 ITERATIONS=1 make_experiment one ""
: >"$TRASH/calls"
try "$CALIB" run -d -b pbs one/calib.yaml
expect_rc 0 "four members submit"
check "member 4 is a plain job with its index" \
    grep -q "^qsub -N calib\.tiny\.[0-9a-f]*\.2 -o $PWD/one/output/iteration_000/array3-1\.log -v CALIB_ARRAY_OFFSET=3,CALIB_ARRAY_INDEX=1 " "$TRASH/calls"
CALIB_ARRAY_INDEX=1 CALIB_ARRAY_OFFSET=3 PBS_JOBID=1001.pbs01 \
    try bash one/output/iteration_000/member.pbs
expect_rc 0 "the job script runs the member of CALIB_ARRAY_INDEX"
check "it records the job" grep -qx 'job=1001.pbs01' \
    one/output/iteration_000/member_004/status

# Torque gives a task its own id; the job script tells calib exec the
# array's.  (The same template serves both flavours.)
SIZE=3 ITERATIONS=1 make_experiment tq ""
"$CALIB" init tq/calib.yaml >/dev/null
sed "s|$PWD/one/output|$PWD/tq/output|" one/output/iteration_000/member.pbs \
    >tq/member.pbs
PBS_ARRAYID=2 PBS_JOBID='77[2].torque01' try bash tq/member.pbs
expect_rc 0 "the job script runs a Torque array task"
check "the status names the array as qsub printed it" \
    grep -qx 'job=77\[\]\.torque01' tq/output/iteration_000/member_002/status

# A refused submission: the error quotes qsub, the journal says so.
SIZE=2 ITERATIONS=1 make_experiment refused ""
QSUB_FAIL=1 try "$CALIB" run -b pbs refused/calib.yaml
check "calib run fails" test "$rc" -ne 0
check "the error quotes qsub" has err "(exit 171): qsub: Invalid credential"
check "the journal records the failed submission" \
    grep -q '^failed seq=1 ' refused/output/jobs.journal
check "nothing is left half-done: a later run submits again" \
    sh -c "'$CALIB' run -d -b pbs refused/calib.yaml >/dev/null 2>&1 &&
    grep -q '^job seq=2 id=' refused/output/jobs.journal"
done_testing
