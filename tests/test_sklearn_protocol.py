"""The estimators behave like scikit-learn's: protocol checks, Pipeline, GridSearchCV."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import bayesreg as br


@parametrize_with_checks(
    [br.LinearRegression(br.Normal(1.0), sigma=1.0, method="map"),
     br.LinearRegression(br.Laplace(1.0), sigma=1.0, method="map"),
     br.LogisticRegression(br.Normal(1.0), method="map"),
     br.StudentTRegression(br.Normal(1.0), sigma=1.0, nu=4.0, method="map")],
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_pipeline_and_grid_search_over_the_prior_scale(diabetes):
    X, y = diabetes
    scales = [1.0, 10.0, 100.0]
    search = GridSearchCV(
        make_pipeline(StandardScaler(), br.LinearRegression(sigma=50.0, method="map")),
        {"linearregression__prior": [br.Normal(s) for s in scales]}, cv=3,
    ).fit(X, y)
    # the same search over scikit-learn's Ridge with the converted alphas picks the same scale
    ridge = GridSearchCV(make_pipeline(StandardScaler(), Ridge()),
                         {"ridge__alpha": [50.0**2 / s**2 for s in scales]}, cv=3).fit(X, y)
    best = search.best_params_["linearregression__prior"].scale
    assert 50.0**2 / best**2 == pytest.approx(ridge.best_params_["ridge__alpha"])
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], ridge.cv_results_["mean_test_score"],
                               rtol=1e-10)


def test_fit_method_argument_overrides_the_parameter(diabetes):
    X, y = diabetes
    est = br.LinearRegression(br.Normal(10.0), sigma=50.0, method="nuts")
    assert est.fit(X, y, method="map").method_ == "map"
    assert clone(est).get_params()["method"] == "nuts"


def test_grid_search_over_prior__scale_reproduces_ridge_scores(diabetes):
    """``prior__scale`` reaches into the prior: clone builds a fresh prior, set_params sets it."""
    X, y = diabetes
    sigma, scales = 50.0, [30.0, 100.0, 300.0, 1000.0]
    folds = KFold(5, shuffle=True, random_state=0)
    search = GridSearchCV(br.LinearRegression(br.Normal(1.0), sigma=sigma, method="map"),
                          {"prior__scale": scales}, cv=folds).fit(X, y)
    ridge = GridSearchCV(Ridge(), {"alpha": [sigma**2 / s**2 for s in scales]}, cv=folds).fit(X, y)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], ridge.cv_results_["mean_test_score"],
                               rtol=1e-10)
    ridge_cv = RidgeCV(alphas=[sigma**2 / s**2 for s in scales], cv=folds).fit(X, y)
    assert sigma**2 / search.best_params_["prior__scale"] ** 2 == pytest.approx(ridge_cv.alpha_)
    assert search.best_estimator_.prior_ == br.Normal(search.best_params_["prior__scale"])


def test_prior_set_params_validates_and_clone_is_independent():
    prior = br.Normal(1.0)
    est = br.LinearRegression(prior)
    copy = clone(est).set_params(prior__scale=3.0)
    assert copy.prior == br.Normal(3.0) and prior == br.Normal(1.0)  # the user's prior is untouched
    with pytest.raises(ValueError, match="Normal scale must be finite and > 0"):
        copy.set_params(prior__scale=-1.0)
    assert copy.prior.scale == 3.0  # a rejected value leaves the prior as it was
    with pytest.raises(ValueError, match="invalid parameter 'nope' for Normal"):
        copy.set_params(prior__nope=1.0)
    learned = clone(br.LinearRegression(br.Normal(br.HalfCauchy(1.0)))).set_params(prior__scale__scale=2.0)
    assert learned.prior.scale == br.HalfCauchy(2.0)
    assert learned.get_params()["prior__scale__scale"] == 2.0
