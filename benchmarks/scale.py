"""Beyond one machine (issue 14): end-to-end time and peak memory on a 2-worker local Dask cluster.

Linear: n rows x 50 features written to Parquet (in 50k-row files, never whole in memory), then
``LinearRegression().fit(dd.read_parquet(...))``: read + one statistics pass + NUTS, timed end to end.
Logistic: the same for ``LogisticRegression(method="surrogate")`` (Newton passes, NUTS on the
surrogate, one PSIS pass), with exact NUTS at a smaller n as the baseline in ESS per second.
Poisson (issue 21): the same for ``PoissonRegression(method="surrogate")`` (``--poisson-n``; the
target is n = 1e6: <= 120 s, k-hat <= 0.7), the Newton and PSIS passes from the family's rows' sums.

The cluster runs in this process (``processes=False``), so the process's peak resident memory
(``ru_maxrss``) counts the workers too. Run on an otherwise idle machine:

    .venv/bin/python benchmarks/scale.py --linear-n 100000,1000000,5000000,10000000 \
        --logistic-n 1000000 --exact-n 100000

Partition size (issue 20): ``--partition-mb 20,200,1000`` writes the same 5e6 x 50 data
(``--partition-n``) as Parquet files of that many MB of float64 features, one row group each, and
fits each set in a fresh process (``--workers 1,2``: once per cluster size) that reports peak RSS
above its baseline against the rule of ``docs/beyond-one-machine.md``: since each task streams
its Parquet partition in batches, about 50 MiB + workers x (columns x 3 MiB + 8 batches of 16,384
rows), whatever the partition size (issue 20; before, 0.35 GB + workers x partition size x 3.5).
``--row-group-mb 20`` writes those files in 20 MB row groups and reads one per partition
(``split_row_groups=True``).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import resource
import shutil
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

import bayesreg as br

P = 50
WORKERS = 2
ROWS_PER_FILE = 50_000  # the --linear-n, --logistic-n and --poisson-n data: 20 MB files (lost in 849109e)


def rule_mib(workers: int, columns: int = P + 1) -> float:
    """The rule of docs/beyond-one-machine.md, "Memory and partition size": 50 MiB, and per worker
    3 MiB per column (the reader's 1 MiB buffer, the page being decoded and its dictionary page, as
    pyarrow writes them) and 8 float64 batches of ROWS_PER_PIECE rows (Arrow's batch, X, [X y], its
    centred copy, and what the allocators keep of the previous ones)."""
    from bayesreg.data.dask_input import ROWS_PER_PIECE

    return 50 + workers * (columns * 3 + 8 * ROWS_PER_PIECE * columns * 8 / 2**20)


def write_parquet(folder: pathlib.Path, n: int, family: str, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    coef = rng.normal(size=P) * (rng.random(P) < 0.2)
    for start in range(0, n, ROWS_PER_FILE):
        rows = min(ROWS_PER_FILE, n - start)
        X = rng.normal(size=(rows, P))
        eta = 0.5 + X @ coef * (0.3 if family in ("logistic", "poisson") else 1.0)
        if family == "poisson":
            y = rng.poisson(np.exp(eta)).astype(np.int32)
        elif family == "logistic":
            y = (rng.random(rows) < 1 / (1 + np.exp(-eta))).astype(np.int8)
        else:
            y = eta + rng.normal(size=rows)
        pd.DataFrame(X, columns=[f"x{j}" for j in range(P)]).assign(y=y).to_parquet(
            folder / f"part{start // ROWS_PER_FILE:05d}.parquet")


def write_in_child(folder: pathlib.Path, n: int, family: str) -> None:
    """Write the data in a child process, so this process's peak memory is the fit's alone."""
    import multiprocessing

    folder.mkdir()
    child = multiprocessing.get_context("spawn").Process(target=write_parquet, args=(folder, n, family))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"writing {folder} failed")


def write_partitioned(folder: pathlib.Path, n: int, rows_per_file: int, rows_per_group: int | None = None,
                      seed: int = 0) -> None:
    """Linear data in files of ``rows_per_file`` rows, in row groups of ``rows_per_group`` (default:
    one per file, which Dask cannot split).

    Column by column into an Arrow table: the writer holds one file's data once, not three times.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    coef = rng.normal(size=P) * (rng.random(P) < 0.2)
    for start in range(0, n, rows_per_file):
        rows = min(rows_per_file, n - start)
        columns, y = {}, 0.5 + rng.normal(size=rows)
        for j in range(P):
            columns[f"x{j}"] = rng.normal(size=rows)
            y += coef[j] * columns[f"x{j}"]
        columns["y"] = y
        pq.write_table(pa.table(columns), folder / f"part{start // rows_per_file:05d}.parquet",
                       row_group_size=min(rows, rows_per_group or rows))
        del columns, y


