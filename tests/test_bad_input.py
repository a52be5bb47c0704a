"""Bad input gets an exception that names the problem; nothing returns NaN."""

import numpy as np
import pandas as pd
import pytest

import bayesreg as br
from seeds import shifted

rng = np.random.default_rng(shifted(0))
X = rng.normal(size=(20, 3))
y = X @ [1.0, 2.0, 0.0] + rng.normal(size=20)
labels = (y > 0).astype(int)


def linear():
    return br.LinearRegression(br.Normal(1.0), sigma=1.0)


@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize("bad,message", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_values(where, bad, message):
    Xb, yb = X.copy(), y.copy()
    (Xb if where == "X" else yb)[3] = bad
    with pytest.raises(ValueError, match=f"{where} contains {message}"):
        linear().fit(Xb, yb, method="map")


@pytest.mark.parametrize("to_y", [np.asarray, pd.Series, lambda a: pd.Series(a).astype("Float64")],
                         ids=["array", "Series", "Float64"])
def test_missing_target_says_where_and_what_to_do(to_y):
    """Issue 13 item 10: 'y contains NaN' said neither where nor what to do."""
    yb = y.copy()
    yb[[4, 9]] = np.nan
    with pytest.raises(ValueError, match=r"y contains .*in 2 rows of 20 \(first: row 4.*drop those rows from X and y"):
        linear().fit(X, to_y(yb), method="map")
    labels_b = labels.astype(object)
    labels_b[7] = None
    with pytest.raises(ValueError, match=r"in 1 row of 20 \(first: row 7.*drop those rows"):
        br.LogisticRegression().fit(X, labels_b, method="map")


def test_missing_feature_value_says_row_and_column():
    Xb = X.copy()
    Xb[6, 2] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN in 1 row of 20 \(first: row 6, column 2.*impute"):
        linear().fit(Xb, y, method="map")


def test_row_count_mismatch():
    with pytest.raises(ValueError, match="different numbers of rows"):
        linear().fit(X, y[:-1], method="map")


def test_one_dimensional_X():
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        linear().fit(X[:, 0], y, method="map")


def test_two_dimensional_y():
    with pytest.raises(ValueError, match="y must be 1-d"):
        linear().fit(X, np.column_stack([y, y]), method="map")


def test_non_numeric_columns():
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(city=["x"] * 20)
    with pytest.raises(TypeError, match=r"non-numeric columns \['city'\]"):
        linear().fit(frame, y, method="map")


def test_missing_values_in_a_nullable_column():
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).astype("Float64")
    frame.loc[2, "b"] = pd.NA
    with pytest.raises(ValueError, match=r"missing values.*\['b'\]"):
        linear().fit(frame, y, method="map")


@pytest.mark.parametrize("target,message", [
    (np.zeros(20), "two classes in y, got only one class"),
    (np.arange(20) % 3, "Only binary classification is supported. y has 3 classes"),
])
def test_logistic_needs_two_classes(target, message):
    with pytest.raises(ValueError, match=message):
        br.LogisticRegression(br.Normal(1.0)).fit(X, target, method="map")


@pytest.mark.parametrize("make", [
    lambda: br.Normal(0.0), lambda: br.Normal(-1.0), lambda: br.Laplace(np.nan),
    lambda: br.ElasticNet(1.0, -2.0), lambda: br.Horseshoe(scale=0.0),
    lambda: br.RegularizedHorseshoe(expected_nonzero=-1), lambda: br.RegularizedHorseshoe(3, slab_df=0),
])
def test_impossible_prior_parameters(make):
    with pytest.raises(ValueError, match="must be finite and > 0"):
        make()


def test_prior_parameter_of_wrong_type():
    with pytest.raises(TypeError, match="positive number"):
        br.Normal("1")


def test_non_positive_sigma():
    with pytest.raises(ValueError, match="sigma"):
        br.LinearRegression(br.Normal(1.0), sigma=0.0).fit(X, y, method="map")


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown method 'mcmc'"):
        linear().fit(X, y, method="mcmc")


def test_predict_with_wrong_number_of_columns():
    fit = linear().fit(X, y, method="map")
    with pytest.raises(ValueError, match="X has 2 features, but LinearRegression is expecting 3 features as input"):
        fit.predict(X[:, :2])


def test_predict_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        linear().predict(X)


@pytest.mark.parametrize("prior", [br.Horseshoe(), br.RegularizedHorseshoe(1.0)])
@pytest.mark.parametrize("estimator", [br.LinearRegression, br.LogisticRegression])
def test_horseshoe_has_no_map(prior, estimator):
    target = labels if estimator is br.LogisticRegression else y
    with pytest.raises(ValueError, match="no finite MAP.*unbounded at 0.*nuts"):
        estimator(prior).fit(X, target, method="map")


def test_prior_that_is_not_a_prior():
    with pytest.raises(TypeError, match="bayesreg prior"):
        br.LinearRegression(prior=1.0).fit(X, y, method="map")


def test_failed_fit_leaves_the_estimator_as_it_was():
    fit = linear().fit(X, y, method="map")
    before = fit.coef_.copy()
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError):
        fit.fit(bad, y, method="map")
    np.testing.assert_array_equal(fit.coef_, before)


def test_dataframe_columns_name_the_coefficients():
    frame = pd.DataFrame(X, columns=["age", "bmi", "bp"])
    fit = linear().fit(frame, y, method="map")
    assert fit.feature_names_ == ["age", "bmi", "bp"]
    with pytest.raises(ValueError, match="columns"):
        fit.predict(frame.rename(columns={"bp": "other"}))


def test_unknown_fit_keywords_are_an_error_not_ignored():
    with pytest.raises(TypeError, match="sample_weights"):  # a typo of sample_weight (taken since issue 21)
        linear().fit(X, y, method="map", sample_weights=np.ones(20))
