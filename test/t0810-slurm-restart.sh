#!/bin/sh
# calib run killed at any instant and started again reattaches to its jobs
# and never submits the same work twice.
. "$(dirname "$0")/lib.sh"
start_slurm
wrap_commands sbatch squeue scancel scontrol

# Every member of every iteration is in exactly one member job.
once_each() {
	awk '/^submit .*kind=members/ {
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			f[kv[1]] = kv[2]
		}
		n = split(f["members"], r, ",")
		for (k = 1; k <= n; k++) {
			if (split(r[k], ab, "-") == 1) ab[2] = ab[1]
			for (m = ab[1]; m <= ab[2]; m++)
				if (seen[f["iteration"], m]++) {
					print "member " m " of iteration " \
					    f["iteration"] " submitted twice"
					bad = 1
				}
		}
	} END { exit bad }' "$1/output/jobs.journal"
}

running() {
	test "$(grep -l '^reason=running' "$1"/output/iteration_000/member_*/status \
	    2>/dev/null | wc -l)" -ge "$2"
}

# 1. SIGKILL while the members run.
SIZE=6 ITERATIONS=2 make_experiment a "backend: {poll_interval: 1s}"
echo "block $TRASH/a/go" >a/mode
"$CALIB" run -b slurm a/calib.yaml >a.out 2>&1 </dev/null &
pid=$!
check "members start running under Slurm" poll 60 running a 6
kill -9 $pid
wait $pid 2>/dev/null
check "the journal holds the array's id" grep -q '^job seq=1 id=' a/output/jobs.journal
"$CALIB" run -b slurm a/calib.yaml >a2.out 2>&1 </dev/null &
pid=$!
check "the second run sees the members still running" \
    poll 30 grep -q 'iteration 0: running 6 members\|kept' a2.out
touch a/go
wait $pid
ok $? "the restarted run completes the calibration"
check "no job submitted twice: 2 sbatch calls per iteration" \
    test "$(calls sbatch)" -eq 6
check "every member in exactly one member job" once_each a
check "the members ran once" \
    test "$(grep -l '^attempt=1$' a/output/iteration_000/member_*/status | wc -l)" -eq 6

# 2. Killed after sbatch answered and before calib recorded the id: the
#    job is found again by its unique name.
: >"$TRASH/calls"
SIZE=4 ITERATIONS=1 make_experiment b "backend: {poll_interval: 1s}"
real=$(PATH=${PATH#*:} command -v sbatch)
cat >"$TRASH/bin/sbatch" <<EOF
#!/bin/sh
echo "sbatch \$*" >>"$TRASH/calls"
out=\$("$real" "\$@") || exit
if [ ! -e "$TRASH/killed" ]; then
	touch "$TRASH/killed"
	kill -9 \$PPID
	exit 0
fi
echo "\$out"
EOF
try "$CALIB" run -b slurm b/calib.yaml
check "calib run died right after the first sbatch" test "$rc" -ne 0
check "the journal has the intent without an id" \
    test "$(grep -c '^submit' b/output/jobs.journal)" -eq 1 -a \
    "$(grep -c '^job' b/output/jobs.journal)" -eq 0
try "$CALIB" run -b slurm b/calib.yaml
expect_rc 0 "the next run completes the calibration"
check "it found the job submitted before" has out "found job"
check "still 2 sbatch calls per iteration" test "$(calls sbatch)" -eq 4
check "every member in exactly one member job" once_each b

# 3. A detached chain with calib run attached to it: nothing resubmitted.
: >"$TRASH/calls"
SIZE=4 ITERATIONS=2 make_experiment c "backend: {poll_interval: 1s}"
echo "block $TRASH/c/go" >c/mode
try "$CALIB" run -d -b slurm c/calib.yaml
expect_rc 0 "a detached chain is submitted"
"$CALIB" run -b slurm c/calib.yaml >c.out 2>&1 </dev/null &
pid=$!
touch c/go
wait $pid
ok $? "calib run follows the chain to its end"
check "following submits nothing more" test "$(calls sbatch)" -eq 6
check "every member in exactly one member job" once_each c
try "$CALIB" run -d -b slurm c/calib.yaml
expect_rc 0 "--detach on a finished calibration"
check "says there is nothing to submit" has out "nothing to submit"
done_testing
