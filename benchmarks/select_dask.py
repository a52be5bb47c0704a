"""br.select on Dask rows (issue 23): time, passes and peak memory at n = 1e6, p = 20.

The rows are generated lazily by Dask (100 000-row chunks, a seeded generator per chunk), so they
are never held whole: each pass regenerates its chunks. The reference is fitted on the Dask rows
(LinearRegression: NUTS on the sufficient statistics; LogisticRegression: method="surrogate"),
5 of the 20 columns carry signal. Peak resident memory (ru_maxrss) is read before and after
``br.select``; Dask's local threaded scheduler (2 threads).

Usage: OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python benchmarks/select_dask.py [--family gaussian|logistic]
       [--n 1000000] [--ndraws 1000] [--max-terms 20] [--check]

``--check`` (small n only): the same selection on the computed rows, and the largest difference.
"""

import argparse
import resource
import time
import warnings

import numpy as np

import bayesreg as br


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rows(n: int, p: int, family: str):
    import dask.array as da

    w = np.zeros(p)
    w[[1, 5, 9, 13, 17]] = [1.0, -0.8, 0.6, -0.5, 0.4]
    X = da.random.default_rng(0).normal(size=(n, p), chunks=(100_000, p))  # seed fixed: the benchmark's data
    eta = X @ w
    noise = da.random.default_rng(1).random(size=n, chunks=100_000)  # seed fixed
    if family == "gaussian":
        y = 0.5 + eta + 2.0 * (noise - 0.5) * np.sqrt(3)  # uniform noise, sd 1
    else:
        y = (noise < 1 / (1 + da.exp(-(0.3 + eta)))).astype(float)
    return X, y


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", default="gaussian", choices=["gaussian", "logistic"])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--p", type=int, default=20)
    parser.add_argument("--ndraws", type=int, default=1000)
    parser.add_argument("--max-terms", type=int, default=20)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    X, y = rows(args.n, args.p, args.family)
    start = time.perf_counter()
    settings = {"draws": 500, "tune": 500, "chains": 2, "random_seed": 0, "progressbar": False}  # seed fixed
    if args.family == "gaussian":
        est = br.LinearRegression(br.RegularizedHorseshoe(expected_nonzero=5)).fit(X, y, **settings)
    else:
        est = br.LogisticRegression(br.Normal(1.0, autoscale=True)).fit(X, y, method="surrogate", **settings)
    fit_seconds = time.perf_counter() - start
    before = peak_mb()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        selection = br.select(est, X, y, ndraws=args.ndraws, max_terms=args.max_terms, random_seed=0)  # seed fixed
    seconds = time.perf_counter() - start
    after = peak_mb()
    table = selection.table()
    print(f"{args.family} n={args.n} p={args.p} ndraws={args.ndraws} max_terms={args.max_terms}: fit {fit_seconds:.1f} s; "
          f"select {seconds:.1f} s in {selection._reference.passes} passes; peak RSS {before:.0f} MB before -> "
          f"{after:.0f} MB after; order {selection.terms[:6]}...; suggest_size {selection.suggest_size()}; "
          f"elpd_diff at 5 terms {table['elpd_diff'].iloc[5]:.1f} (se {table['elpd_diff_se'].iloc[5]:.1f}); "
          f"max k-hat {selection.pareto_k.max():.2f}")
    if args.check:
        X_arr, y_arr = X.compute(), y.compute()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            in_memory = br.select(est, X_arr, y_arr, ndraws=args.ndraws, max_terms=args.max_terms, random_seed=0)
        print(f"in memory: same order {in_memory.order == selection.order}; max |elpd_i difference| "
              f"{np.abs(in_memory.elpd_i - selection.elpd_i).max():.1e}")


if __name__ == "__main__":
    main()
