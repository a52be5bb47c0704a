"""ESS per second against R bayesreg's Gibbs sampler (issue 24), side by side in one run.

R's ``bayesreg`` 1.3 (Makalic & Schmidt; install steps in ``../shared/r/README.md``) samples

    y ~ N(b0 + X b, sigma^2),  b0 flat,  p(sigma^2) ∝ 1 / sigma^2,
    b_j ~ N(0, sigma^2 tau^2 lambda_j^2),  tau ~ C+(0, 1),

hs: lambda_j ~ C+(0, 1); hs+: lambda_j = eta_j nu_j, both C+(0, 1); X centred and scaled to unit
Euclidean norm internally. The same model in bayesreg:

- the columns are centred and scaled to unit Euclidean norm here, once, and both samplers get that
  matrix (R's own standardisation is then the identity, so its coefficients are on the same scale);
- ``Horseshoe(autoscale=False)`` / ``HorseshoePlus(autoscale=False)`` with ``scale=None``: tau_0 =
  sigma, i.e. our global scale tau ~ C+(0, sigma) given sigma, which is sigma * tau_R. So our
  ``global_scale`` is compared with R's ``sqrt(sigma2 * tau2)``;
- ``fit_intercept=True``: the linear intercept is flat, as R's b0;
- ``p(sigma^2) ∝ 1/sigma^2`` is ``p(sigma) ∝ 1/sigma``, improper, so not one of
  ``bayesreg.families``' priors. The nearest is ``sigma_prior=Gamma(1e-6, 1e-6)``:
  ``p(sigma) ∝ sigma^(1e-6 - 1) exp(-1e-6 sigma)``, whose log density differs from ``-log sigma``
  by ``1e-6 (log sigma - sigma)``, under 1e-3 for sigma in [1e-3, 1e3] (here sigma ~ 50).

Each case (data, prior, seed): our fit at the defaults (4 chains x 1,000 draws after 1,000 tuning)
and R's Gibbs sampler, 4 chains x 1,000 draws after 1,000 burn-in, thin 1, one core, chains one
after the other (``benchmarks/r_gibbs.R``), both after an untimed warm-up (numba compilation,
R's package load). Min bulk ESS over coef, sigma and the global scale, by ArviZ for both
(``az.summary``, the same estimator), per wall second and per CPU second (ours: the process's CPU
time, nutpie's threads included; R: ``proc.time`` user + system of its chains). Our 4 chains run
on nutpie's threads, R's on one core, so ESS per CPU second is the like-for-like number.

Agreement: per quantity, z = (mean_ours - mean_R) / sqrt(mcse_ours^2 + mcse_R^2), the same for the
sds (ArviZ's mcse_sd), and the relative difference of the sds; over the seeds the draws are pooled
into one comparison per case. R's global scale mixes slowly on the p > n data (ESS 10-100 in 4,000
draws), so that its MCSEs are themselves rough there; ``--agreement`` instead runs one long fit of
each (ours 4 x AGREEMENT_OURS draws, R 4 x AGREEMENT_R draws kept of every AGREEMENT_THIN) and
compares those; it prints their ESS per CPU second too (R's thinned draws lose little ESS where it
mixes this slowly, and its min ESS there is in the hundreds rather than tens). Over q quantities the largest of q |z| exceeds 3 by chance with
probability about q * 0.0027 (58 quantities on the pairwise data: 15%), so the pass line used is
the Bonferroni one, |z| < Phi^-1(1 - 0.005 / q) (1% false alarm per case: 3.8 for q = 58).

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=.. python r_gibbs.py [--seeds 3] [--cases diabetes,pairwise]
        [--priors hs,hs+] [--agreement]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
from scipy import stats
from sklearn.datasets import load_diabetes

import bayesreg as br
from bayesreg.families import Gamma

from global_local import pairwise_problem

CHAINS, DRAWS, TUNE = 4, 1000, 1000
AGREEMENT_OURS, AGREEMENT_R, AGREEMENT_THIN = 10_000, 10_000, 10  # per chain (R: kept draws)
SIGMA_PRIOR = Gamma(1e-6, 1e-6)  # nearest proper prior to p(sigma) ∝ 1/sigma (module docstring)
PRIORS = {"hs": lambda: br.Horseshoe(autoscale=False), "hs+": lambda: br.HorseshoePlus(autoscale=False)}
CASES = {"diabetes": lambda: load_diabetes(return_X_y=True), "pairwise": pairwise_problem}
R_SCRIPT = Path(__file__).with_name("r_gibbs.R")


def standardise(X):
    """Centred columns of unit Euclidean norm: R bayesreg's own standardisation (bayesreg.standardise)."""
    centred = X - X.mean(axis=0)
    return centred / np.linalg.norm(centred, axis=0)


