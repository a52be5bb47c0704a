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
from .hyperpriors import BayesianLasso, HalfCauchy
from .priors import Horseshoe, Laplace, Normal, Prior, RegularizedHorseshoe
from .sampling import SamplingWarning


def draw_coefficients(prior: Prior, p: int, sigma: float, rng, n: int | None = None) -> np.ndarray:
    """One draw of ``coef`` from ``prior`` as the docs write it (:mod:`bayesreg.priors`), with
    scipy's distributions: independent of :mod:`bayesreg.model`, the code under test.

    Normal(s): N(0, s^2). Laplace(b): Laplace(0, b). Horseshoe(tau0): tau ~ C+(0, tau0) (tau0 =
    sigma when None), lambda_j ~ C+(0, 1), w_j ~ N(0, (tau lambda_j)^2). RegularizedHorseshoe
    (needs ``n``): tau ~ C+(0, p0 / (p - p0) sigma / sqrt(n)), c^2 ~ Inv-Gamma(nu/2, nu s^2/2),
    w_j ~ N(0, tau^2 c^2 lambda_j^2 / (c^2 + tau^2 lambda_j^2)). A learned scale (Normal or Laplace
    with a hyperprior H): tau ~ H, then w_j ~ N(0, (tau c_j)^2) or Laplace(0, tau c_j).
    BayesianLasso(r, delta): lambda^2 ~ Gamma(shape r, rate delta), w_j ~ Laplace(0, sigma / lambda).
    """
    if isinstance(prior, (Normal, Laplace)) and prior.learned:
        hyper = prior.scale
        nu = 1.0 if isinstance(hyper, HalfCauchy) else hyper.nu  # a half-t is |t|; nu = 1: half-Cauchy
        tau = abs(stats.t(df=nu, scale=hyper.scale).rvs(random_state=rng))
        base = stats.norm if isinstance(prior, Normal) else stats.laplace
        return base(0.0, tau * np.broadcast_to(prior.factor, (p,))).rvs(p, random_state=rng)
    if isinstance(prior, BayesianLasso):
        lambda_sq = stats.gamma(a=prior.r, scale=1.0 / prior.delta).rvs(random_state=rng)
        return stats.laplace(0.0, sigma / np.sqrt(lambda_sq)).rvs(p, random_state=rng)
    if isinstance(prior, Normal):
        return stats.norm(0.0, prior.scale).rvs(p, random_state=rng)
    if isinstance(prior, Laplace):
        return stats.laplace(0.0, prior.scale).rvs(p, random_state=rng)
    if isinstance(prior, Horseshoe):
        tau = stats.halfcauchy(scale=sigma if prior.scale is None else prior.scale).rvs(random_state=rng)
        local = stats.halfcauchy().rvs(p, random_state=rng)
        return stats.norm(0.0, tau * local).rvs(p, random_state=rng)
    if isinstance(prior, RegularizedHorseshoe):
        if n is None:
            raise TypeError("the regularized horseshoe's global scale depends on n: pass n=")
        p0, nu, s = prior.expected_nonzero, prior.slab_df, prior.slab_scale
        tau = stats.halfcauchy(scale=p0 / (p - p0) * sigma / np.sqrt(n)).rvs(random_state=rng)
        slab_sq = stats.invgamma(nu / 2, scale=nu * s**2 / 2).rvs(random_state=rng)
        local = stats.halfcauchy().rvs(p, random_state=rng)
        return stats.norm(0.0, np.sqrt(tau**2 * slab_sq * local**2 / (slab_sq + tau**2 * local**2))).rvs(
            p, random_state=rng)
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
        truth = draw_coefficients(prior, p, sigma, rng, n=n)
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
