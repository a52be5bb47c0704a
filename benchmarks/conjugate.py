"""The conjugate cases of a fixed Normal prior in linear regression (issue 24) against today's sampler.

``LinearRegression(prior=Normal(1.0), sigma=...)``: exact iid draws (``bayesreg/sampling/exact.py``)
against NUTS on ``(b, w)``. ``LinearRegression(prior=Normal(1.0))`` with sigma estimated: NUTS on
``log sigma`` alone with exact draws of the coefficients given sigma (``NORMAL_CONJUGATE`` in
``bayesreg/sampling/kernels/spectral.py``) against NUTS on ``(b, sigma, w)`` with the low-rank mass
matrix. Both through :func:`bayesreg.sampling.sample_posterior` on the same spec and data in the same
process (the non-centred one with ``collapsed=False``), 4 chains x 1,000 draws after 1,000 tuning,
warm (one fit of each kind first, so numba's cache is loaded). Prints per case and seed: min bulk ESS
over coef, intercept (and sigma), wall seconds of ``sample_posterior``, ESS/s, divergences, and the
ratio of the median ESS/s (conjugate / today's).

Data: scikit-learn's diabetes (n = 442, p = 10); its p > n version (40 rows drawn with seed 0, the
10 columns and their 45 pairwise products; ``benchmarks/global_local.py``); and Gaussian designs
``n<rows>p<columns>`` (seed 0, min(p, 5) signals, unit noise), where the routing rule ``conjugate_pays`` is
decided. Known sigma: half the sd of y.

    cd benchmarks && PYTHONPATH=.. python conjugate.py [--seeds 3] [--cases diabetes,pairwise,n400p20,...]
        [--sigma known,estimated]
    cd benchmarks && PYTHONPATH=.. python conjugate.py --sweep 0.6,0.7,0.8,0.9 --seeds 10
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
import warnings

import arviz as az
import numpy as np
from global_local import pairwise_problem
from sklearn.datasets import load_diabetes

import bayesreg as br
from bayesreg.model.spec import conjugate_inputs, linear_inputs
from bayesreg.sampling import sample_posterior

DRAWS = dict(draws=1000, tune=1000, chains=4)


def gaussian_problem(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    signals = np.array([1.0, -0.8, 0.6, 0.5, -0.4])[:p]
    return X, X[:, :len(signals)] @ signals + rng.normal(size=n)


CASES = {"diabetes": lambda: load_diabetes(return_X_y=True), "pairwise": pairwise_problem}


def problem(case):
    """A named case, or ``n<rows>p<columns>`` for :func:`gaussian_problem`."""
    if case in CASES:
        return CASES[case]()
    n, p = case[1:].split("p")
    return gaussian_problem(int(n), int(p))


def both_inputs(X, y, sigma):
    """The conjugate (collapsed) spec and data, and today's (non-centred, ``collapsed=False``)."""
    spec, data = linear_inputs(X, y, br.Normal(1.0), sigma=sigma, fit_intercept=True)
    today = {key: value for key, value in data.items() if not key.startswith("spectrum_") and key != "prior_factor"}
    today_spec = dataclasses.replace(spec, collapsed=False)
    return conjugate_inputs(today_spec, today), (today_spec, today)


def run(spec, data, names, seed, **options):
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = sample_posterior(spec, data, names, random_seed=seed, progressbar=False, **DRAWS, **options)
    wall = time.perf_counter() - started
    quantities = ["coef", "intercept"] + ["sigma"] * (not spec.sigma_known)
    ess = float(az.summary(idata, var_names=quantities, kind="diagnostics")["ess_bulk"].min())
    return {"ess": ess, "wall": wall, "ess_per_s": ess / wall, "divergent": int(idata["sample_stats"]["diverging"].sum())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--cases", default="diabetes,pairwise,n400p20,n400p50,n400p100")
    parser.add_argument("--sigma", default="known,estimated")
    parser.add_argument("--sweep", default="", help="target_accept values: the sigma-estimated conjugate sampler "
                        "alone at each (diag), min bulk ESS and divergences over the seeds")
    args = parser.parse_args()
    if args.sweep:
        return sweep(args)
    for case in args.cases.split(","):
        X, y = problem(case)
        names = [f"x{j}" for j in range(X.shape[1])]
        for kind in args.sigma.split(","):
            sigma = 0.5 * float(np.std(y)) if kind == "known" else None
            conjugate, today = both_inputs(X, y, sigma)
            run(*conjugate, names, 0), run(*today, names, 0)  # warm: numba's cache loaded, nutpie's threads up
            rows = {"conjugate": [], "today": []}
            for seed in range(1, args.seeds + 1):
                for label, (spec, data) in (("conjugate", conjugate), ("today", today)):
                    rows[label].append(run(spec, data, names, seed))
            print(f"{case} (n = {X.shape[0]}, p = {X.shape[1]}), sigma {kind}:")
            for label, results in rows.items():
                each = ", ".join(f"{r['ess']:.0f} ESS / {r['wall']:.2f} s = {r['ess_per_s']:.0f}/s ({r['divergent']} div)"
                                 for r in results)
                print(f"  {label:9s} {each}")
            ratio = (statistics.median(r["ess_per_s"] for r in rows["conjugate"])
                     / statistics.median(r["ess_per_s"] for r in rows["today"]))
            print(f"  median ESS/s ratio conjugate / today: {ratio:.1f}x", flush=True)


def sweep(args):
    for case in args.cases.split(","):
        X, y = problem(case)
        names = [f"x{j}" for j in range(X.shape[1])]
        (spec, data), _ = both_inputs(X, y, None)
        run(spec, data, names, 0)
        for target in args.sweep.split(","):
            results = [run(spec, data, names, seed, adaptation="diag", target_accept=float(target))
                       for seed in range(1, args.seeds + 1)]
            ess = [r["ess"] for r in results]
            print(f"{case} target_accept {target}: min bulk ESS worst {min(ess):.0f}, median {statistics.median(ess):.0f}; "
                  f"median wall {statistics.median(r['wall'] for r in results):.2f} s; "
                  f"{sum(r['divergent'] for r in results)} divergent", flush=True)


if __name__ == "__main__":
    main()
