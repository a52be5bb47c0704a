"""Dask input: sufficient statistics, validation, and fits equal to the same fits in NumPy.

References: the statistics against NumPy's two-pass centred products on the whole array; the
ill-conditioned case against the shift-invariance of centred moments (exactly representable
data, so the unshifted two-pass result is the exact reference); fits against the in-memory fit.
"""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import bayesreg as br
from bayesreg.data.dask_input import dask_statistics
from bayesreg.data.statistics import array_statistics
from bayesreg.model.spec import statistics_data
from seeds import shifted

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

UNEVEN = (1, 37, 200, 262)  # row chunks of very different sizes, one of a single row


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(shifted(14))
    n, p = sum(UNEVEN), 5
    X = rng.normal(size=(n, p)) * [1.0, 2.0, 0.5, 3.0, 1.0] + [0.0, 1.0, -2.0, 5.0, 0.3]
    y = 1.5 + X @ np.array([1.0, -0.5, 0.0, 0.25, 2.0]) + rng.normal(size=n)
    return X, y


def _frame(X, y, npartitions=4):
    columns = [f"f{j}" for j in range(X.shape[1])]
    frame = dd.from_pandas(pd.DataFrame(X, columns=columns).assign(target=y), npartitions=npartitions)
    return frame[columns], frame["target"]


def _reference(X, y):
    """Two-pass centred products of the whole arrays."""
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    return {"n": len(y), "x_mean": X.mean(axis=0), "y_mean": y.mean(), "xx": Xc.T @ Xc, "xy": Xc.T @ yc,
            "yy": yc @ yc}


def _assert_statistics(stats, reference, rtol):
    assert stats.n == reference["n"]
    for name in ("x_mean", "y_mean", "xx", "xy", "yy"):
        got, want = np.asarray(getattr(stats, name)), np.asarray(reference[name])
        scale = np.abs(want).max()  # relative to the block's size: entries near 0 have no own scale
        np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale, err_msg=name)


def test_statistics_match_numpy_on_uneven_chunks(client, regression):
    X, y = regression
    reference = _reference(X, y)
    from_array = dask_statistics(da.from_array(X, chunks=(UNEVEN, 2)), da.from_array(y, chunks=100))
    _assert_statistics(from_array, reference, 1e-10)
    from_frame = dask_statistics(*_frame(X, y, npartitions=7))
    _assert_statistics(from_frame, reference, 1e-10)
    assert from_frame.feature_names == [f"f{j}" for j in range(X.shape[1])]


def test_statistics_keep_their_digits_when_means_dwarf_sds(client):
    # Columns with mean 1e6 and sd 1. The data are multiples of 2^-20, so Z + 1e6 is exact in
    # float64 (1e6 < 2^20 leaves 32 bits below the point): the centred statistics of the shifted
    # data must equal those of Z, which the two-pass formula gets to rounding.
    rng = np.random.default_rng(shifted(3))
    Z = np.round(rng.normal(size=(sum(UNEVEN), 3)) * 2**20) / 2**20
    y = np.round((Z @ [1.0, -1.0, 0.5] + rng.normal(size=len(Z))) * 2**20) / 2**20
    far = Z + 1e6
    assert np.array_equal(far - 1e6, Z)
    reference = _reference(Z, y)
    reference["x_mean"] = reference["x_mean"] + 1e6
    stats = dask_statistics(da.from_array(far, chunks=(UNEVEN, 3)), da.from_array(y, chunks=(UNEVEN,)))
    _assert_statistics(stats, reference, 1e-10)
    # The one-pass textbook formula X'X - n xbar xbar' loses ~12 of 16 digits here: the test can fail.
    naive = far.T @ far - len(Z) * np.outer(far.mean(axis=0), far.mean(axis=0))
    assert np.abs(naive - reference["xx"]).max() > 1e-6 * np.abs(reference["xx"]).max()
    # and the answer survives: least squares from the statistics equals least squares on Z
    coef_ls = np.linalg.lstsq(Z - Z.mean(axis=0), y - y.mean(), rcond=None)[0]
    np.testing.assert_allclose(stats.least_squares().coef, coef_ls, rtol=1e-9)


