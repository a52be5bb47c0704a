"""Simulation-based calibration (Talts et al., 2018) for the linear models.

Draw coefficients from the prior, simulate ``y``, sample the posterior, and record the rank of
each true coefficient among (thinned) posterior draws. If the sampler is right, every rank is
uniform on ``0..L``; a chi-square test on binned ranks has a known false-alarm rate.

SBC needs a proper, data-independent prior on every parameter, so it runs with a known noise
sd and no intercept (the intercept's prior is flat, and the default sigma prior scales with y).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from .estimators import LinearRegression
from .priors import Horseshoe, Laplace, Normal, Prior
from .sampling import SamplingWarning


def draw_coefficients(prior: Prior, p: int, sigma: float, rng) -> np.ndarray:
    """One draw of ``coef`` from ``prior`` (the same generative story as :mod:`bayesreg.model`)."""
    if isinstance(prior, Normal):
        return rng.normal(0.0, prior.scale, p)
    if isinstance(prior, Laplace):
        return rng.laplace(0.0, prior.scale, p)
    if isinstance(prior, Horseshoe):
        global_scale = abs(rng.standard_cauchy()) * (sigma if prior.scale is None else prior.scale)
        return rng.normal(size=p) * np.abs(rng.standard_cauchy(p)) * global_scale
    raise TypeError(f"no SBC generator for {type(prior).__name__}")


def sbc_ranks(prior: Prior, *, n: int, p: int, replications: int, sigma: float = 1.0, draws: int = 400,
              chains: int = 2, tune: int = 300, thin: int = 4, bins: int = 10, seed: int = 0, **fit_kwargs):
    """Ranks of the true coefficients, shape (replications, p), and how many values a rank takes.

    ``L`` thinned draws give ranks ``0..L``; ``L`` is cut so that ``L + 1`` splits into ``bins``
    equal bins, else the binned histogram would not be uniform even for a perfect sampler.
    """
    kept = (draws * chains // thin + 1) // bins * bins - 1
    rng = np.random.default_rng(seed)
    ranks = np.empty((replications, p), dtype=int)
    for r in range(replications):
        X = rng.normal(size=(n, p))
        truth = draw_coefficients(prior, p, sigma, rng)
        y = X @ truth + sigma * rng.normal(size=n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplingWarning)  # SBC judges the whole, not one fit
            fit = LinearRegression(prior, sigma=sigma, fit_intercept=False).fit(
                X, y, draws=draws, tune=tune, chains=chains, random_seed=seed * 100_003 + r, progressbar=False,
                log_likelihood=False, **fit_kwargs)
        posterior = fit.idata_["posterior"]["coef"].to_numpy().reshape(-1, p)[::thin][:kept]
        ranks[r] = (posterior < truth).sum(axis=0)
    return ranks, kept + 1


def uniformity_pvalues(ranks: np.ndarray, n_values: int, bins: int = 10) -> np.ndarray:
    """Chi-square p-value per coefficient that its ranks (``0..n_values-1``) are uniform."""
    edges = np.linspace(0, n_values, bins + 1)
    return np.array([stats.chisquare(np.histogram(column, bins=edges)[0]).pvalue for column in ranks.T])
