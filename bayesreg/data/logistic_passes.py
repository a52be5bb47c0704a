"""Distributed passes of the Bernoulli likelihood: labels, Newton derivatives, exact log-likelihoods.

Each public function here is one pass over the row blocks of Dask ``X``, ``y`` (one task per
block, a binary tree of sums); the in-memory arrays use the same block functions on one block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..families.bernoulli import array_likelihood, bernoulli_derivatives
from .dask_input import RowBlocks, as_float, check_dask_X, pieces, require_dask, row_blocks, split_block, tree_reduce
from .scaling import Scaling, binary_exponent
from .statistics import Moments

DRAW_BLOCK_ENTRIES = 2**22  # rows x draws per block of linear predictors: 32 MiB of float64


@dataclass(frozen=True)
class DaskBinaryData:
    """Dask ``X`` and ``y`` with what one labels pass learned: classes, n, share of positives."""

    X: object
    y: object
    classes: np.ndarray
    n: int
    positive_share: float
    feature_names: list[str] | None
    n_features: int
    x_moments: Moments  # of the columns of X: their means and sds (scaling_of, autoscale)
    x_min: np.ndarray  # per column (scaling_of: the largest |x - mean|)
    x_max: np.ndarray
    # the row blocks every pass maps over, aligned once: aligning a NumPy y with a Dask X counts
    # each partition's rows, a read of the data
    blocks: RowBlocks

    @property
    def x_sd(self) -> np.ndarray:
        """Population sd of each column of X (for ``autoscale``)."""
        return np.sqrt(np.maximum(np.diag(self.x_moments.comoment), 0.0) / self.n)


def _block_labels(X_block, y_block, names, index: int):
    """Label counts of one row block, and its column sums and largest |x| (for the scaling)."""
    moments, x_min, x_max, counts = Moments(0, np.zeros(0), np.zeros((0, 0))), np.inf, -np.inf, {}
    for X_piece, y_piece in pieces(*split_block(X_block, y_block), index):  # bounded worker memory
        counts = _add_counts(counts, _label_counts(y_piece, index))
        X = as_float(X_piece, "X", names, index)
        if not X.shape[0]:
            continue
        moments = moments.merge(Moments.of_chunk(X))
        x_min = np.minimum(x_min, np.min(X, axis=0, initial=np.inf))
        x_max = np.maximum(x_max, np.max(X, axis=0, initial=-np.inf))
    return counts, moments, x_min, x_max


def _label_counts(y_piece, index: int) -> dict:
    import pandas as pd

    values = np.ravel(y_piece.to_numpy() if hasattr(y_piece, "to_numpy") else np.asarray(y_piece))
    if pd.isna(values).any():
        raise ValueError(f"y contains missing values (None/NaN/NA) (row block {index}). Nothing was fitted.")
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise ValueError(f"y contains infinity (row block {index}). Nothing was fitted.")
    labels, counts = np.unique(values, return_counts=True)
    return dict(zip(labels.tolist(), counts.tolist()))


def _add_counts(a: dict, b: dict) -> dict:
    merged = dict(a)
    for label, count in b.items():
        merged[label] = merged.get(label, 0) + count
    return merged


def _merge_counts(a: tuple, b: tuple) -> tuple:
    return _add_counts(a[0], b[0]), a[1].merge(b[1]), np.minimum(a[2], b[2]), np.maximum(a[3], b[3])


def binary_data(X, y) -> DaskBinaryData:
    """Validate Dask ``X``/``y`` lazily and find the two classes (one pass over ``y``)."""
    dask = require_dask()
    names = check_dask_X(X)
    p = len(names) if names is not None else X.shape[1]
    blocks = row_blocks(X, y)
    ((counts, x_moments, x_min, x_max),) = dask.compute(tree_reduce(blocks.map(_block_labels, names), _merge_counts))
    classes = np.array(sorted(counts))
    if len(classes) != 2:
        raise ValueError(f"logistic regression needs exactly two classes in y, got {len(classes)}: "
                         f"{classes[:5].tolist()}")
    n = sum(counts.values())
    return DaskBinaryData(X, y, classes, n, counts[classes[1].item()] / n, names, p, x_moments, x_min, x_max,
                          blocks)


def _arrays(X_block, y_block, classes, names, index):
    X_block, y_block = split_block(X_block, y_block)
    X = as_float(X_block, "X", names, index)
    labels = np.ravel(y_block.to_numpy() if hasattr(y_block, "to_numpy") else np.asarray(y_block))
    if X.shape[0] != labels.shape[0]:
        raise ValueError(f"X and y have different numbers of rows in row block {index}")
    return X, (labels == classes[1]).astype(float)


def _block_derivatives(X_block, y_block, theta, classes, names, fit_intercept, scaling, index):
    """Sum of the derivatives over the block's pieces (bounded worker memory; an empty block gives zeros)."""
    total = None
    for X_piece, y_piece in pieces(*split_block(X_block, y_block), index):
        X, y01 = _arrays(X_piece, y_piece, classes, names, index)
        Z = X if scaling is None else scaling.design(X)
        eta = Z @ theta[1:] + theta[0] if fit_intercept else Z @ theta
        piece = bernoulli_derivatives(Z, y01, eta, fit_intercept)
        total = piece if total is None else _add(total, piece)
    return total


