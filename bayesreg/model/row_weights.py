r"""The Gaussian and Bernoulli models with offsets and row weights (no PyMC here).

Row ``i`` enters the log-likelihood ``s_i`` times (``s_i >= 0``; an integer weight is that many
copies of the row) with ``eta_i = offset_i + b + x_i'w``.

Gaussian, through weighted sufficient statistics
    With ``z = y - offset``, ``S = sum_i s_i``, the weighted means :math:`\bar x_s = \sum s_i x_i / S`,
    :math:`\bar z_s`, and ``b_c = b + xbar_s'w``,

    .. math::
        \sum_i s_i (z_i - b - x_i^\top w)^2 = \|\tilde z - \tilde X w\|^2 + S(\bar z_s - b_c)^2,
        \qquad \tilde X = W^{1/2}(X - \bar x_s),\ \tilde z = W^{1/2}(z - \bar z_s)

    (the cross term is :math:`\sum_i s_i (z_i - \bar z_s - (x_i - \bar x_s)^\top w) = 0`), so the model
    data of :mod:`bayesreg.model.spec` computed from ``(X~, z~)`` with ``n = S`` describe the weighted
    likelihood :math:`-S\log\sigma - \tfrac S2\log 2\pi - \sum_i s_i (z_i - \eta_i)^2 / (2\sigma^2)`
    exactly: the non-centred kernel, the collapsed (spectral) and scale-mixture samplers and the
    PyMC model all read only these statistics, and integer weights give the statistics of the
    repeated rows. The default prior on sigma is ``Half-t_4(0, sd_s(y))`` with the weighted sd of
    ``y``, as the MAP's (:mod:`bayesreg.solvers.glm`).

Bernoulli
    The design is kept; ``offset`` and ``weights`` are passed to the kernel (and the PyMC model)
    row by row. ``x_mean``, ``n`` and the pseudo-sigma are the weighted ones, so that integer
    weights give the repeated rows' density at every point (the centred intercept, the
    regularized horseshoe's ``tau0 ~ 1 / sqrt(n)``).
"""

from __future__ import annotations

import math

import numpy as np

from ..data import GaussianStatistics
from ..families.gaussian import weighted_sigma_prior_scale
from ..priors import Prior
from .spec import (LOGISTIC_INTERCEPT_PRIOR_SCALE, ModelSpec, _gaussian_model_data, _integrated,
                   _least_squares_factor, prior_data, statistics_data)


def _rows(y, offset, sample_weight):
    weights = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    return weights, np.zeros(len(y)) if offset is None else np.asarray(offset, dtype=float)


def weighted_gaussian_data(X, y, fit_intercept: bool, sigma, offset=None, sample_weight=None) -> dict:
    """The Gaussian model data of the weighted, offset rows (module docstring)."""
    n, p = X.shape
    weights, offset = _rows(y, offset, sample_weight)
    z = y - offset
    total = float(weights.sum())
    x_mean = weights @ X / total if fit_intercept else np.zeros(p)
    z_mean = float(weights @ z / total) if fit_intercept else 0.0
    root = np.sqrt(weights)
    Xt, zt = root[:, None] * (X - x_mean), root * (z - z_mean)
    prior_scale = weighted_sigma_prior_scale(y, weights)
    if n >= p:  # the eigen path of every n >= p Gaussian fit, on the weighted centred moments
        statistics = GaussianStatistics(total, x_mean, z_mean, Xt.T @ Xt, Xt.T @ zt, float(zt @ zt))
        data = statistics_data(statistics, fit_intercept, sigma)
        if sigma is None:
            data["sigma_prior_scale"] = np.array(prior_scale)
        return data
    factor, coef_ls = _least_squares_factor(Xt, zt, offset=math.sqrt(total) * float(np.abs(x_mean).max(initial=0.0)))
    residual = zt - Xt @ coef_ls
    return _gaussian_model_data(factor, coef_ls, x_mean, z_mean, float(residual @ residual), total, prior_scale, sigma)


def weighted_linear_inputs(X, y, prior: Prior, *, sigma, fit_intercept, offset=None,
                           sample_weight=None) -> tuple[ModelSpec, dict]:
    spec = ModelSpec.of("gaussian", prior, X.shape[1], fit_intercept, sigma is not None)
    data = weighted_gaussian_data(X, y, fit_intercept, sigma, offset, sample_weight)
    return _integrated(spec, {**data, **prior_data(prior, X.shape[1])}, prior)


def weighted_logistic_inputs(X, y01, prior: Prior, *, fit_intercept, offset=None,
                             sample_weight=None) -> tuple[ModelSpec, dict]:
    """The Bernoulli model data with ``offset`` and ``weights`` (module docstring)."""
    weights, _ = _rows(y01, offset, sample_weight)
    total = float(weights.sum())
    mean = float(weights @ y01 / total)
    if not 0 < mean < 1:
        raise ValueError("sample_weight is zero on every row of one class, so the weighted data hold one class "
                         "only; give rows of both classes a weight > 0")
    data = {
        "X": np.ascontiguousarray(X, dtype=float),
        "y": np.ascontiguousarray(y01, dtype=float),
        "x_mean": weights @ X / total if fit_intercept else np.zeros(X.shape[1]),
        "n": np.array(total),
        "pseudo_sigma": np.array(1.0 / math.sqrt(mean * (1 - mean))),
        "intercept_prior_scale": np.array(LOGISTIC_INTERCEPT_PRIOR_SCALE),
    }
    if offset is not None:
        data["offset"] = np.ascontiguousarray(offset, dtype=float)
    if sample_weight is not None:
        data["weights"] = np.ascontiguousarray(weights)
    spec = ModelSpec.of("bernoulli", prior, X.shape[1], fit_intercept)
    return spec, {**data, **prior_data(prior, X.shape[1])}
