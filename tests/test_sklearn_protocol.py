"""The estimators behave like scikit-learn's: protocol checks, Pipeline, GridSearchCV."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import bayesreg as br


@parametrize_with_checks(
    [br.LinearRegression(br.Normal(1.0), sigma=1.0, method="map"),
     br.LinearRegression(br.Laplace(1.0), sigma=1.0, method="map"),
     br.LogisticRegression(br.Normal(1.0), method="map")],
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
