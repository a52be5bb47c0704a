r"""MAP for linear regression with a Normal, Laplace or ElasticNet prior.

With a known noise sd :math:`\sigma` the MAP minimises (after multiplying by :math:`\sigma^2`)

.. math:: \tfrac12\|y - b - Xw\|^2 + \sigma^2\,l_1\|w\|_1 + \tfrac{\sigma^2 l_2}{2}\|w\|_2^2

where ``l1``/``l2`` are the prior's penalty weights. The flat prior on ``b`` makes it exactly
the centring of ``X`` and ``y``. A Normal prior is solved in closed form by Cholesky of
``X'X + sigma^2 diag(l2)`` (or of the ``n x n`` dual when ``p > n``; ``l2`` may hold one
entry per coefficient); an
L1 part by :func:`~bayesreg.solvers.quadratic_l1.minimize_quadratic_l1`, which returns exact zeros.

With ``sigma=None`` the MAP is *joint* over ``(w, b, sigma)`` under the prior on sigma (the
default Half-t, or ``sigma_prior``, any :class:`~bayesreg.families.AuxPrior`; see :mod:`bayesreg.families`). It is not a fixed-alpha ridge or lasso: the effective
penalty ``sigma^2 l2`` moves with the fitted sigma. It is found by block coordinate descent
(exact ``w`` step, exact 1-d ``sigma`` step), and it does not exist when ``y`` can be fitted
exactly (then the density grows without bound as ``sigma -> 0``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

from ..data import GaussianStatistics, binary_exponent
from ..families.auxiliary import AuxPrior, HalfT
from ..families.gaussian import SIGMA_PRIOR_NU, check_sigma_prior_scale, sigma_prior_scale
from ..priors import Prior
from ._scaling import require_finite_penalty, scaled_penalty
from .quadratic_l1 import minimize_quadratic_l1


class NoMAPError(ValueError):
    """The posterior has no finite mode; the message says why and what to do instead."""


@dataclass
class LinearMAP:
    coef: np.ndarray
    intercept: float
    sigma: float


class _CenteredProblem:
    """Centred data, scaled by powers of two, and its Gram matrix, computed once and reused.

    ``y`` is divided by ``2^{e_y}`` and column ``j`` of ``X`` by ``2^{e_j}`` (an exact
    reparametrisation, see :mod:`~bayesreg.solvers._scaling`), so the coefficients solved for are
    ``v_j = 2^{e_j - e_y} w_j`` and a noise sd ``sigma`` becomes ``2^{-e_y} sigma``; the prior's
    weights are carried over by :meth:`penalty_weights`. Data in units of 1e160 or 1e-160 then
    give the same MAP as standardized data, instead of an overflowing Gram matrix.
    """

    def __init__(self, X, y, fit_intercept: bool):
        self.x_mean = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
        self.y_mean = float(y.mean()) if fit_intercept else 0.0
        self.x_exponent = binary_exponent(X - self.x_mean, axis=0)
        self.y_exponent = int(binary_exponent(y - self.y_mean))
        self.X = np.ldexp(X - self.x_mean, -self.x_exponent)
        self.y = np.ldexp(y - self.y_mean, -self.y_exponent)
        self.n, self.p = X.shape
        self.fit_intercept = fit_intercept
        self._gram = None

    def penalty_weights(self, prior: Prior) -> tuple[np.ndarray, np.ndarray]:
        """Per-coefficient ``(l1, l2)`` of the prior in the scaled coefficients ``v``."""
        return scaled_penalty(prior, self.x_exponent - self.y_exponent)

    def scaled_sigma(self, sigma: float) -> float:
        return np.ldexp(np.float64(sigma), -self.y_exponent)  # numpy: s**2 overflows to inf, not an error

    def original_units(self, coef_scaled, sigma_scaled):
        """``(coef, intercept, sigma)`` in the units of the data."""
        coef = np.ldexp(coef_scaled, self.y_exponent - self.x_exponent)
        return coef, self.y_mean - float(self.x_mean @ coef), float(np.ldexp(sigma_scaled, self.y_exponent))

    @property
    def gram(self):
        if self._gram is None:
            self._gram = (self.X.T @ self.X, self.X.T @ self.y)
        return self._gram

    def penalized_ls(self, l1, l2, warm=None) -> np.ndarray:
        """``argmin 0.5 ||y - Xw||^2 + sum_j l1_j |w_j| + l2_j/2 w_j^2`` (centred data).

        ``l1``, ``l2``: numbers, or arrays with one entry per coefficient (per-coefficient scales).
        """
        l1 = np.broadcast_to(np.asarray(l1, dtype=float), (self.p,))
        l2 = np.broadcast_to(np.asarray(l2, dtype=float), (self.p,))
        if not l1.any():
            return self._ridge(l2)
        G, c = self.gram
        return minimize_quadratic_l1(G + np.diag(l2), c, l1, z0=warm)

    def _ridge(self, l2: np.ndarray) -> np.ndarray:
        """``(X'X + diag(l2))^{-1} X'y``, or when ``p > n`` its dual form
        ``D^{-1} X' (X D^{-1} X' + I)^{-1} y`` with ``D = diag(l2)`` (push-through identity)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", linalg.LinAlgWarning)
                if self.p <= self.n:
                    G, c = self.gram
                    return linalg.solve(G + np.diag(l2), c, assume_a="pos")
                # (X'X + D)^-1 X' = D^-1 X' (X D^-1 X' + I)^-1: an n x n system when p > n
                X_over_l2 = self.X / l2
                K = X_over_l2 @ self.X.T + np.eye(self.n)
                return X_over_l2.T @ linalg.solve(K, self.y, assume_a="pos")
        except (linalg.LinAlgWarning, linalg.LinAlgError):
            # Columns on wildly different scales: least squares on [X; sqrt(D)] has the square
            # root of the normal equations' condition number.
            augmented = np.vstack([self.X, np.diag(np.sqrt(l2))])
            return linalg.lstsq(augmented, np.concatenate([self.y, np.zeros(self.p)]))[0]

    def rss(self, coef) -> float:
        r = self.y - self.X @ coef
        return float(r @ r)

    def sigma_prior_scale(self) -> float:
        """The noise prior's scale (the sd of y) in the scaled units."""
        return sigma_prior_scale(self.y)

    def least_squares_rss(self) -> float:
        coef, *_ = linalg.lstsq(self.X, self.y)
        return self.rss(coef)


