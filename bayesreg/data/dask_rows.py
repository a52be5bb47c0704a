"""A function of the rows of Dask ``X`` (and ``y``), piece by piece, results back in row order.

What the pointwise assessments of a Dask fit need (``est.loo``, ``est.bayes_r2``): each row's value,
or a per-piece reduction, from the posterior draws and the rows, without ever holding all rows (or
a draws x rows array) in one place. One task per row block: it reads its partition and calls
``function(X piece, y piece, *shared)`` on pieces of at most ``ROWS_PER_PIECE`` rows converted to
float64 (``y`` as given: numbers, or labels for the caller to map). ``shared`` (the posterior draws)
is wrapped in ``dask.delayed`` once, so it is sent to each worker once, not once per task.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import dask_input
from .dask_input import _blocks, as_float, check_dask_X, pieces, require_dask, row_blocks, split_block
from .dask_row_arguments import row_blocks_with, row_pieces

__all__ = ["map_row_pieces", "map_row_blocks", "RowPiece"]


def map_row_pieces(X, y, function, *shared) -> list:
    """``[function(X piece, y piece or None, *shared) for every piece]`` over Dask ``X`` (and Dask
    or NumPy ``y``, or None), in row order (module docstring); computed by ``dask.compute`` on the
    active client or Dask's local scheduler."""
    dask = require_dask()
    names = check_dask_X(X)
    shared = tuple(dask.delayed(value) for value in shared)  # shipped once
    if y is None:
        tasks = [dask.delayed(_block_rows)(block, function, names, i, *shared)
                 for i, block in enumerate(_blocks(X, columns=True))]
    else:
        tasks = row_blocks(X, y).map(_block_pairs, function, names, *shared)
    return [result for block in dask.compute(*tasks) for result in block]


def _block_pairs(X_block, y_block, function, names, *rest):
    *shared, index = rest
    out = []
    for X_piece, y_piece in pieces(*split_block(X_block, y_block), index):
        X_arr = as_float(X_piece, "X", names, index)
        labels = y_piece.to_numpy() if hasattr(y_piece, "to_numpy") else np.asarray(y_piece)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if X_arr.shape[0]:
            out.append(function(X_arr, labels, *shared))
    return out


def _block_rows(X_block, function, names, index, *shared):
    out = []
    step = dask_input.ROWS_PER_PIECE
    for start in range(0, len(X_block), step):
        rows = slice(start, start + step)
        X_arr = as_float(X_block.iloc[rows] if hasattr(X_block, "iloc") else X_block[rows], "X", names, index)
        out.append(function(X_arr, None, *shared))
    return out


@dataclass(frozen=True)
class RowPiece:
    """Consecutive rows of one row block: ``X`` (float64), ``y`` as given (numbers or labels; None
    without ``y``), ``offset`` and ``weights`` checked (None when not given), the ``block`` number
    and the ``start`` of these rows within it (for per-row values held by the caller)."""

    X: np.ndarray
    y: np.ndarray | None
    offset: np.ndarray | None
    weights: np.ndarray | None
    block: int
    start: int


def map_row_blocks(X, y, function, *shared, offset=None, weights=None) -> list[list]:
    """``[[function(piece, *shared) for each RowPiece of block b] for each row block b]``: as
    :func:`map_row_pieces`, with ``offset`` and ``weights`` carried with their rows
    (:func:`~.dask_row_arguments.row_blocks_with`: Dask Series aligned with a Dask DataFrame ``X``,
    Dask or NumPy arrays with a Dask array ``X``), grouped by row block so that the caller learns
    each block's rows (a Dask DataFrame's partition lengths are not known before a pass)."""
    dask = require_dask()
    names = check_dask_X(X)
    shared = tuple(dask.delayed(value) for value in shared)  # shipped once
    tasks = row_blocks_with(X, y, offset, weights).map(_block_row_pieces, function, names, *shared)
    return list(dask.compute(*tasks))


def _block_row_pieces(X_block, y_block, function, names, *rest):
    from .validation import check_offset, check_sample_weight

    *shared, index = rest
    out, start = [], 0
    for X_piece, y_piece, offset, weights in row_pieces(X_block, y_block, index):
        X_arr = as_float(X_piece, "X", names, index)
        n = X_arr.shape[0]
        if not n:
            continue
        labels = None if y_piece is None else np.asarray(y_piece.to_numpy() if hasattr(y_piece, "to_numpy")
                                                         else y_piece)
        if labels is not None and labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        try:
            offset = None if offset is None else check_offset(_numbers(offset), n)
            weights = None if weights is None else check_sample_weight(_numbers(weights), n, all_rows=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{exc} (row block {index}; rows counted within the block)") from None
        out.append(function(RowPiece(X_arr, labels, offset, weights, index, start), *shared))
        start += n
    return out


def _numbers(values):
    return values.to_numpy(dtype=float, na_value=np.nan) if hasattr(values, "to_numpy") else values
