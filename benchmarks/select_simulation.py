"""Projection predictive selection (issue 23): does the search find 5 true signals among p = 200
(n = 100, high signal-to-noise, regularized horseshoe reference) and does suggest_size say 5?
And how long do the reference fit and the selection take (n = 250, p = 13 and n = 100, p = 200)?

Usage (from the repository root):
    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/select_simulation.py [seeds]
        [--cv-method loo|kfold|auto] [--cases 250x13,100x200] [--draws 500] [--save DIR]
        [--family gaussian|logistic] [--search-draws 20]

One line per seed (found, suggested size, max k-hat, fit and selection seconds), then a summary per
case; the load average before and after. ``--save DIR`` writes each seed's data (X, y, truth) as
.npz, for the kulprit comparison (benchmarks/select_kulprit.py) on the same data.
``--family logistic``: the same linear predictor (coefficients halved) drives a 0/1 outcome,
fitted by LogisticRegression with the same prior; ``--search-draws``: select's ``search_draws``
(the GLM search's clusters of draws).
"""

import argparse
import os
import time
import warnings

import numpy as np

import bayesreg as br

SIGNALS = [3.0, -2.5, 2.0, -2.0, 1.5]


def simulated(seed, n, p, family="gaussian"):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    truth = np.sort(rng.choice(p, 5, replace=False))
    w = np.zeros(p)
    w[truth] = SIGNALS
    if family == "logistic":  # halved: logits of sd ~ 2.6, no separation at n = 250
        return X, (rng.uniform(size=n) < 1 / (1 + np.exp(-X @ w / 2))).astype(float), truth
    return X, X @ w + rng.normal(size=n), truth


def run(seed, n, p, draws=500, chains=2, cv_method="loo", save=None, family="gaussian", search_draws=20):
    X, y, truth = simulated(seed, n, p, family)
    model = br.LogisticRegression if family == "logistic" else br.LinearRegression
    if save:
        np.savez(os.path.join(save, f"sim_n{n}_p{p}_seed{seed}.npz"), X=X, y=y, truth=truth)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est = model(br.RegularizedHorseshoe(expected_nonzero=5)).fit(
            X, y, draws=draws, tune=draws, chains=chains, random_seed=seed, progressbar=False)
        fitted = time.perf_counter()
        selection = br.select(est, X, y, max_terms=min(p, 20), cv_method=cv_method, random_seed=seed,
                              search_draws=search_draws)
        size = selection.suggest_size()
        done = time.perf_counter()
    found = set(selection.order[:5]) == set(truth.tolist())
    return found, size, fitted - start, done - fitted, float(np.max(selection.pareto_k)), selection.cv_method


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("seeds", nargs="?", type=int, default=10)
    parser.add_argument("--cv-method", default="loo", choices=("loo", "kfold", "auto"))
    parser.add_argument("--cases", default="250x13,100x200")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--save", default=None)
    parser.add_argument("--family", default="gaussian", choices=("gaussian", "logistic"))
    parser.add_argument("--search-draws", type=int, default=20)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    for case in args.cases.split(","):
        n, p = (int(v) for v in case.split("x"))
        rows = []
        for seed in range(args.seeds):
            rows.append(run(seed, n, p, args.draws, cv_method=args.cv_method, save=args.save, family=args.family,
                            search_draws=args.search_draws))
            found, size, fit, select, khat, used = rows[-1]
            print(f"  n={n} p={p} seed={seed}: true 5 first {found}, suggest_size {size}, max k-hat {khat:.2f} "
                  f"({used}), fit {fit:.2f} s, select {select:.2f} s, load {os.getloadavg()[0]:.1f}", flush=True)
        found = sum(r[0] for r in rows)
        fives = sum(r[1] == 5 for r in rows)
        print(f"{args.family} n={n} p={p} cv_method={args.cv_method} search_draws={args.search_draws}: true 5 ranked first in {found}/{args.seeds} seeds; "
              f"suggest_size == 5 in {fives}/{args.seeds} (sizes {[r[1] for r in rows]}); reference fit median "
              f"{np.median([r[2] for r in rows]):.2f} s (max {max(r[2] for r in rows):.2f} s), select median "
              f"{np.median([r[3] for r in rows]):.2f} s (max {max(r[3] for r in rows):.2f} s)", flush=True)
    print(f"load average after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