def status_kib(field: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of /proc/self/status, in KiB (Linux)."""
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak() -> None:
    """Reset this process's peak RSS (VmHWM) to its current RSS (Linux: ``clear_refs`` 5)."""
    pathlib.Path("/proc/self/clear_refs").write_text("5")


def measure_partitioned_fit(folder: str, warmup_folder: str, reader: str, split: bool, workers: int,
                            connection) -> None:
    """In a fresh process: cluster up, one small fit (imports, compiled sampler), then the fit of
    ``folder`` with its peak RSS above the RSS just before it (both count the in-process workers)."""
    import dask.dataframe as dd
    import distributed

    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        for path in (warmup_folder, folder):
            frame = dd.read_parquet(path, filesystem=reader, split_row_groups=split)
            baseline = status_kib("VmRSS")
            reset_peak()
            started = time.perf_counter()
            br.LinearRegression(br.Normal(1.0)).fit(frame.drop(columns="y"), frame["y"], random_seed=1,
                                                    progressbar=False)
            seconds = time.perf_counter() - started
        connection.send(dict(partitions=frame.npartitions, baseline_mib=baseline / 1024,
                             peak_mib=status_kib("VmHWM") / 1024, seconds=seconds))


def run_in_child(context, target, *args, reply: bool = False):
    """``target(*args)`` in a fresh spawned process; with ``reply``, ``target(*args, connection)``
    and what it sent back."""
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=target, args=(*args, sending) if reply else args)
    child.start()
    result = receiving.recv() if reply else None
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"{target.__name__}{args} failed")
    return result


def partition_rows(args) -> list[dict]:
    """Peak memory of the same linear fit with partitions of each size in ``args.partition_mb``."""
    import multiprocessing

    context, rows = multiprocessing.get_context("spawn"), []
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        warmup = pathlib.Path(tmp) / "warmup"
        warmup.mkdir()
        write_partitioned(warmup, 20_000, 10_000)
        for megabytes in args.partition_mb:
            rows_per_file = int(megabytes * 1e6) // (P * 8)
            rows_per_group = int(args.row_group_mb * 1e6) // (P * 8) if args.row_group_mb else rows_per_file
            split = rows_per_group < rows_per_file  # then one partition per row group
            folder = pathlib.Path(tmp) / f"files{megabytes}MB"
            folder.mkdir()
            run_in_child(context, write_partitioned, folder, args.partition_n, rows_per_file, rows_per_group)
            for reader in args.reader:
                for workers in args.workers:
                    result = run_in_child(context, measure_partitioned_fit, str(folder), str(warmup), reader, split,
                                          workers, reply=True)
                    partition_mib = rows_per_group * (P + 1) * 8 / 2**20  # X and y as float64
                    groups = f", row groups of {args.row_group_mb} MB, split_row_groups=True" if split else ""
                    above = result["peak_mib"] - result["baseline_mib"]
                    rows.append(dict(case=f"files of {megabytes} MB{groups}, filesystem={reader!r}", workers=workers,
                                     partition_mib=partition_mib, **result, above_baseline_mib=above,
                                     per_worker_partition=above / (workers * partition_mib),
                                     rule_mib=rule_mib(workers)))
                    print(rows[-1], flush=True)
            shutil.rmtree(folder)
    return rows


