"""Negative binomial with a regularized horseshoe at n = 2500, p = 350, a few real signals (issue 21's
target: <= 0.1% divergent transitions, min bulk ESS >= 400, time recorded), projpred #67's size.

Data: X standard normal (seed 0), 5 real signals (0.6, -0.5, 0.4, 0.3, -0.3 on the first five
columns), intercept 0.5, NB2 with phi = 2 (Var = mu + mu^2 / 2). Model:
``NegativeBinomialRegression(RegularizedHorseshoe(expected_nonzero=5))``, phi learned under
Exponential(1), at the sampler defaults (4 chains x 1000 draws after 1000 tuning) unless told
otherwise. Prints divergent transitions, min bulk ESS over coef, intercept, phi and global_scale,
the mean tree depth, wall time, and which signals' 94% intervals exclude 0.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python benchmarks/nb_horseshoe.py [--draws 1000] [--tune 1000]
        [--chains 4] [--seed 1] [--target-accept 0.9]
"""

from __future__ import annotations

import argparse
import os
import time

import arviz as az
import numpy as np

import bayesreg as br

SIGNALS = np.array([0.6, -0.5, 0.4, 0.3, -0.3])


def problem(n=2500, p=350, phi=2.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    coef = np.zeros(p)
    coef[: SIGNALS.size] = SIGNALS
    mu = np.exp(0.5 + X @ coef)
    y = rng.poisson(rng.gamma(phi, mu / phi))  # NB2 as a gamma-Poisson mixture
    return X, y.astype(float), coef


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target-accept", type=float, default=None)
    args = parser.parse_args()
    X, y, coef = problem()
    options = {} if args.target_accept is None else {"target_accept": args.target_accept}
    print(f"n = {X.shape[0]}, p = {X.shape[1]}, zeros {np.mean(y == 0):.1%}, load before {os.getloadavg()}")
    est = br.NegativeBinomialRegression(br.RegularizedHorseshoe(expected_nonzero=5))
    start = time.perf_counter()
    est.fit(X, y, draws=args.draws, tune=args.tune, chains=args.chains, random_seed=args.seed, progressbar=False,
            **options)
    wall = time.perf_counter() - start
    idata = est.idata_
    stats = idata["sample_stats"]
    divergent = int(stats["diverging"].sum())
    transitions = int(stats["diverging"].size)
    ess = az.ess(idata, var_names=["coef", "intercept", "phi", "global_scale"], method="bulk")
    min_ess = min(float(ess[name].min()) for name in ("coef", "intercept", "phi", "global_scale"))
    worst = {name: float(ess[name].min()) for name in ("coef", "intercept", "phi", "global_scale")}
    depth = float(stats["depth"].mean()) if "depth" in stats else float("nan")
    table = est.summary(round_to="none")
    found = [name for name in table.index[: X.shape[1]]
             if table.loc[name, "eti94_lb"] > 0 or table.loc[name, "eti94_ub"] < 0]
    print(f"divergent: {divergent} of {transitions} ({100 * divergent / transitions:.3f}%), target <= 0.1%")
    print(f"min bulk ESS: {min_ess:.0f} (per quantity: {worst}), target >= 400")
    print(f"mean tree depth {depth:.2f}; wall {wall:.0f} s; phi mean {float(idata['posterior']['phi'].mean()):.2f} "
          f"(true 2); load after {os.getloadavg()}")
    print(f"94% intervals excluding 0: {found} (true signals: x0..x{SIGNALS.size - 1})")
    print(table.loc[[f"x{j}" for j in range(SIGNALS.size)] + ["intercept", "phi"], ["mean", "sd", "eti94_lb",
                                                                                     "eti94_ub", "ess_bulk"]])


if __name__ == "__main__":
    main()
