#!/bin/sh
# Install the Debian packages named as arguments that are missing.  As root
# this runs apt-get; otherwise it prints the command to run.
missing=
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "calib: missing Debian packages:$missing" >&2
	echo "calib: run as root: apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null || exit 1
apt-get install -y -qq --no-install-recommends $missing </dev/null >/dev/null || exit 1
