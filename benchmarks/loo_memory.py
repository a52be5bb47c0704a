"""est.loo on 1e5 rows x 4000 draws in bounded memory (issue 23): the pointwise log-likelihood
(3.2 GB if held whole) is computed and Pareto-smoothed in row blocks.

A stand-in posterior (4000 draws around the MAP of a linear model with known sigma) replaces a
NUTS fit: what is measured is loo's memory and time, not sampling. Peak resident memory is read
from the kernel (ru_maxrss) before and after.

Usage: OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/loo_memory.py [n_rows] [--dask]

``--dask``: the same rows as a Dask array of 10 000-row chunks, so est.loo runs in one pass over
the partitions (bayesreg.assessment.dask_passes) on Dask's local threaded scheduler; the
in-memory PSIS-LOO (same posterior) is the reference for the numbers.
"""

import resource
import sys
import time
import warnings

import numpy as np
import xarray as xr

import bayesreg as br


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(n=100_000, p=10, draws=4000, on_dask=False):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, p))
    y = X @ rng.normal(size=p) + rng.normal(size=n)
    est = br.LinearRegression(br.Normal(1.0), sigma=1.0).fit(X, y, method="map")
    theta = np.r_[est.intercept_, est.coef_] + 0.003 * rng.normal(size=(4, draws // 4, p + 1))
    est.idata_ = xr.DataTree.from_dict({"posterior": xr.Dataset(
        {"coef": (("chain", "draw", "feature"), theta[..., 1:]), "intercept": (("chain", "draw"), theta[..., 0])},
        coords={"chain": np.arange(4), "draw": np.arange(draws // 4), "feature": est.feature_names_})})
    before = peak_mb()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if on_dask:
            import dask.array as da

            elpd = est.loo(da.from_array(X, chunks=(10_000, p)), da.from_array(y, chunks=10_000), method="psis")
        else:
            elpd = est.loo(X, y, method="psis")
    seconds = time.perf_counter() - start
    after = peak_mb()  # before the in-memory reference below runs
    exact = est.loo(X, y, method="exact")
    if on_dask:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            in_memory = est.loo(X, y, method="psis")
        print(f"Dask passes against in memory: max |elpd_i difference| "
              f"{float(abs(elpd.elpd_i - in_memory.elpd_i).max()):.2e}")
    print(f"n={n} draws={draws}{' (Dask)' if on_dask else ''}: PSIS-LOO {seconds:.1f} s, peak RSS {before:.0f} MB before -> {after:.0f} MB "
          f"after (a whole log-likelihood: {n * draws * 8 / 2**20:.0f} MB); elpd {elpd.elpd:.1f} (se {elpd.se:.1f}), "
          f"exact {exact.elpd:.1f}; max k-hat {float(elpd.pareto_k.max()):.2f}")


if __name__ == "__main__":
    numbers = [a for a in sys.argv[1:] if a != "--dask"]
    main(int(numbers[0]) if numbers else 100_000, on_dask="--dask" in sys.argv)
