#!/bin/sh
# A table of bad experiment files (test/data/bad-experiments.txt): each is
# refused with its file:line:column, key and reason, and nothing is written.
. "$(dirname "$0")/lib.sh"

# The cases' model, which init checks before it reads the data.
printf '#!/bin/sh\n' >model
chmod +x model
printf '1\n2\n3\n' >obs.txt
printf '1\n2 x3\n' >obs-bad.txt
printf '1\n1\n1\n1\n' >std4.txt
printf '1 0.5\n' >loc2.txt
printf '1\n0\n1\n' >std0.txt
awk -v dir="$TRASH" '
	/^## / { n++; f = sprintf("%s/case%02d", dir, n); print substr($0, 4) >(f ".expect"); next }
	/^#/ && !n { next }
	n { print >(f ".yaml") }
' "$TOP/test/data/bad-experiments.txt"

for exp in case*.expect; do
	c=${exp%.expect}
	read -r status message <"$exp"
	cp "$c.yaml" calib.yaml
	try "$CALIB" init calib.yaml
	expect_rc "$status" "$c: exit status $status"
	check "$c: $message" has err "$message"
	check "$c: nothing written" test ! -e output
done

done_testing
