#!/bin/sh
# The libFuzzer harnesses of test/fuzz/: each runs its committed corpus and
# then a short bounded run without a crash, a leak or a sanitizer report.
# New inputs and crashes go under $TRASH, never into test/fuzz/corpus/.
. "$(dirname "$0")/lib.sh"

if ! command -v clang >/dev/null 2>&1; then
	echo "1..0 # SKIP needs clang (libFuzzer)"
	exit 0
fi
if ! (cd "$TOP" && make --no-print-directory fuzz-build >"$TRASH/build" 2>&1); then
	echo "Bail out! make fuzz-build failed"
	sed 's/^/# /' "$TRASH/build"
	exit 1
fi

# The harnesses make their private folders here, and must leave nothing.
mkdir -p "$TRASH/tmp" "$TRASH/crashes"
TMPDIR=$TRASH/tmp
export TMPDIR
UBSAN_OPTIONS=print_stacktrace=1
export UBSAN_OPTIONS

for src in "$TOP"/test/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	mkdir -p "$TRASH/corpus/$name"
	# The first folder gets the new inputs; the committed corpus is read,
	# with the inputs of every crash found so far (regression-*).  A fixed
	# seed makes a failure reproducible.  HDF5 1.10 itself crashes on some
	# damaged files: calib reads those in a child process (proc_probe), so
	# they end in an error, and the child's sanitizer report is not ours.
	"$TOP/test/fuzz/$name" -seed=1 -runs=2000 -max_total_time=3 -timeout=10 \
	    -artifact_prefix="$TRASH/crashes/$name-" "$TRASH/corpus/$name" \
	    "$TOP/test/fuzz/corpus/$name" >"$name.log" 2>&1
	rc=$?
	ok "$rc" "$name runs its corpus and 2000 inputs (or 3 s) cleanly"
	if [ "$rc" -ne 0 ]; then
		grep -E 'ERROR|runtime error|SUMMARY|#[0-9]+ .* in .*/(lib|schedulers)/' \
		    "$name.log" | head -n 12 | sed 's/^/# /'
		ls "$TRASH/crashes" | grep "^$name-" | sed 's/^/# input: /'
		# A crash skips the harness's cleanup: not what is tested below.
		rm -rf "$TRASH/tmp"/*
	fi
done
[ -z "$(ls -A "$TRASH/tmp")" ]
ok $? "the harnesses that ended cleanly left no files behind"

done_testing
