r"""Projection of a logistic-regression reference posterior onto a submodel, by Newton's method
(IRLS) per draw (projpred's ``project`` for the Bernoulli family).

Draw ``s`` of the reference predicts ``P(y_i = 1) = pi_si``. Its projection onto columns ``S``
minimises the Kullback-Leibler divergence from ``Bernoulli(pi_si)`` to ``Bernoulli(logit^-1(z_i'b))``
summed over rows, i.e. the logistic loss with the fractional targets ``pi_si``:

.. math:: b_s^\perp = \arg\min_b \sum_i -\pi_{si}\log\sigma(z_i'b) - (1 - \pi_{si})\log(1 - \sigma(z_i'b)),

whose score equations are ``Z'(pi_s - sigma(Z b_s)) = 0``. Fractional targets in (0, 1) cannot
separate, so the minimum exists whenever ``Z`` has full column rank. Newton steps
``b <- b - H^{-1} g`` with ``g = Z'(sigma(Zb) - pi_s)`` and ``H = Z' diag(sigma(1 - sigma)) Z``, all
draws at once, halving a draw's step while its loss would rise.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .projection import Projection, _design

__all__ = ["bernoulli_divergence", "project_bernoulli"]


def _loss(B, Z, prob) -> np.ndarray:
    eta = B @ Z.T
    return np.sum(np.logaddexp(0.0, eta) - prob * eta, axis=1)  # -[p log s + (1-p) log(1-s)]


def project_bernoulli(X, prob, columns, fit_intercept: bool, max_iter: int = 100, tol: float = 1e-12) -> Projection:
    """The projection (module docstring) of reference probabilities ``prob`` (S, n) onto ``columns``;
    ``sigma`` of the result is NaN (no noise sd in logistic regression)."""
    columns = tuple(int(j) for j in columns)
    Z = _design(X, columns, fit_intercept)
    S, k = len(prob), Z.shape[1]
    B = np.zeros((S, k))
    if fit_intercept:
        mean = np.clip(prob.mean(axis=1), 1e-12, 1 - 1e-12)
        B[:, 0] = special.logit(mean)
    if k:
        loss = _loss(B, Z, prob)
        for _ in range(max_iter):
            fitted = special.expit(B @ Z.T)
            gradient = (fitted - prob) @ Z
            hessian = np.einsum("sn,nk,nl->skl", fitted * (1 - fitted), Z, Z)
            step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
            size = np.ones((S, 1))
            for _ in range(30):  # step halving per draw until its loss does not rise
                trial = B - size * step
                new_loss = _loss(trial, Z, prob)
                rising = new_loss > loss + 1e-12 * np.abs(loss)
                if not rising.any():
                    break
                size[rising] *= 0.5
            B, loss = trial, new_loss
            if np.max(np.abs(size * step)) < tol * (1 + np.max(np.abs(B))):
                break
    intercept = B[:, 0] if fit_intercept else np.zeros(S)
    return Projection(columns, B[:, int(fit_intercept):].copy(), intercept, np.full(S, np.nan))


def bernoulli_divergence(X, prob, columns, fit_intercept: bool) -> float:
    """Summed (over draws and rows) divergence of the projection onto ``columns``, up to a constant
    (the cross-entropy; the reference's own entropy does not depend on the submodel)."""
    projection = project_bernoulli(X, prob, columns, fit_intercept)
    return float(np.sum(_loss(np.hstack([projection.intercept[:, None], projection.coef])
                              if fit_intercept else projection.coef, _design(X, projection.columns, fit_intercept),
                              prob)))


def forward_search_bernoulli(X, prob, fit_intercept: bool, max_terms: int, groups=None) -> list[int]:
    """Forward search by :func:`bernoulli_divergence`: each step projects every remaining column
    (or group of columns, ``groups``: then group indices are returned)."""
    groups = [[j] for j in range(X.shape[1])] if groups is None else [list(g) for g in groups]
    chosen: list[int] = []
    for _ in range(min(max_terms, len(groups))):
        remaining = [g for g in range(len(groups)) if g not in chosen]
        columns = [j for g in chosen for j in groups[g]]
        costs = [bernoulli_divergence(X, prob, columns + groups[g], fit_intercept) for g in remaining]
        chosen.append(remaining[int(np.argmin(costs))])
    return chosen
