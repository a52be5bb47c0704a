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
    exp((1'Py)^2 / (2 1'P1)) sqrt(2 pi / 1'P1).

    Computed in long double (x86's 80-bit, eps 1.1e-19), S's Cholesky factor written out: at random
    scales S's condition number reaches 1e8 and more (uncentred columns, variances e^{+-6}), and a
    float64 slogdet and solve then lost ~1e-8 of the value, which the Richardson gradient divides by
    h = 1e-3 (BAYESREG_TEST_SEED_SHIFT=2 failed a horseshoe+ gradient by 1.4e-5; long double: 9e-9).
    Only this n x n algebra is extended; n <= 150 in the tests, a few ms each."""
    wide = np.longdouble
    n = len(y)
    X, y = np.asarray(X, dtype=wide), np.asarray(y, dtype=wide)
    S = wide(sigma) ** 2 * np.eye(n, dtype=wide) + (X * np.asarray(variances, dtype=wide)) @ X.T
    L = _cholesky(S)
    z_y, z_1 = _forward(L, y), _forward(L, np.ones(n, dtype=wide))  # L^-1 y, L^-1 1: y'Py = |z_y|^2
    logdet = 2 * np.sum(np.log(np.diagonal(L)))
    value = -0.5 * (n * wide(math.log(2 * math.pi)) + logdet + z_y @ z_y)
    if fit_intercept:
        cross, ones = z_1 @ z_y, z_1 @ z_1
        value += 0.5 * cross**2 / ones + 0.5 * np.log(wide(2 * math.pi) / ones)
    return float(value)


def _cholesky(S):
    """Lower ``L`` with ``S = L L'``, column by column, in ``S``'s dtype (LAPACK has no long double)."""
    L = np.zeros_like(S)
    for i in range(len(S)):
        L[i, i] = np.sqrt(S[i, i] - L[i, :i] @ L[i, :i])
        L[i + 1:, i] = (S[i + 1:, i] - L[i + 1:, :i] @ L[i, :i]) / L[i, i]
    return L


def _forward(L, b):
    """``L^-1 b`` for lower-triangular ``L``, in ``L``'s dtype."""
    z = np.zeros_like(b)
    for i in range(len(b)):
        z[i] = (b[i] - L[i, :i] @ z[:i]) / L[i, i]
    return z


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