def test_array_statistics_are_the_same_computation(regression):
    X, y = regression
    _assert_statistics(array_statistics(X, y), _reference(X, y), 1e-12)


def test_nan_in_a_late_chunk_is_a_clear_error_and_nothing_is_fitted(client, regression):
    X, y = regression
    est = br.LinearRegression(method="map").fit(X, y)
    before = est.coef_.copy()
    bad = X.copy()
    bad[-3, 2] = np.nan  # in the last of the uneven chunks
    X_frame, y_series = _frame(bad, y)
    with pytest.raises(ValueError, match=r"X contains missing values \(NaN/NA\) in columns \['f2'\]"):
        est.fit(X_frame, y_series)
    np.testing.assert_array_equal(est.coef_, before)
    assert not hasattr(est, "feature_names_in_")
    bad_y = y.copy()
    bad_y[-1] = np.inf
    with pytest.raises(ValueError, match="y contains infinity"):
        est.fit(da.from_array(X, chunks=(UNEVEN, 5)), da.from_array(bad_y, chunks=(UNEVEN,)))
    np.testing.assert_array_equal(est.coef_, before)


def test_non_numeric_column_is_a_clear_error(client, regression):
    X, y = regression
    frame = pd.DataFrame(X, columns=list("abcde")).assign(city=["x"] * len(y))
    X_frame = dd.from_pandas(frame, npartitions=3)
    with pytest.raises(TypeError, match=r"non-numeric columns \['city'\]"):
        br.LinearRegression(method="map").fit(X_frame, dd.from_pandas(pd.Series(y), npartitions=3))


