"""The horseshoes in linear regression: integrated sampler (scales only) against the non-centred one.

For each data set, prior and seed, one fit at the defaults (4 chains x 1,000 draws after 1,000 tuning)
through ``LinearRegression.fit``, once as shipped (the integrated kernel of
``bayesreg/sampling/kernels/global_local.py`` wherever ``mixture_pays``) and once with the non-centred
kernel forced (``mixture_pays`` patched to False), in the same process. Prints divergent transitions
per seed, min bulk ESS over coef, sigma and global_scale (R2D2: r2), wall time and ESS/s, and the ratio of the
median ESS/s (integrated / non-centred).

Data: scikit-learn's diabetes (n = 442, p = 10); its p > n version (40 rows drawn with seed 0, the 10
columns and their 45 pairwise products); the n = 100, p = 200 sparse problem of
``benchmarks/nuts_speed.py`` (5 signals; the regularized horseshoe there with expected_nonzero = 5).

    .venv/bin/python benchmarks/global_local.py [--seeds 10] [--baseline-seeds 3]
        [--cases diabetes,pairwise,sparse,new_diabetes,new_pairwise]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
import warnings

import arviz as az
import numpy as np
from sklearn.datasets import load_diabetes

import bayesreg as br
from bayesreg.model import spec as model_spec

DRAWS = dict(draws=1000, tune=1000, chains=4)


def pairwise_problem():
    X, y = load_diabetes(return_X_y=True)
    rows = np.random.default_rng(0).choice(len(y), 40, replace=False)
    Z = X[rows]
    products = [Z[:, [i]] * Z[:, [j]] for i in range(10) for j in range(i + 1, 10)]
    return np.hstack([Z, *products]), y[rows]


def sparse_problem():
    from nuts_speed import sparse_problem as problem

    return problem()


CASES = {
    "diabetes": (lambda: load_diabetes(return_X_y=True), [br.Horseshoe(), br.RegularizedHorseshoe()]),
    "pairwise": (pairwise_problem, [br.Horseshoe(), br.RegularizedHorseshoe()]),
    "sparse": (sparse_problem, [br.Horseshoe(), br.RegularizedHorseshoe(expected_nonzero=5)]),
    "new_diabetes": (lambda: load_diabetes(return_X_y=True), [br.HorseshoePlus(), br.R2D2()]),
    "new_pairwise": (pairwise_problem, [br.HorseshoePlus(), br.R2D2()]),
}


@contextlib.contextmanager
def non_centred():
    original = model_spec.mixture_pays
    model_spec.mixture_pays = lambda *args: False
    try:
        yield
    finally:
        model_spec.mixture_pays = original


def fit_once(prior, X, y, seed):
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = br.LinearRegression(prior).fit(X, y, progressbar=False, random_seed=seed, log_likelihood=False, **DRAWS)
    wall = time.perf_counter() - started
    idata = fit.idata_
    scales = ["r2"] if isinstance(prior, br.R2D2) else ["global_scale"]
    ess = float(az.summary(idata, var_names=["coef", "sigma", *scales], kind="diagnostics")["ess_bulk"].min())
    return {"divergent": int(idata["sample_stats"]["diverging"].sum()), "ess": ess, "wall": wall,
            "ess_per_s": ess / wall}


def run(case, seeds, baseline_seeds):
    load, priors = CASES[case]
    X, y = load()
    for prior in priors:
        name = f"{case} (n={X.shape[0]}, p={X.shape[1]}) {type(prior).__name__}"
        results = {}
        for label, count, context in (("integrated", seeds, contextlib.nullcontext),
                                      ("non-centred", baseline_seeds, non_centred)):
            with context():
                rows = [fit_once(prior, X, y, seed) for seed in range(count)]
            results[label] = rows
            print(f"{name:<52} {label:<12} divergent per seed {[r['divergent'] for r in rows]}  "
                  f"min ESS {min(r['ess'] for r in rows):6.0f}  median wall {statistics.median(r['wall'] for r in rows):6.1f} s  "
                  f"median ESS/s {statistics.median(r['ess_per_s'] for r in rows):7.1f}", flush=True)
        ratio = (statistics.median(r["ess_per_s"] for r in results["integrated"])
                 / statistics.median(r["ess_per_s"] for r in results["non-centred"]))
        print(f"{name:<52} ESS/s integrated / non-centred: {ratio:.1f}x", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--baseline-seeds", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    for case in args.cases.split(","):
        run(case, args.seeds, args.baseline_seeds)


if __name__ == "__main__":
    main()
