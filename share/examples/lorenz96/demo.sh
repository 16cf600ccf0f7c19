#!/bin/sh
# make demo: calibrate Lorenz-96 on the local backend from a fresh start and
# compare the final estimates with the truth the observations came from;
# then draw the report (calib-report(1)) and say where it is.
set -e
top=$(cd "$(dirname "$0")/../../.." && pwd)
ex="$top/share/examples/lorenz96"
calib="$top/calib"

"$calib" init --force "$ex/calib.yaml"
"$calib" run "$ex/calib.yaml"
json=$("$calib" status --json "$ex/calib.yaml")
# The last iteration's estimates (sed's greedy match takes the last one).
F=$(printf '%s\n' "$json" | sed -n 's/.*"F":{"mean":\([^,]*\),.*/\1/p')
D=$(printf '%s\n' "$json" | sed -n 's/.*"damping":{"mean":\([^,]*\),.*/\1/p')
echo
echo "parameter   estimate    truth"
printf 'F          %9.4f   %6.3f\n' "$F" 8
printf 'damping    %9.4f   %6.3f\n' "$D" 1
index=$("$calib" report "$ex/calib.yaml")
status=0
awk -v f="$F" 'BEGIN {
	err = (f - 8) / 8; if (err < 0) err = -err
	printf "F is within %.2f%% of the truth\n", 100 * err
	exit !(err < 0.05)
}' || status=$?
echo "the report: $index"
exit $status
