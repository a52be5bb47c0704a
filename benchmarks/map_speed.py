"""MAP fit time of bayesreg against scikit-learn's fit time, on the same problems, in one run.

Target (issue "foundation"): bayesreg's ``fit(X, y, method="map")`` takes at most 3x the time
of the matching scikit-learn ``fit(X, y)``.

Method: for each pair of estimators, one warm-up fit each, then ``REPEATS`` rounds in which a
freshly constructed estimator of each library is fitted once (the two alternate within a round,
so both see the same machine state). A fit includes each library's input validation. The
reported time is the median over rounds; the ratio is bayesreg / scikit-learn. A pair whose
single fit is slow gets fewer rounds (at least ``MIN_REPEATS``) so the run stays under ~2 min.

Every case runs twice: with the default thread pools (OpenBLAS and OpenMP use all cores) and
with every pool limited to one thread (threadpoolctl). On a small shared machine the two differ
a lot: a BLAS call that OpenBLAS splits over 2 threads stalls whenever another process holds
the second core. The load average before and after is printed so a reader can tell.

``max |coef diff|`` is the largest absolute difference between the two coefficient vectors:
bayesreg's MAP is exact to rounding, so it measures how far scikit-learn stopped from the
optimum (sklearn's default tolerances are loose for Lasso and saga).

Run from the repository root:  .venv/bin/python benchmarks/map_speed.py [--threads default|1|both]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn import linear_model as sk
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

import bayesreg as br

TARGET = 3.0
SIGMA = 2.5
REPEATS = 30
MIN_REPEATS = 5
BUDGET_S = 4.0  # per pair, after the warm-up


def _time_one(make, X, y, fit_kwargs) -> float:
    est = make()
    t0 = time.perf_counter()
    est.fit(X, y, **fit_kwargs)
    return time.perf_counter() - t0


def time_pair(make_sk, make_br, X, y):
    """Median seconds per fit for each library, and the fitted estimators (from the warm-up)."""
    sk_est = make_sk().fit(X, y)  # warm-up
    br_est = make_br().fit(X, y, method="map")
    t0 = time.perf_counter()
    sk_times = [_time_one(make_sk, X, y, {})]
    br_times = [_time_one(make_br, X, y, {"method": "map"})]
    one_round = time.perf_counter() - t0
    repeats = int(min(REPEATS, max(MIN_REPEATS, BUDGET_S / max(one_round, 1e-9))))
    for i in range(repeats - 1):
        if i % 2:  # alternate which library goes first
            br_times.append(_time_one(make_br, X, y, {"method": "map"}))
            sk_times.append(_time_one(make_sk, X, y, {}))
        else:
            sk_times.append(_time_one(make_sk, X, y, {}))
            br_times.append(_time_one(make_br, X, y, {"method": "map"}))
    coef_diff = float(np.max(np.abs(np.ravel(sk_est.coef_) - np.ravel(br_est.coef_))))
    return statistics.median(sk_times), statistics.median(br_times), coef_diff, repeats


def cases():
    """Yield ``(case name, sklearn factory, bayesreg factory, X, y)``."""
    Xd, yd = load_diabetes(return_X_y=True)
    n = Xd.shape[0]
    for a in (0.01, 1.0):
        prior = br.prior_from_sklearn(sk.Ridge(alpha=a), sigma=SIGMA)
        yield (f"diabetes Ridge alpha={a}",
               lambda a=a: sk.Ridge(alpha=a),
               lambda p=prior: br.LinearRegression(p, sigma=SIGMA), Xd, yd)
    for a in (0.01, 0.1, 1.0):
        prior = br.prior_from_sklearn(sk.Lasso(alpha=a), n_samples=n, sigma=SIGMA)
        make_br = lambda p=prior: br.LinearRegression(p, sigma=SIGMA)  # noqa: E731
        yield (f"diabetes Lasso alpha={a} (default tol)",
               lambda a=a: sk.Lasso(alpha=a), make_br, Xd, yd)
        yield (f"diabetes Lasso alpha={a} (tol=1e-10)",
               lambda a=a: sk.Lasso(alpha=a, tol=1e-10, max_iter=10**6), make_br, Xd, yd)

    Xb, yb = load_breast_cancer(return_X_y=True)
    Xb = StandardScaler().fit_transform(Xb)
    for C in (0.1, 1.0, 10.0):
        prior = br.prior_from_sklearn(sk.LogisticRegression(C=C))
        make_br = lambda p=prior: br.LogisticRegression(p)  # noqa: E731
        yield (f"cancer logistic L2 C={C} (lbfgs)",
               lambda C=C: sk.LogisticRegression(C=C), make_br, Xb, yb)
        yield (f"cancer logistic L2 C={C} (newton-cholesky)",
               lambda C=C: sk.LogisticRegression(C=C, solver="newton-cholesky"), make_br, Xb, yb)
    for C in (0.1, 1.0):
        yield (f"cancer logistic L1 C={C} (saga)",
               lambda C=C: sk.LogisticRegression(C=C, l1_ratio=1.0, solver="saga", max_iter=10000),
               lambda C=C: br.LogisticRegression(br.Laplace(C)), Xb, yb)


def run(limit) -> list[tuple]:
    rows = []
    label = "default threads" if limit is None else f"{limit} thread"
    with threadpool_limits(limits=limit):
        for name, make_sk, make_br, X, y in cases():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                sk_s, br_s, diff, repeats = time_pair(make_sk, make_br, X, y)
            ratio = br_s / sk_s
            rows.append((name, sk_s * 1e3, br_s * 1e3, ratio, diff, repeats, ratio <= TARGET))
            print(f"  [{label}] {name:<42} sklearn {sk_s * 1e3:8.3f} ms  bayesreg {br_s * 1e3:8.3f} ms  "
                  f"ratio {ratio:6.2f}  |dcoef| {diff:.1e}  ({repeats} rounds)", file=sys.stderr)
    return rows


def print_table(title: str, rows) -> None:
    print(f"### {title}\n")
    print("| case | sklearn ms | bayesreg ms | ratio | max \\|coef diff\\| | rounds | <= 3x |")
    print("|---|---:|---:|---:|---:|---:|:---:|")
    for name, sk_ms, br_ms, ratio, diff, repeats, ok in rows:
        print(f"| {name} | {sk_ms:.3f} | {br_ms:.3f} | {ratio:.2f} | {diff:.1e} | {repeats} | "
              f"{'pass' if ok else 'FAIL'} |")
    print(f"\n{sum(r[-1] for r in rows)}/{len(rows)} cases meet the {TARGET:g}x target.\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", choices=("default", "1", "both"), default="both",
                        help="thread-pool setting(s) to benchmark (default: both)")
    args = parser.parse_args()
    limits = {"default": [None], "1": [1], "both": [None, 1]}[args.threads]

    started = time.perf_counter()
    load_before = os.getloadavg()
    results = [(limit, run(limit)) for limit in limits]
    load_after = os.getloadavg()

    pools = ", ".join(f"{p['internal_api']} {p['num_threads']}" for p in threadpool_info())
    print(f"Date: {datetime.date.today().isoformat()}. Machine: {platform.machine()}, "
          f"{os.cpu_count()} cores; Python {platform.python_version()}, numpy {np.__version__}, "
          f"scikit-learn {sklearn.__version__}, bayesreg {br.__version__}; default thread pools: {pools}.")
    print(f"Load average (1/5/15 min) before: {'/'.join(f'{x:.2f}' for x in load_before)}, "
          f"after: {'/'.join(f'{x:.2f}' for x in load_after)}.")
    print(f"Median of up to {REPEATS} fresh-estimator fits after one warm-up (rounds column); "
          f"ratio = bayesreg / sklearn; target ratio <= {TARGET:g}.\n")
    for limit, rows in results:
        title = ("Default thread pools" if limit is None
                 else "All BLAS/OpenMP pools limited to 1 thread (threadpoolctl)")
        print_table(title, rows)
    print(f"Total benchmark time {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
