r"""MAP under :class:`~bayesreg.priors.groups.GroupLaplace`: the group lasso, exact to rounding.

Every group-lasso MAP here reduces to one problem, a convex quadratic plus weighted group norms,

.. math:: \min_z\ \tfrac12 z^\top Q z - q^\top z + \sum_g \lambda_g \|z_g\|_2

(``lambda_g = 0`` leaves a group unpenalized, e.g. the intercept). Linear regression with known
noise sd ``sigma`` is it with ``Q = X_c'X_c``, ``q = X_c'y_c`` (centred: the flat intercept prior),
``lambda_g = sigma^2 sqrt(m_g) / b``: the minimiser of

.. math:: \frac{\|y - b_0 - Xw\|^2}{2\sigma^2} + \sum_g \frac{\sqrt{m_g}}{b}\|w_g\|_2 ,

i.e. skglm's ``GroupLasso(alpha = sigma^2 / (n b), weights = sqrt(m_g))``. Logistic regression is
proximal Newton, each step this problem with ``Q`` the Hessian. With ``sigma=None`` the MAP is joint
over ``(w, b_0, sigma)`` (Half-t prior on sigma), alternating the exact ``w`` and ``sigma`` steps
as :mod:`bayesreg.solvers.linear` does.

Method: block coordinate descent with exact block minimisation. With the others fixed, group
``g`` minimises ``0.5 z'Q_gg z - r'z + lambda ||z||`` with ``r = q_g - sum_{h != g} Q_gh z_h``:
zero iff ``||r|| <= lambda``; else ``z = (Q_gg + lambda/t I)^{-1} r`` with ``t = ||z||`` the root of
``sum_i a_i^2 / (d_i t + lambda)^2 = 1`` (``Q_gg = V diag(d) V'``, ``a = V'r``; the left side falls in
``t``). Once the non-zero groups settle, Newton's method on their stationarity equations
``Q_AA z_A - q_A + lambda_g z_g / ||z_g|| = 0`` polishes to rounding, and the KKT conditions
(``||(Qz - q)_g|| <= lambda_g`` for a zero group) are checked before returning.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg, optimize, special

from ..families.auxiliary import HalfT
from ..families.gaussian import SIGMA_PRIOR_NU, sigma_prior_scale
from ..priors.groups import GroupLaplace
from .linear import LinearMAP, NoMAPError, _sigma_step

_KKT_RTOL = 1e-12


def minimize_quadratic_group(Q, q, groups: list[np.ndarray], lam, z0=None, *, max_sweeps: int = 100_000):
    """``argmin 0.5 z'Qz - q'z + sum_g lam_g ||z_g||_2`` for symmetric PSD ``Q`` (module docstring)."""
    Q, q, lam = np.asarray(Q, dtype=float), np.asarray(q, dtype=float), np.asarray(lam, dtype=float)
    z = np.zeros_like(q) if z0 is None else np.array(z0, dtype=float)
    blocks = [(g, *linalg.eigh(Q[np.ix_(g, g)])) for g in groups]
    gradient = Q @ z - q
    scale = max(np.abs(q).max(initial=0.0), lam.max(initial=0.0), np.finfo(float).tiny)
    last_support = None
    for sweep in range(max_sweeps):
        largest = 0.0
        for (g, d, V), weight in zip(blocks, lam):
            old = z[g]
            r = Q[np.ix_(g, g)] @ old - gradient[g]
            new = _block_minimiser(r, d, V, weight)
            if np.any(new != old):
                gradient += Q[:, g] @ (new - old)
                z[g] = new
                largest = max(largest, float(np.max(np.abs(new - old) * np.sqrt(np.maximum(d.max(), 0.0)))))
        support = tuple(bool(np.any(z[g] != 0)) for g in groups)
        if support == last_support and sweep >= 2:
            polished = _newton_polish(Q, q, groups, lam, z)
            if polished is not None and kkt_violation(Q, q, groups, lam, polished) <= _KKT_RTOL * scale:
                return polished
        if largest <= 1e-15 * scale:
            return z
        last_support = support
    raise RuntimeError("group-lasso block coordinate descent did not converge")


def kkt_violation(Q, q, groups, lam, z) -> float:
    """Largest violation of the group lasso's optimality conditions: for a zero group
    ``||(Qz - q)_g|| - lam_g`` (if positive), else ``||(Qz - q)_g + lam_g z_g / ||z_g||||``."""
    gradient = Q @ z - q
    worst = 0.0
    for g, weight in zip(groups, lam):
        norm = np.linalg.norm(z[g])
        if norm == 0 and weight > 0:
            worst = max(worst, np.linalg.norm(gradient[g]) - weight)
        else:
            worst = max(worst, np.linalg.norm(gradient[g] + (weight * z[g] / norm if weight > 0 else 0.0)))
    return float(worst)


def _block_minimiser(r, d, V, weight) -> np.ndarray:
    if weight == 0:
        return V @ np.where(d > 1e-14 * max(d.max(), 0.0), (V.T @ r) / np.where(d > 0, d, 1.0), 0.0)
    if np.linalg.norm(r) <= weight:
        return np.zeros_like(r)
    a, d = V.T @ r, np.maximum(d, 0.0)

    def excess(t):  # sum_i a_i^2 / (d_i t + lambda)^2 - 1: falls from ||r||^2 / lambda^2 - 1 > 0
        return float(np.sum((a / (d * t + weight)) ** 2) - 1.0)

    upper = 1.0
    while excess(upper) > 0:
        upper *= 2.0
        if upper > 1e300:
            raise ValueError("the group-lasso objective is unbounded below (a penalized direction without curvature)")
    t = optimize.brentq(excess, 0.0, upper, xtol=1e-300, rtol=4 * np.finfo(float).eps)
    return V @ (a * t / (d * t + weight))


def _newton_polish(Q, q, groups, lam, z, steps: int = 50):
    """Newton on the non-zero groups' stationarity equations; None if a group norm heads to zero."""
    active = [(g, w) for g, w in zip(groups, lam) if np.any(z[g] != 0) or w == 0]
    if not active:
        return z.copy()
    index = np.concatenate([g for g, _ in active])
    z = z.copy()
    for _ in range(steps):
        residual = (Q @ z - q)[index]
        jacobian = Q[np.ix_(index, index)].copy()
        offset = 0
        for g, w in active:
            k = g.size
            if w > 0:
                zg = z[g]
                norm = np.linalg.norm(zg)
                if norm == 0:
                    return None
                residual[offset:offset + k] += w * zg / norm
                jacobian[offset:offset + k, offset:offset + k] += w / norm * (np.eye(k) - np.outer(zg, zg) / norm**2)
            offset += k
        try:
            with warnings.catch_warnings():  # a near-singular system: block coordinate descent carries on instead
                warnings.simplefilter("error", linalg.LinAlgWarning)
                step = linalg.solve(jacobian, residual, assume_a="sym")
        except (linalg.LinAlgError, linalg.LinAlgWarning, ValueError):
            return None
        z[index] -= step
        if np.max(np.abs(step)) <= 1e-15 * max(1.0, np.max(np.abs(z[index]))):
            return z
    return z


