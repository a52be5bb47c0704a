"""Simulation-based calibration at a larger size than the test suite runs.

    .venv/bin/python benchmarks/sbc.py [--replications 400] [--priors fixed,learned]

Prints, per prior and coefficient, the chi-square p-value that SBC ranks are uniform
(10 bins), plus the binned counts so a skew (over- or under-dispersion) is visible.
"""

import argparse
import time

import numpy as np

import bayesreg as br
from bayesreg.calibration import sbc_ranks, uniformity_pvalues


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--replications", type=int, default=400)
    parser.add_argument("--priors", default="fixed,learned", help="fixed (Normal, Laplace, horseshoes), learned")
    args = parser.parse_args()
    groups = {"fixed": [(br.Normal(1.0), 30), (br.Laplace(1.0), 30), (br.Horseshoe(), 30),
                        (br.RegularizedHorseshoe(1.0, 2.0, 4.0), 30)],
              # few rows, so that the hierarchy, not the data, shapes the posterior
              "learned": [(br.Normal(br.HalfCauchy(1.0)), 4), (br.Laplace(br.HalfStudentT(3.0, 1.0)), 4),
                          (br.BayesianLasso(r=2.0, delta=2.0), 4)]}
    for prior, n in [case for name in args.priors.split(",") for case in groups[name]]:
        started = time.perf_counter()
        ranks, n_values = sbc_ranks(prior, n=n, p=3, replications=args.replications, seed=7)
        pvalues = uniformity_pvalues(ranks, n_values)
        print(f"{prior!r}, n = {n}: {args.replications} replications in {time.perf_counter() - started:.0f} s")
        for j, pvalue in enumerate(pvalues):
            counts = np.histogram(ranks[:, j], bins=np.linspace(0, n_values, 11))[0]
            print(f"  coef[{j}]  p = {pvalue:.3f}  binned ranks {counts.tolist()}")


if __name__ == "__main__":
    main()
