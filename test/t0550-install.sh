#!/bin/sh
# make install: the binary, the man pages, the templates, the examples the
# man pages point to (built, runnable) and the bash completion.
. "$(dirname "$0")/lib.sh"

inst=$TRASH/inst
make -s -C "$TOP" install DESTDIR="$inst" PREFIX=/usr >make.out 2>&1
ok $? "make install DESTDIR=... PREFIX=/usr"
p=$inst/usr
for f in bin/calib lib/calib/calib-core.so share/man/man1/calib-check.1 share/man/man1/calib-export.1 \
    share/man/man5/calib-state.5 share/man/man7/calib-templates.7 \
    share/calib/templates/slurm/member.sbatch share/calib/templates/pbs/update.pbs \
    share/calib/examples/linear/calib.yaml share/calib/examples/lorenz96/calib.yaml \
    share/bash-completion/completions/calib; do
	check "installs $f" test -f "$p/$f"
done
check "the examples' models, built and executable" \
    test -x "$p/share/calib/examples/linear/model" -a -x "$p/share/calib/examples/lorenz96/model"
check "no output folder of an earlier demo" test ! -e "$p/share/calib/examples/lorenz96/output"

# An installed example, copied where the user can write, passes calib check
# with a smoke run.
cp -r "$p/share/calib/examples/linear" lin
try "$p/bin/calib" check --smoke lin/calib.yaml
expect_rc 0 "the installed linear example passes calib check --smoke"

# The installed calib finds its core in ../lib/calib; a calib binary
# copied alone says what it misses.
try "$p/bin/calib" --version
expect_rc 0 "the installed calib loads its core"
check "and says its version" has out "calib "
mkdir alone
cp "$p/bin/calib" alone/
try alone/calib status lin/calib.yaml
expect_rc 1 "a calib without its core fails"
check "saying where it looked" has err "cannot load calib-core.so (looked in $TRASH/alone and"

# The completion, as bash calls it.
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
	    _calib; echo "${COMPREPLY[*]}"' sh "$p/share/bash-completion/completions/calib" "$@"
}
check "completes commands" test "$(complete_words calib ex)" = "exec export"
check "completes backends after -b" test "$(complete_words calib run -b s)" = "slurm"
check "completes export formats" test "$(complete_words calib export -f j)" = "json"
check "completes a command's options" test "$(complete_words calib check --s)" = "--smoke"
check "completes calib report" test "$(complete_words calib rep)" = "report"
check "completes run --report" test "$(complete_words calib run --rep)" = "--report"
"$CALIB" -h | awk '/^commands:/ { on = 1; next } on && /^   / { print $1 }' >cmds
complete_words calib '' | tr ' ' '\n' >words
for c in $(cat cmds); do
	check "completes calib $c" grep -qx "$c" words
done
check "completes experiment files" test "$(complete_words calib run lin/cal)" = "lin/calib.yaml"
done_testing
