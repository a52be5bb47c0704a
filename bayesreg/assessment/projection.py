r"""Projection of a Gaussian reference posterior onto a submodel, in closed form (Piironen,
Paasiniemi & Vehtari 2020; projpred's ``project`` for the Gaussian family).

Each reference draw ``s`` predicts ``y_i ~ N(mu_si, sigma_s^2)`` with ``mu_s = b_s + X w_s``. Its
projection onto the submodel with columns ``S`` minimises the Kullback-Leibler divergence from the
reference's predictive to the submodel's, summed over the training rows:

.. math::
    (b_s^\perp, w_s^\perp) = \arg\min_{b, w} \|\mu_s - b - X_S w\|^2,\qquad
    (\sigma_s^\perp)^2 = \sigma_s^2 + \frac{1}{n}\|\mu_s - b_s^\perp - X_S w_s^\perp\|^2,

least squares of the reference's *fitted values* (not of ``y``), the noise sd widened by what the
submodel cannot fit. One QR factorisation of ``[1, X_S]`` serves every draw.

**Offset and weights.** With an offset ``o`` (in the reference's and the submodel's linear
predictor: ``mu_s = o + b_s + X w_s``, submodel ``o + b + X_S w``) and row weights ``v_i`` (a row of
weight ``v_i`` counts as ``v_i`` copies, as in the fit), the divergence summed over rows is weighted:

.. math::
    (b_s^\perp, w_s^\perp) = \arg\min_{b, w} \sum_i v_i (\mu_{si} - o_i - b - x_{iS}'w)^2,\qquad
    (\sigma_s^\perp)^2 = \sigma_s^2 + \frac{\sum_i v_i r_{si}^2}{\sum_i v_i},

weighted least squares of ``mu_s - o`` (``r_s``: its residual), solved as ordinary least squares
of the rows scaled by ``sqrt(v_i)``; an integer weight gives exactly the repeated rows' projection.

The forward search (:func:`forward_search`) adds at each step the column that most reduces the
summed divergence, ``sum_s (n/2) log((sigma_s^perp)^2)`` up to constants, using each candidate's
part orthogonal to the columns already chosen: adding unit vector ``q`` cuts draw ``s``'s
residual sum of squares by ``(q' r_s)^2``. With weights it works in the ``sqrt(v)``-scaled rows
(the intercept's column is ``sqrt(v)``) and ``n`` becomes ``sum_i v_i``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from .term_hierarchy import eligible

__all__ = ["Projection", "forward_search", "project_gaussian"]


@dataclass(frozen=True)
class Projection:
    """Projected draws: ``coef`` (S, k) for ``columns``, ``intercept`` (S,) (zeros without one), ``sigma`` (S,)."""

    columns: tuple
    coef: np.ndarray
    intercept: np.ndarray
    sigma: np.ndarray

    def linear_predictor(self, X, offset=None) -> np.ndarray:
        """``offset + b^perp_s + X_S w^perp_s``, shape (S, n); ``X`` has all the reference's columns."""
        eta = self.coef @ np.asarray(X)[:, list(self.columns)].T + self.intercept[:, None]
        return eta if offset is None else eta + offset


def _design(X, columns, fit_intercept: bool) -> np.ndarray:
    chosen = np.asarray(X)[:, list(columns)]
    return np.hstack([np.ones((len(chosen), 1)), chosen]) if fit_intercept else chosen


