r"""The Gaussian outcome (linear regression): its likelihood, and the exact negative log posterior.

:math:`y_i \sim N(b + x_i^\top w, \sigma^2)`, so
:math:`\mathrm{NLL} = n\log\sigma + \tfrac n2\log 2\pi + \|y - b - Xw\|^2 / (2\sigma^2)`.
With ``sigma=None`` the noise sd gets the weakly informative prior
:math:`\sigma \sim \text{Half-}t_4(0, \mathrm{sd}(y))` (bambi's default).

The intercept ``b`` has a flat (improper) prior: it is not penalized, exactly as in
scikit-learn with ``fit_intercept=True``. ``prior`` arguments are any
:class:`~bayesreg.priors.Prior` (only its ``neg_log_density`` is used).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

SIGMA_PRIOR_NU = 4.0


def sigma_prior_scale(y: np.ndarray) -> float:
    """Scale of the default Half-t prior on the noise sd: the sd of ``y``."""
    return check_sigma_prior_scale(float(np.std(y)))


def weighted_sigma_prior_scale(y: np.ndarray, weights: np.ndarray) -> float:
    """The weighted population sd of ``y`` (unit weights: :func:`sigma_prior_scale`), so that integer
    weights and repeated rows get the same default prior."""
    mean = weights @ y / weights.sum()
    return check_sigma_prior_scale(float(np.sqrt(weights @ (y - mean) ** 2 / weights.sum())))


def check_sigma_prior_scale(scale: float) -> float:
    """``scale`` (the sd of ``y``) if it is positive; a constant ``y`` leaves sigma unidentified."""
    if not scale > 0:
        raise ValueError("y is constant, so the noise sd cannot be estimated; pass sigma=")
    return scale


def half_student_t_neg_log_density(x: float, nu: float, scale: float) -> float:
    """Exact ``-log p(x)`` of a Half-Student-t(nu, 0, scale), ``x > 0``."""
    log_norm = (
        math.log(2.0)
        + special.gammaln((nu + 1) / 2)
        - special.gammaln(nu / 2)
        - 0.5 * math.log(nu * math.pi)
        - math.log(scale)
    )
    return -(log_norm - (nu + 1) / 2 * math.log1p((x / scale) ** 2 / nu))


def gaussian_nll(residual: np.ndarray, sigma: float) -> float:
    n = residual.size
    return float(n * math.log(sigma) + n / 2 * math.log(2 * math.pi) + residual @ residual / (2 * sigma**2))


def linear_neg_log_posterior(X, y, prior, coef, intercept, sigma, sigma_prior=None) -> float:
    """``-log p(w, b, sigma | y)`` up to the evidence, with ``sigma_prior = scale`` when estimated."""
    value = gaussian_nll(y - intercept - X @ coef, sigma) + prior.neg_log_density(coef)
    if sigma_prior is not None:
        value += half_student_t_neg_log_density(sigma, SIGMA_PRIOR_NU, sigma_prior)
    return value


class GaussianFamily:
    r"""The Gaussian on the :class:`~bayesreg.families.base.Family` interface (weighted or offset fits):
    :math:`l = \log\sigma + \tfrac12\log 2\pi + r^2/(2\sigma^2)`, ``r = y - eta``, ``u = log sigma``:
    :math:`\partial_\eta l = -r/\sigma^2`, :math:`\partial^2_\eta l = 1/\sigma^2`,
    :math:`\partial_u l = 1 - r^2/\sigma^2`, :math:`\partial^2_u l = 2r^2/\sigma^2`,
    :math:`\partial_\eta\partial_u l = 2r/\sigma^2`."""

    name, code, link, aux_names = "gaussian", 0, "identity", ("sigma",)

    def check_y(self, y):
        return np.asarray(y, dtype=float)

    def default_aux_prior(self, name, y, weights):
        from .auxiliary import HalfT

        return HalfT(SIGMA_PRIOR_NU, weighted_sigma_prior_scale(y, weights))

    def nll_rows(self, eta, y, aux):
        (sigma,) = aux
        return math.log(sigma) + 0.5 * math.log(2 * math.pi) + (y - eta) ** 2 / (2 * sigma**2)

    def derivatives(self, eta, y, aux):
        from .base import RowDerivatives

        (sigma,) = aux
        r, s2 = y - eta, sigma**2
        return RowDerivatives(self.nll_rows(eta, y, aux), -r / s2, np.full(r.shape, 1 / s2), (1 - r**2 / s2)[None],
                              (2 * r**2 / s2)[None, None], (2 * r / s2)[None])

    def inverse_link(self, eta):
        return eta

    def start(self, y, weights, offset):
        return float(weights @ (y - offset) / weights.sum()), (float(np.std(y)) or 1.0,)

    def sample(self, eta, aux, rng):
        return eta + aux[0] * rng.standard_normal(np.shape(eta))


GAUSSIAN = GaussianFamily()
