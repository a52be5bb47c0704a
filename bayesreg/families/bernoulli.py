r"""The Bernoulli outcome (logistic regression): its likelihood, derivatives and negative log posterior.

:math:`y_i \sim \mathrm{Bernoulli}(\mathrm{logit}^{-1}(\eta_i))`, :math:`\eta = b + Xw`, so

.. math::
    \mathrm{NLL} = \sum_i \log(1 + e^{\eta_i}) - y_i\eta_i,\qquad
    \nabla_\theta \mathrm{NLL} = A^\top(\mu - y),\qquad
    \nabla^2_\theta \mathrm{NLL} = A^\top \mathrm{diag}(\mu(1 - \mu)) A,

with :math:`\mu = \mathrm{logit}^{-1}(\eta)`, :math:`\theta = (b, w)` and :math:`A = [1, X]`
(``A = X`` without an intercept). The intercept has a flat prior, as in scikit-learn.
The MAP solvers (:mod:`bayesreg.solvers.logistic`) and the distributed passes
(:mod:`bayesreg.data.logistic_passes`) evaluate these same functions, in memory or per row block.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def bernoulli_nll(eta: np.ndarray, y01: np.ndarray) -> float:
    return float(np.sum(np.logaddexp(0.0, eta) - y01 * eta))


def logistic_neg_log_posterior(X, y01, prior, coef, intercept) -> float:
    """``-log p(w, b | y)`` up to the evidence."""
    return bernoulli_nll(intercept + X @ coef, y01) + prior.neg_log_density(coef)


def array_likelihood(X, y01, fit_intercept: bool, scaling=None):
    """``theta -> (NLL, gradient, Hessian)`` of the Bernoulli likelihood for in-memory data.

    ``theta = (b, w)`` with an intercept, else ``w``, of the design ``scaling.design(X)`` (``X``
    itself without a scaling); the NLL is ``sum(log(1 + e^eta) - y eta)``. A Dask provider
    (:mod:`bayesreg.data.logistic_passes`) computes the same triple in one pass.
    """
    Z = X if scaling is None else scaling.design(X)

    def evaluate(theta):
        eta = Z @ theta[1:] + theta[0] if fit_intercept else Z @ theta
        return bernoulli_derivatives(Z, y01, eta, fit_intercept)

    return evaluate


def bernoulli_derivatives(X, y01, eta, fit_intercept: bool):
    """NLL, its gradient and Hessian in ``theta`` at the linear predictor ``eta`` (one block)."""
    mu = special.expit(eta)
    value = float(np.sum(np.logaddexp(0.0, eta) - y01 * eta))
    residual = mu - y01
    gradient = X.T @ residual
    if fit_intercept:
        gradient = np.concatenate([[residual.sum()], gradient])
    return value, gradient, bernoulli_hessian(X, mu * (1 - mu), fit_intercept)


def bernoulli_hessian(X, weights, fit_intercept: bool) -> np.ndarray:
    """``A' diag(weights) A`` with ``A = [1, X]``, the intercept's row done apart.

    Multiplying by ``X`` alone rather than the (n, p + 1) ``A`` keeps the BLAS call at the shape
    scikit-learn uses; with the extra column OpenBLAS was measured 30x slower under load.
    """
    weighted = X.T @ (X * weights[:, None])
    if not fit_intercept:
        return weighted
    cross = X.T @ weights
    return np.block([[np.array([[weights.sum()]]), cross[None, :]], [cross[:, None], weighted]])


class BernoulliFamily:
    r"""The Bernoulli on the :class:`~bayesreg.families.base.Family` interface (weighted or offset
    fits): :math:`l = \log(1 + e^\eta) - y\eta`, :math:`\partial_\eta l = \mu - y`,
    :math:`\partial^2_\eta l = \mu(1 - \mu)`; no auxiliary parameter."""

    name, code, link, aux_names = "bernoulli", 1, "logit", ()

    def check_y(self, y):
        return np.asarray(y, dtype=float)

    def default_aux_prior(self, name, y, weights):
        raise KeyError(name)

    def nll_rows(self, eta, y, aux=()):
        return np.logaddexp(0.0, eta) - y * eta

    def derivatives(self, eta, y, aux=()):
        from .base import RowDerivatives

        mu = special.expit(eta)
        empty = np.zeros((0, eta.size))
        return RowDerivatives(self.nll_rows(eta, y), mu - y, mu * (1 - mu), empty, np.zeros((0, 0, eta.size)), empty)

    def inverse_link(self, eta):
        return special.expit(eta)

    def start(self, y, weights, offset):
        share = float(np.clip(weights @ y / weights.sum(), 1e-6, 1 - 1e-6))
        return float(np.log(share / (1 - share)) - weights @ offset / weights.sum()), ()

    def sample(self, eta, aux, rng):
        return (rng.random(np.shape(eta)) < special.expit(eta)).astype(float)


BERNOULLI = BernoulliFamily()