@pytest.mark.parametrize(("prior", "sigma"), [(br.Normal(0.5), None), (br.Laplace(0.2), 1.0),
                                               (br.ElasticNet(0.5, 1.0), None)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dask_map_equals_numpy_map(client, regression, prior, sigma, fit_intercept):
    X, y = regression
    expected = br.LinearRegression(prior, sigma=sigma, fit_intercept=fit_intercept, method="map").fit(X, y)
    got = br.LinearRegression(prior, sigma=sigma, fit_intercept=fit_intercept, method="map").fit(*_frame(X, y))
    np.testing.assert_allclose(got.coef_, expected.coef_, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got.intercept_, expected.intercept_, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got.sigma_, expected.sigma_, rtol=1e-10)
    assert list(got.feature_names_in_) == [f"f{j}" for j in range(X.shape[1])]


def test_fit_from_parquet_and_lazy_predict(client, regression, tmp_path):
    X, y = regression
    frame = pd.DataFrame(X, columns=list("abcde")).assign(y=y)
    for i, part in enumerate(np.array_split(np.arange(len(y)), 3)):
        frame.iloc[part].to_parquet(tmp_path / f"part{i}.parquet")
    data = dd.read_parquet(tmp_path)
    est = br.LinearRegression(br.Normal(1.0), method="map").fit(data[list("abcde")], data["y"])
    expected = br.LinearRegression(br.Normal(1.0), method="map").fit(frame[list("abcde")], y)
    np.testing.assert_allclose(est.coef_, expected.coef_, rtol=1e-10)
    assert est.feature_names_ == list("abcde")
    predicted = est.predict(data[list("abcde")])
    assert type(predicted).__module__.startswith("dask")  # lazy until computed
    np.testing.assert_allclose(predicted.compute(), expected.predict(frame[list("abcde")]), rtol=1e-10)
    with pytest.raises(ValueError, match="was fitted with"):
        est.predict(data[list("abcde")].rename(columns={"a": "z"}))


def test_dask_model_data_equal_numpy_model_data(client, regression):
    # What NUTS samples is fixed by these O(p^2) numbers: equal data, equal posterior.
    X, y = regression
    for sigma in (None, 1.0):
        for fit_intercept in (True, False):
            expected = statistics_data(array_statistics(X, y), fit_intercept, sigma)
            got = statistics_data(dask_statistics(da.from_array(X, chunks=(UNEVEN, 2)),
                                                  da.from_array(y, chunks=(UNEVEN,))), fit_intercept, sigma)
            assert got.keys() == expected.keys()
            for name, value in expected.items():
                atol = 1e-10 * max(np.abs(value).max(), 1.0)
                np.testing.assert_allclose(got[name], value, rtol=0, atol=atol, err_msg=name)


# the last two: coef drawn after sampling. The mixture's factors are given: autoscale's sds from Dask
# statistics differ from NumPy's in the last bit, which its 7 sampled dimensions amplify to ~1e-5
@pytest.mark.parametrize("prior", [br.Normal(1.0), br.Normal(br.HalfCauchy(1.0), autoscale=True),
                                   br.Laplace(br.HalfCauchy(1.0), factor=[1.0, 0.5, 2.0, 0.3, 1.0])],
                         ids=["Normal", "learned-collapsed", "learned-mixture"])
def test_dask_nuts_draws_equal_numpy_nuts_draws(client, regression, prior):
    # Same statistics to the bit (one row block: the same two-pass computation), same seed: the
    # same draws. Across different row blocks the data agree to ~1e-15 (test above), but NUTS
    # with step-size and mass-matrix adaptation amplified that to ~1e-6 in the draws after 400
    # iterations, so draw-for-draw equality is a claim about bit-equal statistics only.
    X, y = regression
    settings = dict(draws=200, tune=200, chains=2, random_seed=shifted(5), progressbar=False)
    expected = br.LinearRegression(prior).fit(X, y, **settings)
    got = br.LinearRegression(prior).fit(da.from_array(X), da.from_array(y), **settings)
    assert list(got.idata_["posterior"].data_vars) == list(expected.idata_["posterior"].data_vars)
    for name in got.idata_["posterior"].data_vars:
        np.testing.assert_allclose(got.idata_["posterior"][name].to_numpy(),
                                   expected.idata_["posterior"][name].to_numpy(), rtol=1e-10, atol=1e-10)
    assert "observed_data" not in got.idata_.children  # y stays on the workers
    np.testing.assert_allclose(got.summary()["mean"], expected.summary()["mean"], rtol=1e-10)


def test_missing_extra_names_it(monkeypatch, regression):
    X, y = regression

    class FakeDaskArray:  # what a Dask collection looks like to bayesreg without Dask importable
        __module__ = "dask.array.core"

    for name in ("dask", "dask.array", "dask.dataframe"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'bayesreg\[dask\]'"):
        br.LinearRegression(method="map").fit(FakeDaskArray(), y)


def test_import_does_not_import_dask():
    code = "import sys, bayesreg; assert not [m for m in sys.modules if m.split('.')[0] == 'dask'], 'dask'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=br.__file__.rsplit("/bayesreg/", 1)[0])


def test_cli_fits_a_parquet_directory_lazily(client, regression, tmp_path, capsys):
    from bayesreg.cli import main

    X, y = regression
    frame = pd.DataFrame(X, columns=list("abcde")).assign(y=y)
    folder = tmp_path / "data"
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(y)), 4)):
        frame.iloc[part].to_parquet(folder / f"part{i}.parquet")
    out = tmp_path / "out"
    assert main(["fit", str(folder), "--target", "y", "--method", "map", "--sigma", "1", "--out", str(out)]) == 0
    assert "read lazily through Dask, 4 partitions" in capsys.readouterr().out
    table = pd.read_csv(out / "summary.csv", index_col=0)
    # the CLI's default ridge is the estimators' default Normal(2.5, autoscale=True): on Dask input its
    # sds come from the pass's moments, in memory from np.std; equal to rounding
    expected = br.LinearRegression(sigma=1.0, method="map").fit(frame[list("abcde")], y)
    np.testing.assert_allclose(table.loc[list("abcde"), "map"], expected.coef_, rtol=1e-10)


def test_different_row_counts_are_a_clear_error(client, regression):
    X, y = regression
    with pytest.raises(ValueError, match="different numbers of rows: 500 and 499"):
        br.LinearRegression(method="map").fit(da.from_array(X, chunks=(UNEVEN, 5)), da.from_array(y[:-1]))
    with pytest.raises(ValueError, match="different numbers of rows: 500 and 499"):
        br.LinearRegression(method="map").fit(da.from_array(X, chunks=(UNEVEN, 5)), y[:-1])


