"""Every convention converts exactly and round-trips."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import Lasso, LogisticRegression, Ridge

import bayesreg as br
from seeds import shifted

positive = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)
ratio = st.floats(min_value=0.01, max_value=0.99)


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-12)


@given(lam=positive)
def test_textbook_l2_round_trip(lam):
    prior = br.prior_from_penalty("l2", lam)
    assert close(prior.scale, math.sqrt(1 / (2 * lam)))
    kind, back = br.penalty_from_prior(prior)
    assert kind == "l2" and close(back, lam)


@given(lam=positive)
def test_textbook_l1_round_trip(lam):
    prior = br.prior_from_penalty("l1", lam)
    assert close(prior.scale, 1 / lam)
    kind, back = br.penalty_from_prior(prior)
    assert kind == "l1" and close(back, lam)


@given(lam1=positive, lam2=positive)
def test_textbook_elasticnet_round_trip(lam1, lam2):
    kind, (b1, b2) = br.penalty_from_prior(br.prior_from_penalty("elasticnet", (lam1, lam2)))
    assert kind == "elasticnet" and close(b1, lam1) and close(b2, lam2)


@pytest.fixture(scope="module")
def small_classification():
    rng = np.random.default_rng(shifted(6))
    X = rng.normal(size=(80, 4))
    y = (rng.random(80) < 1 / (1 + np.exp(-(X @ [1.5, -1.0, 0.0, 0.2])))).astype(int)
    return X, y


@pytest.mark.parametrize("kind,lam", [("l2", 0.7), ("l1", 3.0), ("elasticnet", (2.0, 0.4))])
def test_textbook_penalty_is_what_the_map_minimises(small_classification, kind, lam):
    """Independent of the conversion formulas: the MAP under prior_from_penalty(kind, lam) meets the
    optimality conditions of the textbook objective NLL(w) + lam1 ||w||_1 + lam2 ||w||^2, written
    out here (NLL = summed log-loss, its gradient X'(mu - y)): g_j + lam1 sign(w_j) + 2 lam2 w_j = 0
    where w_j != 0, |g_j| <= lam1 where w_j = 0.

    The zero branch must be exercised whatever the seed: a fifth column of sd 0.01 has, at any w,
    |g_5| <= ||x_5|| ||mu - y|| <= ||x_5|| sqrt(n) (Cauchy-Schwarz), about 0.09 x 8.9 = 0.8, below
    lam1 = 2 or 3, so its coefficient is exactly 0 under the L1 penalties. To fail, ||x_5||^2 would
    need 0.01^2 chi-square(80) > (2 / sqrt(80))^2, i.e. chi-square(80) > 500: below 1e-50 (Chernoff)."""
    X, y = small_classification
    X = np.column_stack([X, 0.01 * np.random.default_rng(shifted(11)).normal(size=len(y))])
    lam1, lam2 = {"l2": (0.0, lam), "l1": (lam, 0.0)}.get(kind, lam)
    fit = br.LogisticRegression(br.prior_from_penalty(kind, lam), fit_intercept=False).fit(X, y, method="map")
    w = fit.coef_
    g = X.T @ (1 / (1 + np.exp(-(X @ w))) - y)
    active = w != 0
    np.testing.assert_allclose(g[active] + lam1 * np.sign(w[active]) + 2 * lam2 * w[active], 0.0, atol=1e-9)
    assert np.all(np.abs(g[~active]) <= lam1 + 1e-9)
    if kind != "l2":
        assert not active[-1]  # the L1 part zeroes the small column (docstring), so both branches run


@given(alpha=positive, sigma=positive)
def test_ridge_round_trip(alpha, sigma):
    prior = br.prior_from_sklearn(Ridge(alpha=alpha), sigma=sigma)
    assert close(prior.scale, sigma / math.sqrt(alpha))
    assert close(br.penalty_from_prior(prior, "Ridge", sigma=sigma)["alpha"], alpha)


@given(alpha=positive, sigma=positive, n=st.integers(1, 10**7))
def test_lasso_round_trip(alpha, sigma, n):
    prior = br.prior_from_sklearn(Lasso(alpha=alpha), n_samples=n, sigma=sigma)
    assert close(prior.scale, sigma**2 / (n * alpha))
    assert close(br.penalty_from_prior(prior, "Lasso", n_samples=n, sigma=sigma)["alpha"], alpha)


@given(alpha=positive, r=ratio, sigma=positive, n=st.integers(1, 10**7))
def test_elasticnet_round_trip(alpha, r, sigma, n):
    prior = br.prior_from_sklearn(SkElasticNet(alpha=alpha, l1_ratio=r), n_samples=n, sigma=sigma)
    back = br.penalty_from_prior(prior, "ElasticNet", n_samples=n, sigma=sigma)
    assert close(back["alpha"], alpha) and math.isclose(back["l1_ratio"], r, rel_tol=1e-10)


@given(C=positive, r=st.sampled_from([0.0, 1.0]) | ratio)
def test_logistic_round_trip(C, r):
    prior = br.prior_from_sklearn(LogisticRegression(C=C, l1_ratio=r))
    expected = {0.0: br.Normal, 1.0: br.Laplace}.get(r, br.ElasticNet)
    assert type(prior) is expected
    back = br.penalty_from_prior(prior, "LogisticRegression")
    assert close(back["C"], C) and math.isclose(back["l1_ratio"], r, rel_tol=1e-10, abs_tol=1e-15)


def test_logistic_documented_values():
    assert br.prior_from_sklearn(LogisticRegression(C=4.0)) == br.Normal(2.0)
    assert br.prior_from_sklearn(LogisticRegression(C=4.0, l1_ratio=1.0)) == br.Laplace(4.0)


@pytest.mark.parametrize("estimator,kwargs,missing", [
    (Ridge(alpha=1.0), {}, "sigma"),
    (Lasso(alpha=1.0), {"sigma": 1.0}, "n_samples"),
    (Lasso(alpha=1.0), {"n_samples": 10}, "sigma"),
    (SkElasticNet(alpha=1.0), {"sigma": 1.0}, "n_samples"),
])
def test_missing_sigma_or_n_is_an_error_not_a_guess(estimator, kwargs, missing):
    with pytest.raises(ValueError, match=missing):
        br.prior_from_sklearn(estimator, **kwargs)


def test_penalty_from_prior_needs_sigma_for_linear_models():
    with pytest.raises(ValueError, match="sigma"):
        br.penalty_from_prior(br.Normal(1.0), "Ridge")
    with pytest.raises(ValueError, match="n_samples"):
        br.penalty_from_prior(br.Laplace(1.0), "Lasso", sigma=1.0)


def test_unconvertible_inputs():
    with pytest.raises(ValueError, match="no penalty"):
        br.penalty_from_prior(br.Horseshoe())
    with pytest.raises(TypeError, match="cannot convert"):
        br.prior_from_sklearn(object())
    with pytest.raises(ValueError, match="liblinear"):
        br.prior_from_sklearn(LogisticRegression(solver="liblinear"))
    with pytest.raises(ValueError, match="> 0"):
        br.prior_from_sklearn(LogisticRegression(C=np.inf))
    with pytest.raises(ValueError, match="unknown penalty"):
        br.prior_from_penalty("l3", 1.0)
    with pytest.raises(ValueError, match="Lasso cannot"):
        br.penalty_from_prior(br.Normal(1.0), "Lasso", sigma=1.0, n_samples=10)


@pytest.mark.parametrize("estimator,kwargs,setting", [
    (Ridge(positive=True), {"sigma": 1.0}, r"positive=True"),
    (Lasso(positive=True), {"sigma": 1.0, "n_samples": 10}, r"positive=True"),
    (SkElasticNet(positive=True), {"sigma": 1.0, "n_samples": 10}, r"positive=True"),
    (LogisticRegression(class_weight="balanced"), {}, r"class_weight='balanced'"),
    (LogisticRegression(class_weight={0: 1.0, 1: 3.0}), {}, r"class_weight="),
    (Ridge(fit_intercept=False), {"sigma": 1.0}, r"fit_intercept=False\) differs from fit_intercept=True"),
    (LogisticRegression(), {"fit_intercept": False}, r"fit_intercept=True\) differs from fit_intercept=False"),
    (Ridge(), {"sigma": 1.0, "sample_weight": [1.0, 2.0, 1.0]}, r"sample_weight"),
], ids=["ridge-positive", "lasso-positive", "enet-positive", "class-weight-balanced", "class-weight-dict",
        "intercept-theirs-off", "intercept-ours-off", "sample-weight"])
def test_settings_that_change_the_objective_are_refused_by_name(estimator, kwargs, setting):
    """Issue 13 item 4: these were silently ignored and gave a prior whose MAP is another solution."""
    with pytest.raises(ValueError, match=setting):
        br.prior_from_sklearn(estimator, **kwargs)


def test_matching_fit_intercept_false_reproduces_sklearn(diabetes):
    """The accepted counterpart of the refusal: both without intercept, same solution (scikit-learn)."""
    X, y = diabetes
    sk = Ridge(alpha=0.3, fit_intercept=False).fit(X, y)
    prior = br.prior_from_sklearn(sk, sigma=50.0, fit_intercept=False)
    ours = br.LinearRegression(prior, sigma=50.0, fit_intercept=False).fit(X, y, method="map")
    np.testing.assert_allclose(ours.coef_, sk.coef_, rtol=1e-9)
    assert br.prior_from_sklearn(Ridge(), sigma=1.0, sample_weight=np.ones(5)) == br.Normal(1.0)


@pytest.mark.parametrize("scalar", [np.float32, np.int64, np.float64, int])
def test_numpy_scalar_penalties_are_accepted(scalar):
    """Issue 13 item 4: np.float32 / np.int64 alphas raised 'must be a single number'."""
    assert br.prior_from_sklearn(Ridge(alpha=scalar(4)), sigma=2.0) == br.Normal(1.0)  # 2 / sqrt(4)
    assert br.prior_from_sklearn(Lasso(alpha=scalar(2)), n_samples=8, sigma=4.0) == br.Laplace(1.0)  # 16/(8*2)
    assert br.prior_from_sklearn(LogisticRegression(C=scalar(4))) == br.Normal(2.0)
    with pytest.raises(TypeError, match="single number"):
        br.prior_from_sklearn(Ridge(alpha=np.array([1.0, 2.0])), sigma=1.0)


def test_fitted_cross_validated_estimators_convert_through_their_choice(diabetes):
    from sklearn.linear_model import LassoCV, RidgeCV

    X, y = diabetes
    ridge = RidgeCV(alphas=[0.1, 1.0, 10.0]).fit(X, y)
    assert br.prior_from_sklearn(ridge, sigma=2.0) == br.prior_from_sklearn(Ridge(alpha=ridge.alpha_), sigma=2.0)
    lasso = LassoCV(cv=3).fit(X, y)
    assert br.prior_from_sklearn(lasso, n_samples=len(y), sigma=2.0) == br.prior_from_sklearn(
        Lasso(alpha=lasso.alpha_), n_samples=len(y), sigma=2.0)
    with pytest.raises(ValueError, match="fitted first"):
        br.prior_from_sklearn(RidgeCV(), sigma=1.0)


@pytest.mark.parametrize("prior,text", [
    (br.Laplace(11.312217194570136), "Laplace(scale=11.31)"),
    (br.RegularizedHorseshoe(3, slab_scale=1618.953), "RegularizedHorseshoe(expected_nonzero=3, slab_scale=1619, slab_df=4)"),
    (br.Horseshoe(), "Horseshoe(scale=None)"),
])
def test_priors_print_short_and_repr_exact(prior, text):
    assert str(prior) == text
    assert eval(repr(prior), {**vars(br)}) == prior  # repr round-trips to the same prior


def test_repr_leaves_out_the_internal_factor_and_still_rebuilds(diabetes):
    """Issue 20: reprs showed an unexplained ``factor=1.0`` (and ``autoscale=False``), in the
    estimator's repr and in the fitted ``prior_`` after autoscale. They are left out at their
    class defaults; a factor that says something (autoscale's multipliers of a learned scale) stays, and
    arrays are written in full so that the repr rebuilds the prior exactly (numpy's rounds to 8 digits)."""
    learned = br.Normal(br.HalfCauchy(1.0))
    assert repr(learned) == "Normal(scale=HalfCauchy(scale=1.0))"
    assert repr(br.LinearRegression(learned)) == "LinearRegression(prior=Normal(scale=HalfCauchy(scale=1.0)))"
    X, y = diabetes
    resolved = br.LinearRegression().fit(X, y, method="map").prior_  # Normal(2.5, autoscale=True) resolved
    assert "factor" not in repr(resolved) and "factor" not in str(resolved) and "autoscale" not in repr(resolved)
    with_factor = br.Normal(br.HalfCauchy(1.0), factor=[0.5, 2.0])
    assert repr(with_factor) == "Normal(scale=HalfCauchy(scale=1.0), factor=array([0.5, 2.0]))"
    for prior in (learned, resolved, with_factor, br.Normal(2.5, autoscale=True)):
        assert eval(repr(prior), {**vars(br), "array": np.array}) == prior
