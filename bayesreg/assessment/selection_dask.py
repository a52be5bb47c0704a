r"""``br.select(est, X, y)`` on Dask rows: the in-memory selection (:mod:`.selection`) in a few
passes over the row blocks, in memory bounded by a block's draws x rows, for LinearRegression,
LogisticRegression and PoissonRegression fits (fitted in memory or on Dask).

The reference is the same ``S`` evenly thinned draws; the passes:

1. **Statistics** (one pass): the rows' count, column means and centred scatter; for a GLM also
   each draw's mean target over rows (the projection's start), and a uniform random sample of at
   most ``search_rows`` rows (the smallest of a uniform key per row, seeded by ``random_seed`` and
   the row's block and piece; all rows, in order, when there are no more).
2. **Search.** Gaussian: exact, from the statistics alone (:mod:`.projection_gram`). GLM: the
   in-memory search (:func:`~.projection_glm.forward_search_glm`, on ``search_draws`` draws) on
   the sampled rows, as projpred subsamples when rows are many: each step projects every candidate
   by Newton's method, ``search_draws x candidates`` projections per step, which on all rows would
   cost a pass per Newton iteration per step. With ``n <= search_rows`` it is the in-memory search.
3. **Projections** of every size of the path onto all rows: Gaussian from the statistics; GLM by
   Newton per draw with each iteration's sums in one pass for all sizes and draws at once
   (:mod:`.projection_passes`: 5 to 10 passes).
4. **Validation** (one pass): per row, the reference's PSIS-LOO (its log-likelihood on the block,
   Pareto-smoothed per row as ArviZ does, by :mod:`.psis_rows`: the same weights, ~5x faster) and
   with its weights every size's LOO elpd and prediction: the per-row arrays of the in-memory :class:`~.selection.Selection`
   (``(max_terms + 1) x n`` each: 170 MB at 1e6 rows and 10 sizes).

Passes: 2 for a Gaussian fit, 2 + the Newton iterations for a GLM (``selection._reference.passes``).
The result is the in-memory :class:`~.selection.Selection`, its ``_reference`` a
:class:`DaskReference`, so that ``project(terms)`` projects on the Dask rows (from the
statistics, or by Newton passes). K-fold validation needs the rows in memory.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy import special

from .. import results
from ..data.dask_reduce import reduce_row_pieces
from ..data.dask_rows import map_row_pieces
from ..data.statistics import Moments
from .dask_passes import design_rows, numeric_y
from .loo import LOOWarning, relative_efficiency
from .projection_gram import GramStatistics, forward_search_gram, project_gram
from .projection_glm import FAMILIES
from .projection_passes import project_glm_passes
from .psis_rows import psis_log_weights
from .submodels import Reference, _thinned, log_density, log_normal, mean_of, search

__all__ = ["DaskReference", "dask_select"]

SEARCH_ROWS = 20_000  # the GLM search's default sample of rows


@dataclass
class DaskReference:
    """What projecting onto any columns needs: the Dask rows, the reference draws and the statistics
    (the ``_reference`` of a :class:`~.selection.Selection` made on Dask rows). ``passes``: the row
    passes taken so far (the selection's, then each ``project``'s Newton passes)."""

    X: object
    y: object
    draws: tuple  # (coef (S, p), intercept (S,), sigma (S,) or None)
    stats: GramStatistics
    target_mean: np.ndarray | None  # a GLM's per-draw mean target over rows
    fit_intercept: bool
    family: str
    passes: int = 1

    def projections(self, column_sets) -> list:
        """The projections onto each of ``column_sets``: from the statistics, or by Newton passes."""
        coef, intercept, sigma = self.draws
        if self.family == "gaussian":
            return [project_gram(self.stats, coef, intercept, sigma, c, self.fit_intercept) for c in column_sets]
        projections, passes = project_glm_passes(self.X, self.y, (coef, intercept), column_sets, self.target_mean,
                                                 self.family, self.fit_intercept)
        self.passes += passes
        return projections

    def project(self, columns):
        """The projection onto ``columns`` (``Selection.project``)."""
        return self.projections([columns])[0]


def dask_select(est, X, y, groups, max_terms, ndraws: int, search_draws: int, random_seed, cv_method: str,
                search_rows: int | None = None, parents=None) -> tuple:
    """:func:`~.selection.select` on Dask ``X, y`` (module docstring) over the terms ``groups`` (each
    a list of column indices): ``(order, the Selection's per-row arrays, DaskReference)``."""
    family = est._family
    if cv_method == "kfold":
        raise ValueError("br.select on Dask rows validates by PSIS-LOO; K-fold (cv_method='kfold') needs the rows in "
                         "memory: pass X.compute(), y.compute()")
    if y is None:
        raise ValueError("pass y, the training rows' outcome, beside X: br.select(est, X, y)")
    X = design_rows(est, X)
    max_terms = min(len(groups), 20) if max_terms is None else int(max_terms)
    if not 1 <= max_terms <= len(groups):
        raise ValueError(f"max_terms must be between 1 and the number of terms ({len(groups)}), got {max_terms}")
    search_rows = SEARCH_ROWS if search_rows is None else int(search_rows)
    if search_rows < 1:
        raise ValueError(f"search_rows must be a positive number of rows, got {search_rows}")
    draws = _reference_draws(est, ndraws)
    seed = int(np.random.default_rng(random_seed).integers(2**32))
    sample_rows = 0 if family == "gaussian" else search_rows
    first = reduce_row_pieces(X, y, _first_piece, partial(_merge_first, sample_rows=sample_rows), draws[:2], family,
                              sample_rows, seed)
    if first is None:
        raise ValueError("X has no rows")
    moments, target_sum, sample = first
    stats = GramStatistics(moments.n, moments.mean, moments.comoment)
    coef, intercept, sigma = draws
    if family == "gaussian":
        order = forward_search_gram(stats, coef, sigma, est.fit_intercept, max_terms, groups, parents)
    else:
        rows = sample[2][np.lexsort((sample[1][:, 1], sample[1][:, 0]))]  # in row order
        target = FAMILIES[family].mean(intercept[:, None] + coef @ rows.T)
        order = search(Reference(rows, target, None, est.fit_intercept, family), max_terms, groups, search_draws,
                       random_seed, parents)
    reference = DaskReference(X, y, draws, stats, None if target_sum is None else target_sum / moments.n,
                              est.fit_intercept, family)
    sizes = [[j for t in order[:size] for j in groups[t]] for size in range(len(order) + 1)]
    projections = reference.projections(sizes)
    classes = getattr(est, "classes_", None)
    parts = map_row_pieces(X, y, _validate_piece, draws, projections, family, est.fit_intercept,
                           relative_efficiency(est.idata_), classes)
    y_arr, ref_elpd_i, khat, ref_predictions = (np.concatenate([part[j] for part in parts]) for j in range(4))
    elpd_i, predictions = (np.concatenate([part[j] for part in parts], axis=1) for j in (4, 5))
    if np.any(khat > 0.7):
        warnings.warn(f"PSIS-LOO of the reference model is unreliable for {int(np.sum(khat > 0.7))} rows "
                      "(k-hat > 0.7): the elpd of the submodels is too; more draws help (K-fold validation "
                      "needs the rows in memory)", LOOWarning, stacklevel=3)
    reference.passes += 1
    return order, (elpd_i, ref_elpd_i, predictions, ref_predictions, y_arr, khat), reference


def _reference_draws(est, ndraws: int) -> tuple:
    """``(coef (S, p), intercept (S,), sigma (S,) or None)`` at the evenly thinned draws (as in memory)."""
    keep = _thinned(est.idata_, ndraws)
    coef = results.stacked_draws(est.idata_, "coef")[keep]
    intercept = results.stacked_draws(est.idata_, "intercept")[keep] if est.fit_intercept else np.zeros(len(keep))
    if est._family != "gaussian":
        return coef, intercept, None
    known = est._known_sigma()
    return coef, intercept, (np.full(len(keep), known) if known is not None
                             else results.stacked_draws(est.idata_, "sigma")[keep])


def _first_piece(X, labels, position, reference, family: str, sample_rows: int, seed: int):
    """``(moments of X, summed target per draw or None, sample or None)`` of one piece; a sample is
    ``(keys, (block, row) positions, rows)`` of the piece's ``sample_rows`` smallest uniform keys."""
    target_sum = None
    if family != "gaussian":
        coef, intercept = reference
        glm = FAMILIES[family]
        target_sum = sum(glm.mean(intercept[:, None] + coef @ X[rows].T).sum(axis=1)
                         for rows in results.row_blocks(len(X), len(coef)))
    sample = None
    if sample_rows:
        keys = np.random.default_rng([seed, *position]).random(len(X))
        keep = np.sort(np.argsort(keys, kind="stable")[:sample_rows])
        block_rows = position[1] * 2**32 + keep  # a piece's rows follow its predecessors' in the block
        sample = (keys[keep], np.column_stack([np.full(len(keep), position[0]), block_rows]), X[keep])
    return Moments.of_chunk(X), target_sum, sample


def _merge_first(a, b, sample_rows: int):
    moments = a[0].merge(b[0])
    target_sum = None if a[1] is None else a[1] + b[1]
    sample = None
    if a[2] is not None:
        keys, positions, rows = (np.concatenate([x, z]) for x, z in zip(a[2], b[2]))
        keep = np.argsort(keys, kind="stable")[:sample_rows]
        sample = (keys[keep], positions[keep], rows[keep])
    return moments, target_sum, sample


def _validate_piece(X, labels, draws, projections, family: str, fit_intercept: bool, reff: float, classes):
    """Per row of the piece: ``y``, the reference's LOO elpd, k-hat and prediction, and each
    projection's LOO elpd and prediction (rows x sizes), with the reference's PSIS weights."""
    y = numeric_y(labels, family, classes)
    if family == "poisson" and np.any((y < 0) | (y != np.round(y))):
        raise ValueError("y must be counts (non-negative integers) for PoissonRegression")
    coef, intercept, sigma = draws
    n = len(y)
    ref_elpd_i, khat, ref_prediction = np.empty(n), np.empty(n), np.empty(n)
    elpd_i, prediction = np.empty((len(projections), n)), np.empty((len(projections), n))
    for rows in results.row_blocks(n, len(coef)):
        eta = intercept[:, None] + coef @ X[rows].T
        y_rows = y[rows]
        loglik = log_normal(y_rows, eta, sigma[:, None]) if family == "gaussian" else FAMILIES[family].log_density(y_rows, eta)
        log_weights, khat[rows] = psis_log_weights(loglik, reff)  # ArviZ's psislw, vectorised
        ref_elpd_i[rows] = _log_sum_exp(log_weights + loglik)
        weights = np.exp(log_weights)
        ref_prediction[rows] = np.sum(weights * mean_of(eta, family), axis=0)
        for k, projection in enumerate(projections):
            eta_k = projection.linear_predictor(X[rows])
            elpd_i[k, rows] = _log_sum_exp(log_weights + log_density(y_rows, eta_k, projection, family))
            prediction[k, rows] = np.sum(weights * mean_of(eta_k, family), axis=0)
    return y, ref_elpd_i, khat, ref_prediction, elpd_i, prediction


def _log_sum_exp(a) -> np.ndarray:
    """``log sum_s exp(a_s)`` over axis 0, shifted by the maximum: scipy's ``logsumexp`` without its
    generality (weights, signs, complex numbers), which made it most of the validation's time."""
    top = np.max(a, axis=0)
    shift = np.where(np.isfinite(top), top, 0.0)
    return np.log(np.sum(np.exp(a - shift), axis=0)) + shift