def test_statistics_merge_pieces_of_a_block(client, regression, monkeypatch):
    # a partition is reduced in pieces of ROWS_PER_PIECE rows; 7 makes many pieces per block
    import bayesreg.data.dask_input as dask_input

    monkeypatch.setattr(dask_input, "ROWS_PER_PIECE", 7)
    X, y = regression
    _assert_statistics(dask_statistics(*_frame(X, y, npartitions=3)), _reference(X, y), 1e-10)


def test_fits_on_a_cluster_of_worker_processes(regression):
    """The other tests use an in-process cluster; here the workers are separate processes that the
    client reaches over TCP, as on a real cluster (Client("tcp://...")): every task and its data
    are pickled, sent and run in another interpreter. Linear MAP and a logistic surrogate pass."""
    X, y = regression
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        assert cluster.scheduler_address.startswith("tcp://")
        got = br.LinearRegression(br.Normal(0.5)).fit(*_frame(X, y), method="map")
        expected = br.LinearRegression(br.Normal(0.5)).fit(X, y, method="map")
        np.testing.assert_allclose(got.coef_, expected.coef_, rtol=1e-10)
        labels = (y > np.median(y)).astype(int)
        Xd, yd = da.from_array(X, chunks=(len(X) // 3, X.shape[1])), da.from_array(labels, chunks=len(X) // 3)
        logistic = br.LogisticRegression(br.Normal(1.0), method="surrogate").fit(
            Xd, yd, draws=200, tune=200, chains=2, random_seed=shifted(0), progressbar=False)
        assert np.isfinite(logistic.idata_.attrs["pareto_k"])
        np.testing.assert_allclose(logistic.map_.coef, br.LogisticRegression(br.Normal(1.0)).fit(
            X, labels, method="map").coef_, rtol=1e-8)
        assert os.getpid() not in client.run(os.getpid).values()  # the workers are other processes


def test_every_pass_converts_a_block_in_pieces_of_at_most_rows_per_piece(client, regression, monkeypatch):
    """Structural memory bound (the bound itself is measured in benchmarks/scale.py): no pass
    converts more than ROWS_PER_PIECE rows of a block to float64 at once, so a worker holds the
    block it read plus one small piece, never a second whole copy (float64, centred)."""
    import bayesreg.data.dask_input as dask_input
    import bayesreg.data.logistic_passes as logistic_passes

    seen, as_float = [], dask_input.as_float

    def recording(block, *args):
        seen.append(len(block))
        return as_float(block, *args)

    monkeypatch.setattr(dask_input, "ROWS_PER_PIECE", 7)
    monkeypatch.setattr(dask_input, "as_float", recording)
    monkeypatch.setattr(logistic_passes, "as_float", recording)
    X, y = regression
    dask_statistics(*_frame(X, y, npartitions=3))
    data = logistic_passes.binary_data(*_frame(X, (y > np.median(y)).astype(int), npartitions=3))
    logistic_passes.dask_likelihood(data, True)(np.zeros(X.shape[1] + 1))
    logistic_passes.dask_draws_log_likelihood(data, np.zeros((3, X.shape[1])), np.zeros(3))
    assert max(seen) == 7
    assert len(seen) >= 5 * len(y) / 7  # every row went through it: X and y in the first pass, X in three more


def test_a_block_is_reduced_in_the_task_that_reads_it(client, regression, tmp_path, monkeypatch):
    """One task per Parquet partition does the read and the reduction: a separate reducing task
    would leave each read partition in worker memory until it ran, while the worker read the next
    (issue 20: about two more partitions per worker at 200 MB files). The graph of the pass is
    therefore one task per partition plus the npartitions - 1 pairwise merges."""
    import dask

    X, y = regression
    frame = pd.DataFrame(X, columns=list("abcde")).assign(y=y)
    for i, part in enumerate(np.array_split(np.arange(len(y)), 3)):
        frame.iloc[part].to_parquet(tmp_path / f"part{i}.parquet")
    data = dd.read_parquet(tmp_path)
    task_counts, compute = [], dask.compute

    def counting(*collections, **kwargs):
        task_counts.append(sum(len(dict(c.__dask_graph__())) for c in collections))
        return compute(*collections, **kwargs)

    monkeypatch.setattr(dask, "compute", counting)
    stats = dask_statistics(data[list("abcde")], data["y"])
    assert task_counts == [3 + 2]
    _assert_statistics(stats, _reference(X, y), 1e-10)
