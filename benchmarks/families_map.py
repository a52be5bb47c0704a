"""Poisson MAP at n = 1e5, p = 50 (issue 21 target: <= 2x scikit-learn / glum on the same fit).

L2: bayesreg PoissonRegression(Normal(s), method="map") against sklearn PoissonRegressor(alpha,
solver="newton-cholesky", tol=1e-10). L1: bayesreg Laplace(b) against glum's
GeneralizedLinearRegressor(family="poisson", l1_ratio=1, gradient_tol=1e-10). Same data, timed in
alternating order, median of ROUNDS fits after one warm-up each; ratio = bayesreg / reference.

    OPENBLAS_NUM_THREADS=1 python benchmarks/families_map.py
"""

import time

import numpy as np
from glum import GeneralizedLinearRegressor
from sklearn.linear_model import PoissonRegressor

import bayesreg as br

N, P, ROUNDS = 100_000, 50, 5


def timed(fit):
    fit()
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        result = fit()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def main():
    rng = np.random.default_rng(0)  # seed fixed: a benchmark's data
    X = rng.normal(size=(N, P))
    coef = np.zeros(P)
    coef[:5] = [0.3, -0.2, 0.1, 0.05, -0.1]
    y = rng.poisson(np.exp(0.5 + X @ coef)).astype(float)
    alpha = 1e-3
    ours_l2, sk = timed(lambda: br.PoissonRegression(br.Normal(1 / np.sqrt(N * alpha)), method="map").fit(X, y)), None
    sk_l2 = timed(lambda: PoissonRegressor(alpha=alpha, solver="newton-cholesky", tol=1e-10, max_iter=1000).fit(X, y))
    ours_l1 = timed(lambda: br.PoissonRegression(br.Laplace(1 / (N * alpha)), method="map").fit(X, y))
    glum_l1 = timed(lambda: GeneralizedLinearRegressor(alpha=alpha, l1_ratio=1.0, family="poisson",
                                                       gradient_tol=1e-10).fit(X, y))
    print("| case | reference ms | bayesreg ms | ratio | max abs coef diff |")
    print("|---|---:|---:|---:|---:|")
    for name, ours, ref in (("L2 vs sklearn PoissonRegressor (newton-cholesky)", ours_l2, sk_l2),
                            ("L1 vs glum GeneralizedLinearRegressor", ours_l1, glum_l1)):
        diff = np.max(np.abs(ours[1].coef_ - ref[1].coef_))
        print(f"| {name} | {1e3 * ref[0]:.1f} | {1e3 * ours[0]:.1f} | {ours[0] / ref[0]:.2f} | {diff:.1e} |")


if __name__ == "__main__":
    main()
