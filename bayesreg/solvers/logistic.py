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

import numpy as np
from scipy import linalg

from ..data import Scaling, likelihood_of, scaling_of
from ..priors import Prior
from ._scaling import require_finite_penalty, scaled_penalty
from .quadratic_l1 import minimize_quadratic_l1

_STEP_RTOL = 1e-11


def fit_logistic_map(X, y01, prior: Prior, fit_intercept: bool, *, max_iter: int = 200):
    """Return ``(coef, intercept)`` of the MAP for in-memory data (see :func:`newton_map`)."""
    return logistic_map((X, y01), prior, fit_intercept, max_iter=max_iter)


def logistic_map(data, prior: Prior, fit_intercept: bool, *, max_iter: int = 200):
    """``(coef, intercept)`` of the MAP for in-memory ``(X, y01)`` or distributed data
    (:class:`~bayesreg.data.DaskBinaryData`, one pass per Newton step): the same exact rescaling
    (:class:`~bayesreg.data.Scaling`) and iteration either way."""
    scaling = scaling_of(data, fit_intercept)
    theta, _ = newton_map(likelihood_of(data, fit_intercept, scaling), scaling, prior, fit_intercept,
                          max_iter=max_iter)
    return scaling.coef_intercept(theta, fit_intercept)


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


def _newton_direction(hessian, gradient, theta, l1) -> np.ndarray:
    if not l1.any():
        try:
            return -linalg.solve(hessian, gradient, assume_a="pos")
        except linalg.LinAlgError:
            return -linalg.lstsq(hessian, gradient)[0]
    # argmin_z  g'(z - theta) + 0.5 (z - theta)' H (z - theta) + l1 |z|
    target = minimize_quadratic_l1(hessian, hessian @ theta - gradient, l1, z0=theta)
    return target - theta
