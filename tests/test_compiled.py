"""The compiled sampling path: nutpie integration, valid starts, failures, caches, diagnostics."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
import xarray as xr

import bayesreg as br
from bayesreg import sampling
from bayesreg.sampling import nutpie as adapter
from bayesreg.model.spec import logistic_inputs
from seeds import shifted

ROOT = pathlib.Path(__file__).resolve().parents[1]
QUICK = dict(draws=100, tune=100, chains=2, random_seed=shifted(1), progressbar=False)


def test_initial_points_shrink_their_jitter_until_the_density_is_finite(monkeypatch):
    """A start where the density or gradient is not finite makes nutpie panic ('bad initial
    gradient'); the jitter is halved until the point is valid. Forced here with a jitter of
    +-1000 on the horseshoe's log scales, where exp overflows."""
    rng = np.random.default_rng(shifted(0))
    X = rng.normal(size=(30, 3))
    spec, data = logistic_inputs(X, (X[:, 0] > 0).astype(float), br.Horseshoe(), fit_intercept=True)
    centre, width = adapter._base_point(spec, data)
    monkeypatch.setattr(adapter, "_base_point", lambda spec, data: (centre, 1000 * width))
    model = adapter.compile_model(spec, data, ["a", "b", "c"])
    jitter = np.random.default_rng(shifted(0)).uniform(-1.0, 1.0, size=centre.size) * 1000 * width
    assert not np.all(np.isfinite(adapter.log_density(model.header, centre + jitter)[1]))
    for seed in range(5):
        value, grad = adapter.log_density(model.header, model.initial_point(seed))
        assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_separable_logistic_horseshoe_samples_instead_of_panicking():
    """Issue 13 item 9: n = 30, p = 60, y = x0 > 0 crashed nutpie with 'bad initial gradient'."""
    rng = np.random.default_rng(shifted(0))
    X = rng.normal(size=(30, 60))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sampling.SamplingWarning)
        est = br.LogisticRegression(br.Horseshoe()).fit(X, y, **QUICK)
    assert np.all(np.isfinite(est.coef_))


class _FakePanic(BaseException):
    """What pyo3 raises for a Rust panic: a BaseException, not an Exception."""


def test_a_sampler_panic_becomes_a_python_error_and_keeps_the_previous_fit(monkeypatch):
    import nutpie

    rng = np.random.default_rng(shifted(1))
    X = rng.normal(size=(40, 2))
    y = X @ [1.0, -1.0] + rng.normal(size=40)
    est = br.LinearRegression(br.Normal(1.0)).fit(X, y, **QUICK)
    before = est.idata_

    def panic(*args, **kwargs):
        raise _FakePanic("called `Result::unwrap()` on an `Err` value: bad initial gradient")

    monkeypatch.setattr(nutpie, "sample", panic)
    with pytest.raises(sampling.SamplingError, match="bad initial gradient.*previous fit"):
        est.fit(2 * X, y, **QUICK)
    assert est.idata_ is before


def _idata_with(energy: np.ndarray, coef: np.ndarray) -> xr.DataTree:
    chains, draws = coef.shape
    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    posterior = xr.Dataset({"coef": (("chain", "draw"), coef)}, coords=coords)
    stats = xr.Dataset({"energy": (("chain", "draw"), energy),
                        "diverging": (("chain", "draw"), np.zeros_like(coef, dtype=bool))}, coords=coords)
    return xr.DataTree.from_dict({"posterior": posterior, "sample_stats": stats})


def test_low_e_bfmi_warns():
    """E-BFMI = E[(E_t - E_{t-1})^2] / Var(E): a random-walk energy (tiny steps, large spread) has
    E-BFMI ~ 1/draws, far below 0.3; independent energies have E-BFMI ~ 2."""
    rng = np.random.default_rng(shifted(2))
    coef = rng.normal(size=(4, 1000))
    stuck = np.cumsum(rng.normal(size=(4, 1000)), axis=1)
    problems = sampling.convergence_problems(_idata_with(stuck, coef), ["coef"])
    assert any("E-BFMI" in problem for problem in problems), problems
    healthy = sampling.convergence_problems(_idata_with(rng.normal(size=(4, 1000)), coef), ["coef"])
    assert healthy == []


def test_one_chain_says_r_hat_was_not_checked():
    rng = np.random.default_rng(shifted(3))
    problems = sampling.convergence_problems(_idata_with(rng.normal(size=(1, 1000)), rng.normal(size=(1, 1000))),
                                             ["coef"])
    assert any("R-hat needs at least 2 chains" in problem for problem in problems), problems


def test_low_tail_ess_warns_even_when_bulk_ess_is_fine():
    """Tail ESS is computed on the indicators of the 5% and 95% quantiles: draws whose tails move
    slowly (one chain's extreme values clustered in time) fail it while the bulk mixes."""
    rng = np.random.default_rng(shifted(4))
    coef = rng.normal(size=(4, 1000))
    coef[:, :50] = np.abs(coef[:, :50]) + 3  # every chain's upper tail sits in its first 50 draws
    problems = sampling.convergence_problems(_idata_with(rng.normal(size=(4, 1000)), coef), ["coef"])
    assert any(problem.startswith("tail ESS") for problem in problems), problems


@pytest.mark.slow
def test_fit_from_a_read_only_install_caches_in_the_user_cache_dir(tmp_path):
    """No writable __pycache__ beside the package (a system install): numba falls back to the
    user's cache directory, and the fit works. As root every directory is writable, so the
    kernels' __pycache__ is made a *file*, which no one can create a cache directory in."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "bayesreg", site / "bayesreg", ignore=shutil.ignore_patterns("__pycache__"))
    (site / "bayesreg" / "sampling" / "kernels" / "__pycache__").write_text("not a directory")
    cache = tmp_path / "cache"
    script = ("import numpy as np, bayesreg as br\n"
              "assert bayesreg_file.startswith(%r), bayesreg_file\n"
              "X = np.random.default_rng(0).normal(size=(30, 2)); y = X[:, 0] + 1\n"  # seed fixed: no claim on values, the fit only has to run
              "br.LinearRegression(br.Normal(1.0)).fit(X, y, draws=50, tune=50, chains=1, progressbar=False)\n"
              "print('ok')" % str(site))
    script = script.replace("bayesreg_file", "br.__file__")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "XDG_CACHE_HOME": str(cache), "HOME": str(tmp_path),
           "PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
    cached = list((cache / "numba").rglob("*.nbi"))
    assert any("noncentred" in path.name for path in cached), cached
