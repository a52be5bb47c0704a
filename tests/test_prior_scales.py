"""Per-coefficient scales and autoscale: MAP against scikit-learn on rescaled columns, exactly.

A prior with scale ``s_j`` on coefficient ``w_j`` is the same problem as scale 1 on the rescaled
column ``x_j s_j`` (coefficient ``w_j / s_j``), so every reference here is a scikit-learn fit on
rescaled or standardized columns. The MAP solvers are exact (closed form or finite active set),
scikit-learn's iterative ones are run to ``tol=1e-12``; 1e-6 relative leaves room for the latter only.
"""

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso, LogisticRegression, Ridge

import bayesreg as br
from seeds import shifted

SIGMA = 1.3


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(shifted(11))
    X = rng.normal(size=(60, 5)) * [1.0, 20.0, 0.05, 3.0, 1.0]
    y = 1.0 + X @ [0.5, -0.05, 10.0, 0.3, 0.0] + rng.normal(scale=SIGMA, size=60)
    return X, y


SCALES = np.array([0.3, 0.02, 5.0, 1.0, 0.7])


def test_per_coefficient_normal_is_ridge_on_rescaled_columns(data):
    X, y = data
    fit = br.LinearRegression(br.Normal(SCALES), sigma=SIGMA).fit(X, y, method="map")
    ref = Ridge(alpha=SIGMA**2).fit(X * SCALES, y)  # ||r||^2 + sigma^2 sum (w_j / s_j)^2
    np.testing.assert_allclose(fit.coef_, ref.coef_ * SCALES, rtol=1e-9)
    np.testing.assert_allclose(fit.intercept_, ref.intercept_, rtol=1e-9)


def test_per_coefficient_normal_when_p_exceeds_n(wide_problem):
    X, y = wide_problem
    scales = np.linspace(0.1, 2.0, X.shape[1])
    fit = br.LinearRegression(br.Normal(scales), sigma=0.5).fit(X, y, method="map")  # the dual solve
    ref = Ridge(alpha=0.25, solver="svd").fit(X * scales, y)
    np.testing.assert_allclose(fit.coef_, ref.coef_ * scales, rtol=1e-8, atol=1e-12)


def test_per_coefficient_laplace_is_lasso_on_rescaled_columns(data):
    X, y = data
    n = len(y)
    fit = br.LinearRegression(br.Laplace(SCALES * 0.05), sigma=SIGMA).fit(X, y, method="map")
    Z = X * SCALES * 0.05
    ref = Lasso(alpha=SIGMA**2 / n, tol=1e-14, max_iter=1_000_000).fit(Z, y)
    np.testing.assert_allclose(fit.coef_, ref.coef_ * SCALES * 0.05, rtol=1e-6, atol=1e-9)
    assert np.array_equal(fit.coef_ == 0, ref.coef_ == 0)


def test_per_coefficient_logistic_normal_is_sklearn_on_rescaled_columns(breast_cancer):
    X, y = breast_cancer
    X = X[:, :6]
    scales = np.array([0.5, 2.0, 0.1, 1.0, 3.0, 0.05])
    fit = br.LogisticRegression(br.Normal(scales)).fit(X, y, method="map")
    ref = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-14, max_iter=1000).fit(X * scales, y)  # C=1: 1/2 ||w/s||^2
    np.testing.assert_allclose(fit.coef_, ref.coef_[0] * scales, rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda s: br.Laplace(0.5 * s), lambda s: br.ElasticNet(0.5 * s, 2.0 * s)])
def test_per_coefficient_l1_logistic_equals_scalar_prior_on_rescaled_columns(breast_cancer, make):
    """The scalar L1 path is checked against scikit-learn in test_map_logistic; a per-coefficient
    prior must be exactly that path on the rescaled columns."""
    X, y = breast_cancer
    X = X[:, :6]
    scales = np.array([0.5, 2.0, 0.1, 1.0, 3.0, 0.05])
    fit = br.LogisticRegression(make(scales)).fit(X, y, method="map")
    ref = br.LogisticRegression(make(1.0)).fit(X * scales, y, method="map")
    np.testing.assert_allclose(fit.coef_, ref.coef_ * scales, rtol=1e-8, atol=1e-12)


