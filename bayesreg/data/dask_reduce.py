"""A reduction of Dask rows piece by piece: ``combine`` of ``function(X piece, y piece, position, *shared)``.

:func:`~bayesreg.data.dask_rows.map_row_pieces` brings every piece's result back to the caller in
row order (per-row values); sums over rows of arrays that are large per piece (a Newton step's
gradients and Hessians for every draw and submodel, a sample of rows) must instead be merged
where they are made. Here each row block's task reduces its own pieces, and the blocks' results
are merged pairwise in the graph (:func:`~bayesreg.data.dask_input.tree_reduce`), so the caller
receives one result from one ``dask.compute``. ``position = (block index, piece number)`` names a
piece, e.g. to seed a random choice of its rows reproducibly. Pieces have at most
``dask_input.ROWS_PER_PIECE`` rows, converted to float64 (``y`` as given).
"""

from __future__ import annotations

import numpy as np

from .dask_input import as_float, check_dask_X, pieces, require_dask, row_blocks, split_block, tree_reduce

__all__ = ["reduce_row_pieces"]


def reduce_row_pieces(X, y, function, combine, *shared):
    """``combine(... combine(f(piece 0), f(piece 1)) ..., f(last piece))`` over the pieces of Dask
    ``X`` and ``y`` (Dask or NumPy), ``f = function(X piece, y piece, position, *shared)`` (module
    docstring); ``shared`` is sent to the workers once. None when there are no rows."""
    dask = require_dask()
    names = check_dask_X(X)
    shared = tuple(dask.delayed(value) for value in shared)
    parts = row_blocks(X, y).map(_reduce_block, function, combine, names, *shared)
    (result,) = dask.compute(tree_reduce(parts, _Either(combine)))
    return result


class _Either:
    """``combine`` that passes over an empty block's None."""

    def __init__(self, combine):
        self.combine = combine

    def __call__(self, a, b):
        return b if a is None else a if b is None else self.combine(a, b)


def _reduce_block(X_block, y_block, function, combine, names, *rest):
    *shared, index = rest
    total = None
    for number, (X_piece, y_piece) in enumerate(pieces(*split_block(X_block, y_block), index)):
        X_arr = as_float(X_piece, "X", names, index)
        labels = y_piece.to_numpy() if hasattr(y_piece, "to_numpy") else np.asarray(y_piece)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if X_arr.shape[0]:
            result = function(X_arr, labels, (index, number), *shared)
            total = result if total is None else combine(total, result)
    return total