def _add(a, b):
    return tuple(x + y for x, y in zip(a, b))


def dask_likelihood(data: DaskBinaryData, fit_intercept: bool, scaling: Scaling | None = None):
    """``theta -> (NLL, gradient, Hessian)`` of the design ``scaling.design(X)``: one distributed pass per call."""
    dask = require_dask()

    def evaluate(theta):
        parts = data.blocks.map(_block_derivatives, theta, data.classes, data.feature_names, fit_intercept, scaling)
        (total,) = dask.compute(tree_reduce(parts, _add))
        return total

    return evaluate


def draws_log_likelihood(X, y01, coef, intercept) -> np.ndarray:
    """``sum_i [y_i eta_is - log(1 + e^eta_is)]`` for each draw ``s``, in blocks of draws.

    With ``log(1 + e^eta) = max(eta, 0) + log(1 + e^-|eta|)``, everything is float64 except the
    last term, a number in ``(0, log 2]`` computed in float32: NumPy's float32 ``exp``/``log`` are
    vectorised, which makes this pass (n x draws transcendental pairs, the surrogate's largest
    cost) about 3x faster. Each row's error is at most ~2e-7 (one float32 rounding of ``|eta|``,
    ``exp``, ``1 + u`` and ``log``, each <= 2^-24 relative on numbers <= 1), so a draw's total is off
    by at most ``2e-7 n`` and in practice by ``~1e-7 sqrt(n)`` (independent roundings): for
    importance weights, which use differences between draws, that is noise far below their own.
    """
    per_block = max(1, DRAW_BLOCK_ENTRIES // max(len(y01), 1))
    total = np.empty(len(intercept))
    for start in range(0, len(intercept), per_block):
        stop = start + per_block
        eta = X @ coef[start:stop].T + intercept[start:stop]
        total[start:stop] = y01 @ eta - np.maximum(eta, 0.0).sum(axis=0) - _log1p_exp_minus_abs_sum(eta)
    return total


def _log1p_exp_minus_abs_sum(eta: np.ndarray) -> np.ndarray:
    """Column sums of ``log(1 + exp(-|eta|))``, computed in float32 in place (see the caller)."""
    work = np.empty(eta.shape, dtype=np.float32)
    np.abs(eta, out=work, casting="same_kind")
    np.negative(work, out=work)
    np.exp(work, out=work)
    work += 1.0
    np.log(work, out=work)
    return work.sum(axis=0, dtype=np.float64)


def _block_draws_log_likelihood(X_block, y_block, coef, intercept, classes, names, index):
    """:func:`draws_log_likelihood` of one row block, summed over its pieces (bounded worker memory)."""
    total = np.zeros(len(intercept))
    for X_piece, y_piece in pieces(*split_block(X_block, y_block), index):
        total += draws_log_likelihood(*_arrays(X_piece, y_piece, classes, names, index), coef, intercept)
    return total


def dask_draws_log_likelihood(data: DaskBinaryData, coef, intercept) -> np.ndarray:
    """:func:`draws_log_likelihood` over Dask data: one pass; the draws go to every block."""
    dask = require_dask()
    coef_d, intercept_d = dask.delayed(coef), dask.delayed(intercept)  # shipped once, not per task
    parts = data.blocks.map(_block_draws_log_likelihood, coef_d, intercept_d, data.classes, data.feature_names)
    (total,) = dask.compute(tree_reduce(parts, np.add))
    return total


# -- the same four questions of in-memory ``(X, y01)`` or DaskBinaryData ------------------------
def likelihood_of(data, fit_intercept: bool, scaling: Scaling | None = None):
    """``theta -> (NLL, gradient, Hessian)``: in memory, or one distributed pass per call."""
    if isinstance(data, DaskBinaryData):
        return dask_likelihood(data, fit_intercept, scaling)
    return array_likelihood(*data, fit_intercept, scaling)


def scaling_of(data, fit_intercept: bool) -> Scaling:
    """The MAP solver's exact rescaling (:class:`~bayesreg.data.scaling.Scaling`): the same
    for Dask input (from the labels pass's means, minima and maxima) as for arrays."""
    if isinstance(data, DaskBinaryData):
        x_mean = data.x_moments.mean if fit_intercept else np.zeros(data.n_features)
        largest = np.maximum(np.abs(data.x_max - x_mean), np.abs(x_mean - data.x_min))  # max |x - mean|
        return Scaling(x_mean, binary_exponent(largest[None, :], axis=0))
    return Scaling.of_array(data[0], fit_intercept)


def draws_log_likelihood_of(data):
    """``(coef, intercept) -> log-likelihood per draw`` (one pass over Dask data)."""
    if isinstance(data, DaskBinaryData):
        return lambda coef, intercept: dask_draws_log_likelihood(data, coef, intercept)
    return lambda coef, intercept: draws_log_likelihood(*data, coef, intercept)


def size_of(data) -> tuple[int, int, float]:
    """``(n, p, share of positives)``."""
    if isinstance(data, DaskBinaryData):
        return data.n, data.n_features, data.positive_share
    X, y01 = data
    return X.shape[0], X.shape[1], float(np.mean(y01))