def fit_linear_group_map(X, y, prior: GroupLaplace, sigma: float | None, fit_intercept: bool,
                         sigma_prior=None) -> LinearMAP:
    """Linear-regression MAP under ``prior`` (module docstring); ``sigma=None``: the joint MAP with sigma
    under ``sigma_prior`` (an :class:`~bayesreg.families.AuxPrior`; None: ``Half-t_4(0, sd(y))``)."""
    x_mean = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
    y_mean = float(y.mean()) if fit_intercept else 0.0
    Xc, yc = X - x_mean, y - y_mean
    Q, q = Xc.T @ Xc, Xc.T @ yc
    groups, rates = prior.group_indices(), prior.group_rates()

    def rss(w):
        residual = yc - Xc @ w
        return float(residual @ residual)

    if sigma is not None:
        coef = minimize_quadratic_group(Q, q, groups, sigma**2 * rates)
    else:
        least_squares = linalg.lstsq(Xc, yc)[0]
        if rss(least_squares) <= 1e-14 * max(rss(np.zeros(X.shape[1])), np.finfo(float).tiny):
            raise NoMAPError("the joint MAP over (w, sigma) does not exist: the model fits y exactly, so the "
                             "density grows without bound as sigma -> 0. Pass a known sigma=..., or use method='nuts'.")
        noise_prior, n = sigma_prior or HalfT(SIGMA_PRIOR_NU, sigma_prior_scale(yc)), X.shape[0]
        sigma, coef = np.sqrt(rss(np.zeros(X.shape[1])) / n) or 1.0, None
        for _ in range(10_000):
            coef = minimize_quadratic_group(Q, q, groups, sigma**2 * rates, z0=coef)
            new_sigma = _sigma_step(rss(coef), n, noise_prior)
            if abs(new_sigma - sigma) <= 1e-13 * sigma:
                break
            sigma = new_sigma
        else:
            raise RuntimeError("joint group-lasso MAP over (w, sigma) did not converge")
        sigma = new_sigma
    return LinearMAP(coef=coef, intercept=y_mean - float(x_mean @ coef), sigma=float(sigma))


def fit_logistic_group_map(X, y01, prior: GroupLaplace, fit_intercept: bool, *, max_iter: int = 200):
    """``(coef, intercept)`` minimising ``sum_i [log(1 + e^eta_i) - y_i eta_i] + sum_g sqrt(m_g)/b ||w_g||``:
    proximal Newton (each step :func:`minimize_quadratic_group` on the Hessian), Armijo backtracking."""
    k = int(fit_intercept)
    A = np.column_stack([np.ones(len(y01))] * k + [X])
    groups = [np.arange(k)] * k + [index + k for index in prior.group_indices()]
    lam = np.concatenate([np.zeros(k), prior.group_rates()])

    def penalty(t):
        return sum(w * np.linalg.norm(t[g]) for g, w in zip(groups, lam))

    def smooth(t):
        eta = A @ t
        mu = special.expit(eta)
        return (float(np.sum(np.logaddexp(0.0, eta) - y01 * eta)), A.T @ (mu - y01),
                (A * (mu * (1 - mu))[:, None]).T @ A)

    theta = np.zeros(A.shape[1])
    value, gradient, hessian = smooth(theta)
    objective = value + penalty(theta)
    for _ in range(max_iter):
        target = minimize_quadratic_group(hessian, hessian @ theta - gradient, groups, lam, z0=theta)
        direction = target - theta
        decrease = gradient @ direction + penalty(target) - penalty(theta)
        at_rounding_level = -decrease <= 1e-14 * max(1.0, abs(objective))
        step = 1.0
        while True:
            candidate = theta + step * direction
            new = smooth(candidate)
            new_objective = new[0] + penalty(candidate)
            if at_rounding_level or new_objective <= objective + 0.25 * step * decrease or step < 1e-12:
                break
            step /= 2
        moved = np.max(np.abs(candidate - theta), initial=0.0)
        theta, (value, gradient, hessian), objective = candidate, new, new_objective
        if at_rounding_level or moved <= 1e-11 * max(1.0, np.max(np.abs(theta))):
            return theta[k:], float(theta[0]) if k else 0.0
    raise RuntimeError(f"group-lasso logistic MAP did not converge in {max_iter} proximal Newton steps")
