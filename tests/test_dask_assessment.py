"""LOO and Bayesian R^2 of fits on Dask data, in passes over the partitions (issue 23).

Reference: the same estimator's in-memory ``loo`` and ``bayes_r2`` on the computed arrays. PSIS
smooths each row on its own and R^2's moments merge exactly, so the two differ only by rounding:
1e-10 (the largest difference seen is ~1e-13). Pieces of 50 rows (``ROWS_PER_PIECE`` lowered) make
several pieces per partition, and uneven chunks include a partition of one row.
"""

import numpy as np
import pandas as pd
import pytest

import bayesreg as br
from bayesreg.data import dask_input
from seeds import shifted

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

pytestmark = pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning",
                                        "ignore::bayesreg.assessment.LOOWarning")
UNEVEN = (1, 37, 200, 262)
rng = np.random.default_rng(shifted(233))
N, P = sum(UNEVEN), 4
X = rng.normal(size=(N, P)) * [1.0, 2.0, 0.5, 3.0]
y = 1.5 + X @ [1.0, -0.5, 0.0, 0.25] + rng.normal(size=N)


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch):
    monkeypatch.setattr(dask_input, "ROWS_PER_PIECE", 50)


def _assert_same_loo(on_dask, in_memory):
    for name in ("elpd_i", "pareto_k"):
        np.testing.assert_allclose(getattr(on_dask, name).to_numpy(), getattr(in_memory, name).to_numpy(),
                                   rtol=1e-10, atol=1e-12)
    assert on_dask.p == pytest.approx(in_memory.p, rel=1e-10) and on_dask.se == pytest.approx(in_memory.se, rel=1e-10)
    assert on_dask.n_data_points == N and on_dask.n_samples == in_memory.n_samples


def test_linear_fit_on_dask_loo_and_r2_equal_the_in_memory_ones():
    X_dask, y_dask = da.from_array(X, chunks=(UNEVEN, 2)), da.from_array(y, chunks=(UNEVEN,))
    est = br.LinearRegression(br.Normal(1.0, autoscale=True)).fit(X_dask, y_dask, draws=300, tune=300, chains=2,
                                                                   random_seed=shifted(1), progressbar=False)
    in_memory = est.loo(X, y)  # sigma learned: PSIS
    _assert_same_loo(est.loo(X_dask, y_dask), in_memory)
    _assert_same_loo(est.loo(X_dask, y), in_memory)  # NumPy y split like X
    columns = [f"x{j}" for j in range(P)]
    frame = dd.from_pandas(pd.DataFrame(X, columns=columns).assign(target=y), npartitions=3)
    _assert_same_loo(est.loo(frame[columns].to_dask_array(lengths=True), frame["target"]), in_memory)
    np.testing.assert_allclose(est.bayes_r2(X_dask), est.bayes_r2(X), rtol=1e-10)
    with pytest.raises(ValueError, match=r"method=.exact.: exact LOO needs a known noise sd.*Use method=.psis."):
        est.loo(X_dask, y_dask, method="exact")
    with pytest.raises(ValueError, match="X has 3 features"):
        est.loo(X_dask[:, :3], y_dask)


def test_logistic_fit_on_dask_frames_loo_and_r2_equal_the_in_memory_ones():
    labels = np.where(y > np.median(y), "yes", "no")
    columns = [f"x{j}" for j in range(P)]
    frame = dd.from_pandas(pd.DataFrame(X, columns=columns).assign(label=labels), npartitions=4)
    est = br.LogisticRegression(br.Normal(1.0, autoscale=True)).fit(frame[columns], frame["label"], draws=300,
                                                                     tune=300, chains=2, random_seed=shifted(2),
                                                                     progressbar=False)
    X_frame = pd.DataFrame(X, columns=columns)
    _assert_same_loo(est.loo(frame[columns], frame["label"]), est.loo(X_frame, labels))
    np.testing.assert_allclose(est.bayes_r2(frame[columns]), est.bayes_r2(X_frame), rtol=1e-10)
    wrong = dd.from_pandas(pd.Series(np.where(labels == "yes", "yes", "maybe")), npartitions=4)
    with pytest.raises(ValueError, match="labels .*maybe.* that the fit did not see"):
        est.loo(frame[columns], wrong)


