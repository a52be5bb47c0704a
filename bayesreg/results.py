"""What a posterior gives back: summary table, pointwise log-likelihood, posterior predictive.

All of it is computed from the draws in NumPy after sampling, never inside the model, so the
sampler's gradient stays O(p^2) for the Gaussian likelihood.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

LOG_LIKELIHOOD_MAX_BYTES = 200 * 2**20  # computed automatically below this size
SCALE_NAMES = ("sigma", "global_scale", "slab_scale")


def stacked_draws(idata, name) -> np.ndarray:
    """Draws of ``name`` with (chain, draw) flattened into the first axis."""
    values = idata["posterior"][name]
    return values.stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()


def linear_predictor_draws(idata, X, fit_intercept: bool) -> np.ndarray:
    """``eta[s, i] = intercept_s + x_i . coef_s``, shape (n_draws, n_rows)."""
    eta = stacked_draws(idata, "coef") @ X.T
    if fit_intercept:
        eta += stacked_draws(idata, "intercept")[:, None]
    return eta


def _noise_sd(idata, sigma):
    """Per-draw noise sd as a column (estimated), or the known value."""
    return stacked_draws(idata, "sigma")[:, None] if sigma is None else sigma


def _per_draw(idata, values: np.ndarray) -> xr.Dataset:
    """A (n_draws, n_obs) array as a ``y`` variable with the posterior's chain and draw axes."""
    posterior = idata["posterior"]
    shape = (posterior.sizes["chain"], posterior.sizes["draw"], -1)
    return xr.Dataset({"y": (("chain", "draw", "obs"), values.reshape(shape))},
                      coords={"chain": posterior["chain"].to_numpy(), "draw": posterior["draw"].to_numpy()})


def pointwise_log_likelihood(idata, X, y, family: str, fit_intercept: bool, sigma=None) -> np.ndarray:
    eta = linear_predictor_draws(idata, X, fit_intercept)
    if family == "gaussian":
        s = _noise_sd(idata, sigma)
        return -0.5 * np.log(2 * np.pi) - np.log(s) - (y - eta) ** 2 / (2 * s**2)
    return y * eta - np.logaddexp(0.0, eta)


def add_observation_groups(idata, X, y, family, fit_intercept, sigma=None, log_likelihood=None):
    """Attach ``observed_data`` and (on request, or when small enough) ``log_likelihood``."""
    idata["observed_data"] = xr.Dataset({"y": ("obs", y)})
    if log_likelihood is None:
        n_draws = idata["posterior"].sizes["chain"] * idata["posterior"].sizes["draw"]
        log_likelihood = n_draws * len(y) * 8 <= LOG_LIKELIHOOD_MAX_BYTES
    if log_likelihood:
        idata["log_likelihood"] = _per_draw(
            idata, pointwise_log_likelihood(idata, X, y, family, fit_intercept, sigma))
    return idata


def posterior_predictive(idata, X, family: str, fit_intercept: bool, rng, sigma=None) -> xr.Dataset:
    eta = linear_predictor_draws(idata, X, fit_intercept)
    if family == "gaussian":
        y = eta + _noise_sd(idata, sigma) * rng.standard_normal(eta.shape)
    else:
        y = (rng.random(eta.shape) < special.expit(eta)).astype(float)
    return _per_draw(idata, y)


def summary_table(idata, ci_prob: float, map_estimate=None) -> pd.DataFrame:
    """ArviZ summary indexed by coefficient name, with the MAP beside it where it exists."""
    import arviz as az

    var_names = summary_var_names(idata)
    table = az.summary(idata, var_names=var_names, ci_prob=ci_prob, round_to="none")
    table.index = [_plain_name(label) for label in table.index]
    if map_estimate is not None:
        map_values = dict(zip(idata["posterior"]["feature"].to_numpy().tolist(), map_estimate.coef))
        map_values["intercept"] = map_estimate.intercept
        if map_estimate.sigma is not None:
            map_values["sigma"] = map_estimate.sigma
        table.insert(0, "map", [map_values.get(name, np.nan) for name in table.index])
    if "pareto_k" in idata.attrs:  # method="surrogate": the diagnostic of its importance weights
        table.attrs["pareto_k"] = idata.attrs["pareto_k"]
    return table


def summary_var_names(idata) -> list[str]:
    present = idata["posterior"].data_vars
    return [name for name in ("coef", "intercept", *SCALE_NAMES) if name in present]


def _plain_name(label: str) -> str:
    """``coef[bmi]`` -> ``bmi``; other variables keep their names."""
    if label.startswith("coef[") and label.endswith("]"):
        return label[5:-1]
    return label
