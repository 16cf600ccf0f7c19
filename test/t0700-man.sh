#!/bin/sh
# The man pages: clean under mandoc -Tlint, one per command and file
# format, and each command's usage line is its page's SYNOPSIS.
. "$(dirname "$0")/lib.sh"

for page in "$TOP"/man/*; do
	mandoc -Tlint -Wwarning "$page" >lint 2>&1
	check "$(basename "$page") is clean under mandoc -Tlint" test ! -s lint
	[ -s lint ] && sed 's/^/# /' lint
done
for page in calib.1 calib-init.1 calib-exec.1 calib-update.1 calib-run.1 calib-export.1 calib-report.1 calib-check.1 calib-amend.1 \
    calib-status.1 calib-cancel.1 calib-backends.1 calib.yaml.5 calib-state.5 \
    calib-templates.7; do
	check "man/$page exists" test -f "$TOP/man/$page"
done

synopsis() {
	mandoc -Tascii "$TOP/man/$1" | col -b |
	    awk '/^SYNOPSIS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' |
	    tr -s ' \t\n' '   ' | sed 's/^ *//; s/ *$//'
}
for cmd in check init exec update run status report export amend cancel backends; do
	"$CALIB" "$cmd" -h | sed 's/^usage: //' | tr -s ' \n' '  ' |
	    sed 's/ *$//' >usage
	synopsis "calib-$cmd.1" >syn
	check "calib $cmd -h matches the SYNOPSIS of calib-$cmd(1)" cmp -s usage syn
	cmp -s usage syn || { echo "# usage:    $(cat usage)"; echo "# synopsis: $(cat syn)"; }
done
"$CALIB" -h | sed -n 1p | sed 's/^usage: //' | tr -d '\n' >usage
synopsis calib.1 >syn
check "calib -h matches the SYNOPSIS of calib(1)" cmp -s usage syn

# Every command in calib's table has its page.
"$CALIB" -h | awk '/^commands:/ { on = 1; next } on && /^   / { print $1 }' >cmds
while read -r cmd; do
	check "calib $cmd has a man page" test -f "$TOP/man/calib-$cmd.1"
done <cmds


# Every variable the built-in templates use, and every one calib renders,
# is described in calib-templates(7).
{
	grep -oh '{{[a-z_]*}}' "$TOP"/templates/*/*
	grep -o '(struct tvar){ "[a-z_]*"' "$TOP/lib/jobscript.c" |
	    sed 's/.*"\(.*\)"/{{\1}}/'
} | sort -u >vars
check "the variables calib renders are found" test "$(wc -l <vars)" -ge 7
while read -r v; do
	check "calib-templates(7) describes $v" grep -qF "Cm $v" "$TOP/man/calib-templates.7"
done <vars
done_testing
