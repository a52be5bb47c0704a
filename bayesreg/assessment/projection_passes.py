r"""The GLM projection of :mod:`.projection_glm` on Dask rows: Newton's method per draw, each
iteration's sums over rows taken in one pass, for every submodel at once.

The objective is :func:`~.projection_glm.project_glm`'s, per draw ``s`` and submodel ``A``:

.. math:: L_s(b) = \sum_i A(z_{Ai}'b) - m_{si}\, z_{Ai}'b,\qquad m_{si} = A'(\beta_{0s} + x_i'\beta_s),

its gradient ``g = Z_A'(A'(Z_A b) - m_s)`` and Hessian ``H = Z_A' diag(A''(Z_A b)) Z_A``: sums over
rows, so a pass over the row blocks (:func:`~bayesreg.data.dask_reduce.reduce_row_pieces`)
returns ``(L, g, H)`` at the current trial point of every (submodel, draw) still iterating; the
reference's means ``m_s`` are recomputed from its draws on each block, never stored. Between
passes each draw takes its Newton step ``b <- b - H^{-1} g`` or, if its loss rose, halves it
(the next pass evaluates the shorter step), as the in-memory projection does; a draw stops when
the step it took is below ``tol (1 + max |b|)``. The pass count is the slowest draw's iteration
count (Newton converges quadratically: 5 to 10), whatever the number of submodels and draws.
Start: the intercept at the link of the draw's mean target over rows (the first pass's sums),
the coefficients at 0. The optimum is unique (strictly convex), so the result equals the
in-memory projection up to the stopping tolerance.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import results
from ..data.dask_reduce import reduce_row_pieces
from .projection import Projection, _design
from .projection_glm import FAMILIES

__all__ = ["project_glm_passes"]


def project_glm_passes(X, y, reference, column_sets, target_mean, family: str, fit_intercept: bool,
                       max_iter: int = 50, tol: float = 1e-10) -> tuple[list[Projection], int]:
    """``([Projection for each of column_sets], number of passes)``: the projections (module
    docstring) of the reference draws ``reference = (coef (S, p), intercept (S,))`` onto each
    column set, on Dask rows ``X, y`` (``y`` only aligns the blocks). ``target_mean``: each draw's
    mean target over the rows (S,)."""
    glm = FAMILIES[family]
    S = len(reference[0])
    states = [_Newton(tuple(int(j) for j in columns), S, fit_intercept, glm.link(target_mean)) for columns in column_sets]
    passes = 0
    while passes < max_iter:
        active = [state for state in states if state.active.any()]
        if not active:
            break
        requests = [(state.columns, state.trial[state.active], np.flatnonzero(state.active)) for state in active]
        sums = reduce_row_pieces(X, y, _newton_piece, _add, reference, family, fit_intercept, requests)
        passes += 1
        for state, (loss, gradient, hessian) in zip(active, sums):
            state.update(loss, gradient, hessian, tol)
    if any(state.active.any() for state in states):
        warnings.warn(f"the projection's Newton iterations did not converge in {max_iter} passes; "
                      "its submodels are approximate", RuntimeWarning, stacklevel=3)
    projections = []
    for state in states:
        intercept = state.B[:, 0] if fit_intercept else np.zeros(S)
        projections.append(Projection(state.columns, state.B[:, int(fit_intercept):].copy(), intercept,
                                      np.full(S, np.nan)))
    return projections, passes


class _Newton:
    """One submodel's iteration: the accepted point ``B``, its loss, the Newton step from it, the
    step's current length ``scale`` (halved while the loss rises) and the trial point ``B - scale step``."""

    def __init__(self, columns, S: int, fit_intercept: bool, start_intercept):
        k = len(columns) + int(fit_intercept)
        self.columns = columns
        self.B = np.zeros((S, k))
        if fit_intercept:
            self.B[:, 0] = start_intercept
        self.trial = self.B.copy()
        self.loss = np.full(S, np.inf)
        self.step = np.zeros((S, k))
        self.scale = np.ones(S)
        self.taken = np.full(S, np.inf)  # the length of the step to the trial point (none yet: inf)
        self.active = np.full(S, k > 0)

    def update(self, loss, gradient, hessian, tol: float) -> None:
        """The pass's sums at the trial points of the active draws: accept or halve (module docstring)."""
        index = np.flatnonzero(self.active)
        accepted = loss <= self.loss[index] + 1e-12 * np.abs(self.loss[index])
        took = index[accepted]
        self.B[took], self.loss[took] = self.trial[took], loss[accepted]
        done = self.taken[took] < tol * (1 + np.max(np.abs(self.B[took]), axis=1))
        self.active[took[done]] = False
        going = ~done
        move = took[going]
        if move.size:
            self.step[move] = np.linalg.solve(hessian[accepted][going], gradient[accepted][going][..., None])[..., 0]
            self.scale[move] = 1.0
        halve = index[~accepted]
        self.scale[halve] *= 0.5
        self.active[halve[self.scale[halve] < 2.0**-60]] = False  # no shorter step lowers the loss: stay
        moving = np.concatenate([move, halve])
        self.trial[moving] = self.B[moving] - self.scale[moving, None] * self.step[moving]
        self.taken[moving] = self.scale[moving] * np.max(np.abs(self.step[moving]), axis=1)


def _newton_piece(X, labels, position, reference, family: str, fit_intercept: bool, requests):
    """``[(loss, gradient, Hessian) summed over this piece's rows for each request]``; a request is
    ``(columns, B of its active draws, their indices)``. Rows in blocks of bounded memory."""
    glm = FAMILIES[family]
    coef, intercept = reference
    widest = max(len(columns) + int(fit_intercept) for columns, _, _ in requests)
    out = [[np.zeros(len(B)), np.zeros(B.shape), np.zeros((*B.shape, B.shape[1]))] for _, B, _ in requests]
    with np.errstate(over="ignore", invalid="ignore"):  # a trial step may overflow exp: its loss is inf, halved
        for rows in results.row_blocks(len(X), len(coef) * (widest + 2)):
            target = glm.mean(intercept[:, None] + coef @ X[rows].T)
            for (columns, B, draws), sums in zip(requests, out):
                Z = _design(X[rows], columns, fit_intercept)
                eta = B @ Z.T
                m = target[draws]
                sums[0] += np.sum(glm.cumulant(eta) - m * eta, axis=1)
                sums[1] += (glm.mean(eta) - m) @ Z
                sums[2] += np.matmul(glm.variance(eta)[:, None, :] * Z.T, Z)
    return out


def _add(a, b):
    return [[x + y for x, y in zip(first, second)] for first, second in zip(a, b)]
