"""Logistic empirical Bayes: the Laplace approximation against the exact evidence by quadrature.

The Laplace approximation's error in the log evidence is c/n + O(1/n^2) (Tierney & Kadane 1986).
On nested data (the first n rows of one sample) going from n = 50 to n = 800 divides it by about
16; the tests ask for a factor 4, so they fail if the approximation is wrong by anything that does
not vanish like 1/n (a missing log 2 pi, a wrong determinant, a prior term dropped).
"""

import math

import numpy as np
import pytest
from scipy import integrate, special

import bayesreg as br
from bayesreg.evidence import laplace_log_evidence
from seeds import shifted


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(shifted(12))
    X = rng.normal(size=(800, 1))
    y = (rng.uniform(size=800) < special.expit(0.3 + 1.0 * X[:, 0])).astype(float)
    return X, y


def log_joint(X, y, b, w, t):
    eta = b + X[:, 0] * w
    return -np.sum(np.logaddexp(0.0, eta) - y * eta) - w**2 / (2 * t**2) - math.log(t * math.sqrt(2 * math.pi))


def exact_log_evidence(X, y, t, fit_intercept, centre):
    """log of the integral of exp(log_joint) over w (and b, flat), by adaptive quadrature."""
    b0, w0 = centre
    top = log_joint(X, y, b0, w0, t)
    if not fit_intercept:
        value, _ = integrate.quad(lambda w: math.exp(log_joint(X, y, 0.0, w, t) - top), -np.inf, np.inf,
                                  epsabs=0, epsrel=1e-11, limit=500)
    else:
        # posterior sds are about 1/sqrt(n mu(1-mu)) ~ 2.2/sqrt(n): a box of +-50/sqrt(n) is +-20 sds
        half = 50 / math.sqrt(len(y))
        value, _ = integrate.dblquad(lambda w, b: math.exp(log_joint(X, y, b, w, t) - top),
                                     b0 - half, b0 + half, w0 - half, w0 + half, epsabs=0, epsrel=1e-10)
    return top + math.log(value)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_laplace_error_shrinks_like_one_over_n(sample, fit_intercept):
    X, y = sample
    t = 1.5
    errors = []
    for n in (50, 800):
        approx, coef, intercept = laplace_log_evidence(X[:n], y[:n], 1.0, t, fit_intercept)
        exact = exact_log_evidence(X[:n], y[:n], t, fit_intercept, (intercept, coef[0]))
        errors.append(abs(approx - exact))
    assert errors[1] < errors[0] / 4, errors


def test_logistic_empirical_bayes_maximises_the_approximate_evidence(breast_cancer):
    X, y = breast_cancer
    X = X[:200, :5]
    y = y[:200]
    fit = br.LogisticRegression(br.Normal(1.0, autoscale=True)).fit(X, y, method="empirical_bayes")
    base = 1.0 / X.std(axis=0)
    t = fit.prior_.scale[0] / base[0]
    np.testing.assert_allclose(fit.prior_.scale, t * base, rtol=1e-12)
    assert fit.log_evidence_ == pytest.approx(laplace_log_evidence(X, y, base, t, True)[0], rel=1e-12)
    for factor in (0.99, 1.01):
        assert laplace_log_evidence(X, y, base, t * factor, True)[0] < fit.log_evidence_
    again = br.LogisticRegression(fit.prior_).fit(X, y, method="map")  # coef_ is the MAP at the chosen scale
    np.testing.assert_allclose(fit.coef_, again.coef_, rtol=1e-10)
