"""Shift and scale invariance of the MAP, and extreme units: exact answers or a clear refusal.

References: shifting a column by a constant changes only the (unpenalized) intercept, exactly;
multiplying X by c is the same problem with the prior scale multiplied by c (``Xw = (cX)(w/c)``);
the standardized problems are checked against scikit-learn.
"""

import numpy as np
import pytest
from sklearn.linear_model import Lasso, Ridge

import bayesreg as br
from seeds import shifted

PRIORS = [br.Normal(1.0), br.Laplace(1.0), br.ElasticNet(1.0, 1.0)]


def problem(seed=0, n=400, p=3):
    rng = np.random.default_rng(shifted(seed))
    X = rng.normal(size=(n, p))
    eta = X @ [1.0, -0.5, 0.25]
    y_linear = eta + rng.normal(size=n)
    y_binary = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return X, y_linear, y_binary


def estimators(prior):
    return {"linear-known-sigma": br.LinearRegression(prior, sigma=1.0, method="map"),
            "linear-joint-sigma": br.LinearRegression(prior, method="map"),
            "logistic": br.LogisticRegression(prior, method="map")}


OFFSETS = {"all-columns-300": np.array([300.0, 300.0, 300.0]), "one-column-2000": np.array([2000.0, 0.0, 0.0])}


@pytest.mark.parametrize("offset", list(OFFSETS), ids=str)
@pytest.mark.parametrize("kind", ["linear-known-sigma", "linear-joint-sigma", "logistic"])
@pytest.mark.parametrize("prior", PRIORS, ids=lambda p: type(p).__name__)
def test_map_is_shift_invariant(prior, kind, offset):
    """Issue 13 item 1: L1 logistic MAP raised 'coordinate descent did not converge' here.

    With an unpenalized intercept, ``b + (X + o) w = (b + o'w) + X w``: coef is unchanged and the
    intercept moves by ``-o'coef``, exactly. 1e-8 allows the rounding of ``X + o`` (|o| eps ~ 4e-13
    relative per entry) amplified by the problem's condition number.
    """
    X, y_linear, y_binary = problem()
    y = y_binary if kind == "logistic" else y_linear
    shift = OFFSETS[offset]
    ref = estimators(prior)[kind].fit(X, y)
    moved_fit = estimators(prior)[kind].fit(X + shift, y)
    np.testing.assert_allclose(moved_fit.coef_, ref.coef_, rtol=1e-8, atol=1e-8 * np.abs(ref.coef_).max())
    moved = ref.intercept_ - shift @ ref.coef_
    assert moved_fit.intercept_ == pytest.approx(moved, abs=1e-8 * (1 + np.abs(shift) @ np.abs(ref.coef_)))


@pytest.mark.parametrize("kind", ["linear-known-sigma", "linear-joint-sigma", "logistic"])
def test_columns_in_units_of_1e160(kind):
    """Issue 13 item 3: X * 1e160 with a Laplace prior gave NaN coefficients.

    ``(cX)(w/c) = Xw`` and ``|w/c| / b = |w| / (c b)``: Laplace(1e-160) on X * 1e160 is Laplace(1) on
    X, with coefficients divided by 1e160 (checked against scikit-learn's Lasso for the known sigma).
    """
    X, y_linear, y_binary = problem()
    y = y_binary if kind == "logistic" else y_linear
    c = 1e160
    big = estimators(br.Laplace(1.0 / c))[kind].fit(X * c, y)
    ref = estimators(br.Laplace(1.0))[kind].fit(X, y)
    assert np.all(np.isfinite(big.coef_)) and np.isfinite(big.intercept_)
    np.testing.assert_allclose(big.coef_ * c, ref.coef_, rtol=1e-9, atol=1e-12)
    if kind == "linear-known-sigma":  # Lasso: 1/(2n)||r||^2 + alpha|w|, alpha = sigma^2 / (n b)
        sk = Lasso(alpha=1.0 / len(y), tol=1e-14, max_iter=10**6).fit(X, y)
        np.testing.assert_allclose(ref.coef_, sk.coef_, rtol=1e-7)


def test_targets_in_units_of_1e160_with_estimated_sigma():
    """Issue 13 item 3: y * 1e160 with sigma=None raised NoMAPError claiming an exact fit.

    ``y -> c y`` with ``w -> c w``, ``sigma -> c sigma`` and the prior scale times c is the same
    posterior (the Half-t scale is sd(y), so it scales too): the joint MAP scales by c.
    """
    X, y, _ = problem()
    c = 1e160
    big = br.LinearRegression(br.Normal(c), method="map").fit(X, y * c)
    ref = br.LinearRegression(br.Normal(1.0), method="map").fit(X, y)
    np.testing.assert_allclose(big.coef_ / c, ref.coef_, rtol=1e-9)
    assert big.sigma_ / c == pytest.approx(ref.sigma_, rel=1e-9)


def test_the_default_autoscaled_prior_follows_y_in_units_of_1e160():
    """The default prior is stated in units of sd(y): y * 1e160 gives coefficients * 1e160 exactly
    (its sd is computed without overflowing the squares)."""
    X, y, _ = problem()
    c = 1e160
    big = br.LinearRegression(method="map").fit(X, y * c)
    ref = br.LinearRegression(method="map").fit(X, y)
    np.testing.assert_allclose(big.coef_ / c, ref.coef_, rtol=1e-9)


def test_huge_known_sigma_is_exact_when_the_units_agree():
    """sigma = 1e200 raised OverflowError. With y and the prior in the same units it is Ridge(1)."""
    X, y, _ = problem()
    c = 1e200
    big = br.LinearRegression(br.Normal(c), sigma=c, method="map").fit(X, y * c)
    np.testing.assert_allclose(big.coef_ / c, Ridge(alpha=1.0).fit(X, y).coef_, rtol=1e-9)


@pytest.mark.parametrize("make", [
    lambda X, y: br.LinearRegression(sigma=1e200, method="map").fit(X, y),
    lambda X, y: br.LinearRegression(br.Normal(1.0), method="map").fit(X, y * 1e160),
    lambda X, y: br.LogisticRegression(br.Normal(1.0), method="map").fit(X * 1e-170, y > 0),
], ids=["sigma-1e200", "y-1e160-unit-prior", "logistic-X-1e-170"])
def test_penalty_beyond_float64_is_refused_with_a_clear_message(make):
    """A penalty weight past 1e308 relative to the data cannot be represented: say so, no NaN, no
    OverflowError, no 'the model fits y exactly'."""
    X, y, _ = problem()
    with pytest.raises(ValueError, match="exceeds float64.*Rescale X or y"):
        make(X, y)
