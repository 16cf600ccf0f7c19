#!/bin/sh
# On share/examples/linear, one EKI step with timestep 1 from a large prior
# ensemble matches the closed-form posterior mean and covariance within
# sampling error.
. "$(dirname "$0")/lib.sh"

cp "$TOP/share/examples/linear/calib.yaml" "$TOP/share/examples/linear/obs.txt" .
ln -s "$TOP/share/examples/linear/model" model
sed -i 's/^ensemble_size: .*/ensemble_size: 2000/; s/^iterations: .*/iterations: 1/' calib.yaml
try "$CALIB" run calib.yaml
expect_rc 0 "calib runs the linear example with 2000 members"
./model --matrix >A.txt
/usr/bin/python3 "$TOP/test/linear_posterior.py" output A.txt 2 >cmp.txt 2>&1
rc=$?
cat cmp.txt
ok $rc "one EKI step matches the closed-form posterior (mean and covariance)"

done_testing
