r"""MAP for logistic regression with a Normal, Laplace or ElasticNet prior.

Minimises, over ``theta = (b, w)`` with the intercept ``b`` unpenalized,

.. math::
    F(\theta) = \sum_i \big[\log(1 + e^{\eta_i}) - y_i \eta_i\big]
        + \sum_j \big(\tfrac{l_{2j}}{2} w_j^2 + l_{1j} |w_j|\big), \qquad \eta = b + Xw .

Smooth priors (``l1 = 0``): Newton's method with the exact Hessian
``H = A' diag(mu (1 - mu)) A + l2 I`` and Armijo backtracking; convergence is quadratic, so the
result is at machine precision. With an L1 part: proximal Newton, whose subproblem (a quadratic
plus L1) is solved exactly by :func:`~bayesreg.solvers.quadratic_l1.minimize_quadratic_l1`, so
zeros are exact and the outer iteration is Newton's method on the support.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, special

from ..priors import Prior
from ._scaling import binary_exponent, require_finite_penalty, scaled_penalty
from .quadratic_l1 import minimize_quadratic_l1

_STEP_RTOL = 1e-11


def fit_logistic_map(X, y01, prior: Prior, fit_intercept: bool, *, max_iter: int = 200):
    """Return ``(coef, intercept)`` of the MAP (in-memory data; see :func:`newton_map`)."""
    scaling = Scaling.of_array(X, fit_intercept)
    theta, _ = newton_map(array_likelihood(X, y01, fit_intercept, scaling), scaling, prior, fit_intercept,
                          max_iter=max_iter)
    return scaling.coef_intercept(theta, fit_intercept)


@dataclass(frozen=True)
class Scaling:
    """The exact reparametrisation the Newton iteration runs in (see :mod:`~bayesreg.solvers._scaling`).

    Columns centred and scaled by powers of two, ``Z = (X - mean) / 2^e``. With the intercept
    unpenalized, ``b + Xw = (b + mean'w) + Z v`` with ``v = 2^e w``: the MAP is unchanged, but the
    Newton system no longer couples a large intercept to large column means, which made the L1
    subproblem fail on uncentred features (a column with mean 2000).
    """

    x_mean: np.ndarray
    exponent: np.ndarray

    @classmethod
    def of_array(cls, X, fit_intercept: bool) -> "Scaling":
        x_mean = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
        return cls(x_mean, binary_exponent(X - x_mean, axis=0))

    @classmethod
    def identity(cls, n_features: int) -> "Scaling":
        return cls(np.zeros(n_features), np.zeros(n_features, dtype=int))

    def design(self, X) -> np.ndarray:
        """``Z`` of a block of rows of ``X``."""
        return np.ldexp(X - self.x_mean, -self.exponent)

    def coef_intercept(self, theta, fit_intercept: bool):
        """``(coef, intercept)`` in the data's units from the scaled ``theta = (b_c, v)``."""
        k = int(fit_intercept)
        coef = np.ldexp(theta[k:], -self.exponent)
        return coef, (float(theta[0] - self.x_mean @ coef) if k else 0.0)


def array_likelihood(X, y01, fit_intercept: bool, scaling: Scaling | None = None):
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
    return value, gradient, _hessian(X, mu * (1 - mu), fit_intercept)


def newton_map(likelihood, scaling: Scaling, prior: Prior, fit_intercept: bool, *, max_iter: int = 200):
    """(Proximal) Newton with Armijo backtracking on ``likelihood(theta)`` plus the prior's penalty.

    ``likelihood`` is the provider of the scaled problem (its design is ``scaling.design(X)``);
    the prior's weights are carried over to ``v = 2^e w`` exactly. Each call of ``likelihood``
    gives value, gradient and Hessian together (one pass over the data for distributed input);
    an accepted step reuses them as the next iteration's. Returns the scaled ``theta`` at the MAP
    (:meth:`Scaling.coef_intercept` converts it) and the likelihood's own derivatives there.
    """
    k = int(fit_intercept)
    l1, l2 = (np.concatenate([np.zeros(k), weight]) for weight in scaled_penalty(prior, scaling.exponent))
    require_finite_penalty(np.concatenate([l1, l2]), f"logistic MAP with {prior}")
    theta = np.zeros(len(scaling.exponent) + k)

    def penalized(t, nll, gradient, hessian):
        return (nll + 0.5 * l2 @ t**2 + l1 @ np.abs(t), gradient + l2 * t, hessian + np.diag(l2))

    raw = likelihood(theta)
    value, gradient, hessian = penalized(theta, *raw)
    for _ in range(max_iter):
        direction = _newton_direction(hessian, gradient, theta, l1)
        decrease = gradient @ direction + l1 @ (np.abs(theta + direction) - np.abs(theta))
        # Below rounding level of F, Armijo cannot tell; the full step is then exact Newton.
        at_rounding_level = -decrease <= 1e-14 * max(1.0, abs(value))
        step = 1.0
        while True:
            candidate = theta + step * direction
            candidate_raw = likelihood(candidate)
            new = penalized(candidate, *candidate_raw)
            if at_rounding_level or new[0] <= value + 0.25 * step * decrease or step < 1e-12:
                break
            step /= 2
        moved = np.max(np.abs(candidate - theta), initial=0.0)
        theta, raw, (value, gradient, hessian) = candidate, candidate_raw, new
        if not np.isfinite(value):
            raise FloatingPointError("logistic MAP diverged (non-finite objective)")
        if at_rounding_level or moved <= _STEP_RTOL * max(1.0, np.max(np.abs(theta))):
            return theta, raw
    raise RuntimeError(f"logistic MAP did not converge in {max_iter} Newton steps")


def _hessian(X, weights, fit_intercept: bool) -> np.ndarray:
    """``A' diag(weights) A`` with ``A = [1, X]``, the intercept's row done apart.

    Multiplying by ``X`` alone rather than the (n, p + 1) ``A`` keeps the BLAS call at the shape
    scikit-learn uses; with the extra column OpenBLAS was measured 30x slower under load.
    """
    weighted = X.T @ (X * weights[:, None])
    if not fit_intercept:
        return weighted
    cross = X.T @ weights
    return np.block([[np.array([[weights.sum()]]), cross[None, :]], [cross[:, None], weighted]])


def _newton_direction(hessian, gradient, theta, l1) -> np.ndarray:
    if not l1.any():
        try:
            return -linalg.solve(hessian, gradient, assume_a="pos")
        except linalg.LinAlgError:
            return -linalg.lstsq(hessian, gradient)[0]
    # argmin_z  g'(z - theta) + 0.5 (z - theta)' H (z - theta) + l1 |z|
    target = minimize_quadratic_l1(hessian, hessian @ theta - gradient, l1, z0=theta)
    return target - theta