def test_per_coefficient_neg_log_density_is_scipy(data):
    w = np.array([0.3, -1.0, 2.0, 0.0, 5.0])
    assert br.Normal(SCALES).neg_log_density(w) == pytest.approx(-stats.norm(0, SCALES).logpdf(w).sum(), rel=1e-13)
    assert br.Laplace(SCALES).neg_log_density(w) == pytest.approx(-stats.laplace(0, SCALES).logpdf(w).sum(),
                                                                  rel=1e-13)
    mixed = br.ElasticNet(SCALES, SCALES[::-1])
    one_by_one = sum(br.ElasticNet(b, s).neg_log_density([wj]) for b, s, wj in zip(SCALES, SCALES[::-1], w))
    assert mixed.neg_log_density(w) == pytest.approx(one_by_one, rel=1e-13)


def test_per_coefficient_length_is_checked_at_fit(data):
    X, y = data
    est = br.LinearRegression(br.Normal([1.0, 2.0]), sigma=1.0)
    with pytest.raises(ValueError, match="Normal scale has 2 entries but X has 5 features"):
        est.fit(X, y, method="map")


@pytest.mark.parametrize("bad, error, message", [
    ([1.0, -2.0], ValueError, r"entries \[1\]"), ([[1.0]], ValueError, "1-d"), ([], ValueError, "non-empty"),
    (["a"], TypeError, "numbers"), ([1.0, np.nan], ValueError, "finite"), ("2", TypeError, "positive number")])
def test_bad_per_coefficient_scales(bad, error, message):
    with pytest.raises(error, match=message):
        br.Normal(bad)


def test_per_coefficient_penalty_conversions():
    penalty = br.penalty_from_prior(br.Normal(SCALES))
    np.testing.assert_allclose(penalty.lam, 1 / (2 * SCALES**2))
    np.testing.assert_allclose(br.prior_from_penalty("l2", penalty.lam).scale, SCALES, rtol=1e-15)
    np.testing.assert_allclose(br.prior_from_penalty("l1", 1 / SCALES).scale, SCALES, rtol=1e-15)
    with pytest.raises(ValueError, match="per-coefficient scales"):
        br.penalty_from_prior(br.Normal(SCALES), "Ridge", sigma=1.0)


# -- autoscale ------------------------------------------------------------------------------------

@pytest.mark.parametrize("prior", [br.Normal(0.4, autoscale=True), br.Laplace(0.2, autoscale=True),
                                   br.ElasticNet(0.3, 1.0, autoscale=True)])
@pytest.mark.parametrize("sigma", [SIGMA, None])
def test_autoscale_rescaling_a_column_rescales_its_coefficient(data, prior, sigma):
    X, y = data
    c = 37.0
    fit = br.LinearRegression(prior, sigma=sigma).fit(X, y, method="map")
    scaled = X.copy()
    scaled[:, 1] *= c
    refit = br.LinearRegression(prior, sigma=sigma).fit(scaled, y, method="map")
    expected = fit.coef_.copy()
    expected[1] /= c
    np.testing.assert_allclose(refit.coef_, expected, rtol=1e-8, atol=1e-14)


@pytest.mark.parametrize("prior", [br.Normal(0.4, autoscale=True), br.Laplace(0.5, autoscale=True)])
def test_autoscale_logistic_rescaling_a_column_rescales_its_coefficient(breast_cancer, prior):
    X, y = breast_cancer
    X = X[:, :6] * [1.0, 100.0, 0.01, 1.0, 1.0, 1.0]
    fit = br.LogisticRegression(prior).fit(X, y, method="map")
    scaled = X.copy()
    scaled[:, 2] *= 1000.0
    refit = br.LogisticRegression(prior).fit(scaled, y, method="map")
    expected = fit.coef_.copy()
    expected[2] /= 1000.0
    np.testing.assert_allclose(refit.coef_, expected, rtol=1e-8, atol=1e-14)


