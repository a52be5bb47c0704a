"""The closed-form LOO and K-fold of the conjugate Gaussian model on Dask rows (issue 23).

Reference: the in-memory closed forms (themselves checked against brute-force refits in
tests/test_assessment_loo.py and tests/test_assessment_kfold.py) on the same rows. No draws: the
Dask passes add the same Gram matrices in another order, so the two agree to rounding; 1e-10
relative is ~1e5 times the float error of these well-conditioned 5 x 5 systems.
"""

import numpy as np
import pandas as pd
import pytest

import bayesreg as br
from bayesreg.data import dask_input
from seeds import shifted

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

pytestmark = pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning")
rng = np.random.default_rng(shifted(251))
UNEVEN = (1, 99, 300, 400)
N, P, SIGMA, COLUMNS = sum(UNEVEN), 4, 0.8, list("abcd")
SCALES = np.array([1.0, 0.5, 2.0, 1.0])
X = rng.normal(size=(N, P)) * [1.0, 3.0, 0.5, 1.0]
y = 1.5 + X @ [1.0, 0.3, 0.0, 0.0] + SIGMA * rng.normal(size=N)


@pytest.fixture(autouse=True)
def synchronous_small_pieces(monkeypatch):
    monkeypatch.setattr(dask_input, "ROWS_PER_PIECE", 128)
    with dask.config.set(scheduler="synchronous"):
        yield


def _assert_same(got, expected):
    np.testing.assert_allclose(got.elpd_i.to_numpy(), expected.elpd_i.to_numpy(), rtol=1e-10)
    assert got.p == pytest.approx(expected.p, rel=1e-10) and got.se == pytest.approx(expected.se, rel=1e-10)
    assert got.n_data_points == N and got.n_samples == expected.n_samples
    assert type(got) is type(expected)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_exact_loo_and_kfold_on_dask_equal_the_in_memory_closed_forms(fit_intercept):
    """A MAP fit on a Dask frame (no posterior: the closed forms need none); LOO and K-fold on the
    frame and on a Dask array of uneven chunks with NumPy y, and K-fold with given fold labels."""
    frame = dd.from_pandas(pd.DataFrame(X, columns=COLUMNS).assign(y=y), npartitions=3)
    est = br.LinearRegression(br.Normal(SCALES), sigma=SIGMA, fit_intercept=fit_intercept).fit(
        frame[COLUMNS], frame["y"], method="map")
    X_pandas, X_dask = pd.DataFrame(X, columns=COLUMNS), da.from_array(X, chunks=(UNEVEN, 2))
    loo = est.loo(X_pandas, y)
    assert np.all(loo.pareto_k.to_numpy() == 0)  # the exact LOO, not PSIS
    _assert_same(est.loo(frame[COLUMNS], frame["y"]), loo)
    _assert_same(est.loo(X_dask.rechunk({1: 4}), y), loo)
    kfold = est.kfold(X_pandas, y, k=7, random_seed=shifted(1))
    _assert_same(est.kfold(frame[COLUMNS], frame["y"], k=7, random_seed=shifted(1)), kfold)
    _assert_same(est.kfold(X_dask, y, k=7, random_seed=shifted(1)), kfold)
    labels = np.arange(N) % 3
    _assert_same(est.kfold(frame[COLUMNS], frame["y"], folds=labels), est.kfold(X_pandas, y, folds=labels))


def test_exact_on_dask_after_nuts_and_its_refusals():
    """A NUTS fit keeps the closed form (n_samples its draws); method='psis' / 'refit' still sample;
    a learned sigma has no closed form, and says so."""
    est = br.LinearRegression(br.Normal(SCALES), sigma=SIGMA).fit(da.from_array(X), da.from_array(y), draws=100,
                                                                  tune=100, chains=2, random_seed=shifted(2),
                                                                  progressbar=False)
    X_dask, y_dask = da.from_array(X, chunks=(UNEVEN, 4)), da.from_array(y, chunks=(UNEVEN,))
    _assert_same(est.loo(X_dask, y_dask), est.loo(X, y))
    assert est.loo(X_dask, y_dask).n_samples == 200
    psis = est.loo(X_dask, y_dask, method="psis")
    assert np.any(psis.pareto_k.to_numpy() != 0)
    learned = br.LinearRegression(br.Normal(SCALES)).fit(X, y, method="map")
    with pytest.raises(ValueError, match=r"method='exact': exact LOO needs a known noise sd"):
        learned.loo(X_dask, y_dask, method="exact")
    with pytest.raises(ValueError, match=r"method='exact': .*offset or sample_weight"):
        est.kfold(X_dask, y_dask, method="exact", offset=np.zeros(N))
    with pytest.raises(ValueError, match="k .the number of folds. must be an integer from 2"):
        est.kfold(X_dask, y_dask, k=N + 1)
    with pytest.raises(ValueError, match="y contains missing values"):
        est.loo(X_dask, da.from_array(np.where(np.arange(N) == N - 1, np.nan, y), chunks=(UNEVEN,)))