class _GramProblem(_CenteredProblem):
    """The same problem from sufficient statistics alone (X not in memory, e.g. Dask input).

    ``rss(v) = RSS_min + (v - v_ls)' X'X (v - v_ls)`` (centred), expanded about the least-squares
    ``v_ls`` as in :mod:`bayesreg.model.spec`: only ``RSS_min`` carries the absolute ``eps y'y``
    error of statistics, so ``rss`` stays smooth in ``v`` and the joint (v, sigma) iteration
    converges. The statistics are rescaled by the same powers of two as :class:`_CenteredProblem`'s
    data, with ``2^{e_j}`` the column norm's binary exponent (``X'X`` scales by ``2^{-e_i - e_j}``,
    exactly), so the solvers and :meth:`penalty_weights` are shared.
    """

    def __init__(self, statistics: GaussianStatistics, fit_intercept: bool):
        about = statistics.about(fit_intercept)
        self.x_mean, self.y_mean = about.x_mean, about.y_mean
        self.n, self.p = statistics.n, statistics.n_features
        self.fit_intercept = fit_intercept
        self.x_exponent = binary_exponent(np.sqrt(np.maximum(np.diag(about.xx), 0.0))[None, :], axis=0)
        self.y_exponent = int(binary_exponent(np.sqrt(max(about.yy, 0.0))))
        ex, ey = self.x_exponent, self.y_exponent
        xx = np.ldexp(about.xx, -(ex[:, None] + ex[None, :]))
        xy = np.ldexp(about.xy, -(ex + ey))
        yy = float(np.ldexp(about.yy, -2 * ey))
        self._gram = (xx, xy)
        self._least_squares = GaussianStatistics(self.n, np.zeros(self.p), 0.0, xx, xy, yy).least_squares()
        self._y_sd = float(np.ldexp(statistics.y_sd, -ey))

    def _ridge(self, l2: np.ndarray) -> np.ndarray:
        G, c = self.gram
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", linalg.LinAlgWarning)
                return linalg.solve(G + np.diag(l2), c, assume_a="pos")
        except (linalg.LinAlgWarning, linalg.LinAlgError):
            # no X to fall back on: least squares on [F; sqrt(D)] with F'F = X'X, F v_ls the fitted part
            ls = self._least_squares
            F = np.sqrt(ls.eigval)[:, None] * ls.eigvec.T
            augmented = np.vstack([F, np.diag(np.sqrt(l2))])
            return linalg.lstsq(augmented, np.concatenate([F @ ls.coef, np.zeros(self.p)]))[0]

    def rss(self, coef) -> float:
        misfit = coef - self._least_squares.coef
        return self._least_squares.rss + float(misfit @ self.gram[0] @ misfit)

    def sigma_prior_scale(self) -> float:
        return check_sigma_prior_scale(self._y_sd)

    def least_squares_rss(self) -> float:
        return self._least_squares.rss


