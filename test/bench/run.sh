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

# Members: 1000 members of the linear example's model (a C
# program that writes 8 values) run by the local backend, 2 at once, beside
# xargs -P 2 running the same model on copies of the same parameter files;
# and calib exec one member at a time beside the model alone.  Every
# experiment is initialised before the timing (xargs finds its parameter
# files made), and no folder is removed before the end: removing thousands
# of files just before makes creating files slower for minutes on some
# filesystems (ext4 without a journal skips recently freed inodes).  The
# update cases above leave gigabytes to write back, which would slow every
# fsync here: they are flushed first.
rm -rf "$work"
sync
mkdir -p "$work"
ex="$top/share/examples/linear"
cp "$ex/model" "$ex/obs.txt" "$work/"
for rep in 1 2 3; do
	sed "s/^ensemble_size: .*/ensemble_size: 1000/; s/^iterations: .*/iterations: 0/;
	    s/^output_dir: .*/output_dir: run$rep/" "$ex/calib.yaml" >"$work/run$rep.yaml"
	"$top/calib" init "$work/run$rep.yaml" >/dev/null
	(cd "$work/run$rep/iteration_000" && for d in member_*; do
		mkdir -p "$work/xargs$rep/$d" &&
		cp "$d/parameters.env" "$work/xargs$rep/$d/" || exit 1; done)
done
# calib exec runs members of an experiment only initialised (its iteration
# stays open), each again with -f.
mkdir "$work/e"
cp "$work/model" "$work/obs.txt" "$work/e/"
sed 's/^ensemble_size: .*/ensemble_size: 200/' "$ex/calib.yaml" >"$work/e/calib.yaml"
"$top/calib" init "$work/e/calib.yaml" >/dev/null
for rep in 1 2 3; do
	"$b" time "$top/calib" run -j 2 "$work/run$rep.yaml" | sed 's/^/run /'
	"$b" time /bin/sh -c "cd '$work/xargs$rep' && ls -d member_* |
	    xargs -P 2 -I{} ../model {}/parameters.env {}/xargs.txt" | sed 's/^/xargs /'
	"$b" time /bin/sh -c "cd '$work/e' && for m in \$(seq 200); do
	    '$top/calib' exec --job -f -i 0 -m \$m calib.yaml >/dev/null || exit 1; done" |
	    sed 's/^/exec /'
	"$b" time /bin/sh -c "cd '$work/e' && for m in \$(seq -w 001 200); do
	    d=output/iteration_000/member_\$m
	    ./model \$d/parameters.env \$d/alone.txt || exit 1; done" |
	    sed 's/^/alone /'
done >"$work/times"
echo
awk '
	{ t[$1, ++n[$1]] = $2 }
	function stat(k,   i, j, x, a) {
		for (i = 1; i <= 3; i++) a[i] = t[k, i]
		for (i = 1; i <= 3; i++) for (j = i + 1; j <= 3; j++)
			if (a[j] < a[i]) { x = a[i]; a[i] = a[j]; a[j] = x }
		lo[k] = a[1]; med[k] = a[2]
	}
	END {
		stat("run"); stat("xargs"); stat("exec"); stat("alone")
		printf "%-44s %8s %8s\n", "members case", "min s", "median s"
		printf "%-44s %8.3f %8.3f\n", "calib run -j 2, 1000 members (local)",
		    lo["run"], med["run"]
		printf "%-44s %8.3f %8.3f\n", "xargs -P 2, the same 1000 model runs",
		    lo["xargs"], med["xargs"]
		printf "%-44s %8.2f %8.2f\n", "  ratio", lo["run"] / lo["xargs"],
		    med["run"] / med["xargs"]
		printf "%-44s %8.2f %8.2f\n", "calib exec over the model, ms per member",
		    (lo["exec"] - lo["alone"]) / 200 * 1000,
		    (med["exec"] - med["alone"]) / 200 * 1000
	}' "$work/times"
echo "calib run: the members and closing the iteration, on an experiment"
echo "initialised beforehand; calib exec: 200 members one after another, each run"
echo "again (-f), as a batch job runs it (--job)."
rm -rf "$work"
