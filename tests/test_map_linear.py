"""The linear MAP is exactly ridge, lasso and elastic net."""

import numpy as np
import pytest
from scipy import optimize, stats
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import Lasso, Ridge

import bayesreg as br
from bayesreg.families.gaussian import linear_neg_log_posterior, sigma_prior_scale
from seeds import shifted

ALPHAS = [1e-4, 1e-2, 0.3, 3.0, 100.0]
SIGMA = 2.5


def closed_form_ridge(X, y, lam):
    """(X'X + lam I)^-1 X'y on centred data, intercept from the means."""
    Xc, yc = X - X.mean(0), y - y.mean()
    w = np.linalg.solve(Xc.T @ Xc + lam * np.eye(X.shape[1]), Xc.T @ yc)
    return w, y.mean() - X.mean(0) @ w


def ridge_map(X, y, alpha):
    prior = br.prior_from_sklearn(Ridge(alpha=alpha), sigma=SIGMA)
    return br.LinearRegression(prior, sigma=SIGMA).fit(X, y, method="map")


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("data", ["diabetes", "wide_problem"])
def test_ridge_map_is_closed_form_and_sklearn(alpha, data, request):
    X, y = request.getfixturevalue(data)
    fit = ridge_map(X, y, alpha)
    w, b = closed_form_ridge(X, y, alpha)
    scale = np.abs(w).max()
    # the reference solve is itself only accurate to ~cond * eps (cond ~ 1e6 for p > n, tiny alpha)
    Xc = X - X.mean(0)
    rtol = max(1e-10, 10 * np.linalg.cond(Xc.T @ Xc + alpha * np.eye(X.shape[1])) * np.finfo(float).eps)
    assert np.abs(fit.coef_ - w).max() <= rtol * scale
    assert abs(fit.intercept_ - b) <= rtol * max(1, abs(b))
    sk = Ridge(alpha=alpha, solver="svd").fit(X, y)
    assert np.abs(fit.coef_ - sk.coef_).max() <= max(1e-8, rtol) * scale
    assert abs(fit.intercept_ - sk.intercept_) <= max(1e-8, rtol) * max(1, abs(b))


def test_textbook_lambda_is_the_ridge_normal_equations(diabetes):
    """NLL + lam ||w||^2 with NLL = RSS / (2 sigma^2): normal equations with 2 sigma^2 lam."""
    X, y = diabetes
    lam = 0.7
    fit = br.LinearRegression(br.prior_from_penalty("l2", lam), sigma=SIGMA).fit(X, y, method="map")
    w, _ = closed_form_ridge(X, y, 2 * SIGMA**2 * lam)
    np.testing.assert_allclose(fit.coef_, w, rtol=1e-10, atol=1e-10 * np.abs(w).max())


def lasso_alpha_max(X, y):
    Xc = X - X.mean(0)
    return np.abs(Xc.T @ (y - y.mean())).max() / len(y)


@pytest.mark.parametrize("fraction", [1e-4, 1e-2, 0.1, 0.5, 0.999, 1.5])
@pytest.mark.parametrize("data", ["diabetes", "wide_problem"])
def test_lasso_map_matches_sklearn_with_identical_zeros(fraction, data, request):
    X, y = request.getfixturevalue(data)
    alpha = fraction * lasso_alpha_max(X, y)
    sk = Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000).fit(X, y)
    prior = br.prior_from_sklearn(sk, n_samples=len(y), sigma=SIGMA)
    assert isinstance(prior, br.Laplace)
    fit = br.LinearRegression(prior, sigma=SIGMA).fit(X, y, method="map")
    np.testing.assert_array_equal(fit.coef_ == 0, sk.coef_ == 0)
    assert np.abs(fit.coef_ - sk.coef_).max() <= 1e-6 * max(1, np.abs(sk.coef_).max())
    assert abs(fit.intercept_ - sk.intercept_) <= 1e-6 * max(1, abs(sk.intercept_))
    if fraction >= 1:
        assert np.all(fit.coef_ == 0)


