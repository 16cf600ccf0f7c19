#!/bin/sh
# calib export: an iteration's estimate or one member as a parameter file,
# in every format; the mean is the one calib status reports.
. "$(dirname "$0")/lib.sh"

# The test model reads an env file; a template that writes one serves it,
# so that the experiment has all five formats.
SIZE=5 ITERATIONS=2 make_experiment ex
printf 'a={{a}}\nb={{b}}\n# iteration {{iteration}} member {{member}}\n' >ex/p.tmpl
sed -i 's|parameter_file: {name: p.env, format: env}|parameter_file: {name: p.env, format: template, template: p.tmpl}|' ex/calib.yaml
try "$CALIB" run ex/calib.yaml
expect_rc 0 "a small calibration runs"
"$CALIB" status --json ex/calib.yaml >status.json

# mean_of FORMAT FILE: the file's a and b, read by Python's own parsers.
mean_of() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys, tomllib, yaml
fmt, path = sys.argv[1], sys.argv[2]
text = open(path).read()
if fmt == "toml":
    d = tomllib.loads(text)
    v = {k: d[k]["value"] for k in d}
elif fmt == "json":
    v = json.loads(text)
elif fmt == "yaml":
    v = yaml.safe_load(text)
else:
    v = dict(l.split("=", 1) for l in text.splitlines() if "=" in l)
print(repr(float(v["a"])), repr(float(v["b"])))
PY
}
want=$(/usr/bin/python3 -c '
import json
p = json.load(open("status.json"))["iterations"][-1]["parameters"]
print(repr(p["a"]["mean"]), repr(p["b"]["mean"]))')
for f in toml json yaml env template; do
	try "$CALIB" export --mean -f $f ex/calib.yaml
	expect_rc 0 "export --mean -f $f"
	cp out mean.$f
	check "its values are the final mean calib status reports ($f)" \
	    test "$(mean_of $f mean.$f)" = "$want"
done
check "the default format is the experiment's" sh -c \
    "'$CALIB' export ex/calib.yaml | cmp -s - mean.template"
check "a template's member is 0 for the mean" has mean.template "member 0"

# A member is exactly the parameter file it ran with.
try "$CALIB" export -i 1 -m 3 ex/calib.yaml
expect_rc 0 "export -i 1 -m 3"
check "it is member 3's parameter file of iteration 1" \
    cmp -s out ex/output/iteration_001/member_003/p.env
try "$CALIB" export -i 0 -m 5 -o m5.env ex/output
expect_rc 0 "export -o FILE, from the output directory"
check "writes the file" cmp -s m5.env ex/output/iteration_000/member_005/p.env
check "and nothing on stdout" test ! -s out
check "leaves no temporary file" sh -c "! ls -a | grep -q '^\.m5'"

# Errors.
try "$CALIB" export -i 7 ex/calib.yaml
expect_rc 1 "an iteration that does not exist"
check "is named" has err "iteration 7 does not exist"
try "$CALIB" export -m 6 ex/calib.yaml
expect_rc 1 "a member out of range"
check "is named" has err "member 6 is out of range 1..5"
try "$CALIB" export --mean -m 2 ex/calib.yaml
expect_rc 2 "--mean with -m is a usage error"
try "$CALIB" export -f xml ex/calib.yaml
expect_rc 2 "an unknown format is a usage error"
check "listing the formats" has err "unknown format 'xml' (toml, json, yaml, env or template)"
SIZE=3 ITERATIONS=1 make_experiment plain
"$CALIB" init plain/calib.yaml >/dev/null || exit 1
try "$CALIB" export -f template plain/calib.yaml
expect_rc 1 "a template export of an experiment without one"
check "says there is no template" has err "has no parameter template"
try "$CALIB" export -o /nonexistent/dir/p.env plain/calib.yaml
expect_rc 1 "an output file that cannot be written"
check "is named" has err "/nonexistent/dir/"
make_experiment fresh
try "$CALIB" export fresh/calib.yaml
expect_rc 1 "an experiment not initialised"
check "says so" has err "not initialised"

# uki: the estimate is uki's own mean, constrained.
# (uki's ensemble is its 2p + 1 sigma points.)
SIZE=5 ITERATIONS=1 make_experiment uk "algorithm: {method: uki}"
try "$CALIB" run uk/calib.yaml
expect_rc 0 "a uki calibration runs"
try "$CALIB" export --mean -f json uk/calib.yaml
expect_rc 0 "export --mean of uki"
cp out uki.json
check "its values are uki_mean, constrained" /usr/bin/python3 -c '
import json, math, h5py
m = h5py.File("uk/output/iteration_001/ensemble.h5")["uki_mean"][()].ravel()
v = json.load(open("uki.json"))
# a: normal; b: constrained_gaussian with lower bound 0: b = exp(u).
assert v["a"] == m[0], (v, m)
assert abs(v["b"] - math.exp(m[1])) <= 1e-15 * math.exp(m[1]), (v, m)
'
done_testing
