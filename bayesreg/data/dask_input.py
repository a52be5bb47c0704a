"""Dask input: recognised without importing Dask, validated lazily, reduced in one pass.

``import bayesreg`` never imports Dask: a collection is recognised by its type's module (and by
``dask.is_dask_collection`` once Dask is loaded anyway). Statistics are computed by one task per
row block (its own validation included) and a binary tree of pairwise merges; ``dask.compute``
runs it on the active ``distributed.Client`` if there is one, else on Dask's local scheduler.
"""

from __future__ import annotations

import sys

import numpy as np

from .parquet_stream import ParquetPartition, parquet_partitions
from .statistics import GaussianStatistics, Moments

INSTALL_HINT = "pip install 'bayesreg[dask]'"
_TARGET_COLUMN = "__bayesreg_target__"


def is_dask_collection(obj) -> bool:
    dask = sys.modules.get("dask")
    if dask is not None and dask.is_dask_collection(obj):
        return True
    return (type(obj).__module__ or "").split(".")[0] in ("dask", "dask_expr")


def is_dask_input(*objects) -> bool:
    return any(is_dask_collection(obj) for obj in objects)


def require_dask():
    """Import Dask (array and dataframe), or say which extra installs it."""
    try:
        import dask
        import dask.array  # noqa: F401
        import dask.dataframe  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"Dask input needs the optional dependencies: {INSTALL_HINT} ({exc})") from exc
    return dask


def read_parquet(path):
    """A lazy Dask DataFrame of the Parquet file or folder at ``path`` (``bayesreg fit data.parquet``)."""
    require_dask()
    import dask.dataframe as dd

    return dd.read_parquet(path)


def _is_frame(obj) -> bool:
    """A Dask DataFrame (checked only on objects already known to be Dask collections)."""
    import dask.dataframe as dd

    return isinstance(obj, dd.DataFrame)


def feature_names(X) -> list[str] | None:
    return [str(c) for c in X.columns] if _is_frame(X) else None


def check_dask_X(X, name: str = "X"):
    """Lazy checks of a Dask X (dtypes, shape); returns its column names or None."""
    import pandas as pd

    if _is_frame(X):
        non_numeric = [str(c) for c, dtype in X.dtypes.items()
                       if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))]
        if non_numeric:
            raise TypeError(f"{name} has non-numeric columns {non_numeric}; encode them as numbers first")
        return feature_names(X)
    if not hasattr(X, "chunks") or X.ndim != 2:
        raise ValueError(f"{name} must be a 2-d Dask array or a Dask DataFrame, got {type(X).__name__} "
                         f"with {getattr(X, 'ndim', '?')} dimensions")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"{name} has dtype {X.dtype}; it must be numeric")
    return None


class RowBlocks:
    """The aligned row blocks of Dask ``X`` and ``y``, and one task per block to run a function on each.

    A DataFrame ``X`` and a Series ``y`` are joined into one frame (``joined``, y its last column):
    Dask may partition two column selections of one Parquet dataset differently (it fuses the
    partitions of narrow selections), so their blocks cannot simply be zipped. Otherwise ``pairs``
    holds ``(X block, y block)`` delayed objects.
    """

    def __init__(self, joined=None, pairs: tuple = (), parquet: tuple = ()):
        self.joined, self.pairs, self.parquet = joined, pairs, parquet

    def __len__(self) -> int:
        return self.joined.npartitions if self.joined is not None else len(self.pairs or self.parquet)

    def map(self, function, *args) -> list:
        """Delayed ``function(X block, y block, *args, index)`` of every row block.

        On a joined frame each call runs inside the task that reads its partition (one fused
        task: Dask's blockwise fusion): the partition is released as soon as the call returns, so
        a worker holds one partition, not a finished one waiting for the task that reduces it
        while it reads the next (issue 20, four 200 MB partitions on two workers: the pass peaked
        1.55 GB above the baseline with separate tasks, 1.2 GB fused).
        """
        import dask

        if self.parquet:  # each task streams its partition's file (parquet_stream)
            return [dask.delayed(function)(part, None, *args, i) for i, part in enumerate(self.parquet)]
        if self.joined is None:
            return [dask.delayed(function)(xb, yb, *args, i) for i, (xb, yb) in enumerate(self.pairs)]
        mapped = self.joined.map_partitions(_on_partition, function, *args, meta=("result", object),
                                            enforce_metadata=False, align_dataframes=False)
        return list(mapped.to_delayed())


def _on_partition(frame, function, *args, partition_info=None):
    return function(frame, None, *args, partition_info["number"])


def row_blocks(X, y) -> RowBlocks:
    """The aligned row blocks of Dask ``X``, ``y`` (a NumPy ``y`` is split like ``X``)."""
    import dask
    import dask.dataframe as dd

    if _is_frame(X) and isinstance(y, (dd.Series, dd.DataFrame)):
        if isinstance(y, dd.DataFrame):
            if len(y.columns) != 1:
                raise ValueError(f"y must be 1-d, got a DataFrame with {len(y.columns)} columns")
            y = y[y.columns[0]]
        parquet = parquet_partitions(X, y, ROWS_PER_PIECE)
        if parquet:
            return RowBlocks(parquet=tuple(parquet))
        return RowBlocks(joined=X.assign(**{_TARGET_COLUMN: y}))
    X_blocks = _blocks(X, columns=True)
    if is_dask_collection(y):
        if hasattr(y, "chunks") and hasattr(X, "chunks") and not np.isnan(sum(X.chunks[0]) + y.shape[0]):
            if y.shape[0] != X.shape[0]:
                raise ValueError(f"X and y have different numbers of rows: {X.shape[0]} and {y.shape[0]}")
            y = y.rechunk({0: X.chunks[0]})
        y_blocks = _blocks(y, columns=False)
    else:
        y = np.asarray(y)
        lengths = _row_lengths(X)
        if sum(lengths) != y.shape[0]:
            raise ValueError(f"X and y have different numbers of rows: {sum(lengths)} and {y.shape[0]}")
        y_blocks = [dask.delayed(part) for part in np.split(y, np.cumsum(lengths)[:-1])]
    if len(X_blocks) != len(y_blocks):
        raise ValueError(f"X and y are split into different numbers of row blocks ({len(X_blocks)} and "
                         f"{len(y_blocks)}); take both from one DataFrame, or rechunk y like X")
    return RowBlocks(pairs=tuple(zip(X_blocks, y_blocks)))