@pytest.mark.parametrize("alpha,l1_ratio", [(1e-3, 0.2), (0.05, 0.5), (0.5, 0.9), (5.0, 0.5)])
def test_elastic_net_map_matches_sklearn(diabetes, alpha, l1_ratio):
    X, y = diabetes
    sk = SkElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=1_000_000).fit(X, y)
    prior = br.prior_from_sklearn(sk, n_samples=len(y), sigma=SIGMA)
    assert isinstance(prior, br.ElasticNet)
    fit = br.LinearRegression(prior, sigma=SIGMA).fit(X, y, method="map")
    np.testing.assert_array_equal(fit.coef_ == 0, sk.coef_ == 0)
    assert np.abs(fit.coef_ - sk.coef_).max() <= 1e-6 * max(1, np.abs(sk.coef_).max())


def test_lasso_zeros_are_exact_not_tiny(diabetes):
    X, y = diabetes
    fit = br.LinearRegression(br.Laplace(0.05), sigma=SIGMA).fit(X, y, method="map")
    small = np.abs(fit.coef_) < 1e-6
    assert small.any()
    assert np.all(fit.coef_[small] == 0.0)


@pytest.mark.parametrize("prior", [br.Normal(30.0), br.Laplace(20.0), br.ElasticNet(20.0, 30.0)])
def test_joint_map_over_sigma_is_a_mode(diabetes, prior):
    """sigma=None: no coordinate perturbation lowers the exact negative log posterior."""
    X, y = diabetes
    fit = br.LinearRegression(prior).fit(X, y, method="map")
    scale = sigma_prior_scale(y)

    def objective(coef, intercept, sigma):
        return linear_neg_log_posterior(X, y, prior, coef, intercept, sigma, sigma_prior=scale)

    best = objective(fit.coef_, fit.intercept_, fit.sigma_)
    rng = np.random.default_rng(shifted(0))
    for _ in range(50):
        eps = 1e-4 * rng.normal(size=X.shape[1] + 2)
        value = objective(fit.coef_ + eps[2:] * np.abs(fit.coef_).max(), fit.intercept_ + eps[0],
                          fit.sigma_ * (1 + eps[1]))
        assert value >= best - 1e-9 * abs(best)
    # sigma_ is the 1-d mode of the same density written with scipy.stats (the Half-t(4, sd(y)) prior
    # is 2 t_4 on s > 0; the factor 2 does not move the mode), found by a bracketing optimizer
    residual = y - fit.intercept_ - X @ fit.coef_

    def sigma_objective(log_s):
        s = np.exp(log_s)
        return -(stats.norm.logpdf(residual, 0.0, s).sum() + stats.t(4, scale=scale).logpdf(s))

    best_log_sigma = optimize.minimize_scalar(sigma_objective, bracket=(0.0, 4.0, 8.0), tol=1e-12).x
    assert fit.sigma_ == pytest.approx(np.exp(best_log_sigma), rel=1e-7)


def test_joint_map_that_does_not_exist_raises(wide_problem):
    X, y = wide_problem
    with pytest.raises(ValueError, match="does not exist"):
        br.LinearRegression(br.Normal(1.0)).fit(X, y, method="map")
    fit = br.LinearRegression(br.Normal(1.0), sigma=0.5).fit(X, y, method="map")  # known sigma is fine
    assert np.all(np.isfinite(fit.coef_))


def test_no_intercept(diabetes):
    X, y = diabetes
    fit = br.LinearRegression(br.Normal(10.0), sigma=1.0, fit_intercept=False).fit(X, y, method="map")
    w = np.linalg.solve(X.T @ X + np.eye(X.shape[1]) / 100.0, X.T @ y)
    np.testing.assert_allclose(fit.coef_, w, rtol=1e-10)
    assert fit.intercept_ == 0.0
