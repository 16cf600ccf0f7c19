#!/bin/sh
# Run the cmocka unit test programs named as arguments; fail if any fails.
status=0
for t in "$@"; do
	"./$t" || status=1
done
exit $status
