#!/bin/sh
# Run every libFuzzer harness built by `make fuzz-build` for SECONDS each
# (default 90), on a copy of its corpus under test/trash/fuzz/, so that the
# corpus in test/fuzz/corpus/ never grows.  Prints one line per harness
# with its executions and coverage (libFuzzer's final "#N DONE cov: C ft: F")
# or the error it stopped on; crashing inputs stay in test/trash/fuzz/crashes/
# and the logs in test/trash/fuzz/logs/.  Exits 1 when any harness crashed.
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-90}
work=$top/test/trash/fuzz
case $secs in
''|*[!0-9]*) echo "usage: sh test/fuzz/run.sh [SECONDS]" >&2; exit 2 ;;
esac

rm -rf "$work"
mkdir -p "$work/corpus" "$work/crashes" "$work/logs" "$work/tmp" || exit 1
# The harnesses make their private folders here: a crash leaves them behind.
TMPDIR=$work/tmp
export TMPDIR
UBSAN_OPTIONS=print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
export UBSAN_OPTIONS

status=0
found=0
for bin in "$top"/test/fuzz/fuzz_*; do
	case $bin in *.c) continue ;; esac
	[ -x "$bin" ] || continue
	found=1
	name=$(basename "$bin")
	log=$work/logs/$name.log
	mkdir -p "$work/corpus/$name"
	if [ -d "$top/test/fuzz/corpus/$name" ]; then
		cp -R "$top/test/fuzz/corpus/$name/." "$work/corpus/$name/"
	fi
	# A crash ends a libFuzzer run: start again on the grown corpus until
	# the time is spent, so one crash does not hide the next.
	end=$(($(date +%s) + secs))
	runs=0 crashes=0 line= first=
	left=$secs
	while [ "$left" -gt 0 ]; do
		: >"$log.run"
		"$bin" -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 \
		    -print_final_stats=1 -artifact_prefix="$work/crashes/$name-" \
		    "$work/corpus/$name" >"$log.run" 2>&1
		rc=$?
		cat "$log.run" >>"$log"
		n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log.run" |
		    tail -n 1)
		last=$(grep -E '^#[0-9]+[[:space:]]' "$log.run" | tail -n 1)
		[ -n "$n" ] || n=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
		runs=$((runs + ${n:-0}))
		[ -n "$last" ] && line=$last
		if [ "$rc" -eq 0 ]; then
			break
		fi
		crashes=$((crashes + 1))
		[ -n "$first" ] || first=$(grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:' "$log.run" | head -n 1)
		# Not even the corpus ran: starting again would crash again.
		grep -q 'INITED\|pulse\|NEW' "$log.run" || break
		left=$((end - $(date +%s)))
	done
	rm -f "$log.run"
	cov=$(echo "$line" | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/cov: \1 ft: \2/p')
	if [ "$crashes" -eq 0 ]; then
		printf '%-16s ok       %s runs, %s\n' "$name" "$runs" "$cov"
		continue
	fi
	status=1
	printf '%-16s CRASHED  %s runs, %s, %d crash(es); first:\n' "$name" \
	    "$runs" "${cov:-cov: ?}" "$crashes"
	printf '%-16s          %s\n' "" "${first:-see $log}"
done
if [ "$found" -eq 0 ]; then
	echo "run.sh: no harness in test/fuzz/; run 'make fuzz-build' first" >&2
	exit 2
fi
exit $status