def standardized(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def test_autoscaled_normal_is_ridge_on_standardized_columns(data):
    """Coefficient v_j of the standardized column is w_j sd(x_j) ~ N(0, (s sd(y))^2)."""
    X, y = data
    s = 0.4
    fit = br.LinearRegression(br.Normal(s, autoscale=True), sigma=SIGMA).fit(X, y, method="map")
    ref = Ridge(alpha=SIGMA**2 / (s * y.std()) ** 2).fit(standardized(X), y)
    np.testing.assert_allclose(fit.coef_, ref.coef_ / X.std(axis=0), rtol=1e-9)
    np.testing.assert_allclose(fit.prior_.scale, s * y.std() / X.std(axis=0), rtol=1e-15)


def test_autoscaled_laplace_is_lasso_on_standardized_columns(data):
    X, y = data
    b, n = 0.05, len(y)
    fit = br.LinearRegression(br.Laplace(b, autoscale=True), sigma=SIGMA).fit(X, y, method="map")
    ref = Lasso(alpha=SIGMA**2 / (n * b * y.std()), tol=1e-14, max_iter=1_000_000).fit(standardized(X), y)
    np.testing.assert_allclose(fit.coef_, ref.coef_ / X.std(axis=0), rtol=1e-6, atol=1e-9)


def test_autoscaled_logistic_is_sklearn_on_standardized_columns(breast_cancer):
    X, y = breast_cancer
    X = X[:, :6] * [1.0, 100.0, 0.01, 1.0, 1.0, 1.0]
    s = 0.7
    fit = br.LogisticRegression(br.Normal(s, autoscale=True)).fit(X, y, method="map")
    ref = LogisticRegression(C=s**2, solver="newton-cholesky", tol=1e-14, max_iter=1000).fit(standardized(X), y)
    np.testing.assert_allclose(fit.coef_, ref.coef_[0] / X.std(axis=0), rtol=1e-6)


def test_default_prior_is_autoscaled_and_works_on_diabetes():
    """Normal(1) on these columns (each of norm 1, effects in the hundreds) is Ridge(alpha ~ 5900) and
    R^2 = 0.000; the autoscaled default is a sensible ridge. OLS reaches R^2 = 0.518 in-sample."""
    X, y = load_diabetes(return_X_y=True)
    fit = br.LinearRegression().fit(X, y, method="map")
    assert fit.score(X, y) >= 0.50
    explicit = br.LinearRegression(br.Normal(2.5, autoscale=True)).fit(X, y, method="map")
    np.testing.assert_array_equal(fit.coef_, explicit.coef_)
    assert fit.prior is None
    np.testing.assert_allclose(fit.prior_.scale, 2.5 * y.std() / X.std(axis=0), rtol=1e-15)
    assert br.LinearRegression(br.Normal(1.0)).fit(X, y, method="map").score(X, y) < 0.001  # the old default


def test_constant_column_under_autoscale_is_an_error(data):
    X, y = data
    X = X.copy()
    X[:, 3] = 4.0
    with pytest.raises(ValueError, match=r"columns \[3\] of X are constant"):
        br.LinearRegression(br.Normal(1.0, autoscale=True), sigma=1.0).fit(X, y, method="map")
    br.LinearRegression(br.Normal(1.0), sigma=1.0).fit(X, y, method="map")  # without autoscale it is fine


def test_prior_is_what_the_fit_used(data):
    X, y = data
    stated = br.Normal(SCALES)
    est = br.LinearRegression(stated, sigma=1.0).fit(X, y, method="map")
    assert est.prior_ is stated  # nothing to resolve
    hierarchical = br.Normal(br.HalfCauchy(1.0), autoscale=True)
    resolved = br.resolve_prior(hierarchical, X, y, "gaussian")
    assert resolved.scale == br.HalfCauchy(1.0) and not resolved.autoscale
    np.testing.assert_allclose(resolved.factor, y.std() / X.std(axis=0), rtol=1e-15)


def test_failed_fit_leaves_the_previous_fit(data):
    X, y = data
    est = br.LinearRegression(br.Normal(1.0, autoscale=True), sigma=1.0).fit(X, y, method="map")
    before = est.coef_.copy(), est.prior_
    est.set_params(prior=br.Normal([1.0, 2.0]))
    with pytest.raises(ValueError, match="entries but X has"):
        est.fit(X, y, method="map")
    np.testing.assert_array_equal(est.coef_, before[0])
    assert est.prior_ == before[1]
