#!/bin/sh
# calib init: what it writes, what it refuses, and its usage.
. "$(dirname "$0")/lib.sh"

make_experiment ex
try "$CALIB" init ex/calib.yaml
expect_rc 0 "init succeeds"
check "output directory has the frozen experiment" cmp ex/calib.yaml ex/output/experiment.yaml
check "source names the experiment file" has ex/output/source "$TRASH/ex/calib.yaml"
check "observations are frozen" test -f ex/output/observations.h5
check "iteration 0 exists" test -f ex/output/iteration_000/ensemble.h5
n=$(ls -d ex/output/iteration_000/member_* | wc -l)
check "one member directory per member" test "$n" -eq 4
check "member parameter file in env format" grep -q '^a=' ex/output/iteration_000/member_004/p.env
check "no temporary files left" test -z "$(find ex -name '.*tmp*' -o -name '.*init*')"

cp ex/output/iteration_000/member_001/p.env before
try "$CALIB" init ex/calib.yaml
expect_rc 1 "init refuses an existing output directory"
check "the message says to use --force" has err "use --force"
check "the existing directory is untouched" cmp before ex/output/iteration_000/member_001/p.env

# The same seed gives the same ensemble; --force replaces the directory.
try "$CALIB" init --force ex/calib.yaml
expect_rc 0 "init --force replaces it"
check "the same seed samples the same ensemble" cmp before ex/output/iteration_000/member_001/p.env
sed 's/^seed: 7/seed: 8/' ex/calib.yaml >ex/other.yaml
try "$CALIB" init --force ex/other.yaml
check "another seed samples another ensemble" sh -c '! cmp -s before ex/output/iteration_000/member_001/p.env'

# The output directory works as the EXPERIMENT operand too.
try "$CALIB" init ex/output
expect_rc 1 "init with the output directory refuses without --force"
try "$CALIB" init --force ex/output
expect_rc 0 "init --force with the output directory starts over"

# Default operand is ./calib.yaml.
(cd ex && "$CALIB" init --force >/dev/null 2>&1)
check "the default experiment is ./calib.yaml" test -f ex/output/iteration_000/ensemble.h5

try "$CALIB" init -h
expect_rc 0 "init -h exits 0"
check "init -h prints the usage on stdout" has out "usage: calib init"
try "$CALIB" init --bogus
expect_rc 2 "an unknown option is a usage error"
check "the usage goes to stderr" has err "usage: calib init"
try "$CALIB" init a.yaml b.yaml
expect_rc 2 "two operands are a usage error"
try "$CALIB" init missing.yaml
expect_rc 2 "a missing experiment file is exit 2"
check "naming the file" has err "missing.yaml"
try "$CALIB" --version
check "calib --version" has out "calib "
try "$CALIB" help update
expect_rc 0 "calib help update exits 0"
check "calib help update prints the usage" has out "usage: calib update"
try "$CALIB" frobnicate
expect_rc 2 "an unknown command is exit 2"
check "pointing to the list" has err "unknown command 'frobnicate'; see 'calib -h'"
try "$CALIB" stat calib.yaml
expect_rc 2 "a near miss is exit 2"
check "suggesting the command meant" has err "unknown command 'stat' (did you mean 'status'?)"

# Every parameter-file format the init writes.
for fmt in toml json yaml; do
	make_experiment f$fmt
	sed -i "s/{name: p.env, format: env}/{name: p.$fmt, format: $fmt}/" f$fmt/calib.yaml
	try "$CALIB" init f$fmt/calib.yaml
	expect_rc 0 "init writes $fmt parameter files"
done
check "toml has one table per parameter" grep -q '^\[b\]' ftoml/output/iteration_000/member_001/p.toml
check "json is one object" grep -q '^{"a": .*, "b": .*}$' fjson/output/iteration_000/member_001/p.json
# Whole numbers stay floats: Julia's JSON reader takes 100 for an integer.
make_experiment fint
sed -i 's/{name: p.env, format: env}/{name: p.json, format: json}/; s/^parameters:$/parameters:\n  c: {fixed: 100}\n  d: {fixed: [1, 2.5]}/' fint/calib.yaml
try "$CALIB" init fint/calib.yaml
expect_rc 0 "init with whole-number fixed values"
check "json writes 100 as 100.0, and lists likewise" \
    grep -q '"c": 100.0, "d": \[1.0, 2.5\]' fint/output/iteration_000/member_001/p.json
make_experiment tpl
printf 'alpha = {{a}}\nbeta = {{b}} # member {{member}} of iteration {{iteration}}\n' >tpl/in.tpl
sed -i 's/{name: p.env, format: env}/{name: p.env, format: template, template: in.tpl}/' tpl/calib.yaml
try "$CALIB" init tpl/calib.yaml
expect_rc 0 "init renders a template"
check "the template's placeholders are filled" grep -q '^beta = .* # member 3 of iteration 0$' tpl/output/iteration_000/member_003/p.env
check "the template is frozen in the output directory" cmp tpl/in.tpl tpl/output/parameter_template

# A full noise covariance from an HDF5 dataset: used as given, and refused
# when it is not positive definite.
make_experiment cov
/usr/bin/python3 -c 'import h5py, numpy as np
with h5py.File("cov/cov.h5", "w") as f:
    f["good"] = np.array([[1.0, 0.3, 0], [0.3, 1.0, 0.2], [0, 0.2, 0.5]])
    f["bad"] = np.array([[1.0, 2.0, 0], [2.0, 1.0, 0], [0, 0, 1.0]])
    f["small"] = np.eye(2)'
sed -i 's|noise: {std: 0.5}|noise: {covariance: cov.h5:/good}|' cov/calib.yaml
try "$CALIB" run -j 2 cov/calib.yaml
expect_rc 0 "a calibration with a full noise covariance runs"
sed -i 's|cov.h5:/good|cov.h5:/bad|' cov/calib.yaml
try "$CALIB" init --force cov/calib.yaml
expect_rc 2 "a covariance that is not positive definite is refused"
check "naming the file" has err "cov.h5: the noise covariance is not symmetric positive definite"
sed -i 's|cov.h5:/bad|cov.h5:/small|' cov/calib.yaml
try "$CALIB" init --force cov/calib.yaml
expect_rc 2 "a covariance of the wrong size is refused"
check "giving both sizes" has err "the noise covariance is 2x2, expected 3x3"
check "the earlier output directory is kept" test -f cov/output/iteration_002/results.h5

done_testing
