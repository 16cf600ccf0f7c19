#!/bin/sh
# make compare: calibrate share/examples/lorenz96 with every update method on
# the local backend and print the mean data misfit (per observation, about 1
# at the noise level) of each iteration, then each method's last estimate.
# usage: compare.sh [WORKDIR]; each run's 'calib status --json' is kept in
# WORKDIR/<label>.json.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$top/test/trash/compare}
calib="$top/calib"
ex="$top/share/examples/lorenz96"
rm -rf "$work"
mkdir -p "$work"
cp "$ex/obs.txt" "$ex/noise_std.txt" "$work/"
ln -s "$ex/model" "$work/model"

# label, then the lines that replace iterations and algorithm:
run() {
	label=$1
	shift
	sed "/^iterations:/d; /^algorithm:/,\$d; s|^output_dir: .*|output_dir: $label|" \
	    "$ex/calib.yaml" >"$work/$label.yaml"
	for line in "$@"; do
		printf '%s\n' "$line" >>"$work/$label.yaml"
	done
	if [ "$label" = uki ]; then
		sed -i '/^ensemble_size:/d' "$work/$label.yaml"
	fi
	(cd "$work" && "$calib" run "$label.yaml" >"$label.log" 2>&1) || {
		echo "compare: $label failed; see $work/$label.log" >&2
		tail -3 "$work/$label.log" >&2
		exit 1
	}
	(cd "$work" && "$calib" status --json "$label.yaml" >"$label.json")
}

run eki 'iterations: 8' 'algorithm:' '  method: eki'
run eki-dmc 'iterations: 15' 'algorithm:' '  method: eki' \
    '  timestep: {data_misfit: {terminate_at: 1}}'
run etki 'iterations: 8' 'algorithm:' '  method: etki'
run uki 'iterations: 8' 'algorithm:' '  method: uki'
run eks 'iterations: 20' 'algorithm:' '  method: eks'
run aldi 'iterations: 20' 'algorithm:' '  method: eks' '  eks: {variant: aldi}'
run esmda 'algorithm:' '  method: esmda' '  esmda: {weights: 4}'

/usr/bin/python3 - "$work" eki eki-dmc etki uki eks aldi esmda <<'PY'
import json, sys
work, labels = sys.argv[1], sys.argv[2:]
runs = {l: json.load(open(f"{work}/{l}.json")) for l in labels}
n = max(len(r["iterations"]) for r in runs.values())
print("mean data misfit per iteration (lorenz96, truth F = 8, damping = 1)")
print("iter " + "".join(f"{l:>10}" for l in labels))
for i in range(n):
    row = f"{i:4d} "
    for l in labels:
        it = runs[l]["iterations"]
        row += f"{it[i]['misfit']['mean']:10.3g}" if i < len(it) and it[i].get("misfit") else f"{'':>10}"
    print(row)
print()
print(f"{'method':8} {'members':>7} {'iters':>5} {'misfit':>8} {'F':>16} {'damping':>16}")
for l in labels:
    r = runs[l]
    last = r["iterations"][-1]
    p = last["parameters"]
    print(f"{l:8} {r['ensemble_size']:7d} {len(r['iterations']) - 1:5d} "
          f"{last['misfit']['mean']:8.3g} "
          f"{p['F']['mean']:8.4g} ±{p['F']['std']:<6.2g} "
          f"{p['damping']['mean']:8.4g} ±{p['damping']['std']:<6.2g}")
PY
