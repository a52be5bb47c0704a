"""Exact posterior for the surrogate test of the regularized horseshoe (issue 14).

``tests/test_surrogate.py`` checks ``LogisticRegression(method="surrogate")`` against exact NUTS at
n = 30000, p = 10. For Normal and Laplace priors the test runs bayesreg's exact NUTS itself. For
the regularized horseshoe that takes hours: the data pin every coefficient, so the non-centred
horseshoe's scales form narrow curved ridges that need deep trees, each step O(n p).

So this script computes the reference once, independently of bayesreg's samplers and model code:
a PyMC model written from the documented prior (``bayesreg.priors.RegularizedHorseshoe``; the
logistic intercept Normal(0, 2.5^2) on the centred design, docs/concepts.md), sampled by nutpie.
The test data have features in {-1, +1}, so the 30000 rows have at most 1024 distinct patterns and
the exact log-likelihood is a sum over patterns, ``sum_g k_g eta_g - m_g log(1 + e^eta_g)`` (m_g
rows, k_g of them positive): the same function, 30x cheaper. It writes means, sds, bulk ESS, the
diagnostics and a hash of the data to ``tests/data/rhs_logistic_reference.json``:

    PYTHONPATH=. OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/surrogate_reference.py
"""

from __future__ import annotations

import json
import math
import pathlib
import platform
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_surrogate import RHS_PRIOR, binary_logistic_data, data_hash  # noqa: E402

OUT = ROOT / "tests" / "data" / "rhs_logistic_reference.json"
INTERCEPT_PRIOR_SD = 2.5
SETTINGS = dict(draws=3000, tune=2000, chains=4, seed=20261123, target_accept=0.99)


def reference_model(X, y):
    """The regularized horseshoe logistic posterior as docs and docstrings state it."""
    import pymc as pm
    import pytensor.tensor as pt

    n, p = X.shape
    patterns, group, rows = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    positives = np.bincount(group.ravel(), weights=y, minlength=len(patterns))
    x_mean = X.mean(axis=0)
    mu = y.mean()
    p0, nu, s = RHS_PRIOR.expected_nonzero, RHS_PRIOR.slab_df, RHS_PRIOR.slab_scale
    tau0 = p0 / (p - p0) / math.sqrt(mu * (1 - mu)) / math.sqrt(n)  # pseudo-sigma 1/sqrt(mu(1-mu))
    coords = {"feature": [f"x{j}" for j in range(p)]}
    with pm.Model(coords=coords) as model:
        intercept_c = pm.Normal("intercept_c", 0.0, INTERCEPT_PRIOR_SD)
        z = pm.Normal("z", 0.0, 1.0, dims="feature")
        lam = pm.HalfCauchy("lam", 1.0, dims="feature")
        tau = pm.HalfCauchy("tau", tau0)
        c2 = pm.InverseGamma("c2", alpha=nu / 2, beta=nu * s**2 / 2)
        lam_tilde = pt.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))
        coef = pm.Deterministic("coef", z * tau * lam_tilde, dims="feature")
        eta = intercept_c + pt.dot(patterns - x_mean, coef)
        pm.Potential("log_likelihood", pt.sum(positives * eta - rows * pt.softplus(eta)))
        pm.Deterministic("intercept", intercept_c - pt.dot(x_mean, coef))
    return model, len(patterns)


def main() -> None:
    import arviz as az
    import nutpie

    X, y = binary_logistic_data()
    model, n_patterns = reference_model(X, y)
    started = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    trace = nutpie.sample(compiled, progress_bar=False, **SETTINGS)
    seconds = time.perf_counter() - started
    table = az.summary(trace, var_names=["coef", "intercept"], round_to="none")
    names = [label[5:-1] if label.startswith("coef[") else label for label in table.index]
    table.index = names
    reference = {
        "what": "exact posterior of LogisticRegression(RHS_PRIOR) on binary_logistic_data() "
                "(tests/test_surrogate.py), by NUTS on an independent PyMC model",
        "command": "PYTHONPATH=. OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/surrogate_reference.py",
        "date": time.strftime("%Y-%m-%d"), "seconds": round(seconds, 1), "distinct_rows": n_patterns,
        "versions": {"bayesreg_commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                                       text=True).stdout.strip(),
                     "nutpie": nutpie.__version__, "arviz": az.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "settings": SETTINGS,
        "data_sha256": data_hash(X, y),
        "divergent": int(trace["sample_stats"]["diverging"].sum()),
        "max_rhat": float(table["r_hat"].max()),
        "mean": table["mean"].to_dict(), "sd": table["sd"].to_dict(), "ess_bulk": table["ess_bulk"].to_dict(),
    }
    OUT.write_text(json.dumps(reference, indent=1) + "\n")
    print(json.dumps({k: reference[k] for k in ("seconds", "divergent", "max_rhat", "distinct_rows")}),
          f"min bulk ESS {min(reference['ess_bulk'].values()):.0f} -> {OUT}")


if __name__ == "__main__":
    main()