def _blocks(collection, *, columns: bool) -> list:
    if hasattr(collection, "chunks"):  # Dask array: one block per row chunk, all columns in it
        if columns:
            collection = collection.rechunk({1: -1})
        return list(np.ravel(collection.to_delayed()))
    if _is_frame(collection) and not columns and len(collection.columns) == 1:
        collection = collection[collection.columns[0]]
    return list(collection.to_delayed())


def _row_lengths(X) -> list[int]:
    if hasattr(X, "chunks") and not np.isnan(sum(X.chunks[0])):
        return list(X.chunks[0])
    return list(X.map_partitions(len).compute())


def as_float(block, what: str, names, index: int) -> np.ndarray:
    array = block.to_numpy(dtype=float, na_value=np.nan) if hasattr(block, "to_numpy") else np.asarray(block, float)
    bad = ~np.isfinite(array)
    if bad.any():
        if array.ndim == 1:
            where = ""
        else:
            columns = np.flatnonzero(bad.any(axis=0))
            where = f" in columns {[names[j] if names else f'x{j}' for j in columns]}"
        kind = "missing values (NaN/NA)" if np.isnan(array).any() else "infinity"
        raise ValueError(f"{what} contains {kind}{where} (row block {index}); drop or impute them first. "
                         "Nothing was fitted.")
    return array


def split_block(X_block, y_block):
    """``(X block, y block)``; a joined frame (``y_block`` None) carries y as its last column; a
    Parquet partition (streamed by :func:`pieces`) stays whole."""
    if isinstance(X_block, ParquetPartition):
        return X_block, None
    if y_block is None:
        return X_block.iloc[:, :-1], X_block.iloc[:, -1]
    return X_block, y_block


ROWS_PER_PIECE = 2**14  # rows converted to float64 at a time: 6.5 MiB at p = 50, whatever the block size


def pieces(X_block, y_block, index: int):
    """``(X piece, y piece)`` views of at most ``ROWS_PER_PIECE`` rows each (one, empty, for an empty block).

    Every pass converts and reduces a row block piece by piece: converting a whole block to
    float64 (and centring it) would add one or two copies of it to the copy being read. A Parquet
    partition is not read whole at all: its batches are read and converted one at a time.
    """
    if isinstance(X_block, ParquetPartition):
        yield from X_block.batches()
        return
    if len(X_block) != len(y_block):
        raise ValueError(f"X and y have different numbers of rows in row block {index}: {len(X_block)} and "
                         f"{len(y_block)}; take both from one DataFrame, or rechunk y like X")
    for start in range(0, max(len(y_block), 1), ROWS_PER_PIECE):
        rows = slice(start, start + ROWS_PER_PIECE)
        yield _rows(X_block, rows), _rows(y_block, rows)


def _rows(block, rows: slice):
    return block.iloc[rows] if hasattr(block, "iloc") else block[rows]


def _block_moments(X_block, y_block, names, index: int) -> Moments:
    """Moments of one row block, merged from its :func:`pieces` (the same stable update)."""
    total = Moments(0, np.zeros(0), np.zeros((0, 0)))
    for X_piece, y_piece in pieces(*split_block(X_block, y_block), index):
        X = as_float(X_piece, "X", names, index)
        y = as_float(y_piece, "y", None, index)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if X.shape[0]:
            total = total.merge(Moments.of_chunk(np.column_stack([X, y])))
    return total


def tree_reduce(parts: list, combine):
    """Pairwise (binary-tree) reduction of delayed ``parts``: depth log2(#blocks)."""
    import dask

    while len(parts) > 1:
        parts = [dask.delayed(combine)(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    return parts[0]


def _merge(a: Moments, b: Moments) -> Moments:
    return a.merge(b)


def dask_statistics(X, y) -> GaussianStatistics:
    """Gaussian sufficient statistics of Dask ``X``, ``y`` in one distributed pass."""
    dask = require_dask()
    names = check_dask_X(X)
    p = len(names) if names is not None else X.shape[1]
    parts = row_blocks(X, y).map(_block_moments, names)
    (moments,) = dask.compute(tree_reduce(parts, _merge))
    if moments.n == 0:
        raise ValueError("X has no rows")
    if moments.mean.shape[0] != p + 1:
        raise ValueError(f"X blocks have {moments.mean.shape[0] - 1} columns, expected {p}")
    return GaussianStatistics.of_moments(moments, names)


def lazy_rows(X, block_function, n_columns: int | None = None):
    """``block_function`` applied to each row block of Dask ``X``, lazily.

    It maps a (rows, p) float block to a (rows,) result, or to (rows, n_columns) when given.
    """
    require_dask()
    array = X.to_dask_array() if hasattr(X, "to_dask_array") else X
    array = array.rechunk({1: -1}).astype(float)
    if n_columns is None:
        return array.map_blocks(block_function, drop_axis=1, dtype=float)
    return array.map_blocks(block_function, chunks=(array.chunks[0], (n_columns,)), dtype=float)
