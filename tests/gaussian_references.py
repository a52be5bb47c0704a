"""Dense references for the linear samplers that integrate the coefficients out
(tests/test_collapsed.py, tests/test_mixture.py): textbook Gaussian algebra on the raw, uncentred X,
never the eigen-data or the rank-r factor the package computes."""

from __future__ import annotations

import math

import numpy as np
from seeds import shifted


def uncentred_problem(n, p, seed=0, offset=10.0):
    """Columns of unequal scales with means of order ``offset`` (so centring matters), three signals."""
    rng = np.random.default_rng(shifted(seed))
    X = rng.normal(size=(n, p)) * rng.uniform(0.2, 5.0, size=p) + rng.normal(scale=offset, size=p)
    y = 2.0 + X[:, :3] @ [0.5, -0.2, 1.0] + rng.normal(size=n)
    return X, y


def dense_log_evidence(X, y, variances, sigma, fit_intercept):
    """log p(y | D, sigma) for w ~ N(0, D), D = diag(variances): y ~ N(b 1, S), S = sigma^2 I + X D X',
    b flat. With P = S^-1, int N(y; b 1, S) db = N-density without b, times
    exp((1'Py)^2 / (2 1'P1)) sqrt(2 pi / 1'P1)."""
    n = len(y)
    S = sigma**2 * np.eye(n) + (X * variances) @ X.T
    _, logdet = np.linalg.slogdet(S)
    Py, P1 = np.linalg.solve(S, y), np.linalg.solve(S, np.ones(n))
    value = -0.5 * (n * math.log(2 * math.pi) + logdet + y @ Py)
    if fit_intercept:
        value += 0.5 * (P1 @ y) ** 2 / P1.sum() + 0.5 * math.log(2 * math.pi / P1.sum())
    return value


def exact_conditional(X, y, variances, sigma, fit_intercept):
    """Mean and covariance of (coef, intercept) given D = diag(variances) and sigma: w ~ N(m, M) with
    M = (X_c'X_c / sigma^2 + D^-1)^-1, m = M X_c'y_c / sigma^2; the flat intercept at the centred
    design is N(ybar, sigma^2 / n) independent of w, and b = b_c - xbar'w."""
    x_mean = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
    y_mean = y.mean() if fit_intercept else 0.0
    Xc, yc = X - x_mean, y - y_mean
    M = np.linalg.inv(Xc.T @ Xc / sigma**2 + np.diag(1 / np.asarray(variances)))
    m = M @ Xc.T @ yc / sigma**2
    if not fit_intercept:
        return m, M
    J = np.vstack([np.eye(len(variances)), -x_mean])  # (w, b) = J w + (0, b_c)
    cov = J @ M @ J.T
    cov[-1, -1] += sigma**2 / len(y)
    return np.append(m, y_mean - x_mean @ m), cov


def assert_density_matches(header, dense, points):
    """The compiled density (``header``) against ``dense`` at each point: value to 1e-9 relative,
    gradient to 1e-6 against :func:`richardson_gradient` (each test states why)."""
    from bayesreg.sampling import nutpie as adapter

    for theta in points:
        value, grad = adapter.log_density(header, theta)
        assert math.isclose(value, dense(theta), rel_tol=1e-9), (value, dense(theta))
        np.testing.assert_allclose(grad, richardson_gradient(dense, theta), rtol=1e-6, atol=1e-6)


def richardson_gradient(f, theta, h=1e-3):
    """Central differences at h and h / 2, Richardson-extrapolated: truncation O(h^4 f^(5))."""
    def central(step, e):
        return (f(theta + step * e) - f(theta - step * e)) / (2 * step)

    return np.array([(4 * central(h / 2, e) - central(h, e)) / 3 for e in np.eye(len(theta))])