def ours(prior_name, X, y, seed, draws=DRAWS):
    estimator = br.LinearRegression(PRIORS[prior_name](), sigma_prior=SIGMA_PRIOR, fit_intercept=True)
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X, y, draws=draws, tune=TUNE, chains=CHAINS, random_seed=seed, progressbar=False,
                      log_likelihood=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    posterior = estimator.idata_["posterior"]
    result = {"coef": posterior["coef"].to_numpy(), "intercept": posterior["intercept"].to_numpy(),
              "sigma": posterior["sigma"].to_numpy(), "global_scale": posterior["global_scale"].to_numpy()}
    divergent = int(estimator.idata_["sample_stats"]["diverging"].sum())
    return result, wall, cpu, divergent


def r_gibbs(prior_name, X, y, seed, workdir, draws=DRAWS, thin=1):
    data = Path(workdir) / "data.csv"
    pd.DataFrame(np.column_stack([y, X]), columns=["y", *(f"x{j}" for j in range(X.shape[1]))]).to_csv(
        data, index=False, float_format="%.17g")
    prefix = Path(workdir) / f"r_{seed}"
    subprocess.run(["Rscript", str(R_SCRIPT), str(data), prior_name, str(CHAINS), str(draws), str(TUNE),
                    str(seed + 1), str(prefix), str(thin)], check=True, capture_output=True,
                   env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    frame = pd.read_csv(f"{prefix}.draws.csv")
    times = pd.read_csv(f"{prefix}.time.csv")

    def by_chain(column):
        return frame[column].to_numpy().reshape(CHAINS, draws)

    p = X.shape[1]
    sigma2, tau2 = by_chain("sigma2"), by_chain("tau2")
    result = {"coef": np.stack([by_chain(f"beta_{j + 1}") for j in range(p)], axis=-1),
              "intercept": by_chain("beta0"), "sigma": np.sqrt(sigma2), "global_scale": np.sqrt(sigma2 * tau2)}
    return result, float(times["elapsed"].sum()), float(times["cpu"].sum())


def summary(draws):
    """ArviZ's summary (bulk ESS, means, sds, MCSEs) of draws given as {name: (chain, draw, ...)}."""
    tree = az.from_dict({"posterior": draws})
    return az.summary(tree, var_names=list(draws), kind="all", round_to="none")


def min_ess(table):
    """Min bulk ESS over coef, sigma and the global scale (the intercept left out, as in global_local.py)."""
    ess = table.loc[[name for name in table.index if not name.startswith("intercept")], "ess_bulk"]
    return float(ess.min()), str(ess.idxmin())


def agreement(ours_draws, r_draws):
    """Max |z| of the means and of the sds (combined MCSE), max relative difference of the sds,
    the Bonferroni pass line (module docstring) and both samplers' min bulk ESS."""
    a, b = summary(ours_draws), summary(r_draws)
    z_mean = (a["mean"] - b["mean"]) / np.hypot(a["mcse_mean"], b["mcse_mean"])
    z_sd = (a["sd"] - b["sd"]) / np.hypot(a["mcse_sd"], b["mcse_sd"])
    relative_sd = (a["sd"] - b["sd"]) / b["sd"]
    return {"max |z| mean": round(float(z_mean.abs().max()), 2), "at": str(z_mean.abs().idxmax()),
            "max |z| sd": round(float(z_sd.abs().max()), 2), "max rel sd diff": round(float(relative_sd.abs().max()), 3),
            "at ": str(relative_sd.abs().idxmax()), "quantities": len(a),
            "pass line": round(float(stats.norm.ppf(1 - 0.005 / len(a))), 2),
            "min ESS ours, R": (round(min_ess(a)[0]), round(min_ess(b)[0]))}


def pooled(list_of_draws):
    """Draws of several seeds as more chains of one run."""
    return {name: np.concatenate([draws[name] for draws in list_of_draws]) for name in list_of_draws[0]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--cases", default="diabetes,pairwise")
    parser.add_argument("--priors", default="hs,hs+")
    parser.add_argument("--agreement", action="store_true", help="long runs, posteriors compared, no timing")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as workdir:
        for case in args.cases.split(","):
            X, y = CASES[case]()
            X = standardise(np.asarray(X, dtype=float))
            for prior_name in args.priors.split(","):
                if args.agreement:
                    ours(prior_name, X, y, seed=10_000)  # warm-up: numba compilation
                    long_ours, _, cpu_ours, divergent = ours(prior_name, X, y, seed=20_000, draws=AGREEMENT_OURS)
                    long_r, _, cpu_r = r_gibbs(prior_name, X, y, 20_000, workdir, draws=AGREEMENT_R,
                                               thin=AGREEMENT_THIN)
                    result = agreement(long_ours, long_r)
                    ess_ours, ess_r = result["min ESS ours, R"]
                    print(f"{case}, {prior_name}, long runs (ours 4 x {AGREEMENT_OURS}, R 4 x {AGREEMENT_R} kept of "
                          f"{AGREEMENT_R * AGREEMENT_THIN}), load {os.getloadavg()[0]:.1f}: {result}; CPU s ours "
                          f"{cpu_ours:.1f}, R {cpu_r:.1f}; ESS/CPU s ours {ess_ours / cpu_ours:.0f}, R "
                          f"{ess_r / cpu_r:.1f}, ratio {ess_ours / cpu_ours / (ess_r / cpu_r):.1f}x; "
                          f"ours divergent {divergent}", flush=True)
                    continue
                ours(prior_name, X, y, seed=10_000)  # warm-up: numba compilation
                rows = {"ours": [], "R": []}
                all_draws = {"ours": [], "R": []}
                for seed in range(args.seeds):
                    draws, wall, cpu, divergent = ours(prior_name, X, y, seed)
                    rows["ours"].append((*min_ess(summary(draws)), wall, cpu, divergent))
                    all_draws["ours"].append(draws)
                    draws, wall, cpu = r_gibbs(prior_name, X, y, seed, workdir)
                    rows["R"].append((*min_ess(summary(draws)), wall, cpu, 0))
                    all_draws["R"].append(draws)
                print(f"\n{case} ({X.shape[0]} x {X.shape[1]}), {prior_name}, load {os.getloadavg()[0]:.1f}")
                medians = {}
                for sampler, results in rows.items():
                    per_wall = [ess / wall for ess, _, wall, _, _ in results]
                    per_cpu = [ess / cpu for ess, _, _, cpu, _ in results]
                    medians[sampler] = statistics.median(per_wall), statistics.median(per_cpu)
                    print(f"  {sampler:5s} min bulk ESS {[round(r[0]) for r in results]}, wall s "
                          f"{[round(r[2], 2) for r in results]}, CPU s {[round(r[3], 2) for r in results]}, "
                          f"divergent {[r[4] for r in results]}, slowest {sorted(set(r[1] for r in results))}; median ESS/wall s {medians[sampler][0]:.0f}, "
                          f"median ESS/CPU s {medians[sampler][1]:.0f}")
                print(f"  ratio ours / R: wall {medians['ours'][0] / medians['R'][0]:.2f}x, "
                      f"CPU {medians['ours'][1] / medians['R'][1]:.2f}x")
                print(f"  agreement (pooled seeds): {agreement(pooled(all_draws['ours']), pooled(all_draws['R']))}")


if __name__ == "__main__":
    main()
