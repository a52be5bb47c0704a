"""The logistic MAP is exactly scikit-learn's penalized LogisticRegression."""

import warnings

import numpy as np
import pytest
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogistic

import bayesreg as br
from bayesreg.families.bernoulli import logistic_neg_log_posterior

C_GRID = [0.01, 0.1, 1.0, 10.0, 100.0]


def kkt_residual(X, y, prior, coef, intercept):
    """Largest violation of the optimality conditions of the penalized objective."""
    mu = expit(intercept + X @ coef)
    grad = X.T @ (mu - y) + prior.l2 * coef
    nz = coef != 0
    return max(
        abs(np.sum(mu - y)),
        np.abs(grad[nz] + prior.l1 * np.sign(coef[nz])).max(initial=0.0),
        (np.abs(grad[~nz]) - prior.l1).max(initial=0.0),
    )


@pytest.mark.parametrize("C", C_GRID)
def test_l2_map_matches_sklearn(breast_cancer, C):
    X, y = breast_cancer
    sk = SkLogistic(C=C, solver="newton-cholesky", tol=1e-14, max_iter=10_000).fit(X, y)
    prior = br.prior_from_sklearn(sk)
    assert prior == br.Normal(np.sqrt(C))
    fit = br.LogisticRegression(prior).fit(X, y, method="map")
    scale = max(1.0, np.abs(sk.coef_).max())
    assert np.abs(fit.coef_ - sk.coef_[0]).max() <= 1e-8 * scale
    assert abs(fit.intercept_ - sk.intercept_[0]) <= 1e-8 * scale
    assert kkt_residual(X, y, prior, fit.coef_, fit.intercept_) <= 1e-10


@pytest.mark.parametrize("C,l1_ratio", [(0.05, 1.0), (0.3, 1.0), (0.3, 0.5), (0.1, 0.8)])
def test_l1_and_elastic_net_map_match_sklearn(breast_cancer, C, l1_ratio):
    X, y = breast_cancer
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        sk = SkLogistic(C=C, l1_ratio=l1_ratio, solver="saga", tol=1e-12, max_iter=200_000).fit(X, y)
    prior = br.prior_from_sklearn(sk)
    fit = br.LogisticRegression(prior).fit(X, y, method="map")
    np.testing.assert_array_equal(fit.coef_ == 0, sk.coef_[0] == 0)
    assert np.abs(fit.coef_ - sk.coef_[0]).max() <= 1e-5 * max(1.0, np.abs(sk.coef_).max())
    ours = logistic_neg_log_posterior(X, y, prior, fit.coef_, fit.intercept_)
    theirs = logistic_neg_log_posterior(X, y, prior, sk.coef_[0], sk.intercept_[0])
    assert ours <= theirs + 1e-12 * abs(theirs)


@pytest.mark.parametrize("C", C_GRID)
@pytest.mark.parametrize("kind", ["l1", "elasticnet"])
def test_l1_map_is_exact_optimum(breast_cancer, C, kind):
    """Where saga cannot converge (large C), the KKT conditions are the independent check."""
    X, y = breast_cancer
    prior = br.Laplace(C) if kind == "l1" else br.ElasticNet(C, np.sqrt(C))
    fit = br.LogisticRegression(prior).fit(X, y, method="map")
    assert kkt_residual(X, y, prior, fit.coef_, fit.intercept_) <= 1e-9
    assert np.any(fit.coef_ == 0.0)


def test_labels_are_any_two_classes(breast_cancer):
    X, y = breast_cancer
    labels = np.where(y == 1, "benign", "malignant")
    fit = br.LogisticRegression(br.Normal(1.0)).fit(X, labels, method="map")
    ref = br.LogisticRegression(br.Normal(1.0)).fit(X, y, method="map")
    assert list(fit.classes_) == ["benign", "malignant"]
    # "malignant" sorts second, so it is the positive class: the sign flips
    np.testing.assert_allclose(fit.coef_, -ref.coef_, rtol=1e-12, atol=1e-12)
    assert set(fit.predict(X)) <= {"benign", "malignant"}
    proba = fit.predict_proba(X)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(1), 1.0)


def test_separable_data_has_finite_map():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([0, 0, 1, 1])
    fit = br.LogisticRegression(br.Normal(1.0)).fit(X, y, method="map")
    sk = SkLogistic(C=1.0, solver="newton-cholesky", tol=1e-14).fit(X, y)
    np.testing.assert_allclose(fit.coef_, sk.coef_[0], rtol=1e-8)
