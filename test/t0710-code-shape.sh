#!/bin/sh
# The shape the code keeps (../shared/CONVENTIONS.md): short functions in
# lib/ and schedulers/, scheduler knowledge in schedulers/ alone, strings
# built with struct buf rather than by hand.
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1

# Functions in OpenBSD style: the name at column 0, the body from "{" to
# "}" at column 0.  Prints "file:line name lines".
lengths() {
	awk '/^[A-Za-z_][A-Za-z0-9_]*\(/ { name = $0; sub(/\(.*/, "", name); start = FNR; next }
	    /^\{/ && name != "" { body = 1; next }
	    /^\}/ && body { print FILENAME ":" start " " name " " FNR - start + 1; body = 0; name = "" }' "$@"
}
lengths lib/*.c schedulers/*.c >"$TRASH/lengths"
check "the function lengths were measured" \
    test "$(wc -l <"$TRASH/lengths")" -gt 100
awk '$3 > 100' "$TRASH/lengths" >"$TRASH/long"
check "no function in lib/ or schedulers/ is longer than 100 lines" \
    sh -c "! grep . '$TRASH/long'"
grep -n 'SLURM_\|PBS_' lib/*.c >"$TRASH/names"
check "lib/ names no Slurm or PBS variable" sh -c "! grep . '$TRASH/names'"
grep -n 'xappendf\|xasprintf("%s%s%s"' lib/*.c schedulers/*.c cmd/*.c >"$TRASH/appends"
check "no string is appended to by hand" sh -c "! grep . '$TRASH/appends'"
check "the journal does not serve schedulers/ its index lists" \
    sh -c "! grep -l 'lib/journal.h' schedulers/*.c"

done_testing
