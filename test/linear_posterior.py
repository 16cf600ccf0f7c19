"""Compare calib's ensemble after one EKI step on share/examples/linear with
the closed-form Gaussian posterior, computed here independently with numpy
from the example's matrix, prior and noise.  Reads calib's state with h5py,
as calib-state(5) says users can.

usage: linear_posterior.py OUTPUT_DIR MATRIX_FILE PRIOR_STD [uki ITERATION]
Exits 1 when the mean or covariance is off by more than 5 standard errors.
With "uki ITERATION", compares UKI's mean and covariance stored in that
iteration's ensemble.h5 instead, to a relative 1e-6.
"""
import sys

import h5py
import numpy as np

out, matrix, prior_std = sys.argv[1], sys.argv[2], float(sys.argv[3])
A = np.loadtxt(matrix)
with h5py.File(f"{out}/observations.h5", "r") as f:
    y = f["y"][()]
    gamma = np.diag(f["noise_std"][()] ** 2)
p = A.shape[1]
C0 = prior_std ** 2 * np.eye(p)
C = np.linalg.inv(A.T @ np.linalg.solve(gamma, A) + np.linalg.inv(C0))
m = C @ (A.T @ np.linalg.solve(gamma, y))

if len(sys.argv) > 5 and sys.argv[4] == "uki":
    it = int(sys.argv[5])
    with h5py.File(f"{out}/iteration_{it:03d}/ensemble.h5", "r") as f:
        um, uc = f["uki_mean"][()], f["uki_cov"][()]
    em = np.max(np.abs(um - m) / (1 + np.abs(m)))
    ec = np.max(np.abs(uc - C) / (1 + np.abs(C)))
    print(f"# uki mean {um} exact {m}: relative error {em:.2e}")
    print(f"# uki covariance relative error {ec:.2e}")
    sys.exit(1 if em > 1e-6 or ec > 1e-6 else 0)

with h5py.File(f"{out}/iteration_001/ensemble.h5", "r") as f:
    u = f["unconstrained"][()]
    names = [n.decode() if isinstance(n, bytes) else n for n in f["parameter_names"][()]]
    assert f.attrs["timestep"] == 1.0

n = u.shape[0]
mean = u.mean(axis=0)
cov = np.cov(u, rowvar=False)
bad = 0
print(f"# members {n}, parameters {names}")
for i in range(p):
    se = np.sqrt(C[i, i] / n)
    z = (mean[i] - m[i]) / se
    print(f"# mean[{i}] calib {mean[i]:+.5f} exact {m[i]:+.5f} ({z:+.2f} se)")
    bad += abs(z) > 5
for i in range(p):
    for j in range(i, p):
        se = np.sqrt((C[i, i] * C[j, j] + C[i, j] ** 2) / n)
        z = (cov[i, j] - C[i, j]) / se
        print(f"# cov[{i},{j}] calib {cov[i, j]:+.5f} exact {C[i, j]:+.5f} ({z:+.2f} se)")
        bad += abs(z) > 5
sys.exit(1 if bad else 0)
