#!/bin/sh
# Lorenz-96 through a real Slurm cluster, attached and detached: the same
# estimates as on the local backend, two sbatch calls per iteration and one
# squeue call per poll.
. "$(dirname "$0")/lib.sh"
start_slurm
wrap_commands sbatch squeue scancel sacct scontrol

ex=$TOP/share/examples/lorenz96
for d in local attached detached; do
	mkdir -p $d
	cp "$ex/calib.yaml" "$ex/obs.txt" "$ex/noise_std.txt" "$ex/model" $d/
	printf 'backend: {poll_interval: 2s}\nresources: {time: 10m, mem: 200M}\n' \
	    >>$d/calib.yaml
done
iters=$(sed -n 's/^iterations: //p' local/calib.yaml)

try "$CALIB" run local/calib.yaml
expect_rc 0 "lorenz96 runs on the local backend"

# Attached.
: >"$TRASH/calls"
try "$CALIB" run -v -b slurm attached/calib.yaml
expect_rc 0 "lorenz96 runs through Slurm, attached"
cp out attached.out
check "two sbatch calls per iteration" \
    test "$(calls sbatch)" -eq $((2 * (iters + 1)))
check "one array job per iteration" \
    test "$(grep -c -- '--array=1-20 ' "$TRASH/calls")" -eq $((iters + 1))
check "one squeue call per poll" \
    test "$(calls squeue)" -eq "$(grep -c '^poll [0-9]*:' attached.out)"
check "each squeue call asks about every job at once" \
    test "$(grep '^squeue ' "$TRASH/calls" | grep -vc -- ' --jobs [0-9,]*$')" -eq 0
check "update jobs wait for their array" \
    test "$(grep -c -- '--dependency=afterany:[0-9]* --kill-on-invalid-dep=yes' \
    "$TRASH/calls")" -eq $((iters + 1))
check "member logs are in the member folders" \
    test -s attached/output/iteration_000/member_001/slurm-*_1.out -o \
    -f attached/output/iteration_000/member_001/slurm-*_1.out
check "scripts are kept in the iteration folder" \
    test -f attached/output/iteration_003/member.sbatch -a \
    -f attached/output/iteration_003/update.sbatch

# The same ensembles as on the local backend, to the last bit: members and
# the update are deterministic for a given seed.
check "attached: the same ensembles as the local backend" same_ensembles local attached "$iters"

# Detached: submit the chain, return at once, finish without calib.
: >"$TRASH/calls"
try "$CALIB" run -d -b slurm detached/calib.yaml
expect_rc 0 "calib run --detach submits and exits"
check "the whole chain in 2 sbatch calls per iteration" \
    test "$(calls sbatch)" -eq $((2 * (iters + 1)))
check "member arrays after the first wait for the update before them" \
    test "$(grep -c -- '--array=1-20 .*--dependency=afterok:' "$TRASH/calls")" \
    -eq "$iters"
check "--detach says how to reattach" has out "'calib run' reattaches"
try "$CALIB" status detached/calib.yaml
check "calib status lists the live jobs" has out "live jobs (slurm):"
final=detached/output/iteration_$(printf %03d "$iters")/results.h5
check "the detached chain finishes on its own" poll 900 test -f "$final"
try "$CALIB" run -b slurm detached/calib.yaml
expect_rc 0 "calib run afterwards reattaches and finds the work done"
check "reattaching submits nothing" \
    test "$(calls sbatch)" -eq $((2 * (iters + 1)))
check "detached: the same ensembles as the local backend" \
    same_ensembles local detached "$iters"

# The number of submissions does not grow with the ensemble.
: >"$TRASH/calls"
SIZE=100 ITERATIONS=1 make_experiment big "backend: {poll_interval: 2s}"
try "$CALIB" run -v -b slurm big/calib.yaml
expect_rc 0 "100 members through Slurm"
check "still two sbatch calls per iteration" test "$(calls sbatch)" -eq 4
check "still one squeue call per poll" \
    test "$(calls squeue)" -eq "$(grep -c '^poll [0-9]*:' out)"

# The estimate itself, as make demo checks it.
F=$("$CALIB" status --json detached/calib.yaml |
    sed -n 's/.*"F":{"mean":\([^,]*\),.*/\1/p')
check "F within 5% of the truth 8 (got $F)" \
    awk -v f="$F" 'BEGIN { e = (f - 8) / 8; exit !(e < 0.05 && e > -0.05) }'

# A detached chain that the data_misfit timestep stops early: the jobs after
# the stop exit at once without running anything, and the chain drains.
mkdir -p dmc
cp "$ex/obs.txt" "$ex/noise_std.txt" "$ex/model" dmc/
sed '/^iterations:/d; /^algorithm:/,$d' "$ex/calib.yaml" >dmc/calib.yaml
printf 'iterations: 12\nalgorithm:\n  method: eki\n  timestep: {data_misfit: {terminate_at: 1}}\n' >>dmc/calib.yaml
printf 'backend: {poll_interval: 2s}\nresources: {time: 10m, mem: 200M}\n' >>dmc/calib.yaml
try "$CALIB" run -d -b slurm dmc/calib.yaml
expect_rc 0 "a data_misfit chain of 12 iterations is submitted"
check "the chain drains" poll 900 no_live_jobs
try "$CALIB" status dmc/calib.yaml
check "calib status reports the stop" has out "stopped after iteration"
stop=$(sed -n 's/^stopped after iteration \([0-9]*\):.*/\1/p' out)
check "it stopped before iteration 12 (at ${stop:-?})" test "${stop:-99}" -lt 12
next=$(printf %03d $((${stop:-0} + 1)))
check "no iteration after the stop was closed" \
    test ! -e dmc/output/iteration_$next/results.h5
check "the next iteration's member jobs ran and said why they did nothing" \
    grep -q "the calibration stopped after iteration $stop" \
    dmc/output/iteration_$next/member_001/slurm-*_1.out
try "$CALIB" run -b slurm dmc/calib.yaml
expect_rc 0 "calib run afterwards"
check "finds the calibration stopped" has out "done: stopped after iteration $stop of 12"

done_testing
