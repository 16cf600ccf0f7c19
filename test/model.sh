#!/bin/sh
# The forward model of calib's CLI tests: g = (a, a + b, b) from an env
# parameter file.  $CALIB_EXPERIMENT_DIR/mode picks a misbehaviour for the
# members it names ("fail 2 3", "sleep 1", "nan", "short", "nooutput",
# "hang", "block FILE 2 3", "stubborn FILE 2": like block, deaf to SIGTERM;
# "termfail FILE 2": like block, exits 1 on SIGTERM;
# "dir", "fifo", "binary": the output is a folder, a FIFO, control bytes;
# "npyhuge": a .npy header whose shape's product wraps 64 bits; "escape":
# a child leaves the group with setsid, its pid in escapee.pid, and would
# rewrite the output 0.5 s after the model ends; "alive FILE": alive.txt
# says "alive" or "gone" for the process whose pid FILE holds).
# When $CALIB_EXPERIMENT_DIR/runs exists, each run that writes its output
# appends "ITERATION MEMBER" to it, so a test can see what ran twice.
. "$1"
out=$2
mode=$(cat "$CALIB_EXPERIMENT_DIR/mode" 2>/dev/null)
env | grep '^CALIB_' | sort >calib.env
set -- $mode
what=$1
[ $# -gt 0 ] && shift
case $what in
block|stubborn|termfail|alive)
	file=$1
	shift ;;
esac
hit=0
[ $# -eq 0 ] && hit=1
for m in "$@"; do [ "$m" = "$CALIB_MEMBER" ] && hit=1; done
if [ "$hit" = 1 ]; then
	case $what in
	fail) echo "failing on purpose" >&2; exit 3 ;;
	nan) printf 'nan\n1\n2\n' >"$out"; exit 0 ;;
	short) printf '1\n2\n' >"$out"; exit 0 ;;
	nooutput) exit 0 ;;
	dir) mkdir -p "$out"; exit 0 ;;
	fifo) mkfifo "$out"; exit 0 ;;
	binary) printf '1\n\033[31m\001\002zz\n' >"$out"; exit 0 ;;
	npyhuge) /usr/bin/python3 -c '
import struct, sys
h = b"{\x27descr\x27: \x27<f8\x27, \x27fortran_order\x27: False, \x27shape\x27: (2305843009213693952, 8), }"
h += b" " * (63 - (10 + len(h)) % 64) + b"\n"
open(sys.argv[1], "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h)
' "$out"; exit 0 ;;
	hang) sleep 1000 & echo $! >child.pid; wait; exit 0 ;;
	kill) kill -9 $$ ;;
	block) while [ ! -e "$file" ]; do sleep 0.05; done ;;
	stubborn) trap '' TERM; while [ ! -e "$file" ]; do sleep 0.05; done ;;
	termfail) trap 'exit 1' TERM; while [ ! -e "$file" ]; do sleep 0.05; done ;;
	escape)
		rm -f escaped
		setsid sh -c 'echo >escaped; sleep 0.5
		    printf "100\n100\n100\n" >"$1"; echo >rewrote' sh "$out" &
		echo $! >escapee.pid
		while [ ! -e escaped ]; do sleep 0.05; done ;;
	alive)
		s=$(sed 's/.*) //' "/proc/$(cat "$file")/stat" 2>/dev/null | cut -c1)
		if [ -n "$s" ] && [ "$s" != Z ]; then echo alive; else echo gone; fi >alive.txt ;;
	esac
fi
awk -v a="$a" -v b="$b" 'BEGIN { printf "%.17g\n%.17g\n%.17g\n", a, a + b, b }' >"$out" || exit
if [ -e "$CALIB_EXPERIMENT_DIR/runs" ]; then
	echo "$CALIB_ITERATION $CALIB_MEMBER" >>"$CALIB_EXPERIMENT_DIR/runs"
fi
