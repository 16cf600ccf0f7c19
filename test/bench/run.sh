#!/bin/sh
# make bench: calib update with eki and etki for N_ens in {100, 1000} and
# N_obs up to 1e6, with N_par = 100, beside the floor: one dsyrk of the same
# S on this machine.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
b="$top/test/bench/bench_update"
work="$top/test/trash/bench"
printf '%-6s %6s %8s %6s  %10s %10s  %10s %7s\n' method N_ens N_obs N_par \
	"update s" "peak MiB" "dsyrk s" ratio
for case in "100 10000" "100 100000" "1000 100000" "100 1000000"; do
	set -- $case
	n=$1 d=$2
	floor=$("$b" syrk $n $d)
	for method in eki etki; do
		rm -rf "$work"
		"$b" prepare "$work" $n $d 100 $method >/dev/null
		set -- $("$b" update "$top/calib" "$work/output")
		printf '%-6s %6d %8d %6d  %10.3f %10.0f  %10.3f %7.1f\n' $method \
			$n $d 100 "$1" "$2" "$floor" \
			"$(echo "$1 $floor" | awk '{ print $1 / $2 }')"
	done
done
rm -rf "$work"
echo
echo "update s: wall time of 'calib update' (reading every member's"
echo "output, writing results.h5 and the next iteration); peak MiB: its"
echo "maximum resident set; dsyrk s: one cblas_dsyrk of S (N_ens x N_obs),"
echo "the floor of both ensemble-space updates (eki adds one GEMM of the"
echo "same size for the perturbed innovations, etki one GEMV)."

# calib report on a long calibration: its state written directly (no
# model runs), then the report drawn three times.
rm -rf "$work"
"$b" history "$work" 1000 100 20 20
echo
printf '%-34s %8s %8s %9s %9s\n' "report case" "min s" "median s" "peak MiB" "files MiB"
for rep in 1 2 3; do
	"$b" time "$top/calib" report "$work/calib.yaml"
done | sort -n >"$work/times"
awk -v mib="$(du -sm "$work/output/report" | cut -f1)" '
	{ t[NR] = $1; m[NR] = $2 }
	END { printf "%-34s %8.3f %8.3f %9.0f %9s\n",
	    "1000 members, 20 params, 20 its", t[1], t[2], m[2], mib }' \
	"$work/times"
rm -rf "$work"
echo "report: 5 figures, each as SVG, PNG and PDF, and index.html."