def markdown_table(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{row[c]:.3g}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def min_ess_per_second(est, seconds) -> tuple[float, float]:
    import arviz as az

    ess = az.ess(est.idata_, var_names=["coef", "intercept"])
    worst = min(float(ess[name].min()) for name in ("coef", "intercept"))
    return worst, worst / seconds


def run(args) -> None:
    import dask.dataframe as dd
    import distributed

    rows = partition_rows(args) if args.partition_mb else []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
            for n in args.linear_n:
                folder = pathlib.Path(tmp) / f"linear{n}"
                write_in_child(folder, n, "linear")
                started = time.perf_counter()
                frame = dd.read_parquet(folder)
                est = br.LinearRegression(br.Normal(1.0)).fit(frame.drop(columns="y"), frame["y"],
                                                              random_seed=1, progressbar=False)
                seconds = time.perf_counter() - started
                rows.append(dict(case=f"linear NUTS, n={n:.0e}", seconds=seconds, peak_mib=peak_mib(),
                                 data_mib=n * (P + 1) * 8 / 2**20,
                                 setup_s=est.idata_.attrs["setup_seconds"],
                                 sampling_s=est.idata_.attrs["sampling_seconds"]))
                print(rows[-1], flush=True)
            surrogates = [("logistic", "logistic", args.logistic_n, br.LogisticRegression),
                          ("poisson", "Poisson", args.poisson_n, br.PoissonRegression)]
            for kind, label, sizes, estimator in surrogates:
                for n in sizes:
                    folder = pathlib.Path(tmp) / f"{kind}{n}"
                    write_in_child(folder, n, kind)
                    started = time.perf_counter()
                    frame = dd.read_parquet(folder).persist()  # Newton makes several passes: read once
                    est = estimator(br.Normal(1.0), method="surrogate").fit(
                        frame.drop(columns="y"), frame["y"], random_seed=1, progressbar=False)
                    seconds = time.perf_counter() - started
                    ess, per_second = min_ess_per_second(est, seconds)
                    rows.append(dict(case=f"{label} surrogate, n={n:.0e}", seconds=seconds, peak_mib=peak_mib(),
                                     data_mib=n * (P + 1) * 8 / 2**20, pareto_k=est.idata_.attrs["pareto_k"],
                                     min_ess=ess, ess_per_s=per_second))
                    print(rows[-1], flush=True)
                    del frame
    for n in args.exact_n:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(n, P))
        y = (rng.random(n) < 1 / (1 + np.exp(-(0.5 + X[:, :10].sum(axis=1) * 0.3)))).astype(int)
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = br.LogisticRegression(br.Normal(1.0)).fit(X, y, random_seed=1, progressbar=False)
        seconds = time.perf_counter() - started
        ess, per_second = min_ess_per_second(est, seconds)
        rows.append(dict(case=f"logistic exact NUTS (in memory), n={n:.0e}", seconds=seconds,
                         peak_mib=peak_mib(), min_ess=ess, ess_per_s=per_second))
        print(rows[-1], flush=True)
    print(markdown_table(rows))
    print(f"load average after: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    def sizes(text):
        return [int(float(v)) for v in text.split(",") if v]
    parser.add_argument("--linear-n", type=sizes, default=None, help="default 1e5,1e6,5e6 (none with --partition-mb)")
    parser.add_argument("--logistic-n", type=sizes, default=None, help="default 1e6 (none with --partition-mb)")
    parser.add_argument("--exact-n", type=sizes, default=None, help="default 1e5 (none with --partition-mb)")
    parser.add_argument("--poisson-n", type=sizes, default=None, help="default 1e6 (none with --partition-mb)")
    parser.add_argument("--partition-mb", type=sizes, default=[],
                        help="file sizes in MB (e.g. 20,200,1000): peak memory against partition size")
    parser.add_argument("--reader", type=lambda text: text.split(","), default=["fsspec"],
                        help="dd.read_parquet's filesystem= for --partition-mb: Dask's default fsspec, pyarrow's")
    parser.add_argument("--workers", type=sizes, default=[WORKERS],
                        help="cluster sizes for --partition-mb (e.g. 1,2): one fresh process each")
    parser.add_argument("--row-group-mb", type=float, default=None,
                        help="row groups of this many MB inside the --partition-mb files, read one per partition")
    parser.add_argument("--partition-n", type=lambda text: int(float(text)), default=5_000_000)
    parser.add_argument("--tmp", default=None, help="folder for the Parquet files (default: the system's)")
    args = parser.parse_args()
    for name, default in (("linear_n", "1e5,1e6,5e6"), ("logistic_n", "1e6"), ("exact_n", "1e5"),
                          ("poisson_n", "1e6")):
        if getattr(args, name) is None:
            setattr(args, name, [] if args.partition_mb else sizes(default))
    print(f"load average before: {os.getloadavg()}")
    run(args)


if __name__ == "__main__":
    main()