def project_gaussian(X, mu, sigma, columns, fit_intercept: bool, offset=None, weights=None) -> Projection:
    """The projection (module docstring) of reference draws ``mu`` (S, n), ``sigma`` (S,) onto ``columns``;
    ``mu`` includes the ``offset`` (if any), which the submodel's linear predictor has too; ``weights``
    per row (None: all 1)."""
    columns = tuple(int(j) for j in columns)
    Z = _design(X, columns, fit_intercept)
    S = len(mu)
    target = mu if offset is None else mu - offset
    root = np.ones(len(Z)) if weights is None else np.sqrt(weights)
    if Z.shape[1] == 0:  # the empty model without an intercept predicts 0 (plus the offset)
        beta = np.zeros((0, S))
    else:
        Q, R = linalg.qr(root[:, None] * Z, mode="economic")
        beta = linalg.solve_triangular(R, Q.T @ (root * target).T)
    squared = (target - (Z @ beta).T) ** 2
    mean_squared = squared.mean(axis=1) if weights is None else squared @ weights / np.sum(weights)
    sigma_perp = np.sqrt(np.asarray(sigma) ** 2 + mean_squared)
    intercept = beta[0] if fit_intercept else np.zeros(S)
    return Projection(columns, beta[int(fit_intercept):].T.copy(), intercept, sigma_perp)


def forward_search(X, mu, sigma, fit_intercept: bool, max_terms: int, tol: float = 1e-10,
                   groups=None, offset=None, weights=None, parents=None) -> list[int]:
    """Columns in the order forward search adds them (module docstring), at most ``max_terms``.

    ``groups`` (a list of column-index lists, e.g. a factor's dummies): the search adds whole
    groups and returns group indices. A group's candidate block is orthonormalised (QR) against the
    chosen columns, and adding it cuts draw ``s``'s residual sum of squares by ``||Q' r_s||^2``.
    ``offset``, ``weights``: as :func:`project_gaussian`'s (the rows scaled by ``sqrt(weights)``)."""
    X = np.asarray(X, dtype=float)
    p = X.shape[1]
    groups = [[j] for j in range(p)] if groups is None else [list(g) for g in groups]
    root = np.ones(len(X)) if weights is None else np.sqrt(weights)
    n = np.sum(root**2)  # the rows' total weight
    residual = root * (mu if offset is None else mu - offset)  # (S, n), in the scaled rows
    candidates = root[:, None] * X
    if fit_intercept:  # orthogonal to the intercept's (scaled) column from the start
        unit = root / np.linalg.norm(root)
        residual = residual - np.outer(residual @ unit, unit)
        candidates = candidates - np.outer(unit, unit @ candidates)
    scale = np.maximum(np.linalg.norm(candidates, axis=0), 1.0)
    rss = np.sum(residual**2, axis=1)
    noise = np.asarray(sigma, dtype=float) ** 2
    chosen: list[int] = []
    for _ in range(min(max_terms, len(groups))):
        best, best_cost, best_basis = None, np.inf, None
        for g, columns in enumerate(groups):
            if g in chosen or not eligible(g, chosen, parents):  # an interaction after its main effects
                continue
            basis = _orthonormal(candidates[:, columns], tol * scale[columns])
            if basis.shape[1] == 0:
                continue  # nothing new: the group lies in the span of the chosen ones
            reduction = np.sum((residual @ basis) ** 2, axis=1)
            cost = np.sum(np.log(noise + np.maximum(rss - reduction, 0.0) / n))
            if cost < best_cost:
                best, best_cost, best_basis = g, cost, basis
        if best is None:
            break
        residual -= (residual @ best_basis) @ best_basis.T
        rss = np.sum(residual**2, axis=1)
        candidates -= best_basis @ (best_basis.T @ candidates)
        chosen.append(best)
    return chosen


def _orthonormal(block, tolerance) -> np.ndarray:
    """An orthonormal basis of the columns of ``block`` that are not (numerically) zero: one column
    is its direction; a group's block goes through a pivoted QR that drops dependent directions."""
    norms = np.linalg.norm(block, axis=0)
    block = block[:, norms > tolerance]
    if block.shape[1] <= 1:
        return block / np.linalg.norm(block, axis=0) if block.shape[1] else block
    Q, R, _ = linalg.qr(block, mode="economic", pivoting=True)
    keep = np.abs(np.diag(R)) > np.max(tolerance)
    return Q[:, keep]
