#!/bin/sh
# calib exec keeps exactly the values it validated (kept.f64, what the
# update reads), and leaves no process of the model behind: not one that
# left the group with setsid, not one an earlier, killed calib exec left.
. "$(dirname "$0")/lib.sh"

# alive PID: the process exists and is not a zombie.
alive() {
	_s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$_s" ] && [ "$_s" != Z ]
}

# same_next A B: the experiments in folders A and B wrote the same
# parameter files for iteration 1, so their updates read the same values.
same_next() {
	for _f in "$1"/output/iteration_001/member_*/p.env; do
		cmp -s "$_f" "$2/output/iteration_001/${_f#"$1"/output/iteration_001/}" ||
		    return 1
	done
}

# run_members DIR: init DIR and run its 4 members.
run_members() {
	"$CALIB" init "$1/calib.yaml" >/dev/null &&
	    for _m in 1 2 3 4; do
		"$CALIB" exec -i 0 -m $_m "$1/calib.yaml" 2>/dev/null || return 1
	    done
}

TIMEOUT=30s make_experiment ex
"$CALIB" init ex/calib.yaml >/dev/null || exit 1
m1=ex/output/iteration_000/member_001

# A child that escapes the model's group and would rewrite the output
# after calib exec validated it.
echo "escape" >ex/mode
try "$CALIB" exec -i 0 -m 1 ex/calib.yaml
expect_rc 0 "a model whose child escaped with setsid succeeds"
pid=$(cat $m1/escapee.pid)
check "the escapee had left the model's session" test -e $m1/escaped
check "the escapee is gone when calib exec returns" sh -c "! test -e /proc/$pid"
check "so it never rewrote the output" test ! -e $m1/rewrote
# (The escapee and its sleep: the count is of processes, not of escapees.)
check "model.log says what was killed" grep -Eq \
    "^calib exec: killed [0-9]+ process(es)? the model left behind" $m1/model.log
check "kept.f64 holds d float64 (3 * 8 bytes)" test "$(stat -c %s $m1/kept.f64)" -eq 24
check "the status records the attempt's token" \
    grep -Eq '^attempt_id=[0-9a-f]{32}$' $m1/status
id=$(sed -n 's/^attempt_id=//p' $m1/status)
check "the model had it as CALIB_ATTEMPT_ID" has $m1/calib.env "CALIB_ATTEMPT_ID=$id"

rm -f ex/mode
try "$CALIB" exec -f -i 0 -m 1 ex/calib.yaml
check "no leftovers, no note in model.log" \
    test "$(grep -c 'left behind' $m1/model.log)" -eq 1
check "each attempt has its own token" sh -c "! grep -q 'attempt_id=$id' $m1/status"

# calib exec killed outright: the next one kills what the model left.
m2=ex/output/iteration_000/member_002
echo "hang" >ex/mode
"$CALIB" exec -i 0 -m 2 ex/calib.yaml >/dev/null 2>&1 &
exec_pid=$!
poll 10 test -s $m2/child.pid
check "the model's child runs" alive "$(cat $m2/child.pid)"
kill -9 $exec_pid
{ wait $exec_pid; } 2>/dev/null
old=$(cat $m2/child.pid)
check "the model's child outlives calib exec killed with SIGKILL" alive $old
check "whose status still says running" has $m2/status "outcome=running"
echo "alive $TRASH/$m2/child.pid" >ex/mode
try "$CALIB" exec -i 0 -m 2 ex/calib.yaml
expect_rc 0 "the next calib exec of the member succeeds"
check "the old child was gone before the new model started" has $m2/alive.txt gone
check "and is gone now" sh -c "! { sed 's/.*) //' /proc/$old/stat 2>/dev/null | grep -q '^[^Z]'; }"
check "model.log says what was killed, with its pid" \
    grep -Eq "calib exec: killed [0-9]+ process(es)? left running by attempt 1 .*: ([0-9 ]* )?$old( |\$)" $m2/model.log
check "the status says ok" has $m2/status "outcome=ok"

# The update reads kept.f64, not the output the model may have changed.
rm -f ex/mode
make_experiment a
make_experiment b
make_experiment c
run_members a && run_members b && run_members c ||
    echo "Bail out! the members did not run"
for m in 1 2 3 4; do
	printf '9\n9\n9\n' >b/output/iteration_000/member_00$m/out.txt
	printf '9\n9\n9\n' >c/output/iteration_000/member_00$m/out.txt
	# c as written before calib kept the values: no token, no kept.f64.
	sed -i '/^attempt_id=/d' c/output/iteration_000/member_00$m/status
	rm c/output/iteration_000/member_00$m/kept.f64
done
try "$CALIB" update a/calib.yaml
expect_rc 0 "the reference update runs"
try "$CALIB" update b/calib.yaml
expect_rc 0 "an update after the outputs changed runs"
check "and computes the same next iteration: it used the kept values" same_next a b
try "$CALIB" status c/calib.yaml
expect_rc 0 "calib status reads members recorded by an older calib"
check "and writes nothing into their folders" \
    test ! -e c/output/iteration_000/member_001/kept.f64
try "$CALIB" update c/calib.yaml
expect_rc 0 "an update of members recorded by an older calib runs"
check "and keeps their values, for results.h5 to name" \
    test -s c/output/iteration_000/member_001/kept.f64
if same_next a c; then rc=1; else rc=0; fi
ok $rc "reading the outputs, as before kept.f64 existed"

# A kept.f64 of the wrong size, or missing, is the member failing, said.
make_experiment d
run_members d || echo "Bail out! the members did not run"
head -c 16 d/output/iteration_000/member_002/kept.f64 >short
cat short >d/output/iteration_000/member_002/kept.f64
rm d/output/iteration_000/member_003/kept.f64
CALIB_FS_LAG=0 try "$CALIB" update d/calib.yaml
expect_rc 0 "an update with two unreadable members of four still runs"
check "counting them as failed" has out "iteration 0: 2 of 4 members succeeded"
check "and warns, naming the first file and its size" has err \
    "2 of the members whose status says ok counted as failed; member 2: $TRASH/d/output/iteration_000/member_002/kept.f64: 16 bytes, expected 24"

make_experiment e
run_members e || echo "Bail out! the members did not run"
for m in 1 2 3; do
	printf 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' >e/output/iteration_000/member_00$m/kept.f64
done
try "$CALIB" update e/calib.yaml
expect_rc 1 "an update left with too few readable members fails"
check "saying why" has err "(3 with status ok unreadable, member 1: $TRASH/e/output/iteration_000/member_001/kept.f64: 32 bytes, expected 24"

done_testing
