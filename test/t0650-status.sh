#!/bin/sh
# calib status: text and JSON, for closed and open iterations.
. "$(dirname "$0")/lib.sh"

SIZE=4 ITERATIONS=1 make_experiment ex
cat >>ex/calib.yaml <<'YAML'
YAML
sed -i 's/^  b:$/  v:\n    size: 2\n    prior: {normal: {mean: 1, std: 1}}\n  b:/' ex/calib.yaml
"$CALIB" init ex/calib.yaml >/dev/null || exit 1
try "$CALIB" status ex/calib.yaml
expect_rc 0 "status on a new experiment"
check "iteration 0 has 4 pending members" has out "iteration 0: 0 done, 0 failed, 4 pending; misfit unknown"
check "vector components are listed" has out "v[2]"

echo "fail 3" >ex/mode
for m in 1 2 3; do "$CALIB" exec -i 0 -m $m ex/calib.yaml 2>/dev/null; done
try "$CALIB" status --json ex/output
expect_rc 0 "status --json on an open iteration"
check "JSON counts done, failed and pending" has out '"members":{"done":2,"failed":1,"pending":1}'
check "JSON starts with the name" has out '{"name":"tiny","ensemble_size":4,"iterations":[{"iteration":0,'
check "a vector parameter has arrays" grep -q '"v":{"mean":\[[^],]*,[^],]*\],"std":\[' out
check "the misfit of an open iteration is known from outputs" grep -q '"misfit":{"mean":[0-9]' out

rm ex/mode
"$CALIB" exec -i 0 -m 3 ex/calib.yaml
"$CALIB" exec -i 0 -m 4 ex/calib.yaml
"$CALIB" update ex/calib.yaml >/dev/null
try "$CALIB" status --json ex/calib.yaml
check "two iterations after one update" grep -q '"iteration":1,' out
check "the closed iteration counts from results.h5" has out '{"iteration":0,"members":{"done":4,"failed":0,"pending":0}'
# The JSON is valid: a strict parser reads it and finds the same counts.
/usr/bin/python3 -c 'import json,sys; d=json.load(open("out")); assert d["iterations"][0]["members"]["done"] == 4; assert len(d["iterations"][1]["parameters"]["v"]["mean"]) == 2' 2>err
ok $? "the JSON parses and has the documented shape"

try "$CALIB" status nothere.yaml
expect_rc 2 "status on a missing experiment file is exit 2"

done_testing
