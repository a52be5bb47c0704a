"""Edge cases: p > n, collinear, constant and badly scaled columns, dtypes, failures mid-fit."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import Lasso, Ridge
from sklearn.linear_model import LogisticRegression as SkLogistic

import bayesreg as br
from bayesreg.families.bernoulli import logistic_neg_log_posterior
from bayesreg.families.gaussian import linear_neg_log_posterior
from bayesreg.sampling import SamplingWarning
from seeds import shifted

MAP_PRIORS = [br.Normal(1.0), br.Laplace(0.5), br.ElasticNet(0.5, 1.0)]
ALL_PRIORS = MAP_PRIORS + [br.Horseshoe(), br.RegularizedHorseshoe(2)]


def wide(seed=0, n=15, p=40):
    rng = np.random.default_rng(shifted(seed))
    X = rng.normal(size=(n, p))
    return X, X[:, 0] * 2 - X[:, 1] + rng.normal(scale=0.3, size=n)


@pytest.mark.parametrize("prior", MAP_PRIORS)
def test_p_greater_than_n_map(prior):
    X, y = wide()
    lin = br.LinearRegression(prior, sigma=0.3).fit(X, y, method="map")
    clf = br.LogisticRegression(prior).fit(X, y > 0, method="map")
    for fit in (lin, clf):
        assert np.all(np.isfinite(fit.coef_)) and np.isfinite(fit.intercept_)


@pytest.mark.slow
@pytest.mark.parametrize("prior", ALL_PRIORS, ids=lambda p: type(p).__name__)
def test_p_greater_than_n_nuts(prior):
    X, y = wide()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        fit = br.LinearRegression(prior).fit(X, y, draws=200, tune=300, chains=2, random_seed=shifted(0),
                                             progressbar=False)
    assert fit.idata_["posterior"]["coef"].shape == (2, 200, 40)
    assert np.all(np.isfinite(fit.coef_))
    assert abs(fit.coef_[0]) > abs(fit.coef_[2:]).max()  # the strongest signal stands out


def test_duplicated_column_ridge_splits_the_weight():
    X, y = wide(n=50, p=3)
    X = np.column_stack([X, X[:, 0]])
    fit = br.LinearRegression(br.Normal(1.0), sigma=1.0).fit(X, y, method="map")
    assert fit.coef_[0] == pytest.approx(fit.coef_[3], rel=1e-10)
    ref = Ridge(alpha=1.0).fit(X, y)
    np.testing.assert_allclose(fit.coef_, ref.coef_, rtol=1e-8)


@pytest.mark.parametrize("prior", [br.Laplace(0.2), br.ElasticNet(0.2, 5.0)])
def test_duplicated_column_l1_reaches_the_optimum(prior):
    """The lasso optimum is not unique with a duplicated column; its value is."""
    X, y = wide(n=50, p=3)
    X = np.column_stack([X, X[:, 0]])
    fit = br.LinearRegression(prior, sigma=1.0).fit(X, y, method="map")
    n = len(y)
    if isinstance(prior, br.Laplace):  # 1/(2n)||r||^2 + alpha |w|_1 with alpha = sigma^2 / (n b)
        sk = Lasso(alpha=prior.l1 / n, tol=1e-14, max_iter=10**6).fit(X, y)
    else:  # alpha r = l1 / n, alpha (1 - r) = l2 / n
        sk = SkElasticNet(alpha=(prior.l1 + prior.l2) / n, l1_ratio=prior.l1 / (prior.l1 + prior.l2), tol=1e-14,
                          max_iter=10**6).fit(X, y)
        # the L2 part makes the optimum unique even with the duplicated column: the two split it evenly
        np.testing.assert_allclose(fit.coef_, sk.coef_, rtol=1e-6, atol=1e-9)
        assert fit.coef_[0] == pytest.approx(fit.coef_[3], rel=1e-10)
    ours = linear_neg_log_posterior(X, y, prior, fit.coef_, fit.intercept_, 1.0)
    theirs = linear_neg_log_posterior(X, y, prior, sk.coef_, sk.intercept_, 1.0)
    assert ours <= theirs + 1e-9 * abs(theirs)


def test_constant_column_gets_no_weight():
    X, y = wide(n=50, p=3)
    X = np.column_stack([X, np.full(50, 7.0)])
    for prior in MAP_PRIORS:
        fit = br.LinearRegression(prior, sigma=1.0).fit(X, y, method="map")
        assert abs(fit.coef_[3]) < 1e-12


@pytest.mark.parametrize("prior", [br.Normal(1.0), br.Laplace(1.0)])
def test_separable_logistic_map_is_finite(prior):
    rng = np.random.default_rng(shifted(1))
    X = rng.normal(size=(40, 3))
    y = X[:, 0] > 0  # perfectly separable
    fit = br.LogisticRegression(prior).fit(X, y, method="map")
    assert np.all(np.isfinite(fit.coef_)) and np.abs(fit.coef_).max() < 100
    if isinstance(prior, br.Normal):
        sk = SkLogistic(C=1.0, solver="newton-cholesky", tol=1e-14).fit(X, y)
        np.testing.assert_allclose(fit.coef_, sk.coef_[0], rtol=1e-7)


def test_wildly_different_column_scales():
    rng = np.random.default_rng(shifted(2))
    Z = rng.normal(size=(80, 3))
    X = Z * [1e-6, 1.0, 1e6]
    y = Z @ [1.0, -1.0, 0.5] + rng.normal(scale=0.1, size=80)
    fit = br.LinearRegression(br.Normal(1e7), sigma=0.1).fit(X, y, method="map")
    ref = Ridge(alpha=0.1**2 / 1e14, solver="svd").fit(X, y)
    np.testing.assert_allclose(fit.coef_ * [1e-6, 1.0, 1e6], ref.coef_ * [1e-6, 1.0, 1e6], rtol=1e-6, atol=1e-8)
    lasso = br.LinearRegression(br.Laplace(1.0), sigma=0.1).fit(X, y, method="map")
    assert np.all(np.isfinite(lasso.coef_))


@pytest.mark.parametrize("convert", [
    lambda X: X.astype(np.float32),
    lambda X: np.round(X * 10).astype(int),
    lambda X: X > 0,
    lambda X: pd.DataFrame(np.round(X * 10).astype(int)).astype("Int64"),
    lambda X: pd.DataFrame(X).astype("Float64"),
    lambda X: pd.DataFrame(X > 0).astype("boolean"),
], ids=["float32", "int", "bool", "Int64", "Float64", "boolean"])
def test_input_dtypes_give_the_float64_answer(convert):
    X, y = wide(n=60, p=4)
    converted = convert(X)
    as_float = np.asarray(pd.DataFrame(converted).to_numpy(dtype=float))
    ours = br.LinearRegression(br.Normal(1.0), sigma=1.0).fit(converted, y, method="map")
    ref = br.LinearRegression(br.Normal(1.0), sigma=1.0).fit(as_float, y, method="map")
    np.testing.assert_array_equal(ours.coef_, ref.coef_)


@pytest.mark.parametrize("target", [
    lambda y: pd.Series(y > 0),
    lambda y: pd.Series(np.where(y > 0, "yes", "no")),
    lambda y: pd.Series(y > 0).astype("boolean"),
    lambda y: pd.Series((y > 0).astype(int)),
    lambda y: pd.Series((y > 0).astype(int)).astype("Int64"),
], ids=["bool-series", "string-series", "nullable-boolean", "int-series", "nullable-int"])
def test_classifier_targets(target):
    X, y = wide(n=60, p=4)
    fit = br.LogisticRegression(br.Normal(1.0)).fit(X, target(y), method="map")
    ref = br.LogisticRegression(br.Normal(1.0)).fit(X, (y > 0).astype(int), method="map")
    np.testing.assert_allclose(fit.coef_, ref.coef_, rtol=1e-12)
    sklearn_classes = SkLogistic().fit(X, target(y)).classes_
    np.testing.assert_array_equal(fit.classes_, sklearn_classes)
    if not isinstance(target(y).dtype, pd.api.extensions.ExtensionDtype):  # sklearn makes nullable ones float
        assert fit.classes_.dtype.kind == sklearn_classes.dtype.kind  # labels keep their type: 1, not 1.0


@pytest.mark.parametrize("failure", [KeyboardInterrupt, FloatingPointError])
def test_a_failing_sampler_leaves_the_previous_fit(monkeypatch, failure):
    import bayesreg.sampling

    X, y = wide(n=60, p=4)
    fit = br.LinearRegression(br.Normal(1.0), sigma=1.0).fit(X, y, method="map")
    before = {k: v for k, v in vars(fit).items() if k.endswith("_")}

    def broken(*args, **kwargs):
        raise failure("chain 2 returned NaN" if failure is FloatingPointError else "")

    monkeypatch.setattr(bayesreg.sampling, "sample_posterior", broken)
    with pytest.raises(failure):
        fit.fit(X * 2, y, method="nuts")
    after = {k: v for k, v in vars(fit).items() if k.endswith("_")}
    assert after.keys() == before.keys() and after["method_"] == "map"
    np.testing.assert_array_equal(after["coef_"], before["coef_"])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(3, 30), p=st.integers(1, 12),
       scale=st.floats(1e-2, 1e2), sigma=st.floats(1e-2, 1e2))
def test_property_ridge_map_is_the_normal_equations(seed, n, p, scale, sigma):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(n, p)), rng.normal(size=n)
    fit = br.LinearRegression(br.Normal(scale), sigma=sigma).fit(X, y, method="map")
    Xc, yc = X - X.mean(0), y - y.mean()
    A = Xc.T @ Xc + (sigma / scale) ** 2 * np.eye(p)
    expected = np.linalg.solve(A, Xc.T @ yc)
    tol = 1e-9 * np.linalg.cond(A) * max(1.0, np.abs(expected).max())
    assert np.abs(fit.coef_ - expected).max() <= tol
    assert fit.predict(X).shape == (n,) and np.all(np.isfinite(fit.predict(X)))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(4, 40), p=st.integers(1, 8), scale=st.floats(0.05, 20.0),
       laplace=st.booleans())
def test_property_logistic_map_is_optimal(seed, n, p, scale, laplace):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = np.arange(n) % 2  # both classes always present
    prior = br.Laplace(scale) if laplace else br.Normal(scale)
    fit = br.LogisticRegression(prior).fit(X, y, method="map")
    best = logistic_neg_log_posterior(X, y, prior, fit.coef_, fit.intercept_)
    for step in 1e-4 * rng.normal(size=(10, p + 1)):
        assert logistic_neg_log_posterior(X, y, prior, fit.coef_ + step[1:], fit.intercept_ + step[0]) >= best - 1e-10
    proba = fit.predict_proba(X)
    assert proba.shape == (n, 2) and np.all(np.isfinite(proba))


@pytest.mark.parametrize("failure", [RuntimeError("coordinate descent did not converge"), FloatingPointError("boom")])
def test_a_failing_map_solver_does_not_stop_nuts(monkeypatch, failure):
    """Issue 13 item 1: a MAP failure took the default NUTS fit with it. Now it warns and samples."""
    import bayesreg.estimators
    import bayesreg.sampling

    class Sampled(Exception):
        pass

    def broken_map(*args, **kwargs):
        raise failure

    def sampler_reached(*args, **kwargs):
        raise Sampled  # stands in for NUTS: reaching it is what is tested, without a compile

    monkeypatch.setattr(bayesreg.estimators.logistic, "logistic_map", broken_map)
    monkeypatch.setattr(bayesreg.sampling, "sample_posterior", sampler_reached)
    X, y = wide(n=60, p=4)
    with pytest.warns(br.MAPFailureWarning, match=f"MAP .*failed.*{type(failure).__name__}: {failure}"):
        with pytest.raises(Sampled):
            br.LogisticRegression(br.Laplace(1.0)).fit(X, y > 0)
    with pytest.raises(type(failure)):  # method='map' still reports the failure itself
        br.LogisticRegression(br.Laplace(1.0)).fit(X, y > 0, method="map")
