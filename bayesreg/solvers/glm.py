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

from ..data import Scaling, family_likelihood_of, family_scaling_of, outcome_stand_in
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
    n = X.shape[0]
    offset = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    return family_map((X, y), family, prior, fit_intercept, offset=offset, weights=weights, aux_fixed=aux_fixed,
                      aux_priors=aux_priors, max_iter=max_iter)


def family_map(data, family, prior: Prior, fit_intercept: bool, *, offset=None, weights=None,
               aux_fixed: dict | None = None, aux_priors: dict | None = None, max_iter: int = 500) -> GLMMAP:
    """The MAP of in-memory ``(X, y)`` (with ``offset`` and row ``weights``) or of Dask input
    (:class:`~bayesreg.data.DaskFamilyData`, one distributed pass per Newton step): the same
    rescaling and iteration either way, the rows' sums from :func:`~bayesreg.data.family_likelihood_of`."""
    if isinstance(prior, GroupLaplace):  # its MAP is bayesreg.solvers.groups, which has no offsets or weights yet
        raise NoMAPError(f"the GroupLaplace MAP is available for LinearRegression and LogisticRegression without "
                         f"offset or sample_weight (asked: the {family.name} family); use method='nuts', or leave "
                         "out offset and sample_weight")
    y, row_weights, row_offset = outcome_stand_in(data, offset, weights)
    aux_fixed = dict(aux_fixed or {})
    free = [name for name in family.aux_names if name not in aux_fixed]
    priors = {name: (aux_priors or {}).get(name) or family.default_aux_prior(name, y, row_weights) for name in free}
    _require_finite_mode(family, y, row_weights, fit_intercept, free)
    scaling = family_scaling_of(data, fit_intercept)
    likelihood = family_likelihood_of(data, family, fit_intercept, scaling, offset, weights)
    start_intercept, start_aux = family.start(y, row_weights, row_offset)
    return _proximal_newton(likelihood, scaling, family, prior, fit_intercept, start_intercept,
                            dict(zip(family.aux_names, start_aux)), aux_fixed, priors, max_iter)


def _proximal_newton(likelihood, scaling: Scaling, family, prior, fit_intercept: bool, start_intercept: float,
                     start_aux: dict, aux_fixed: dict, priors: dict, max_iter: int) -> GLMMAP:
    """The iteration of the module docstring on ``likelihood(theta, aux) -> LikelihoodSums``."""
    p = len(scaling.exponent)
    free = list(priors)
    k = int(fit_intercept)
    l1, l2 = scaled_penalty(prior, scaling.exponent)
    pad = np.zeros(k), np.zeros(len(free))
    l1, l2 = (np.concatenate([pad[0], np.broadcast_to(weight, (p,)), pad[1]]) for weight in (l1, l2))
    require_finite_penalty(np.concatenate([l1, l2]), f"{family.name} MAP with {prior}")

    def aux_values(x):
        values = dict(aux_fixed)
        with np.errstate(over="ignore"):  # a trial step's huge log phi: inf, refused by smooth()
            values.update({name: np.exp(np.float64(x[k + p + i])) for i, name in enumerate(free)})
        return tuple(values[name] for name in family.aux_names)

    def smooth(x):
        """``F`` without the L1 part: value, gradient and Hessian in ``x``."""
        theta, aux = x[: k + p], aux_values(x)
        if not all(0.0 < a < 1e150 for a in aux):  # the line search's trial step overshot: halve it
            return np.inf, None, None  # (phi**2 of a Python float above 1e154 raised OverflowError)
        with np.errstate(over="ignore", invalid="ignore"):  # an overshooting trial: refused just below
            sums = likelihood(theta, aux)
        value = sums.value + 0.5 * l2 @ x**2
        if not (np.isfinite(value) and np.all(np.isfinite(sums.gradient)) and np.all(np.isfinite(sums.hessian))):
            return np.inf, None, None
        gradient = np.concatenate([sums.gradient, np.zeros(len(free))]) + l2 * x
        hessian = np.zeros((x.size, x.size))
        hessian[: k + p, : k + p] = sums.hessian
        index = [family.aux_names.index(name) for name in free]
        for i, a in enumerate(index):
            j = k + p + i
            value_prior, d1, d2 = priors[free[i]].neg_log_density(aux[a])
            value += value_prior
            gradient[j] = sums.d_aux[a] + aux[a] * d1  # d/du of -log p(e^u), no Jacobian
            hessian[j, : k + p] = hessian[: k + p, j] = sums.cross[a]
            for i2, a2 in enumerate(index):
                hessian[j, k + p + i2] = sums.d_aux2[a, a2]
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
