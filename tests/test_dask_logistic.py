"""LogisticRegression on Dask input: the same MAP, log-likelihoods and predictions as in NumPy."""

import numpy as np
import pandas as pd
import pytest

import bayesreg as br
from bayesreg.data.logistic_passes import binary_data, dask_draws_log_likelihood, draws_log_likelihood
from seeds import shifted

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def labelled():
    rng = np.random.default_rng(shifted(8))
    n, p = 3000, 4
    X = rng.normal(size=(n, p))
    positive = rng.random(n) < 1 / (1 + np.exp(-(0.5 + X @ [1.0, -1.0, 0.5, 0.0])))
    frame = pd.DataFrame(X, columns=list("abcd")).assign(label=np.where(positive, "yes", "no"))
    return frame


def _dask(frame, npartitions=5):
    data = dd.from_pandas(frame, npartitions=npartitions)
    return data[list("abcd")], data["label"]


@pytest.mark.parametrize("prior", [br.Normal(0.5), br.Laplace(0.1)])
def test_dask_logistic_map_equals_numpy(client, labelled, prior):
    expected = br.LogisticRegression(prior, method="map").fit(labelled[list("abcd")], labelled["label"])
    got = br.LogisticRegression(prior, method="map").fit(*_dask(labelled))
    np.testing.assert_allclose(got.coef_, expected.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got.intercept_, expected.intercept_, rtol=1e-10)
    assert list(got.classes_) == ["no", "yes"] and got.feature_names_ == list("abcd")
    X_dask = _dask(labelled)[0]
    proba = got.predict_proba(X_dask)
    assert type(proba).__module__.startswith("dask")
    np.testing.assert_allclose(proba.compute(), expected.predict_proba(labelled[list("abcd")]), rtol=1e-10)
    np.testing.assert_array_equal(got.predict(X_dask).compute(), expected.predict(labelled[list("abcd")]))


def test_exact_log_likelihood_per_draw_equals_numpy(client, labelled):
    rng = np.random.default_rng(shifted(0))
    coef, intercept = rng.normal(size=(50, 4)), rng.normal(size=50)
    X = labelled[list("abcd")].to_numpy()
    y01 = (labelled["label"] == "yes").to_numpy(dtype=float)
    direct = np.array([np.sum(y01 * (b + X @ w) - np.logaddexp(0, b + X @ w)) for w, b in zip(coef, intercept)])
    # the float32 term's bound (draws_log_likelihood's docstring): at most 2e-7 per row
    bound = 2e-7 * len(y01)
    np.testing.assert_allclose(draws_log_likelihood(X, y01, coef, intercept), direct, rtol=0, atol=bound)
    data = binary_data(*_dask(labelled, npartitions=7))
    np.testing.assert_allclose(dask_draws_log_likelihood(data, coef, intercept), direct, rtol=0, atol=bound)


def test_missing_label_in_a_late_block_is_a_clear_error(client, labelled):
    frame = labelled.copy()
    frame.loc[len(frame) - 2, "label"] = None
    est = br.LogisticRegression(method="map")
    with pytest.raises(ValueError, match=r"y contains missing values \(None/NaN/NA\) \(row block 4\)"):
        est.fit(*_dask(frame))
    assert not hasattr(est, "coef_")


def test_three_classes_is_a_clear_error(client, labelled):
    frame = labelled.copy()
    frame.loc[5, "label"] = "maybe"
    with pytest.raises(ValueError, match="exactly two classes"):
        br.LogisticRegression(method="map").fit(*_dask(frame))


def test_surrogate_on_dask_input(client, labelled):
    est = br.LogisticRegression(br.Normal(1.0), method="surrogate").fit(*_dask(labelled), draws=500, tune=500,
                                                                        random_seed=shifted(4), progressbar=False)
    memory = br.LogisticRegression(br.Normal(1.0), method="surrogate").fit(
        labelled[list("abcd")], labelled["label"], draws=500, tune=500, random_seed=shifted(4), progressbar=False)
    assert est.idata_.attrs["pareto_k"] < 0.5
    np.testing.assert_allclose(est.map_.coef, memory.map_.coef, rtol=1e-10)
    assert est.summary().attrs["pareto_k"] == est.idata_.attrs["pareto_k"]
