#!/bin/sh
# A fault matrix on the real test cluster, whose finished jobs leave squeue
# within seconds as on production clusters.  Each case runs the same
# experiment as an undisturbed reference run, in a folder of its own, hits
# it with one fault (a cancel and a resume, a job scancel'd, slurmctld
# away, sbatch failing, the node down, calib run or the update SIGKILLed, a
# full disk) and must end with the calibration complete, its ensembles
# bitwise those of the reference, and no member run again after it
# succeeded.  What each fault costs in extra sbatch submissions is printed
# in a table, '# case | outcome | extra submissions'.
. "$(dirname "$0")/lib.sh"
start_slurm CALIB_TEST_MIN_JOB_AGE=2 CALIB_TEST_CRED_EXPIRE=10
wrap_commands sbatch squeue scancel scontrol
CLUSTER="$TOP/test/slurm-cluster.sh"

pid=
mounts=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	for m in $mounts; do umount -l "$m" 2>/dev/null; done
	sh "$CLUSTER" stop "$SLURM_DIR"
}
trap cleanup EXIT

# sbatch fails, as when the controller cannot be reached, while
# $TRASH/sbatch.down exists, and SIGKILLs calib once the job is submitted,
# before calib could read its id, when $TRASH/sbatch.kill exists.
real_sbatch=$(PATH=${PATH#*:} command -v sbatch)
cat >"$TRASH/bin/sbatch" <<EOF
#!/bin/sh
if [ -e "$TRASH/sbatch.down" ]; then
	echo "sbatch-failed \$*" >>"$TRASH/calls"
	echo "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)" >&2
	exit 1
fi
echo "sbatch \$*" >>"$TRASH/calls"
out=\$("$real_sbatch" "\$@") || exit
if [ -e "$TRASH/sbatch.kill" ]; then
	rm -f "$TRASH/sbatch.kill"
	kill -9 \$PPID
	exit 0
fi
echo "\$out"
EOF
# Job script setup for update jobs: wait for a file.
cat >"$TRASH/waitfor.sh" <<'EOF'
while [ ! -e "$1" ]; do sleep 0.1; done
EOF
# Job script setup for update jobs: while FILE has fewer than 3 lines,
# SIGKILL the job a few milliseconds later, when its shell has become
# calib update (exec), and note it in FILE.
cat >"$TRASH/killer.sh" <<'EOF'
[ -e "$1" ] && [ "$(wc -l <"$1")" -lt 3 ] || exit 0
job=$PPID
ms=$(($(od -An -N1 -tu1 /dev/urandom) % 15))
(sleep "0.0$(printf %02d $ms)"; kill -9 "$job") >/dev/null 2>&1 </dev/null &
echo "killed $job after ${ms} ms" >>"$1"
EOF

# exp CASE [YAML]: the reference experiment in folder CASE, whose model
# logs each run that wrote its output in CASE/runs.
exp() {
	SIZE=4 ITERATIONS=2 make_experiment "$1" "backend: {poll_interval: 1s}
${2:-}"
	: >"$1/runs"
}

# Background calib runs: start_run CASE [OPTION...] starts one, appending
# to CASE.out; wait_run SECONDS waits for it, $rc its status (124 when it
# was SIGKILLed at the deadline).
alive() {
	_s=$(ps -o stat= -p "$1" 2>/dev/null)
	[ -n "$_s" ] && [ "${_s#Z}" = "$_s" ]
}
start_run() {
	_c=$1
	shift
	"$CALIB" run -b slurm "$@" "$_c/calib.yaml" >>"$_c.out" 2>&1 </dev/null &
	pid=$!
}
dead() { ! alive "$pid"; }
wait_run() {
	if poll "$1" dead; then
		wait "$pid"
		rc=$?
	else
		kill -9 "$pid"
		wait "$pid" 2>/dev/null
		rc=124
	fi
	pid=
}

# running CASE IT N: at least N members of iteration IT are running.
running() {
	test "$(grep -l '^outcome=running' "$1"/output/iteration_00"$2"/member_*/status \
	    2>/dev/null | wc -l)" -ge "$3"
}
# job_of CASE KIND IT: the id of the last KIND job of iteration IT.
job_of() {
	awk -v kind="$2" -v it="$3" '
	{ split("", f); for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
	$1 == "submit" && f["kind"] == kind && f["iteration"] == it { want = f["seq"] }
	$1 == "job" { id[f["seq"]] = f["id"] }
	END { if (want != "") print id[want] }' "$1/output/jobs.journal" 2>/dev/null
}
job_running() {
	_j=$(job_of "$1" "$2" "$3")
	[ -n "$_j" ] && [ "$(squeue -h -j "$_j" -o %T 2>/dev/null)" = RUNNING ]
}
# quiet: no job queued, running or completing on the cluster.
quiet() {
	[ -z "$(squeue -h -t PD,R,CG,CF,S -o %i 2>/dev/null)" ]
}
# chain_over CASE: the detached chain of CASE finished or died.
chain_over() {
	test -f "$1/output/iteration_002/results.h5" || quiet
}
# resubmitted CASE: iteration 0 has more than one member submission.
resubmitted() {
	test "$(grep -c '^submit.*kind=members iteration=0 ' "$1/output/jobs.journal")" -ge 2
}
# subs CASE, failed_subs CASE: sbatch submissions for CASE, refused ones.
subs() {
	grep -c "^sbatch .*$TRASH/$1/" "$TRASH/calls"
}
failed_subs() {
	grep -c "^sbatch-failed .*$TRASH/$1/" "$TRASH/calls"
}

# complete CASE: every iteration closed with its 4 members.
complete() {
	"$CALIB" status --json "$1/calib.yaml" >"$1.status" 2>&1 &&
	    for it in 0 1 2; do
		has "$1.status" "{\"iteration\":$it,\"members\":{\"done\":4,\"failed\":0,\"pending\":0}" || return 1
	    done &&
	    test -f "$1/output/iteration_002/results.h5"
}
# ran_once CASE: no member's model wrote its output twice, and no member
# was submitted again after its status says it succeeded.
ran_once() {
	/usr/bin/python3 - "$1" <<'PY'
import collections, glob, re, sys
d = sys.argv[1]
bad = 0
for k, n in collections.Counter(open(d + "/runs").read().split("\n")).items():
    if k and n > 1:
        print("# iteration %s member %s: the model ran to its end %d times" % (*k.split(), n))
        bad = 1
subs = []
for line in open(d + "/output/jobs.journal"):
    w = line.split()
    if not line.endswith("\n") or not w or w[0] != "submit":
        continue
    f = dict(x.split("=", 1) for x in w[1:])
    if f["kind"] != "members":
        continue
    ms = set()
    for r in f["members"].split(","):
        a, _, b = r.partition("-")
        ms.update(range(int(a), int(b or a) + 1))
    subs.append((int(f["iteration"]), ms, float(f["time"]), f["seq"]))
for st in sorted(glob.glob(d + "/output/iteration_*/member_*/status")):
    it = int(re.search(r"iteration_(\d+)", st).group(1))
    m = int(re.search(r"member_(\d+)", st).group(1))
    s = dict(l.rstrip("\n").split("=", 1) for l in open(st) if "=" in l)
    if s.get("attempt", "1") != "1":
        print("# iteration %d member %d: attempt %s, %s" % (it, m, s.get("attempt"), s.get("reason")))
    if s.get("result") != "success":
        continue
    for i, ms, t, seq in subs:
        if i == it and m in ms and t > float(s["end_epoch"]):
            print("# iteration %d member %d succeeded, then was submitted again (seq %s)" % (it, m, seq))
            bad = 1
sys.exit(bad)
PY
}

# show FILE [N]: its last N lines as TAP comments.
show() {
	[ -f "$1" ] && tail -n "${2:-8}" "$1" | sed "s|$TRASH/||g; s|^|#   $1: |"
}

# begin CASE, finish CASE: around each case; finish checks the outcome,
# prints the case's table line and leaves the cluster without jobs.
table=
begin() {
	case_name=$1
	case_failed=$tap_failed
	tap_first_failure=
	echo "# --- case $1"
}
finish() {
	_c=$1
	check "$_c: the calibration is complete" complete "$_c"
	check "$_c: its ensembles are bitwise those of the reference" \
	    same_ensembles ref "$_c" 2
	check "$_c: no member ran again after it succeeded" ran_once "$_c"
	if [ "$tap_failed" -eq "$case_failed" ]; then
		_o=pass
	else
		_o="FAIL ($((tap_failed - case_failed)) checks; first: $tap_first_failure)"
		show "$_c.out" 12
		show "$_c/output/jobs.journal" 30
	fi
	_x=$(($(subs "$_c") - ref_subs))
	_f=$(failed_subs "$_c")
	[ "$_f" -gt 0 ] && _x="$_x ($_f refused)"
	echo "# $case_name | $_o | $_x"
	table="$table# $case_name | $_o | $_x
"
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	pid=
	rm -f "$TRASH/sbatch.down" "$TRASH/sbatch.kill"
	scancel --quiet --user=root 2>/dev/null
	poll 60 quiet || echo "# jobs still live after case $case_name"
}

# The reference: the same experiment, undisturbed.
exp ref
try "$CALIB" run -b slurm ref/calib.yaml
expect_rc 0 "the undisturbed reference run completes"
ref_subs=$(subs ref)
check "it costs 2 sbatch calls per iteration" test "$ref_subs" -eq 6
check "and runs every member once" ran_once ref

# a, b, c: calib cancel while the members of iteration 0 run (their model
# blocks, ends on SIGTERM, ends non-zero on SIGTERM or ignores it), then
# calib run again, detached or attached.
cancel_resume() {
	c=$1 model=$2 how=$3
	begin "$c: cancel, resume $how ($model model)"
	exp "$c"
	echo "$model $TRASH/$c/go" >"$c/mode"
	try "$CALIB" run -d -b slurm "$c/calib.yaml"
	expect_rc 0 "$c: a detached chain is submitted"
	check "$c: the members run" poll 60 running "$c" 0 4
	try "$CALIB" cancel "$c/calib.yaml"
	expect_rc 0 "$c: calib cancel"
	check "$c: it cancels the 6 jobs of the chain" has out "cancelled 6 jobs"
	# A stubborn model lives until Slurm's KillWait (5 s) runs out.
	check "$c: the cluster has no job left" poll 60 quiet
	if [ "$how" = detached ]; then
		try "$CALIB" run -d -b slurm "$c/calib.yaml"
		cat out err >>"$c.out"
		expect_rc 0 "$c: the rest is submitted again as a chain"
		touch "$c/go"
		check "$c: the chain ends" poll 150 chain_over "$c"
		for it in 0 1 2; do
			for f in "$c"/output/iteration_00$it/update-*.out; do
				[ -f "$f" ] && show "$f" 2
			done
		done
	else
		start_run "$c"
		touch "$c/go"
		wait_run 150
		check "$c: the attached run completes (exit $rc)" test "$rc" -eq 0
	fi
	finish "$c"
}
cancel_resume a block detached
cancel_resume b block attached
cancel_resume c1 termfail detached
cancel_resume c2 stubborn attached

# d: scancel one task of the member array, attached.
begin "d: scancel one member task"
exp d
echo "block $TRASH/d/go 2" >d/mode
start_run d
check "d: member 2 runs" poll 60 running d 0 1
scancel "$(job_of d members 0)_2"
check "d: calib resubmits member 2" poll 60 resubmitted d
touch d/go
wait_run 120
check "d: the run completes (exit $rc)" test "$rc" -eq 0
check "d: at the cost of 1 extra submission" test "$(($(subs d) - ref_subs))" -eq 1
finish d

# e: scancel the whole member array, attached.
begin "e: scancel the member array"
exp e
echo "block $TRASH/e/go" >e/mode
start_run e
check "e: the members run" poll 60 running e 0 4
scancel "$(job_of e members 0)"
check "e: calib resubmits the members" poll 60 resubmitted e
touch e/go
wait_run 120
check "e: the run completes (exit $rc)" test "$rc" -eq 0
finish e

# f: scancel the update job while it waits in its setup, attached, then
# detached (the chain dies; calib run afterwards must finish it).
begin "f1: scancel the update job, attached"
exp f1 "update_resources: {setup: [\"/bin/sh $TRASH/waitfor.sh $TRASH/f1/upgo\"]}"
start_run f1
check "f1: the update job of iteration 0 runs" poll 60 job_running f1 update 0
scancel "$(job_of f1 update 0)"
touch f1/upgo
wait_run 120
check "f1: the run completes (exit $rc)" test "$rc" -eq 0
check "f1: the cancelled update job was submitted again" test \
    "$(grep -c '^submit.*kind=update iteration=0' f1/output/jobs.journal)" -eq 2
finish f1

begin "f2: scancel the update job, detached, then calib run"
exp f2 "update_resources: {setup: [\"/bin/sh $TRASH/waitfor.sh $TRASH/f2/upgo\"]}"
try "$CALIB" run -d -b slurm f2/calib.yaml
expect_rc 0 "f2: a detached chain is submitted"
check "f2: the update job of iteration 0 runs" poll 60 job_running f2 update 0
scancel "$(job_of f2 update 0)"
touch f2/upgo
check "f2: the chain dies with it" poll 60 quiet
start_run f2
wait_run 120
check "f2: calib run afterwards completes (exit $rc)" test "$rc" -eq 0
finish f2

# g: slurmctld away for 30 s while the members run; they end meanwhile.
begin "g: slurmctld stopped for 30 s"
exp g
echo "block $TRASH/g/go" >g/mode
start_run g
check "g: the members run" poll 60 running g 0 4
sh "$CLUSTER" stop-ctld "$SLURM_DIR"
away=$(($(date +%s) + 30))
polls=$(grep -c '^squeue .*%i|%T' "$TRASH/calls")
touch g/go
outage_over() {
	[ "$(date +%s)" -ge "$away" ] &&
	    [ "$(grep -c '^squeue .*%i|%T' "$TRASH/calls")" -gt "$polls" ]
}
check "g: calib keeps polling while slurmctld is away" poll 60 outage_over
check "g: calib run is still there" alive "$pid"
check "g: slurmctld starts again on its saved state" sh "$CLUSTER" start-ctld "$SLURM_DIR"
wait_run 150
check "g: the run completes (exit $rc)" test "$rc" -eq 0
finish g

# h: sbatch refused (controller unreachable) when the update is due, until
# the test lets it through.
begin "h: sbatch failing for a while"
exp h
echo "block $TRASH/h/go" >h/mode
start_run h
check "h: the members run" poll 60 running h 0 4
touch "$TRASH/sbatch.down"
touch h/go
refused3() { [ "$(failed_subs h)" -ge 3 ] || dead; }
poll 90 refused3
check "h: calib tries the refused submission again ($(failed_subs h) refused)" \
    test "$(failed_subs h)" -ge 3
rm -f "$TRASH/sbatch.down"
wait_run 120
check "h: the run completes (exit $rc)" test "$rc" -eq 0
finish h

# i: the node down, then resumed, while the members run.
begin "i: node down and resumed"
exp i
echo "block $TRASH/i/go" >i/mode
start_run i
check "i: the members run" poll 60 running i 0 4
requeued() {
	[ "$(grep -c 'Requeuing JobId=' "$SLURM_DIR/log/slurmctld.log")" -gt "$1" ]
}
before=$(grep -c 'Requeuing JobId=' "$SLURM_DIR/log/slurmctld.log")
scontrol update nodename=localhost state=down reason=test
check "i: the node down, Slurm requeues the members" poll 60 requeued "$before"
# With ReturnToService=2 the node comes back as soon as slurmd answers.
node_back() { sinfo -h -n localhost -o %t | grep -q 'idle\|mix\|alloc'; }
node_back || scontrol update nodename=localhost state=resume
check "i: the node is back" poll 60 node_back
touch i/go
wait_run 150
check "i: the run completes (exit $rc)" test "$rc" -eq 0
node_back || scontrol update nodename=localhost state=resume
finish i

# j: calib run SIGKILLed right after its first sbatch, while the members
# run, while the update job runs; started again each time.
begin "j: calib run SIGKILLed at three instants"
exp j "update_resources: {setup: [\"/bin/sh $TRASH/waitfor.sh $TRASH/j/upgo\"]}"
echo "block $TRASH/j/go" >j/mode
touch "$TRASH/sbatch.kill"
try "$CALIB" run -b slurm j/calib.yaml
cat out err >>j.out
check "j: calib run died right after its first sbatch (exit $rc)" test "$rc" -eq 137
start_run j
check "j: started again, it finds the array" poll 60 grep -q "found job" j.out
check "j: the members run" poll 60 running j 0 4
kill -9 "$pid"
wait "$pid" 2>/dev/null
start_run j
touch j/go
check "j: started again, it submits the update job, which runs" \
    poll 60 job_running j update 0
kill -9 "$pid"
wait "$pid" 2>/dev/null
touch j/upgo
start_run j
wait_run 120
check "j: started a last time, it completes (exit $rc)" test "$rc" -eq 0
check "j: with no extra submission" test "$(subs j)" -eq "$ref_subs"
finish j

# k: the update SIGKILLed while it writes.  Under Slurm, the update job is
# SIGKILLed a few milliseconds after it starts (up to 3 times); then, from
# the state that leaves, a local calib update is killed by strace at each
# of its writes, fsyncs and renames in turn, and each time a calib update
# after it must write the next iteration as the reference did; then calib
# run finishes the calibration from one such half-written state.
begin "k: the update SIGKILLed mid-write"
exp k "update_resources: {setup: [\"/bin/sh $TRASH/killer.sh $TRASH/k/kills\"]}"
: >k/kills
start_run k
poll 90 dead
wait_run 1
check "k: the update job was SIGKILLed" test -s k/kills
show k/kills 3
echo "# k: calib run ended with exit $rc"
show k.out 3
same_next() {
	for m in 1 2 3 4; do
		cmp -s "ref/output/iteration_001/member_00$m/p.env" \
		    "k/output/iteration_001/member_00$m/p.env" || return 1
	done
}
if ! command -v strace >/dev/null; then
	ok 0 "k: # SKIP strace is not installed: no kill at each write"
elif [ -f k/output/iteration_001/ensemble.h5 ] && [ -f k/output/iteration_000/results.h5 ]; then
	ok 0 "k: # SKIP the update job finished before it was killed"
else
	cp -a k/output k.before
	kills=0 bad=
	for sc in pwrite64 write fsync rename; do
		n=1
		while [ $n -le 100 ]; do
			rm -rf k/output
			cp -a k.before k/output
			strace -o /dev/null -e trace=$sc -e inject=$sc:signal=KILL:when=$n \
			    "$CALIB" update -i 0 k/output >/dev/null 2>&1
			[ $? -eq 137 ] || break
			kills=$((kills + 1))
			if ! "$CALIB" update -i 0 k/output >k.update 2>&1 || ! same_next; then
				bad="$bad $sc#$n"
				show k.update 2
			fi
			n=$((n + 1))
		done
	done
	check "k: calib update killed at each of $kills writes, fsyncs and renames" \
	    test "$kills" -ge 10
	check "k: each time, the next update recovers the same next iteration" \
	    test -z "$bad"
	echo "# k: recovery failed after kills at:${bad:- none}"
	# Leave the state of a kill at the third pwrite64 for calib run.
	rm -rf k/output
	cp -a k.before k/output
	strace -o /dev/null -e trace=pwrite64 -e inject=pwrite64:signal=KILL:when=3 \
	    "$CALIB" update -i 0 k/output >/dev/null 2>&1
fi
printf 'off\noff\noff\n' >>k/kills
start_run k
wait_run 120
check "k: calib run resumes and completes (exit $rc)" test "$rc" -eq 0
finish k

# l: the output folder on a small tmpfs, filled while the members run
# (l1) and while the update job runs (l2); freed, calib run must resume
# with nothing lost.
tmpfs_output() {
	"$CALIB" init "$1/calib.yaml" >>"$1.out" 2>&1 &&
	    mv "$1/output" "$1/output.init" && mkdir "$1/output" &&
	    mount -t tmpfs -o size=4m calibtest "$1/output" || return 1
	mounts="$mounts $TRASH/$1/output"
	cp -a "$1/output.init/." "$1/output/" && rm -rf "$1/output.init"
}
fill() {
	dd if=/dev/zero of="$1/output/filler" bs=64k >/dev/null 2>&1
	test "$(df --output=avail "$1/output" | tail -n1)" -lt 64
}
begin "l1: disk full while the members run"
exp l1
if tmpfs_output l1; then
	echo "block $TRASH/l1/go" >l1/mode
	start_run l1
	check "l1: the members run" poll 60 running l1 0 4
	check "l1: the output folder is full" fill l1
	touch l1/go
	wait_run 120
	check "l1: calib run stops (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
	check "l1: saying the disk is full" grep -q 'No space left on device' l1.out
	rm -f l1/output/filler
	start_run l1
	wait_run 120
	check "l1: freed, calib run resumes and completes (exit $rc)" test "$rc" -eq 0
else
	ok 1 "l1: a tmpfs for the output folder"
fi
finish l1

begin "l2: disk full while the update job runs"
exp l2 "update_resources: {setup: [\"/bin/sh $TRASH/waitfor.sh $TRASH/l2/upgo\"]}"
if tmpfs_output l2; then
	start_run l2
	check "l2: the update job runs" poll 60 job_running l2 update 0
	check "l2: the output folder is full" fill l2
	touch l2/upgo
	wait_run 120
	check "l2: calib run stops (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
	check "l2: naming the update job that failed" grep -q 'update' l2.out
	check "l2: the iteration stays open" test ! -e l2/output/iteration_001/ensemble.h5
	rm -f l2/output/filler
	start_run l2
	wait_run 120
	check "l2: freed, calib run resumes and completes (exit $rc)" test "$rc" -eq 0
else
	ok 1 "l2: a tmpfs for the output folder"
fi
finish l2

echo "# case | outcome | extra submissions"
printf '%s' "$table"
done_testing
