"""NUTS benchmarks: bayesreg against the naive PyMC model a user would write, in the same run.

The naive model is the one bambi builds: ``pm.Normal("y", intercept + X @ coef, sigma,
observed=y)`` (or ``pm.Bernoulli``), the same priors, sampled with ``pm.sample()`` defaults
(which in PyMC 6.4 means nutpie with a diagonal mass matrix when nutpie is installed).

Wall time is end to end: model build + compile + sampling, in a process where that model
structure was not compiled before. Each line prints wall time, min bulk ESS over the
coefficients, ESS/s, divergences, and the ESS/s ratio bayesreg / naive.

"PyMC path" is how bayesreg sampled before its log densities were compiled once per machine:
``nutpie.compile_pymc_model`` on the same PyMC model (``est.pymc_model``), same settings. Its
sampling-only ESS/s (compile excluded) against the compiled path's checks that the hand-written
density samples no slower per second of sampling.

    .venv/bin/python benchmarks/nuts_speed.py [--cases diabetes,cancer,horseshoe,large,diamonds,
                                                       learned_diabetes,learned_sparse]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import time
import warnings

import arviz as az
import numpy as np
import pymc as pm
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import StandardScaler

import bayesreg as br
from bayesreg.families.gaussian import SIGMA_PRIOR_NU

SHARED = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
DRAWS = dict(draws=1000, tune=1000, chains=4)


def measure(label, run):
    started = time.perf_counter()
    idata, extra = run()
    wall = time.perf_counter() - started
    ess = float(az.summary(idata, var_names=["coef"], kind="diagnostics")["ess_bulk"].min())
    div = int(idata["sample_stats"]["diverging"].sum())
    print(f"  {label:<34} wall {wall:7.1f} s  min ESS {ess:7.0f}  ESS/s {ess / wall:8.1f}  "
          f"divergent {div:4d}/{DRAWS['draws'] * DRAWS['chains']}{extra}", flush=True)
    sampling = idata.attrs.get("sampling_seconds", wall)
    steps = float(idata["sample_stats"]["n_steps"].sum()) if "n_steps" in idata["sample_stats"] else np.nan
    print(f"  {'':<34} sampling {sampling:6.2f} s for {steps:9.0f} gradients after tuning: "
          f"{1e6 * sampling / steps:7.1f} us per gradient (tuning included in the time)", flush=True)
    return {"wall": wall, "ess": ess, "ess_per_s": ess / wall, "divergent": div, "sampling_seconds": sampling}


def ours(estimator, X, y, **kwargs):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = estimator.fit(X, y, progressbar=False, random_seed=1, log_likelihood=False,
                                **DRAWS, **kwargs)
        attrs = fit.idata_.attrs
        return fit.idata_, f"  (setup {attrs['setup_seconds']:.2f} s, sample {attrs['sampling_seconds']:.1f} s)"
    return run


def pymc_path(estimator, X, y, **kwargs):
    """bayesreg's model sampled through nutpie's PyMC compile (the path before issue 11)."""
    import nutpie

    from bayesreg.model import ModelSpec
    from bayesreg.sampling import default_settings

    def run():
        family = "gaussian" if isinstance(estimator, br.LinearRegression) else "bernoulli"
        spec = ModelSpec.of(family, estimator.prior, X.shape[1], estimator.fit_intercept,
                            getattr(estimator, "sigma", None) is not None)
        compiled = nutpie.compile_pymc_model(estimator.pymc_model(X, y))
        started = time.perf_counter()
        idata = nutpie.sample(compiled, seed=1, progress_bar=False, save_warmup=False, **DRAWS,
                              **{**default_settings(spec), **kwargs})
        idata.attrs["sampling_seconds"] = time.perf_counter() - started
        return idata, f"  (sample {idata.attrs['sampling_seconds']:.1f} s)"
    return run


def naive_linear(X, y, coef_prior, sigma_scale):
    def run():
        with pm.Model(coords={"feature": range(X.shape[1])}):
            intercept = pm.Flat("intercept")
            sigma = pm.HalfStudentT("sigma", nu=SIGMA_PRIOR_NU, sigma=sigma_scale)
            coef = coef_prior()
            pm.Normal("y", intercept + pm.math.dot(X, coef), sigma, observed=y)
            return pm.sample(**DRAWS, random_seed=1, progressbar=False), ""
    return run


def naive_logistic(X, y, scale):
    def run():
        with pm.Model(coords={"feature": range(X.shape[1])}):
            intercept = pm.Flat("intercept")
            coef = pm.Normal("coef", 0.0, scale, dims="feature")
            pm.Bernoulli("y", logit_p=intercept + pm.math.dot(X, coef), observed=y)
            return pm.sample(**DRAWS, random_seed=1, progressbar=False), ""
    return run


def naive_horseshoe(X, y, expected_nonzero, slab_scale=2.0, slab_df=4.0, centred=True):
    """The regularized horseshoe as commonly written in PyMC, pm.sample defaults: centred, or
    non-centred (``coef = z * tau * lambda_tilde``), which is what a careful user writes."""
    def run():
        n, p = X.shape
        with pm.Model(coords={"feature": range(p)}):
            intercept = pm.Flat("intercept")
            sigma = pm.HalfStudentT("sigma", nu=SIGMA_PRIOR_NU, sigma=np.std(y))
            tau = pm.HalfCauchy("tau", expected_nonzero / (p - expected_nonzero) * sigma / np.sqrt(n))
            lam = pm.HalfCauchy("lam", 1.0, dims="feature")
            c2 = pm.InverseGamma("c2", slab_df / 2, slab_df * slab_scale**2 / 2)
            lam_tilde = pm.math.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))
            if centred:
                coef = pm.Normal("coef", 0.0, tau * lam_tilde, dims="feature")
            else:
                z = pm.Normal("z", 0.0, 1.0, dims="feature")
                coef = pm.Deterministic("coef", z * tau * lam_tilde, dims="feature")
            pm.Normal("y", intercept + pm.math.dot(X, coef), sigma, observed=y)
            return pm.sample(**DRAWS, random_seed=1, progressbar=False), ""
    return run


def compare(name, ours_run, naive_run, naive_note="", before_run=None, extra_naive=()):
    print(f"\n{name}")
    a = measure("bayesreg", ours_run)
    b = measure("naive PyMC" + naive_note, naive_run) if naive_run else None
    if b:
        print(f"  ratio ESS/s bayesreg / naive: {a['ess_per_s'] / b['ess_per_s']:.1f}x  (target >= 3x)")
    for label, run in extra_naive:
        other = measure(label, run)
        print(f"  ratio ESS/s bayesreg / {label}: {a['ess_per_s'] / other['ess_per_s']:.1f}x")
    if before_run:
        before = measure("bayesreg, PyMC path (before)", before_run)
        print(f"  sampling-only ESS/s, compiled / PyMC path: {a['ess'] / a['sampling_seconds']:.0f} / "
              f"{before['ess'] / before['sampling_seconds']:.0f} = "
              f"{(a['ess'] / a['sampling_seconds']) / (before['ess'] / before['sampling_seconds']):.2f}x (target >= 1)")
    return {"ours": a, "naive": b}


def diabetes():
    X, y = load_diabetes(return_X_y=True)
    prior = br.Normal(300.0)
    return compare("diabetes ridge, Normal(300), sigma estimated (n=442, p=10)",
                   ours(br.LinearRegression(prior), X, y),
                   naive_linear(X, y, lambda: pm.Normal("coef", 0, 300.0, dims="feature"), np.std(y)),
                   before_run=pymc_path(br.LinearRegression(prior), X, y))


def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return compare("breast-cancer logistic, Normal(1) (n=569, p=30)",
                   ours(br.LogisticRegression(br.Normal(1.0)), X, y), naive_logistic(X, y, 1.0),
                   before_run=pymc_path(br.LogisticRegression(br.Normal(1.0)), X, y))


def sparse_problem():
    """n = 100, p = 200, five signals: the horseshoe's and the learned scales' hard case."""
    rng = np.random.default_rng(0)
    n, p = 100, 200
    X = rng.normal(size=(n, p))
    truth = np.zeros(p)
    truth[:5] = [3.0, -2.5, 2.0, -1.5, 1.5]
    y = X @ truth + rng.normal(size=n)
    return X, y


def horseshoe():
    X, y = sparse_problem()
    fit = br.LinearRegression(br.RegularizedHorseshoe(expected_nonzero=5, autoscale=False))
    result = compare("regularized horseshoe, defaults, n=100, p=200, 5 signals (target <= 0.1% divergent)",
                     ours(fit, X, y), naive_horseshoe(X, y, 5), " (centred)",
                     before_run=pymc_path(br.LinearRegression(br.RegularizedHorseshoe(expected_nonzero=5, autoscale=False)), X, y),
                     extra_naive=[("naive PyMC (non-centred)", naive_horseshoe(X, y, 5, centred=False))])
    table = fit.summary(ci_prob=0.9)
    found = np.sign(table.loc[fit.feature_names_[:5], "eti90_lb"]) == np.sign(table.loc[fit.feature_names_[:5], "eti90_ub"])
    print(f"  signals credibly non-zero (90%): {int(found.sum())}/5; "
          f"largest |mean| among nulls: {np.abs(table.loc[fit.feature_names_[5:], 'mean']).max():.3f}")
    return result


def large(n_naive=100_000):
    rng = np.random.default_rng(1)
    n, p = 1_000_000, 50
    X = rng.normal(size=(n, p))
    y = 0.5 + X @ rng.normal(size=p) + rng.normal(size=n)
    print("\nlarge n, p=50, Normal(1), sigma estimated (target: n=1e6 <= 30 s end to end, min ESS >= 400)")
    a = measure("bayesreg n=1e6", ours(br.LinearRegression(br.Normal(1.0)), X, y))
    before = measure("bayesreg n=1e6, PyMC path (before)", pymc_path(br.LinearRegression(br.Normal(1.0)), X, y))
    print(f"  sampling-only ESS/s, compiled / PyMC path: "
          f"{(a['ess'] / a['sampling_seconds']) / (before['ess'] / before['sampling_seconds']):.2f}x (target >= 1)")
    b = measure(f"naive PyMC n={n_naive:.0e}",
                naive_linear(X[:n_naive], y[:n_naive], lambda: pm.Normal("coef", 0, 1.0, dims="feature"),
                             np.std(y[:n_naive])))
    print(f"  ratio ESS/s bayesreg (n=1e6) / naive (n={n_naive:.0e}): {a['ess_per_s'] / b['ess_per_s']:.1f}x")
    return {"ours": a, "naive": b}


def diamonds():
    data = json.loads((SHARED / "diamonds.json").read_text())
    X, y = np.array(data["X"])[:, 1:], np.array(data["Y"])  # column 0 is the intercept
    print("\nposteriordb diamonds, Normal(1) slopes (n=5000, p=24): mass matrix matters")
    out = {}
    for adaptation in ("low_rank", "diag"):
        out[adaptation] = measure(f"bayesreg adaptation={adaptation}",
                                  ours(br.LinearRegression(br.Normal(1.0)), X, y, adaptation=adaptation))
    before = measure("bayesreg low_rank, PyMC path (before)", pymc_path(br.LinearRegression(br.Normal(1.0)), X, y))
    print(f"  sampling-only ESS/s, compiled / PyMC path: "
          f"{(out['low_rank']['ess'] / out['low_rank']['sampling_seconds']) / (before['ess'] / before['sampling_seconds']):.2f}x")
    out["naive"] = measure("naive PyMC", naive_linear(X, y, lambda: pm.Normal("coef", 0, 1.0, dims="feature"),
                                                      np.std(y)))
    print(f"  ratio ESS/s bayesreg (low_rank) / naive: {out['low_rank']['ess_per_s'] / out['naive']['ess_per_s']:.1f}x")
    return out


def learned(name, estimator, X, y):
    """A learned prior scale (issue 12): divergences, ESS/s, and the bulk ESS of the scale itself."""
    print(f"\n{name}")
    result = measure("bayesreg", ours(estimator, X, y))
    table = estimator.summary()
    print(f"  prior_scale: bulk ESS {table.loc['prior_scale', 'ess_bulk']:.0f}, tail ESS "
          f"{table.loc['prior_scale', 'ess_tail']:.0f} (target bulk >= 400); posterior mean "
          f"{table.loc['prior_scale', 'mean']:.3g}")
    return result


def _learned_priors():
    return {"Normal(HalfCauchy(1), autoscale=True)": br.Normal(br.HalfCauchy(1.0), autoscale=True),
            "Laplace(HalfCauchy(1), autoscale=True)": br.Laplace(br.HalfCauchy(1.0), autoscale=True),
            "BayesianLasso()": br.BayesianLasso()}


def learned_diabetes():
    X, y = load_diabetes(return_X_y=True)
    return {name: learned(f"diabetes, {name}, sigma estimated (target: 0 divergent)", br.LinearRegression(prior), X, y)
            for name, prior in _learned_priors().items()}


def learned_sparse():
    X, y = sparse_problem()
    return {name: learned(f"sparse n=100, p=200, {name} (target <= 0.1% divergent)", br.LinearRegression(prior), X, y)
            for name, prior in _learned_priors().items()}


CASES = {"diabetes": diabetes, "cancer": cancer, "horseshoe": horseshoe, "large": large, "diamonds": diamonds,
         "learned_diabetes": learned_diabetes, "learned_sparse": learned_sparse}


def _warm_up():
    """One tiny fit each way first, so that one-off costs of the first nutpie.sample in a process
    (thread pool, ArviZ's lazy imports on its first conversion) fall on neither timed path."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    settings = dict(draws=20, tune=20, chains=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        br.LinearRegression(br.Normal(1.0)).fit(X, y, progressbar=False, **settings)
        import nutpie

        nutpie.sample(nutpie.compile_pymc_model(br.LinearRegression(br.Normal(1.0)).pymc_model(X, y)),
                      progress_bar=False, **settings)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d')}  {platform.machine()}, 2 cores, PyMC {pm.__version__}, "
          f"{DRAWS['chains']} chains x {DRAWS['draws']} draws after {DRAWS['tune']} tune")
    _warm_up()
    started = time.perf_counter()
    for name in args.cases.split(","):
        CASES[name]()
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
