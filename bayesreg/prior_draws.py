"""Draws from the priors as the docs write them, with scipy: the generators of the SBC.

Each generator reads the density or hierarchy from a docstring (:mod:`bayesreg.priors`,
:mod:`bayesreg.hyperpriors`, :mod:`bayesreg.likelihoods`, :mod:`bayesreg.model_inputs`) and draws
it with :mod:`scipy.stats`, never through :mod:`bayesreg.model` or :mod:`bayesreg.logdensity`, the
code under test. The constants (the Half-t's 4 degrees of freedom, the logistic intercept's 2.5) are
written here as the docs state them, not imported, so that a change in the code that the docs do
not follow shows up as a failed calibration.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .hyperpriors import BayesianLasso, HalfCauchy
from .priors import ElasticNet, Horseshoe, Laplace, Normal, Prior, RegularizedHorseshoe

SIGMA_PRIOR_DF = 4.0  # likelihoods.py: sigma ~ Half-t_4(0, sd(y))
LOGISTIC_INTERCEPT_SD = 2.5  # model_inputs.py: b_c ~ N(0, 2.5^2) for logistic priors without a MAP


def draw_coefficients(prior: Prior, p: int, sigma: float, rng, n: int | None = None) -> np.ndarray:
    """One draw of ``coef`` from ``prior``; ``sigma`` is the noise sd (the pseudo-sigma in logistic
    regression) for the priors that scale with it.

    Normal(s): N(0, s^2). Laplace(b): Laplace(0, b). ElasticNet(b, s): density proportional to
    exp(-|w|/b - w^2/(2 s^2)); on w > 0 that is exp(-(w + s^2/b)^2 / (2 s^2)) up to a constant, a
    N(-s^2/b, s^2) truncated to w > 0 (standardized lower bound (0 + s^2/b)/s = s/b), and the
    density is even, so |w| is that truncated Normal and the sign is a fair coin.
    Horseshoe(tau0): tau ~ C+(0, tau0) (tau0 = sigma when None), lambda_j ~ C+(0, 1),
    w_j ~ N(0, (tau lambda_j)^2). RegularizedHorseshoe (needs ``n``): tau ~ C+(0, p0 / (p - p0)
    sigma / sqrt(n)), c^2 ~ Inv-Gamma(nu/2, nu s^2/2), w_j ~ N(0, tau^2 c^2 lambda_j^2 / (c^2 +
    tau^2 lambda_j^2)). A learned scale (Normal or Laplace with a hyperprior H): tau ~ H, then
    w_j ~ N(0, (tau c_j)^2) or Laplace(0, tau c_j). BayesianLasso(r, delta): lambda^2 ~ Gamma(shape r,
    rate delta), w_j ~ Laplace(0, sigma / lambda).
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
    if isinstance(prior, ElasticNet):
        b, s = np.broadcast_to(prior.laplace_scale, (p,)), np.broadcast_to(prior.normal_scale, (p,))
        size = stats.truncnorm(a=s / b, b=np.inf, loc=-s**2 / b, scale=s).rvs(p, random_state=rng)
        return np.where(rng.random(p) < 0.5, -size, size)
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


def draw_sigma(scale: float, rng) -> float:
    """The noise sd from its prior with ``sigma=None``, Half-t_4(0, scale): |t| with 4 df, scaled."""
    return float(abs(stats.t(df=SIGMA_PRIOR_DF, scale=scale).rvs(random_state=rng)))


def draw_logistic_intercept(X: np.ndarray, coef: np.ndarray, rng) -> float:
    """The logistic intercept ``b`` under the proper prior of the priors without a MAP:
    ``b_c ~ N(0, 2.5^2)`` on the design centred at the sample means, and ``b = b_c - xbar'w``."""
    return float(stats.norm(0.0, LOGISTIC_INTERCEPT_SD).rvs(random_state=rng) - X.mean(axis=0) @ coef)
