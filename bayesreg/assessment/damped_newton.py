r"""Newton's method for many small smooth problems at once, one per posterior draw (the dispersion
projections of :mod:`.projection_nb` and :mod:`.projection_student_t`).

Each draw ``s`` minimises its own ``f_s(theta_s)`` over ``theta_s`` in R^k. A step solves
``(H_s + lambda_s I) d_s = g_s`` with ``lambda_s = 0`` where the Hessian is positive definite and
otherwise just enough to make it so (Levenberg-Marquardt: the expected negative log-likelihoods in a
dispersion parameter need not be convex far from the minimum), then halves ``d_s`` while
``f_s`` would rise (a step is first cut to move no coordinate by more than ``MAX_STEP``). Converged when every step is below ``tol (1 + |theta|)``: near the minimum the
steps are Newton's (quadratic convergence), so the last step bounds the error.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["minimise_per_draw"]

MAX_STEP = 2.0


def _positive_definite(hessian: np.ndarray) -> np.ndarray:
    """``H + lambda I`` with the least ``lambda >= 0`` that leaves its smallest eigenvalue at least
    ``1e-10`` times its largest (per draw)."""
    eigenvalues = np.linalg.eigvalsh(hessian)
    floor = 1e-10 * np.maximum(np.abs(eigenvalues).max(axis=1), 1e-300)
    shift = np.maximum(floor - eigenvalues[:, 0], 0.0)
    return hessian + shift[:, None, None] * np.eye(hessian.shape[-1])


def minimise_per_draw(objective: Callable, derivatives: Callable, theta: np.ndarray, max_iter: int = 200,
                      tol: float = 1e-11, lower=None, upper=None) -> np.ndarray:
    """Minimise ``objective(theta) -> (S,)`` from ``theta`` (S, k); ``derivatives(theta) -> (g (S, k), H (S, k, k))``.

    ``lower``, ``upper`` (k,): bounds a step never crosses (a coordinate is clipped there), e.g. a
    log dispersion that runs off towards the Poisson limit."""
    theta = np.array(theta, dtype=float)
    lower = np.full(theta.shape[1], -np.inf) if lower is None else np.asarray(lower, dtype=float)
    upper = np.full(theta.shape[1], np.inf) if upper is None else np.asarray(upper, dtype=float)
    value = objective(theta)
    if not np.all(np.isfinite(value)):
        raise FloatingPointError("the projection's objective is not finite at its start; the reference's draws "
                                 "have non-finite means or dispersions")
    for _ in range(max_iter):
        gradient, hessian = derivatives(theta)
        step = np.linalg.solve(_positive_definite(hessian), gradient[..., None])[..., 0]
        # no coordinate moves by more than MAX_STEP at once (log scales: a factor e^2); halving does the rest
        size = np.minimum(1.0, MAX_STEP / np.maximum(np.abs(step).max(axis=1, keepdims=True), 1e-300))
        for _ in range(60):  # halve each draw's step while its objective would rise
            trial = np.clip(theta - size * step, lower, upper)
            with np.errstate(over="ignore", invalid="ignore"):
                new_value = objective(trial)
            rising = ~(new_value <= value + 1e-13 * np.abs(value))
            # a step below the tolerance is taken as is: there rounding, not the objective, decides
            rising &= np.any(np.abs(trial - theta) > tol * (1 + np.abs(theta)), axis=1)
            if not rising.any():
                break
            size[rising] *= 0.5
        moved = np.abs(trial - theta)
        theta, value = np.where(rising[:, None], theta, trial), np.where(rising, value, new_value)
        if np.all(moved <= tol * (1 + np.abs(theta))):
            break
    return theta
