r"""The Gaussian projection and forward search of :mod:`.projection` from the rows' Gram
statistics alone: what :func:`br.select <bayesreg.assessment.select>` needs of Dask rows beyond
the validation pass (:mod:`.selection_dask`).

The reference's draws are linear in the columns, ``mu_s = b_s + X w_s``, so every sum over rows
that the projection takes is a quadratic form in ``n``, the column means ``xbar`` and the centred
scatter ``C = (X - 1 xbar')'(X - 1 xbar')`` (without an intercept: the raw ``C = X'X``,
``xbar = 0``). For columns ``A`` (``B`` = all columns):

.. math::
    w^\perp_{As} = C_{AA}^{-1} C_{AB} w_s,\qquad
    b^\perp_s = b_s + \bar x' w_s - \bar x_A' w^\perp_{As},\qquad
    \mathrm{RSS}_s = \|\mu_s - b^\perp_s - X_A w^\perp_{As}\|^2 = w_s' M_A w_s,

with ``M_A = C - C_{BA} C_{AA}^{-1} C_{AB}`` the scatter of the columns' residuals after
regressing them on ``A`` (a Schur complement), and ``(sigma^perp_s)^2 = sigma_s^2 + RSS_s / n``
as in :func:`~.projection.project_gaussian`. These are the least-squares solutions of
:mod:`.projection`, so equal to them up to rounding; the Gram matrix squares the columns'
condition number, so a nearly collinear design loses digits the QR of the rows keeps.

**Forward search.** The in-memory search orthogonalises each candidate column against the chosen
ones and cuts draw ``s``'s residual sum of squares by ``(q' r_s)^2``; in Gram terms the chosen
set's residual scatter ``M`` starts at ``C``, a candidate group ``G`` cuts ``RSS_s`` by
``v_s' M_GG^+ v_s`` with ``v_s = M_{GB} w_s``, and choosing ``G`` sweeps it out,
``M <- M - M_{BG} M_GG^+ M_{GB}``. A group whose residual scatter has no eigenvalue above
``GRAM_TOL`` times its columns' ``C_jj`` lies in the span of the chosen ones and is skipped (the
rows' QR uses 1e-10 of the norms; the Gram's rounding is the square of the rows', hence 1e-12 of
the squared norms, 1e-6 of the norms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .projection import Projection
from .term_hierarchy import eligible

__all__ = ["GramStatistics", "forward_search_gram", "project_gram"]

GRAM_TOL = 1e-12


@dataclass(frozen=True)
class GramStatistics:
    """``n``, the column means ``mean`` and the centred scatter ``scatter`` of the rows' ``X``."""

    n: int
    mean: np.ndarray
    scatter: np.ndarray

    def about(self, fit_intercept: bool) -> tuple[np.ndarray, np.ndarray]:
        """``(xbar, C)`` of the module docstring: centred with an intercept, raw ``X'X`` without."""
        if fit_intercept:
            return self.mean, self.scatter
        return np.zeros_like(self.mean), self.scatter + self.n * np.outer(self.mean, self.mean)


def project_gram(stats: GramStatistics, coef, intercept, sigma, columns, fit_intercept: bool) -> Projection:
    """The projection of reference draws ``b_s + X w_s`` (``coef`` (S, p) = ``w``, ``intercept``
    (S,) = ``b``, ``sigma`` (S,)) onto ``columns`` (module docstring)."""
    columns = list(int(j) for j in columns)
    xbar, C = stats.about(fit_intercept)
    coef = np.asarray(coef, dtype=float)
    if columns:
        projected = np.linalg.lstsq(C[np.ix_(columns, columns)], C[columns] @ coef.T, rcond=None)[0].T  # (S, k)
    else:
        projected = np.zeros((len(coef), 0))
    residual = _residual_scatter(C, columns)
    rss = np.maximum(np.einsum("sj,jk,sk->s", coef, residual, coef), 0.0)
    mean_mu = (np.asarray(intercept, dtype=float) + coef @ xbar) if fit_intercept else np.zeros(len(coef))
    new_intercept = mean_mu - projected @ xbar[columns] if fit_intercept else np.zeros(len(coef))
    sigma_perp = np.sqrt(np.asarray(sigma, dtype=float) ** 2 + rss / stats.n)
    return Projection(tuple(columns), projected, new_intercept, sigma_perp)


def _residual_scatter(C, columns) -> np.ndarray:
    """``M_A = C - C_{BA} C_AA^{-1} C_{AB}`` (module docstring)."""
    if not columns:
        return C
    return C - C[:, columns] @ np.linalg.lstsq(C[np.ix_(columns, columns)], C[columns], rcond=None)[0]


def forward_search_gram(stats: GramStatistics, coef, sigma, fit_intercept: bool, max_terms: int,
                        groups=None, parents=None) -> list[int]:
    """:func:`~.projection.forward_search` from the Gram statistics (module docstring): the terms
    (groups of columns, default one per column) in the order the search adds them."""
    _, C = stats.about(fit_intercept)
    p = C.shape[0]
    groups = [[j] for j in range(p)] if groups is None else [list(g) for g in groups]
    coef = np.asarray(coef, dtype=float)
    noise = np.asarray(sigma, dtype=float) ** 2
    scale = np.maximum(np.diag(C), 1.0)
    M = C.copy()
    chosen: list[int] = []
    for _ in range(min(max_terms, len(groups))):
        rss = np.maximum(np.einsum("sj,jk,sk->s", coef, M, coef), 0.0)
        projected = coef @ M  # (S, p): v_s = M_{GB} w_s for every column
        best, best_cost, best_inverse = None, np.inf, None
        for g, columns in enumerate(groups):
            if g in chosen or not eligible(g, chosen, parents):  # an interaction after its main effects
                continue
            inverse = _pseudo_inverse(M[np.ix_(columns, columns)], GRAM_TOL * np.max(scale[columns]))
            if inverse is None:
                continue  # nothing new: the group lies in the span of the chosen ones
            v = projected[:, columns]
            reduction = np.einsum("sj,jk,sk->s", v, inverse, v)
            cost = np.sum(np.log(noise + np.maximum(rss - reduction, 0.0) / stats.n))
            if cost < best_cost:
                best, best_cost, best_inverse = g, cost, inverse
        if best is None:
            break
        block = M[:, groups[best]]
        M = M - block @ best_inverse @ block.T
        chosen.append(best)
    return chosen


def _pseudo_inverse(block, tolerance: float):
    """The pseudo-inverse of a PSD block over its eigenvalues above ``tolerance``; None if none is."""
    values, vectors = np.linalg.eigh(block)
    keep = values > tolerance
    if not keep.any():
        return None
    return (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
