#!/bin/sh
# Lorenz-96 through --backend=torque, run for real: Debian's slurm-wlm-torque
# qsub and qdel put the jobs on the real Slurm test cluster.  Its qstat has
# neither -x nor -t, so test/pbs/qstat adds those two from scontrol, in
# Torque's XML; the rest is the wrappers'.  The same estimates as on the
# local backend, two qsub calls per iteration, one qstat per poll.
. "$(dirname "$0")/lib.sh"
start_slurm
if ! command -v qsub >/dev/null 2>&1; then
	echo "1..0 # SKIP needs Debian's slurm-wlm-torque"
	exit 0
fi
PATH=$TOP/test/pbs:$PATH
wrap_commands qsub qstat qdel

ex=$TOP/share/examples/lorenz96
for d in local attached detached cancel; do
	mkdir -p $d
	cp "$ex/calib.yaml" "$ex/obs.txt" "$ex/noise_std.txt" "$ex/model" $d/
	printf 'backend: {poll_interval: 2s}\nresources: {time: 10m, mem: 200M}\n' \
	    >>$d/calib.yaml
done
iters=$(sed -n 's/^iterations: //p' local/calib.yaml)

try "$CALIB" run local/calib.yaml
expect_rc 0 "lorenz96 runs on the local backend"

try "$CALIB" backends
check "calib backends finds torque usable" has out "torque   usable"

# Attached.
: >"$TRASH/calls"
try "$CALIB" run -v -b torque attached/calib.yaml
expect_rc 0 "lorenz96 runs through Torque's commands, attached"
cp out attached.out
check "two qsub calls per iteration" \
    test "$(calls qsub)" -eq $((2 * (iters + 1)))
check "one array job (-t) per iteration" \
    test "$(grep -c -- '^qsub .* -t 1-20 ' "$TRASH/calls")" -eq $((iters + 1))
check "one qstat call per poll" \
    test "$(grep -c '^qstat -x -t ' "$TRASH/calls")" -eq \
    "$(grep -c '^poll [0-9]*:' attached.out)"
check "update jobs wait for their array" \
    test "$(grep -c -- '^qsub .* -W depend=afterany:[0-9]* ' "$TRASH/calls")" \
    -eq $((iters + 1))
check "the job scripts are kept, with Torque's directives" \
    grep -q '^#PBS -l walltime=00:10:00$' \
    attached/output/iteration_003/member.pbs
check "members record their job" \
    grep -q '^job=[0-9]' attached/output/iteration_002/member_007/status

check "attached: the same ensembles as the local backend" same_ensembles local attached "$iters"

# Detached: the chain waits on afterok between iterations.
: >"$TRASH/calls"
try "$CALIB" run -d -b torque detached/calib.yaml
expect_rc 0 "calib run --detach submits the chain and exits"
check "the whole chain in 2 qsub calls per iteration" \
    test "$(calls qsub)" -eq $((2 * (iters + 1)))
check "arrays after the first wait for the update before them" \
    test "$(grep -c -- '^qsub .* -t 1-20 -W depend=afterok:[0-9]* ' \
    "$TRASH/calls")" -eq "$iters"
final=detached/output/iteration_$(printf %03d "$iters")/results.h5
check "the detached chain finishes on its own" poll 900 test -f "$final"
try "$CALIB" run -b torque detached/calib.yaml
expect_rc 0 "calib run afterwards follows the chain to its end"
check "following submits nothing" \
    test "$(calls qsub)" -eq $((2 * (iters + 1)))
check "detached: the same ensembles as the local backend" \
    same_ensembles local detached "$iters"

# calib cancel deletes the whole chain with one qdel.
: >"$TRASH/calls"
try "$CALIB" run -d -b torque cancel/calib.yaml
expect_rc 0 "a second chain is submitted"
try "$CALIB" cancel cancel/calib.yaml
expect_rc 0 "calib cancel"
check "one qdel call for every job of the chain" \
    test "$(calls qdel)" -eq 1 -a \
    "$(grep '^qdel ' "$TRASH/calls" | wc -w)" -eq $((2 * (iters + 1) + 1))
check "no job is left" poll 60 no_live_jobs

F=$("$CALIB" status --json attached/calib.yaml |
    sed -n 's/.*"F":{"mean":\([^,]*\),.*/\1/p')
check "F within 5% of the truth 8 (got $F)" \
    awk -v f="$F" 'BEGIN { e = (f - 8) / 8; exit !(e < 0.05 && e > -0.05) }'
done_testing