def fit_linear_map(X, y, prior: Prior, sigma: float | None, fit_intercept: bool,
                   sigma_prior: AuxPrior | None = None) -> LinearMAP:
    """``sigma_prior``: the prior on an unknown sigma (None: ``Half-t_4(0, sd(y))``)."""
    return _fit(_CenteredProblem(X, y, fit_intercept), prior, sigma, sigma_prior)


def fit_linear_map_from_statistics(statistics: GaussianStatistics, prior: Prior, sigma: float | None,
                                   fit_intercept: bool, sigma_prior: AuxPrior | None = None) -> LinearMAP:
    """:func:`fit_linear_map` from sufficient statistics (the Gram form), for data not in memory."""
    return _fit(_GramProblem(statistics, fit_intercept), prior, sigma, sigma_prior)


def _fit(problem: _CenteredProblem, prior: Prior, sigma: float | None, sigma_prior: AuxPrior | None = None) -> LinearMAP:
    l1, l2 = problem.penalty_weights(prior)
    if sigma is not None:
        s = problem.scaled_sigma(sigma)
        with np.errstate(over="ignore", invalid="ignore"):
            l1, l2 = (np.where(weight == 0, 0.0, s**2 * weight) for weight in (l1, l2))  # inf * 0 is 0 here
        require_finite_penalty(np.concatenate([l1, l2]), f"linear MAP with {prior} and sigma={sigma:g}")
        coef = problem.penalized_ls(l1, l2)
    else:
        require_finite_penalty(np.concatenate([l1, l2]), f"linear MAP with {prior}")
        unit = float(np.ldexp(1.0, problem.y_exponent))  # sigma = unit * s, s in the problem's scaled units
        noise_prior = sigma_prior or HalfT(SIGMA_PRIOR_NU, unit * problem.sigma_prior_scale())
        coef, s = _joint_map(problem, l1, l2, noise_prior, unit)
    coef, intercept, sigma = problem.original_units(coef, s)
    return LinearMAP(coef=coef, intercept=intercept, sigma=sigma)


def _joint_map(problem: _CenteredProblem, l1, l2, noise_prior: AuxPrior, unit: float, *, max_iter=10_000):
    _require_residual_freedom(problem)
    sigma = np.sqrt(problem.rss(np.zeros(problem.p)) / problem.n) or 1.0
    coef = None
    for _ in range(max_iter):
        coef = problem.penalized_ls(sigma**2 * l1, sigma**2 * l2, warm=coef)
        new_sigma = _sigma_step(problem.rss(coef), problem.n, noise_prior, unit)
        if abs(new_sigma - sigma) <= 1e-13 * sigma:
            return coef, new_sigma
        sigma = new_sigma
    raise RuntimeError("joint MAP over (w, sigma) did not converge")


def _sigma_step(rss: float, n: float, noise_prior: AuxPrior, unit: float = 1.0) -> float:
    """argmin over s of ``n log s + rss/(2 s^2) - log p(unit s)``, ``p`` the prior on sigma = unit s.

    Setting the derivative to zero and multiplying by ``s^3``:
    ``n s^2 - rss + s^2 x d(x) = 0`` with ``x = unit s`` and ``d = -(log p)'``. For the Half-t
    (``x d = (nu+1) x^2 / (nu scale^2 + x^2)``), the exponential (``rate x``) and the gamma
    (``b x - (a - 1)``) ``x d(x)`` increases in ``x``, so the root is unique; for the first two it
    lies in ``(0, sqrt(rss/n)]``, the gamma's may lie above (the bracket grows until it holds it).
    """
    def stationarity(s):
        x = unit * s
        return n * s**2 - rss + s**2 * x * noise_prior.neg_log_density(x)[1]

    upper = np.sqrt(rss / n)
    while stationarity(upper) < 0:
        upper *= 2.0
    lower = upper * 1e-8
    while stationarity(lower) > 0:
        lower *= 1e-8
    return optimize.brentq(stationarity, lower, upper, xtol=1e-15 * upper, rtol=4 * np.finfo(float).eps)


def _require_residual_freedom(problem: _CenteredProblem) -> None:
    if problem.least_squares_rss() <= 1e-14 * max(problem.rss(np.zeros(problem.p)), np.finfo(float).tiny):
        raise NoMAPError(
            "the joint MAP over (w, sigma) does not exist: the model fits y exactly "
            f"(n = {problem.n} rows, {problem.p} features{' + intercept' if problem.fit_intercept else ''}), "
            "so the posterior density grows without bound as sigma -> 0. "
            "Pass a known sigma=..., or use method='nuts'."
        )
