"""Some rows of Dask ``X``, ``y`` (and ``offset``, ``sample_weight``), lazily: the training rows of a refit.

K-fold cross-validation and ``reloo`` on Dask rows refit the model without some rows
(:mod:`bayesreg.assessment.dask_refits`). The rows to keep are known on the client as one boolean
array per row block of ``X`` (its chunks, or its partitions: what
:func:`~.dask_rows.map_row_blocks` saw), and the refit's ``fit`` reads the kept rows in its own
passes, so nothing is copied: each task of the refit's passes filters its partition as it reads it.

- A Dask array ``X``: ``X[keep]`` (Dask's indexing by a NumPy mask; the chunks stay known), and the
  same for Dask arrays beside it (a Dask Series beside it becomes one, with its lengths).
- A Dask DataFrame ``X``: the Dask Series beside it (``y``, ``offset``, ``sample_weight``) are joined
  to it as columns first, as ``fit`` joins them (:mod:`.dask_row_arguments`), with each row's number
  (a cumulative sum of ones: the partitions of one frame differ between graphs, e.g. the first
  pass streams each Parquet file while Dask's reader fuses small files of a column selection, so a
  partition's number does not locate its rows, and a row number computed in the same graph does); the joined frame is filtered partition
  by partition (``map_partitions``) and split into columns again: column selections of one frame,
  so ``fit`` aligns them as before.

NumPy values beside either are filtered in NumPy. The masks go to the workers once (``dask.delayed``).
"""

from __future__ import annotations

import numpy as np

from .dask_input import _is_frame, is_dask_collection, require_dask

__all__ = ["keep_rows"]

_COLUMN, _ROW = "__bayesreg_kept_{}__", "__bayesreg_row__"


def keep_rows(X, companions: tuple, keep_blocks: list[np.ndarray]) -> tuple:
    """``(X, *companions)`` restricted to the rows where ``keep_blocks`` (one boolean array per row
    block of ``X``, in order) is True; a companion may be None (kept None), NumPy or Dask."""
    dask = require_dask()
    keep = np.concatenate(keep_blocks) if keep_blocks else np.zeros(0, bool)  # the mask of all rows, in order
    if not _is_frame(X):
        return (_array_rows(X, keep_blocks, keep), *(_companion_rows(value, keep) for value in companions))
    lazy = {_COLUMN.format(j): _series(value) for j, value in enumerate(companions)
            if value is not None and is_dask_collection(value)}
    joined = X.assign(**lazy, **{_ROW: 1})
    joined = joined.assign(**{_ROW: joined[_ROW].cumsum()})  # 1, 2, ..., n in row order, whatever the partitions
    kept = joined.map_partitions(_keep_partition, dask.delayed(keep), meta=joined._meta.drop(columns=_ROW),
                                 enforce_metadata=False, align_dataframes=False)
    out = [kept[list(X.columns)]]
    for j, value in enumerate(companions):
        out.append(kept[_COLUMN.format(j)] if _COLUMN.format(j) in lazy else _companion_rows(value, keep))
    return tuple(out)


def _keep_partition(frame, keep):
    """The partition's rows to keep, found by their row numbers (the ``_ROW`` column)."""
    rows = frame[_ROW].to_numpy() - 1
    if rows.size and rows[-1] >= len(keep):  # the data changed between the passes (a non-deterministic source)
        raise ValueError(f"X has more rows now than the {len(keep)} of the first pass over it; K-fold and reloo on "
                         "Dask rows need data that read the same each time (persist it first: X = X.persist())")
    return frame.drop(columns=_ROW)[keep[rows]]


def _series(value):
    import dask.dataframe as dd

    if isinstance(value, dd.DataFrame) and len(value.columns) == 1:
        return value[value.columns[0]]
    if not isinstance(value, dd.Series):
        raise ValueError(f"with a Dask DataFrame X, give y, offset and sample_weight as Dask Series whose "
                         f"partitions are X's (e.g. columns of the same frame) or as NumPy, not {type(value).__name__}")
    return value


def _array_rows(X, keep_blocks, keep):
    import dask.array as da

    if np.isnan(sum(X.chunks[0])):  # unknown chunk sizes: the first pass counted them
        X = da.Array(X.dask, X.name, chunks=(tuple(len(k) for k in keep_blocks), X.chunks[1]), dtype=X.dtype)
    return X[keep]


def _companion_rows(value, keep):
    if value is None:
        return None
    if is_dask_collection(value):
        if hasattr(value, "to_dask_array"):  # a Dask Series beside a Dask array X
            value = value.to_dask_array(lengths=True)
        if value.ndim == 2 and value.shape[1] == 1:
            value = value[:, 0]
        if value.ndim != 1 or value.shape[0] != len(keep):
            raise ValueError(f"y, offset and sample_weight must hold one value per row of X ({len(keep)} rows), "
                             f"got shape {value.shape}")
        return value[keep]
    values = np.asarray(value.to_numpy() if hasattr(value, "to_numpy") else value)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.shape[0] != len(keep):
        raise ValueError(f"y, offset and sample_weight must hold one value per row of X ({len(keep)} rows), "
                         f"got {values.shape[0]}")
    return values[keep]
