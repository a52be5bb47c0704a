r"""MAP for linear regression with a Normal, Laplace or ElasticNet prior.

With a known noise sd :math:`\sigma` the MAP minimises (after multiplying by :math:`\sigma^2`)

.. math:: \tfrac12\|y - b - Xw\|^2 + \sigma^2\,l_1\|w\|_1 + \tfrac{\sigma^2 l_2}{2}\|w\|_2^2

where ``l1``/``l2`` are the prior's penalty weights. The flat prior on ``b`` makes it exactly
the centring of ``X`` and ``y``. A Normal prior is solved in closed form by Cholesky of
``X'X + sigma^2 l2 I`` (or of the ``n x n`` dual ``XX' + sigma^2 l2 I`` when ``p > n``); an
L1 part by :func:`~bayesreg.solvers.quadratic_l1.minimize_quadratic_l1`, which returns exact zeros.

With ``sigma=None`` the MAP is *joint* over ``(w, b, sigma)`` under the Half-t prior on sigma
(see :mod:`bayesreg.likelihoods`). It is not a fixed-alpha ridge or lasso: the effective
penalty ``sigma^2 l2`` moves with the fitted sigma. It is found by block coordinate descent
(exact ``w`` step, exact 1-d ``sigma`` step), and it does not exist when ``y`` can be fitted
exactly (then the density grows without bound as ``sigma -> 0``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

from ..data.statistics import GaussianStatistics
from ..likelihoods import SIGMA_PRIOR_NU, check_sigma_prior_scale, sigma_prior_scale
from ..priors import Prior
from .quadratic_l1 import minimize_quadratic_l1


class NoMAPError(ValueError):
    """The posterior has no finite mode; the message says why and what to do instead."""


@dataclass
class LinearMAP:
    coef: np.ndarray
    intercept: float
    sigma: float


class _CenteredProblem:
    """Centred data and its Gram matrix, computed once and reused across penalty values."""

    def __init__(self, X, y, fit_intercept: bool):
        self.x_mean = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
        self.y_mean = float(y.mean()) if fit_intercept else 0.0
        self.X = X - self.x_mean
        self.y = y - self.y_mean
        self.n, self.p = X.shape
        self.fit_intercept = fit_intercept
        self._gram = None

    @property
    def gram(self):
        if self._gram is None:
            self._gram = (self.X.T @ self.X, self.X.T @ self.y)
        return self._gram

    def penalized_ls(self, l1: float, l2: float, warm=None) -> np.ndarray:
        """``argmin 0.5 ||y - Xw||^2 + l1 ||w||_1 + l2/2 ||w||^2`` (centred data)."""
        if l1 == 0.0:
            return self._ridge(l2)
        G, c = self.gram
        return minimize_quadratic_l1(G + l2 * np.eye(self.p), c, l1, z0=warm)

    def _ridge(self, l2: float) -> np.ndarray:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", linalg.LinAlgWarning)
                if self.p <= self.n:
                    G, c = self.gram
                    return linalg.solve(G + l2 * np.eye(self.p), c, assume_a="pos")
                K = self.X @ self.X.T + l2 * np.eye(self.n)
                return self.X.T @ linalg.solve(K, self.y, assume_a="pos")
        except (linalg.LinAlgWarning, linalg.LinAlgError):
            # Columns on wildly different scales: least squares on [X; sqrt(l2) I] has the square
            # root of the normal equations' condition number.
            augmented = np.vstack([self.X, np.sqrt(l2) * np.eye(self.p)])
            return linalg.lstsq(augmented, np.concatenate([self.y, np.zeros(self.p)]))[0]

    def rss(self, coef) -> float:
        r = self.y - self.X @ coef
        return float(r @ r)

    def intercept(self, coef) -> float:
        return self.y_mean - float(self.x_mean @ coef)

    def least_squares_rss(self) -> float:
        coef, *_ = linalg.lstsq(self.X, self.y)
        return self.rss(coef)


class _GramProblem(_CenteredProblem):
    """The same problem from sufficient statistics alone (X not in memory, e.g. Dask input).

    ``rss(w) = RSS_min + (w - w_ls)' X'X (w - w_ls)`` (centred), expanded about the least-squares
    ``w_ls`` as in :mod:`bayesreg.model`: only ``RSS_min`` carries the absolute ``eps y'y`` error of
    statistics, so ``rss`` stays smooth in ``w`` and the joint (w, sigma) iteration converges.
    """

    def __init__(self, statistics: GaussianStatistics, fit_intercept: bool):
        about = statistics.about(fit_intercept)
        self.x_mean, self.y_mean = about.x_mean, about.y_mean
        self.n, self.p = statistics.n, statistics.n_features
        self.fit_intercept = fit_intercept
        self._gram = (about.xx, about.xy)
        self._least_squares = about.least_squares()

    def _ridge(self, l2: float) -> np.ndarray:
        G, c = self.gram
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", linalg.LinAlgWarning)
                return linalg.solve(G + l2 * np.eye(self.p), c, assume_a="pos")
        except (linalg.LinAlgWarning, linalg.LinAlgError):
            eigval, eigvec = linalg.eigh(G)  # no X to fall back on: solve in G's eigenbasis
            return eigvec @ ((eigvec.T @ c) / (np.maximum(eigval, 0.0) + l2))

    def rss(self, coef) -> float:
        misfit = coef - self._least_squares.coef
        return self._least_squares.rss + float(misfit @ self.gram[0] @ misfit)

    def least_squares_rss(self) -> float:
        return self._least_squares.rss


def fit_linear_map(X, y, prior: Prior, sigma: float | None, fit_intercept: bool) -> LinearMAP:
    return _fit(_CenteredProblem(X, y, fit_intercept), prior, sigma, lambda: sigma_prior_scale(y))


def fit_linear_map_from_statistics(statistics: GaussianStatistics, prior: Prior, sigma: float | None,
                                   fit_intercept: bool) -> LinearMAP:
    """:func:`fit_linear_map` from sufficient statistics (the Gram form), for data not in memory."""
    return _fit(_GramProblem(statistics, fit_intercept), prior, sigma,
                lambda: check_sigma_prior_scale(statistics.y_sd))


def _fit(problem: _CenteredProblem, prior: Prior, sigma: float | None, sigma_prior_scale_of_y) -> LinearMAP:
    if sigma is not None:
        coef = problem.penalized_ls(sigma**2 * prior.l1, sigma**2 * prior.l2)
    else:
        coef, sigma = _joint_map(problem, prior, sigma_prior_scale_of_y())
    return LinearMAP(coef=coef, intercept=problem.intercept(coef), sigma=sigma)


def _joint_map(problem: _CenteredProblem, prior: Prior, prior_scale: float, *, max_iter=10_000):
    _require_residual_freedom(problem)
    sigma = np.sqrt(problem.rss(np.zeros(problem.p)) / problem.n) or prior_scale
    coef = None
    for _ in range(max_iter):
        coef = problem.penalized_ls(sigma**2 * prior.l1, sigma**2 * prior.l2, warm=coef)
        new_sigma = _sigma_step(problem.rss(coef), problem.n, prior_scale)
        if abs(new_sigma - sigma) <= 1e-13 * sigma:
            return coef, new_sigma
        sigma = new_sigma
    raise RuntimeError("joint MAP over (w, sigma) did not converge")


def _sigma_step(rss: float, n: int, scale: float, nu: float = SIGMA_PRIOR_NU) -> float:
    """argmin over sigma of ``n log sigma + rss/(2 sigma^2) - log HalfT(sigma; nu, scale)``.

    Setting the derivative to zero and multiplying by ``sigma^3``:
    ``n s^2 - rss + (nu+1) s^4 / (nu scale^2 + s^2) = 0``, increasing in ``s``, so the root
    is unique and lies in ``(0, sqrt(rss/n)]``.
    """
    def stationarity(s):
        return n * s**2 - rss + (nu + 1) * s**4 / (nu * scale**2 + s**2)

    upper = np.sqrt(rss / n)
    return optimize.brentq(stationarity, upper * 1e-8, upper, xtol=1e-15 * upper, rtol=4 * np.finfo(float).eps)


def _require_residual_freedom(problem: _CenteredProblem) -> None:
    if problem.least_squares_rss() <= 1e-14 * max(problem.rss(np.zeros(problem.p)), np.finfo(float).tiny):
        raise NoMAPError(
            "the joint MAP over (w, sigma) does not exist: the model fits y exactly "
            f"(n = {problem.n} rows, {problem.p} features{' + intercept' if problem.fit_intercept else ''}), "
            "so the posterior density grows without bound as sigma -> 0. "
            "Pass a known sigma=..., or use method='nuts'."
        )
