"""Parquet read batch by batch inside each task, so a worker's memory does not grow with the row group.

Dask's ``read_parquet`` decodes a whole row group into an Arrow table and converts it to pandas
before any of our code sees it: with one 1 GB row group per file, two workers peaked 4.8 GB above
the baseline (issue 20), and no reader option splits a row group. When ``X`` and ``y`` are column
selections of one ``dd.read_parquet`` frame and nothing else (no filters, no computed columns, no
row selection), the passes read the frame's files themselves instead: one task per partition, as
Dask would, which streams the partition's row groups with ``pyarrow.parquet.ParquetFile.iter_batches``
into float64 NumPy blocks of at most ``rows`` rows (no pandas). A task then holds one batch, its
float64 copy and the pages being decoded (at most a page and a dictionary page per column, set
when the file was written: 1 MiB each by pyarrow's default), whatever the size of the row group.

Every row is read once and the passes only sum over rows, so the statistics are those of the frame
(to rounding: the pieces are cut at other rows). Anything this does not recognise is left to
Dask's reader, which gives the same results with more memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# bytes read from the file at a time per column (pyarrow reads a whole column chunk otherwise)
READ_BUFFER_BYTES = 2**20
_COLUMN_SELECTIONS = ("Projection", "Drop")  # dask-expr nodes that only choose columns


@dataclass(frozen=True, eq=False)
class ParquetPartition:
    """One partition of a ``dd.read_parquet`` frame: a file (or some of its row groups) and the columns of X and y."""

    filesystem: object  # the fsspec filesystem Dask found the file on
    path: str
    row_groups: tuple[int, ...] | None  # None: all of the file's
    x_columns: tuple[str, ...]
    y_column: str
    rows: int  # largest batch

    def batches(self):
        """``(X, y)`` of each batch: X float64 (rows, p), nulls as NaN; y as NumPy has it (labels too).

        An empty partition gives one empty batch, like an empty pandas block.
        """
        import pyarrow.parquet as pq

        columns = list(dict.fromkeys((*self.x_columns, self.y_column)))
        where = [columns.index(name) for name in self.x_columns]
        yielded = False
        with self.filesystem.open(self.path, "rb") as handle:
            # pre_buffer would read every column chunk of the row group before the first batch
            parquet = pq.ParquetFile(handle, pre_buffer=False, buffer_size=READ_BUFFER_BYTES)
            row_groups = list(self.row_groups) if self.row_groups is not None else None
            for batch in parquet.iter_batches(batch_size=self.rows, row_groups=row_groups, columns=columns,
                                              use_threads=False):  # the workers are the parallelism
                X = np.empty((len(where), batch.num_rows))  # filled column by column: contiguous writes
                for j, k in enumerate(where):
                    X[j] = _as_float64(batch.column(k))
                yield X.T, _values(batch.column(columns.index(self.y_column)))
                yielded = True
        if not yielded:
            yield np.empty((0, len(where))), np.empty(0)


def _as_float64(column) -> np.ndarray:
    import pyarrow as pa

    if column.type != pa.float64():
        column = column.cast(pa.float64(), safe=False)  # as pandas' to_numpy(float): large ints round
    return column.to_numpy(zero_copy_only=False)  # nulls become NaN, which the passes reject by name


def _values(column) -> np.ndarray:
    import pyarrow as pa

    if column.null_count and (pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)):
        column = column.cast(pa.float64(), safe=False)  # missing labels as NaN, as pandas shows them
    return column.to_numpy(zero_copy_only=False)


def parquet_partitions(X, y, rows: int) -> list[ParquetPartition] | None:
    """The partitions of ``X``, ``y`` as files to stream, if both only select columns of one
    ``dd.read_parquet`` frame (Dask's default fsspec reader, numeric X columns); otherwise None.

    This reads dask-expr's plan of the read (its file and row-group list): private, so any
    surprise means "not recognised" and Dask reads the data as before.
    """
    try:
        return _partitions(X, y, rows)
    except Exception:  # noqa: BLE001 - an unrecognised plan falls back to Dask's reader
        return None


def _partitions(X, y, rows: int) -> list[ParquetPartition] | None:
    import pyarrow as pa

    source, y_source = _read_parquet_node(X.expr), _read_parquet_node(y.expr)
    if source is None or y_source is None or y_source._name != source._name:
        return None
    if any(source.operand(name) is not None for name in ("filters", "categories", "_partitions")):
        return None
    info, plan = source._dataset_info, source._plan
    if plan["empty"] or info["partition_names"] or len(plan["parts"]) != X.npartitions:
        return None
    x_columns, y_column = tuple(str(c) for c in X.columns), str(y.name)
    schema = info["physical_schema"]
    numeric = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean)
    for name in x_columns:
        if schema.get_field_index(name) < 0 or not any(test(schema.field(name).type) for test in numeric):
            return None
    if schema.get_field_index(y_column) < 0 or pa.types.is_dictionary(schema.field(y_column).type):
        return None
    partitions = []
    for part in plan["parts"]:
        path, row_groups, keys = part["piece"]
        if not isinstance(path, str) or keys:
            return None
        partitions.append(ParquetPartition(info["fs"], path, None if row_groups is None else tuple(row_groups),
                                           x_columns, y_column, rows))
    return partitions


def _read_parquet_node(expr):
    """The ``ReadParquetFSSpec`` node under column selections only, else None."""
    while type(expr).__name__ in _COLUMN_SELECTIONS:
        expr = expr.frame
    return expr if type(expr).__name__ == "ReadParquetFSSpec" else None
