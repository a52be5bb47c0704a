"""Distributed passes of the Bernoulli likelihood: labels, Newton derivatives, exact log-likelihoods.

Each public function here is one pass over the row blocks of Dask ``X``, ``y`` (one task per
block, a binary tree of sums); the in-memory arrays use the same block functions on one block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..solvers.logistic import bernoulli_derivatives
from .dask_input import ROWS_PER_PIECE, as_float, check_dask_X, require_dask, row_blocks, split_block, tree_reduce

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

    def blocks(self):
        return row_blocks(self.X, self.y)


def _block_labels(X_block, y_block, index: int):
    y_block = split_block(X_block, y_block)[1]
    import pandas as pd

    values = np.ravel(y_block.to_numpy() if hasattr(y_block, "to_numpy") else np.asarray(y_block))
    if pd.isna(values).any():
        raise ValueError(f"y contains missing values (None/NaN/NA) (row block {index}). Nothing was fitted.")
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise ValueError(f"y contains infinity (row block {index}). Nothing was fitted.")
    labels, counts = np.unique(values, return_counts=True)
    return dict(zip(labels.tolist(), counts.tolist()))


def _merge_counts(a: dict, b: dict) -> dict:
    merged = dict(a)
    for label, count in b.items():
        merged[label] = merged.get(label, 0) + count
    return merged


def binary_data(X, y) -> DaskBinaryData:
    """Validate Dask ``X``/``y`` lazily and find the two classes (one pass over ``y``)."""
    dask = require_dask()
    names = check_dask_X(X)
    p = len(names) if names is not None else X.shape[1]
    pairs = row_blocks(X, y)
    parts = [dask.delayed(_block_labels)(xb, yb, i)
             for i, (xb, yb) in enumerate(pairs)]
    (counts,) = dask.compute(tree_reduce(parts, _merge_counts))
    classes = np.array(sorted(counts))
    if len(classes) != 2:
        raise ValueError(f"logistic regression needs exactly two classes in y, got {len(classes)}: "
                         f"{classes[:5].tolist()}")
    n = sum(counts.values())
    return DaskBinaryData(X, y, classes, n, counts[classes[1].item()] / n, names, p)


def _arrays(X_block, y_block, classes, names, index):
    X_block, y_block = split_block(X_block, y_block)
    X = as_float(X_block, "X", names, index)
    labels = np.ravel(y_block.to_numpy() if hasattr(y_block, "to_numpy") else np.asarray(y_block))
    if X.shape[0] != labels.shape[0]:
        raise ValueError(f"X and y have different numbers of rows in row block {index}")
    return X, (labels == classes[1]).astype(float)


def _block_derivatives(X_block, y_block, theta, classes, names, fit_intercept, index):
    """Sum of the derivatives over pieces of ``ROWS_PER_PIECE`` rows (bounded worker memory)."""
    X_block, y_block = split_block(X_block, y_block)
    total = None
    for start in range(0, max(len(y_block), 1), ROWS_PER_PIECE):  # an empty block gives zeros
        rows = slice(start, start + ROWS_PER_PIECE)
        X, y01 = _arrays(X_block.iloc[rows] if hasattr(X_block, "iloc") else X_block[rows],
                         y_block.iloc[rows] if hasattr(y_block, "iloc") else y_block[rows], classes, names, index)
        eta = X @ theta[1:] + theta[0] if fit_intercept else X @ theta
        piece = bernoulli_derivatives(X, y01, eta, fit_intercept)
        total = piece if total is None else _add(total, piece)
    return total


def _add(a, b):
    return tuple(x + y for x, y in zip(a, b))


def dask_likelihood(data: DaskBinaryData, fit_intercept: bool):
    """``theta -> (NLL, gradient, Hessian)``: one distributed pass per call."""
    dask = require_dask()
    pairs = data.blocks()

    def evaluate(theta):
        parts = [dask.delayed(_block_derivatives)(xb, yb, theta, data.classes, data.feature_names, fit_intercept, i)
                 for i, (xb, yb) in enumerate(pairs)]
        (total,) = dask.compute(tree_reduce(parts, _add))
        return total

    return evaluate


def draws_log_likelihood(X, y01, coef, intercept) -> np.ndarray:
    """``sum_i [y_i eta_is - log(1 + e^eta_is)]`` for each draw ``s``, in blocks of draws."""
    per_block = max(1, DRAW_BLOCK_ENTRIES // max(len(y01), 1))
    total = np.empty(len(intercept))
    for start in range(0, len(intercept), per_block):
        stop = start + per_block
        eta = X @ coef[start:stop].T + intercept[start:stop]
        total[start:stop] = y01 @ eta - np.logaddexp(0.0, eta).sum(axis=0)
    return total


def _block_draws_log_likelihood(X_block, y_block, coef, intercept, classes, names, index):
    X, y01 = _arrays(X_block, y_block, classes, names, index)
    return draws_log_likelihood(X, y01, coef, intercept)


def dask_draws_log_likelihood(data: DaskBinaryData, coef, intercept) -> np.ndarray:
    """:func:`draws_log_likelihood` over Dask data: one pass; the draws go to every block."""
    dask = require_dask()
    coef_d, intercept_d = dask.delayed(coef), dask.delayed(intercept)  # shipped once, not per task
    parts = [dask.delayed(_block_draws_log_likelihood)(xb, yb, coef_d, intercept_d, data.classes,
                                                       data.feature_names, i)
             for i, (xb, yb) in enumerate(data.blocks())]
    (total,) = dask.compute(tree_reduce(parts, np.add))
    return total


# -- the same four questions of in-memory ``(X, y01)`` or DaskBinaryData ------------------------
def likelihood_of(data, fit_intercept: bool):
    """``theta -> (NLL, gradient, Hessian)``: in memory, or one distributed pass per call."""
    from ..solvers.logistic import array_likelihood

    if isinstance(data, DaskBinaryData):
        return dask_likelihood(data, fit_intercept)
    return array_likelihood(*data, fit_intercept)


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
