r"""MAP of any family (:mod:`bayesreg.families`) with offsets and row weights, any Normal, Laplace or
ElasticNet prior, and the family's auxiliary parameters either fixed or estimated jointly.

Minimises over ``x = (b, w, log a)`` (intercept ``b`` flat, ``a`` the free auxiliary parameters)

.. math::
    F(x) = \sum_i s_i\, l_i(\mathrm{offset}_i + b + x_i^\top w,\ a)
        + \sum_j \big(\tfrac{l_{2j}}{2} w_j^2 + l_{1j}|w_j|\big) + \sum_k -\log p_k(a_k),

the mode in ``a`` itself (no Jacobian), as linear regression's joint ``(w, sigma)`` MAP. Method:
proximal Newton with the exact Hessian of the smooth part (the design centred and scaled by powers
of two, :class:`~bayesreg.data.Scaling`), its L1 subproblem solved exactly by
:func:`~bayesreg.solvers.quadratic_l1.minimize_quadratic_l1` (exact zeros; the ``log a``
coordinates unpenalized); where the Hessian is not positive definite (Student-t rows with
``r^2 > nu sigma^2``, or the joint (eta, log phi) block far from the mode) it is damped by a
multiple of its diagonal until it is, so every step descends (Armijo backtracking). Near a strict
minimum no damping is needed and convergence is quadratic, so the stationarity conditions hold to
rounding level.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg

from ..data import Scaling
from ..families.bernoulli import bernoulli_hessian
from ..priors import GroupLaplace, Prior
from ._scaling import require_finite_penalty, scaled_penalty
from .linear import NoMAPError
from .quadratic_l1 import minimize_quadratic_l1

_STEP_RTOL = 1e-12


@dataclass
class GLMMAP:
    coef: np.ndarray
    intercept: float
    aux: dict = field(default_factory=dict)
    iterations: int = 0


def fit_glm_map(X, y, family, prior: Prior, fit_intercept: bool, *, offset=None, sample_weight=None,
                aux_fixed: dict | None = None, aux_priors: dict | None = None, max_iter: int = 500) -> GLMMAP:
    """The MAP (module docstring). ``aux_fixed`` holds known auxiliary values (e.g. ``{"phi": 2.0}``,
    ``{"nu": 4.0}``); the others are estimated under ``aux_priors`` (default: the family's)."""
    if isinstance(prior, GroupLaplace):  # its MAP is bayesreg.solvers.groups, which has no offsets or weights yet
        raise NoMAPError(f"the GroupLaplace MAP is available for LinearRegression and LogisticRegression without "
                         f"offset or sample_weight (asked: the {family.name} family); use method='nuts', or leave "
                         "out offset and sample_weight")
    n, p = X.shape
    offset = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    aux_fixed = dict(aux_fixed or {})
    free = [name for name in family.aux_names if name not in aux_fixed]
    priors = {name: (aux_priors or {}).get(name) or family.default_aux_prior(name, y, weights) for name in free}
    _require_finite_mode(family, y, weights, fit_intercept, free)
    scaling = Scaling.of_array(X, fit_intercept)
    Z = scaling.design(X)
    k = int(fit_intercept)
    l1, l2 = scaled_penalty(prior, scaling.exponent)
    pad = np.zeros(k), np.zeros(len(free))
    l1, l2 = (np.concatenate([pad[0], np.broadcast_to(weight, (p,)), pad[1]]) for weight in (l1, l2))
    require_finite_penalty(np.concatenate([l1, l2]), f"{family.name} MAP with {prior}")
    start_intercept, start_aux = family.start(y, weights, offset)
    start_aux = dict(zip(family.aux_names, start_aux))

    def aux_values(x):
        values = dict(aux_fixed)
        values.update({name: float(np.exp(x[k + p + i])) for i, name in enumerate(free)})
        return tuple(values[name] for name in family.aux_names)

    def smooth(x):
        """``F`` without the L1 part: value, gradient and Hessian in ``x``."""
        theta, aux = x[: k + p], aux_values(x)
        eta = offset + Z @ theta[k:] + (theta[0] if k else 0.0)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            rows = family.derivatives(eta, y, aux)
        value = float(weights @ rows.value) + 0.5 * l2 @ x**2
        if not np.isfinite(value):
            return np.inf, None, None
        g_eta, h_eta = weights * rows.d_eta, weights * rows.d_eta2
        gradient = np.concatenate([[g_eta.sum()] * k, Z.T @ g_eta, np.zeros(len(free))]) + l2 * x
        hessian = np.zeros((x.size, x.size))
        hessian[: k + p, : k + p] = bernoulli_hessian(Z, h_eta, fit_intercept)
        index = [family.aux_names.index(name) for name in free]
        for i, a in enumerate(index):
            j = k + p + i
            value_prior, d1, d2 = priors[free[i]].neg_log_density(aux[a])
            value += value_prior
            gradient[j] = weights @ rows.d_aux[a] + aux[a] * d1  # d/du of -log p(e^u), no Jacobian
            cross = weights * rows.d_eta_aux[a]
            hessian[j, : k + p] = hessian[: k + p, j] = np.concatenate([[cross.sum()] * k, Z.T @ cross])
            for i2, a2 in enumerate(index):
                hessian[j, k + p + i2] = weights @ rows.d_aux2[a, a2]
            hessian[j, j] += aux[a] ** 2 * d2 + aux[a] * d1
        hessian[np.diag_indices(x.size)] += l2
        return value, gradient, hessian

    x = np.concatenate([[start_intercept] * k, np.zeros(p), np.log([start_aux[name] for name in free])])
    value, gradient, hessian = smooth(x)
    if not np.isfinite(value):
        raise FloatingPointError(f"{family.name} MAP: the objective is not finite at the start")
    value += l1 @ np.abs(x)
    for iteration in range(max_iter):
        direction = _direction(hessian, gradient, x, l1)
        decrease = gradient @ direction + l1 @ (np.abs(x + direction) - np.abs(x))
        at_rounding_level = -decrease <= 1e-15 * max(1.0, abs(value))
        step = 1.0
        while True:
            candidate = x + step * direction
            new_value, new_gradient, new_hessian = smooth(candidate)
            new_value += l1 @ np.abs(candidate)
            if np.isfinite(new_value) and (at_rounding_level or new_value <= value + 0.25 * step * decrease):
                break
            if step < 1e-14:
                if at_rounding_level or -decrease <= 1e-12 * max(1.0, abs(value)):
                    new_value, new_gradient, new_hessian, candidate = value, gradient, hessian, x
                    break
                raise RuntimeError(f"{family.name} MAP: the line search failed (no descent)")
            step /= 2
        moved = np.max(np.abs(candidate - x), initial=0.0)
        x, value, gradient, hessian = candidate, new_value, new_gradient, new_hessian
        if at_rounding_level or moved <= _STEP_RTOL * max(1.0, np.max(np.abs(x))):
            coef, intercept = scaling.coef_intercept(x[: k + p], fit_intercept)
            aux = dict(zip(family.aux_names, aux_values(x)))
            return GLMMAP(coef, intercept, aux, iteration + 1)
    raise NoMAPError(f"the {family.name} MAP did not converge in {max_iter} Newton steps; the posterior may "
                     "have no finite mode (e.g. a coefficient or the intercept running off to infinity). "
                     "Use a proper prior on every coefficient, fit_intercept=False, or method='nuts'")


def _direction(hessian, gradient, x, l1) -> np.ndarray:
    """The (proximal) Newton step on ``hessian`` damped by ``mu * diag`` until positive definite."""
    scale = np.maximum(np.abs(np.diag(hessian)), 1e-300)
    damping = 0.0
    for _ in range(60):
        H = hessian + damping * np.diag(scale)
        try:
            linalg.cholesky(H, lower=True)
        except linalg.LinAlgError:
            damping = 1e-8 if damping == 0 else 10 * damping
            continue
        if not l1.any():
            return -linalg.solve(H, gradient, assume_a="pos")
        return minimize_quadratic_l1(H, H @ x - gradient, l1, z0=x) - x
    raise FloatingPointError("MAP: the Hessian could not be made positive definite")


def _require_finite_mode(family, y, weights, fit_intercept: bool, free) -> None:
    if family.link == "log" and not np.any((weights > 0) & (y > 0)) and (fit_intercept or free):
        raise NoMAPError(
            f"every count in y is 0, so the {family.name} MAP does not exist: the intercept (or the "
            "dispersion) runs off to -infinity (0). Check y; or fit without an intercept; or use "
            "method='nuts' with an informative model")
