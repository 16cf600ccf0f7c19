#!/bin/sh
# On share/examples/linear, through 'calib run': one EKI step with timestep
# 1 from a large prior ensemble matches the closed-form posterior mean and
# covariance within sampling error, and so do one ETKI step and ES-MDA with
# the single weight 1; UKI reaches the posterior to rounding.
. "$(dirname "$0")/lib.sh"

cp "$TOP/share/examples/linear/calib.yaml" "$TOP/share/examples/linear/obs.txt" .
ln -s "$TOP/share/examples/linear/model" model
./model --matrix >A.txt

# method, then extra algorithm lines
posterior() {
	name=$1
	shift
	sed "s/^ensemble_size: .*/ensemble_size: 2000/; s/^iterations: .*/iterations: 1/; s|^output_dir: .*|output_dir: $name|; /^algorithm:/,\$d" calib.yaml >"$name.yaml"
	printf 'algorithm:\n' >>"$name.yaml"
	for line in "$@"; do
		printf '  %s\n' "$line" >>"$name.yaml"
	done
	try "$CALIB" run "$name.yaml"
	expect_rc 0 "$name: calib runs the linear example with 2000 members"
	/usr/bin/python3 "$TOP/test/linear_posterior.py" "$name" A.txt 2 >"$name.cmp" 2>&1
	rc=$?
	cat "$name.cmp"
	ok $rc "$name: one step matches the closed-form posterior (mean and covariance)"
}

posterior eki 'method: eki' 'timestep: {fixed: 1.0}'
posterior etki 'method: etki'
posterior esmda 'method: esmda' 'esmda: {weights: [1]}'

# UKI: 2p+1 = 7 sigma points, the ensemble size follows from p.
sed 's/^ensemble_size: .*//; s/^iterations: .*/iterations: 25/; s|^output_dir: .*|output_dir: uki|; /^algorithm:/,$d' calib.yaml >uki.yaml
printf 'algorithm:\n  method: uki\n' >>uki.yaml
try "$CALIB" run uki.yaml
expect_rc 0 "uki: calib runs the linear example"
check "uki: 7 sigma points" test -d uki/iteration_000/member_007 -a ! -e uki/iteration_000/member_008
/usr/bin/python3 "$TOP/test/linear_posterior.py" uki A.txt 2 uki 25 >uki.cmp 2>&1
rc=$?
cat uki.cmp
ok $rc "uki: mean and covariance equal the closed-form posterior"

done_testing
