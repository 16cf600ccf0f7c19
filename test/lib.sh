# A tiny TAP library for calib's CLI tests.  Each test script sources it,
# makes its files under $TRASH, and ends with done_testing.
TOP=$(cd "$(dirname "$0")/.." && pwd)
CALIB="$TOP/calib"
# Under SANITIZE=1, leaks of the libraries PLplot loads are not calib's.
LSAN_OPTIONS="suppressions=$TOP/test/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
TRASH="$TOP/test/trash/$(basename "$0" .sh)"
rm -rf "$TRASH"
mkdir -p "$TRASH"
cd "$TRASH" || exit 1
tap_n=0
tap_failed=0
# The first failing description, for scripts that summarise their cases
# (they reset it at the start of each).
tap_first_failure=

# ok STATUS DESCRIPTION: STATUS 0 passes.
ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
		tap_first_failure=${tap_first_failure:-$2}
	fi
}

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	_d=$1
	shift
	if "$@"; then ok 0 "$_d"; else ok 1 "$_d"; fi
}

# try COMMAND...: run it, keeping its status in $rc and output in out, err.
try() {
	"$@" >out 2>err </dev/null
	rc=$?
}

# expect_rc N DESCRIPTION: the last try exited N.
expect_rc() {
	if [ "$rc" -eq "$1" ]; then
		ok 0 "$2"
	else
		ok 1 "$2 (exit $rc, expected $1)"
		sed 's/^/# /' err
	fi
}

# has FILE TEXT: FILE contains TEXT literally.
has() {
	grep -qF -- "$2" "$1" || { echo "# '$2' not in $1:"; sed 's/^/#   /' "$1"; return 1; }
}

# poll SECONDS COMMAND...: retry COMMAND until it succeeds or time runs out.
poll() {
	_end=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.05
	done
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# make_experiment DIR [EXTRA YAML]: a small experiment whose model is
# test/model.sh; the file DIR/mode tells the model how to behave.
make_experiment() {
	mkdir -p "$1"
	printf '1\n2\n3\n' >"$1/obs.txt"
	cat >"$1/calib.yaml" <<YAML
name: tiny
ensemble_size: ${SIZE:-4}
iterations: ${ITERATIONS:-2}
seed: 7
parameters:
  a:
    prior: {normal: {mean: 0, std: 1}}
  b:
    prior: {constrained_gaussian: {mean: 2, std: 0.5, lower: 0, upper: .inf}}
observations:
  values: obs.txt
  noise: {std: 0.5}
forward_model:
  command: ["/bin/sh", "$TOP/test/model.sh", "{parameters}", "{output}"]
  parameter_file: {name: p.env, format: env}
  output: {file: out.txt}
  timeout: ${TIMEOUT:-1m}
$2
YAML
}

# start_slurm: a real single-node Slurm cluster for this script, from
# test/slurm-cluster.sh, stopped when the script exits however it exits.
# Extra arguments are exported first (CALIB_TEST_MAX_ARRAY=5).
start_slurm() {
	if [ "$(id -u)" -ne 0 ] || ! command -v slurmctld >/dev/null 2>&1; then
		echo "1..0 # SKIP needs root and Debian's slurm-wlm"
		exit 0
	fi
	for _v; do export "$_v"; done
	SLURM_DIR=$TRASH/slurm
	trap 'sh "$TOP/test/slurm-cluster.sh" stop "$SLURM_DIR"' EXIT
	trap 'exit 1' INT TERM HUP
	if ! sh "$TOP/test/slurm-cluster.sh" start "$SLURM_DIR"; then
		echo "Bail out! the test Slurm cluster did not start"
		exit 1
	fi
	. "$SLURM_DIR/env"
	export SLURM_CONF
}

# wrap_commands CMD...: put logging wrappers first in PATH; each call
# appends its command line to $TRASH/calls, then runs the real command.
wrap_commands() {
	mkdir -p "$TRASH/bin"
	for _c; do
		_real=$(command -v "$_c") || return 1
		cat >"$TRASH/bin/$_c" <<WRAP
#!/bin/sh
echo "$_c \$*" >>"$TRASH/calls"
exec "$_real" "\$@"
WRAP
		chmod +x "$TRASH/bin/$_c"
	done
	PATH=$TRASH/bin:$PATH
	: >"$TRASH/calls"
}

# calls CMD: how many times CMD ran through its wrapper.
calls() {
	grep -c "^$1 " "$TRASH/calls"
}

# same_ensembles A B N: the experiments in folders A and B have the same
# ensembles, to the last bit, at iterations 0..N.
same_ensembles() {
	/usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import sys, h5py, numpy as np
a, b, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for it in range(n + 1):
    f = "/output/iteration_%03d/ensemble.h5" % it
    x, y = h5py.File(a + f)["constrained"][()], h5py.File(b + f)["constrained"][()]
    if not np.array_equal(x, y):
        sys.exit("iteration %d differs" % it)
PY
}

# no_live_jobs: squeue lists no pending or running job.
no_live_jobs() {
	[ -z "$(squeue -h -t pending,running -o %i)" ]
}
