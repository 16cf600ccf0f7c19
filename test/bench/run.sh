#!/bin/sh
# make bench: calib update with eki and etki at N_ens x N_obs from 250 x 1e5
# to 1000 x 1e6, with N_par = 100, each beside its floor timed in the same
# process on the same files; then calib report on a long calibration.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
b="$top/test/bench/bench_update"
work="$top/test/trash/bench"
rm -rf "$work"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$b" table "$top/calib" "$work"
rm -rf "$work"
cat <<'EOF'

update s: wall time of 'calib update' (reading every member's kept values,
whitening them, the update, results.h5 and the next iteration's files).
floor s: timed in this process just before each update, on the same files:
read, one sequential read of every member's values into one N x d array;
syrk, one cblas_dsyrk of it (S S'); ens, the ensemble-space work the method
needs (eki: pivoted Cholesky of S S', the n x n product with the normals
and the solve; etki: the eigendecomposition of S S').  ratio: update over
floor, per pair.  Min and median of 3 pairs.  peak MiB: the update's
maximum resident set (median); /data: over the N x d doubles it reads.
EOF
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

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
