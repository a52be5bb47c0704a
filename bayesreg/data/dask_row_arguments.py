"""``offset`` and ``sample_weight`` of Dask input, split into the row blocks of ``X`` (issue 21).

The count families' passes (:mod:`.family_passes`) read each row's offset and weight in the same
task as its ``X`` and ``y`` rows. With a Dask DataFrame ``X`` and a Dask Series ``y`` the offset and
weights (Dask Series, e.g. columns of the same frame) become two more columns of the joined frame,
so Dask aligns their partitions with X's as it aligns y's. Otherwise (a Dask array ``X``) they are
rechunked to X's row chunks (a Dask array or Series) or split at them (NumPy), and travel with the
y block as one :class:`BlockRows`.
"""

from __future__ import annotations

import numpy as np

from .dask_input import (_TARGET_COLUMN, RowBlocks, _is_frame, _row_lengths, is_dask_collection, pieces,
                         row_blocks, split_block, ROWS_PER_PIECE)

OFFSET_COLUMN, WEIGHT_COLUMN = "__bayesreg_offset__", "__bayesreg_weight__"


class BlockRows:
    """One row block's ``y``, offset (or None) and weights (or None)."""

    def __init__(self, y, offset, weight):
        self.y, self.offset, self.weight = y, offset, weight


def row_blocks_with(X, y, offset=None, weights=None) -> RowBlocks:
    """:func:`~.dask_input.row_blocks` of ``X``, ``y`` carrying ``offset`` and ``weights`` per block."""
    import dask
    import dask.dataframe as dd

    if offset is None and weights is None:
        return row_blocks(X, y)
    given = {name: values for name, values in ((OFFSET_COLUMN, offset), (WEIGHT_COLUMN, weights)) if values is not None}
    if _is_frame(X) and isinstance(y, (dd.Series, dd.DataFrame)):
        columns = {}
        for column, values in given.items():
            what = "offset" if column == OFFSET_COLUMN else "sample_weight"
            if isinstance(values, dd.DataFrame) and len(values.columns) == 1:
                values = values[values.columns[0]]
            if not isinstance(values, dd.Series):
                raise ValueError(f"with a Dask DataFrame X, give {what} as a Dask Series whose partitions are X's "
                                 f"(e.g. a column of the same frame), not {type(values).__name__}")
            columns[column] = values
        if isinstance(y, dd.DataFrame):
            y = y[y.columns[0]]
        return RowBlocks(joined=X.assign(**{_TARGET_COLUMN: y}, **columns))
    blocks = row_blocks(X, y)
    lengths = _row_lengths(X)
    split = {column: _split_like(values, lengths, "offset" if column == OFFSET_COLUMN else "sample_weight")
             for column, values in given.items()}
    none = [None] * len(lengths)
    pairs = tuple((xb, dask.delayed(BlockRows)(yb, o, w)) for (xb, yb), o, w in
                  zip(blocks.pairs, split.get(OFFSET_COLUMN, none), split.get(WEIGHT_COLUMN, none)))
    return RowBlocks(pairs=pairs)


def _split_like(values, lengths: list[int], what: str) -> list:
    """``values`` as one delayed block per row block of X (``lengths`` rows each)."""
    import dask

    n = sum(lengths)
    if is_dask_collection(values):
        if hasattr(values, "to_dask_array"):  # a Dask Series: its partition lengths are computed once
            values = values.to_dask_array(lengths=True)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1 or values.shape[0] != n:
            raise ValueError(f"{what} must hold one number per row of X ({n} rows), got shape {values.shape}")
        return list(np.ravel(values.rechunk({0: tuple(lengths)}).to_delayed()))  # aligned with X's row chunks
    values = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values, dtype=float)
    if values.ndim != 1 or values.shape[0] != n:
        raise ValueError(f"{what} must hold one number per row of X ({n} rows), got shape {values.shape}")
    return [dask.delayed(part) for part in np.split(values, np.cumsum(lengths)[:-1])]


def row_pieces(X_block, y_block, index: int):
    """``(X piece, y piece, offset piece or None, weight piece or None)`` of one row block, at most
    ``ROWS_PER_PIECE`` rows each (:func:`~.dask_input.pieces`)."""
    if isinstance(y_block, BlockRows):
        if len(X_block) != len(y_block.y):
            raise ValueError(f"X and y have different numbers of rows in row block {index}: {len(X_block)} and "
                             f"{len(y_block.y)}; take both from one DataFrame, or rechunk y like X")
        for start in range(0, max(len(X_block), 1), ROWS_PER_PIECE):
            rows = slice(start, start + ROWS_PER_PIECE)
            yield tuple(None if part is None else (part.iloc[rows] if hasattr(part, "iloc") else part[rows])
                        for part in (X_block, y_block.y, y_block.offset, y_block.weight))
        return
    extras = [c for c in (OFFSET_COLUMN, WEIGHT_COLUMN) if y_block is None and hasattr(X_block, "columns")
              and c in X_block.columns]
    if not extras:
        for X_piece, y_piece in pieces(*split_block(X_block, y_block), index):
            yield X_piece, y_piece, None, None
        return
    frame = X_block.drop(columns=extras)  # y (the target column) is last again
    for start in range(0, max(len(frame), 1), ROWS_PER_PIECE):
        rows = slice(start, start + ROWS_PER_PIECE)
        X_piece, y_piece = split_block(frame.iloc[rows], None)
        yield (X_piece, y_piece, *(X_block[c].iloc[rows] if c in extras else None
                                   for c in (OFFSET_COLUMN, WEIGHT_COLUMN)))
