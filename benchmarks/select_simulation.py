"""Projection predictive selection (issue 23): does the search find 5 true signals among p = 200
(n = 100, high signal-to-noise, regularized horseshoe reference) and does suggest_size say 5?
And how long do the reference fit and the selection take (n = 250, p = 13 and n = 100, p = 200)?

Usage (from the repository root): OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/select_simulation.py [seeds]
"""

import sys
import time
import warnings

import numpy as np

import bayesreg as br

SIGNALS = [3.0, -2.5, 2.0, -2.0, 1.5]


def simulated(seed, n, p):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    truth = np.sort(rng.choice(p, 5, replace=False))
    w = np.zeros(p)
    w[truth] = SIGNALS
    return X, X @ w + rng.normal(size=n), truth


def run(seed, n, p, draws=500, chains=2):
    X, y, truth = simulated(seed, n, p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est = br.LinearRegression(br.RegularizedHorseshoe(expected_nonzero=5)).fit(
            X, y, draws=draws, tune=draws, chains=chains, random_seed=seed, progressbar=False)
        fitted = time.perf_counter()
        selection = br.select(est, X, y, max_terms=min(p, 20))
        size = selection.suggest_size()
        done = time.perf_counter()
    found = set(selection.order[:5]) == set(truth.tolist())
    return found, size, fitted - start, done - fitted


def main(seeds=10):
    for n, p in ((250, 13), (100, 200)):
        rows = [run(seed, n, p) for seed in range(seeds)]
        found = sum(r[0] for r in rows)
        fives = sum(r[1] == 5 for r in rows)
        print(f"n={n} p={p}: true 5 ranked first in {found}/{seeds} seeds; suggest_size == 5 in {fives}/{seeds} "
              f"(sizes {[r[1] for r in rows]}); reference fit median {np.median([r[2] for r in rows]):.2f} s, "
              f"select median {np.median([r[3] for r in rows]):.2f} s (max {max(r[3] for r in rows):.2f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
