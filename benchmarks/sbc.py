"""Simulation-based calibration at a larger size than the test suite runs.

    .venv/bin/python benchmarks/sbc.py [--replications 400]

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
    args = parser.parse_args()
    for prior in (br.Normal(1.0), br.Laplace(1.0), br.Horseshoe()):
        started = time.perf_counter()
        ranks, n_values = sbc_ranks(prior, n=30, p=3, replications=args.replications, seed=7)
        pvalues = uniformity_pvalues(ranks, n_values)
        print(f"{prior!r}: {args.replications} replications in {time.perf_counter() - started:.0f} s")
        for j, pvalue in enumerate(pvalues):
            counts = np.histogram(ranks[:, j], bins=np.linspace(0, n_values, 11))[0]
            print(f"  coef[{j}]  p = {pvalue:.3f}  binned ranks {counts.tolist()}")


if __name__ == "__main__":
    main()
