#!/bin/sh
# make bench: calib update for N_ens in {100, 1000} and N_obs in {1e4, 1e5}
# with N_par = 100, beside the floor: one dsyrk of the same S on this machine.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
b="$top/test/bench/bench_update"
work="$top/test/trash/bench"
printf '%6s %8s %6s  %10s %10s  %10s %7s\n' N_ens N_obs N_par "update s" \
	"peak MiB" "dsyrk s" ratio
for n in 100 1000; do
	for d in 10000 100000; do
		rm -rf "$work"
		"$b" prepare "$work" $n $d 100 >/dev/null
		set -- $("$b" update "$top/calib" "$work/output")
		floor=$("$b" syrk $n $d)
		printf '%6d %8d %6d  %10.3f %10.0f  %10.3f %7.1f\n' $n $d 100 \
			"$1" "$2" "$floor" "$(echo "$1 $floor" | awk '{ print $1 / $2 }')"
	done
done
rm -rf "$work"
echo
echo "update s: wall time of 'calib update' (reading every member's"
echo "output, writing results.h5 and the next iteration); peak MiB: its"
echo "maximum resident set; dsyrk s: one cblas_dsyrk of S (N_ens x N_obs),"
echo "the floor of the ensemble-space update."