# -- the count and robust families, with an offset (issue 23 on issue 21's Dask fits) ----------------
EXPOSURE = np.log(rng.uniform(0.5, 2.0, N))
MEAN_COUNT = np.exp(0.8 + X @ [0.3, -0.15, 0.0, 0.1] + EXPOSURE)
COUNTS = rng.poisson(rng.gamma(2.0, MEAN_COUNT / 2.0)).astype(float)  # negative binomial, phi = 2
COUNT_FITS = {"poisson": lambda: br.PoissonRegression(br.Normal(1.0, autoscale=True), method="surrogate"),
              "negative_binomial": lambda: br.NegativeBinomialRegression(br.Normal(1.0, autoscale=True),
                                                                         method="surrogate"),
              "negative_binomial_fixed_phi": lambda: br.NegativeBinomialRegression(br.Normal(1.0, autoscale=True),
                                                                                   phi=3.0, method="surrogate")}


def _count_frame(npartitions=4):
    columns = [f"x{j}" for j in range(P)]
    frame = dd.from_pandas(pd.DataFrame(X, columns=columns).assign(count=COUNTS, exposure=EXPOSURE),
                           npartitions=npartitions)
    return frame[columns], frame["count"], frame["exposure"], pd.DataFrame(X, columns=columns)


@pytest.mark.parametrize("fit", COUNT_FITS)
def test_count_fit_on_dask_loo_and_r2_with_offset_equal_the_in_memory_ones(fit):
    """The surrogate fitted on the Dask frame (offset a column of it); LOO and R^2 of the same draws
    on the frame, on a Dask array with a NumPy offset, and in memory: the same numbers to 1e-10."""
    X_frame, y_frame, offset_frame, X_pandas = _count_frame()
    est = COUNT_FITS[fit]().fit(X_frame, y_frame, offset=offset_frame, draws=200, tune=200, chains=2,
                                random_seed=shifted(3), progressbar=False)
    in_memory = est.loo(X_pandas, COUNTS, offset=EXPOSURE)
    _assert_same_loo(est.loo(X_frame, y_frame, offset=offset_frame), in_memory)
    X_dask = da.from_array(X, chunks=(UNEVEN, 2))
    _assert_same_loo(est.loo(X_dask, da.from_array(COUNTS, chunks=250), offset=EXPOSURE), in_memory)
    r2 = est.bayes_r2(X_pandas, offset=EXPOSURE)
    np.testing.assert_allclose(est.bayes_r2(X_frame, offset=offset_frame), r2, rtol=1e-10)
    np.testing.assert_allclose(est.bayes_r2(X_dask, offset=da.from_array(EXPOSURE, chunks=300)), r2, rtol=1e-10)
    # the offset matters (so the equalities above are not both without it)
    assert not np.allclose(est.bayes_r2(X_dask), r2, rtol=1e-3)
    with pytest.raises(ValueError, match="Poisson regression needs counts|counts in y"):
        est.loo(X_frame, y_frame + 0.5, offset=offset_frame)
    with pytest.raises(ValueError, match="with a Dask DataFrame X, give offset as a Dask Series"):
        est.loo(X_frame, y_frame, offset=EXPOSURE)


def test_student_t_fit_in_memory_assessed_on_dask_rows():
    """Student-t fits in memory only; its LOO and R^2 on Dask rows read (sigma, nu) from the draws."""
    est = br.StudentTRegression(br.Normal(1.0, autoscale=True)).fit(X, y, draws=150, tune=150, chains=2,
                                                                    random_seed=shifted(4), progressbar=False)
    X_dask, y_dask = da.from_array(X, chunks=(UNEVEN, 2)), da.from_array(y, chunks=(UNEVEN,))
    _assert_same_loo(est.loo(X_dask, y_dask), est.loo(X, y))
    np.testing.assert_allclose(est.bayes_r2(X_dask), est.bayes_r2(X), rtol=1e-10)
