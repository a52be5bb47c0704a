r"""Build the PyMC model: prior x likelihood, the density both MAP and NUTS use.

Gaussian likelihood through sufficient statistics
    For any least-squares solution :math:`\hat w` of the centred data (``X_c' X_c \hat w = X_c' y_c``),

    .. math::
        \|y - b - Xw\|^2 = \mathrm{RSS}_{\min} + \|F(w - \hat w)\|^2
                           + n(\bar y - b - \bar x^\top w)^2,\qquad F^\top F = X_c^\top X_c,

    so a log-density gradient costs :math:`O(p \min(n, p))` whatever ``n`` is. Expanding around
    :math:`\hat w` (rather than using ``y'y - 2w'X'y + w'X'Xw``) avoids cancellation when the fit
    is good. Pointwise log-likelihoods are computed after sampling, not in the model.

Priors (one PyMC variable ``coef`` with dim ``feature``; scales under their own names)
    Normal, Laplace: direct. ElasticNet: a flat ``coef`` plus its exact log density.
    Horseshoe and regularized horseshoe: non-centred, ``coef = coef_raw * global_scale * ...``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from .likelihoods import SIGMA_PRIOR_NU, sigma_prior_scale
from .priors import ElasticNet, Horseshoe, Laplace, Normal, Prior, RegularizedHorseshoe


class GaussianStats:
    """What the Gaussian likelihood needs from ``(X, y)``: O(p^2) numbers, not O(np)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, fit_intercept: bool):
        self.n, self.p = X.shape
        self.x_mean = X.mean(axis=0) if fit_intercept else np.zeros(self.p)
        self.y_mean = float(y.mean()) if fit_intercept else 0.0
        Xc = X - self.x_mean
        yc = y - self.y_mean
        gram = Xc.T @ Xc
        eigval, eigvec = np.linalg.eigh(gram)
        keep = eigval > eigval.max(initial=0.0) * self.p * np.finfo(float).eps
        self.factor = np.sqrt(eigval[keep])[:, None] * eigvec[:, keep].T  # F'F = X_c'X_c
        self.coef_ls = eigvec[:, keep] @ ((eigvec[:, keep].T @ (Xc.T @ yc)) / eigval[keep])
        residual = yc - Xc @ self.coef_ls
        self.rss_min = float(residual @ residual)
        self.y_sd = float(np.std(y))

    def log_likelihood(self, coef, intercept, sigma):
        """Total Gaussian log-likelihood as a PyTensor expression."""
        misfit = pt.dot(self.factor, coef - self.coef_ls)
        offset = self.y_mean - intercept - pt.dot(self.x_mean, coef)
        rss = self.rss_min + pt.sum(misfit**2) + self.n * offset**2
        return -self.n * pt.log(sigma) - self.n / 2 * math.log(2 * math.pi) - rss / (2 * sigma**2)


def build_linear_model(X, y, prior: Prior, *, sigma, fit_intercept, feature_names) -> pm.Model:
    stats = GaussianStats(X, y, fit_intercept)
    with pm.Model(coords={"feature": list(feature_names)}) as model:
        intercept = pm.Flat("intercept") if fit_intercept else 0.0
        if sigma is None:
            sigma = pm.HalfStudentT("sigma", nu=SIGMA_PRIOR_NU, sigma=sigma_prior_scale(y))
        coef = coefficient_prior(prior, noise_scale=sigma, n=stats.n, p=stats.p)
        pm.Potential("log_likelihood", stats.log_likelihood(coef, intercept, sigma))
    return model


def build_logistic_model(X, y01, prior: Prior, *, fit_intercept, feature_names) -> pm.Model:
    n, p = X.shape
    mean = float(np.mean(y01))
    pseudo_sigma = 1.0 / math.sqrt(mean * (1 - mean))  # Piironen & Vehtari (2017), sec. 3.2
    with pm.Model(coords={"feature": list(feature_names)}) as model:
        data = pm.Data("X", X)
        intercept = pm.Flat("intercept") if fit_intercept else 0.0
        coef = coefficient_prior(prior, noise_scale=pseudo_sigma, n=n, p=p, logistic=True)
        eta = intercept + pt.dot(data, coef)
        pm.Potential("log_likelihood", pt.sum(y01 * eta - pt.softplus(eta)))
    return model


@functools.singledispatch
def coefficient_prior(prior: Prior, *, noise_scale, n, p, logistic=False):
    """Create the ``coef`` variable (dim ``feature``) for ``prior`` in the current model."""
    raise TypeError(f"no PyMC translation for prior {type(prior).__name__}")


@coefficient_prior.register
def _(prior: Normal, **_):
    return pm.Normal("coef", 0.0, prior.scale, dims="feature")


@coefficient_prior.register
def _(prior: Laplace, **_):
    return pm.Laplace("coef", 0.0, prior.scale, dims="feature")


@coefficient_prior.register
def _(prior: ElasticNet, *, p, **_):
    coef = pm.Flat("coef", dims="feature")
    kernel = prior.l1 * pt.sum(pt.abs(coef)) + prior.l2 / 2 * pt.sum(coef**2)
    pm.Potential("coef_prior", -kernel - p * prior.log_normalizer())
    return coef


@coefficient_prior.register
def _(prior: Horseshoe, *, noise_scale, logistic=False, **_):
    global_prior_scale = prior.scale if prior.scale is not None else (1.0 if logistic else noise_scale)
    coef_raw = pm.Normal("coef_raw", 0.0, 1.0, dims="feature")
    local_scale = pm.HalfCauchy("local_scale", 1.0, dims="feature")
    global_scale = pm.HalfCauchy("global_scale_raw", 1.0) * global_prior_scale
    pm.Deterministic("global_scale", global_scale)
    return pm.Deterministic("coef", coef_raw * local_scale * global_scale, dims="feature")


@coefficient_prior.register
def _(prior: RegularizedHorseshoe, *, noise_scale, n, p, **_):
    prior.check_dimension(p)
    p0 = prior.expected_nonzero
    tau0 = p0 / (p - p0) * noise_scale / math.sqrt(n)
    nu, s = prior.slab_df, prior.slab_scale
    coef_raw = pm.Normal("coef_raw", 0.0, 1.0, dims="feature")
    local_scale = pm.HalfCauchy("local_scale", 1.0, dims="feature")
    global_scale = pm.Deterministic("global_scale", pm.HalfCauchy("global_scale_raw", 1.0) * tau0)
    slab_sq = pm.InverseGamma("slab_sq_raw", nu / 2, nu / 2) * s**2  # c^2 ~ Inv-Gamma(nu/2, nu s^2/2)
    pm.Deterministic("slab_scale", pt.sqrt(slab_sq))
    local_reg = pt.sqrt(slab_sq * local_scale**2 / (slab_sq + global_scale**2 * local_scale**2))
    return pm.Deterministic("coef", coef_raw * global_scale * local_reg, dims="feature")
