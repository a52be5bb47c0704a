"""MAP of the count and robust families equals the penalized GLM (bayesreg.solvers.glm).

References: scikit-learn's PoissonRegressor (through prior_from_sklearn), glum's
GeneralizedLinearRegressor (Laplace and ElasticNet priors, offsets and weights), the KKT conditions
of the L1 problem and the stationarity conditions of the Student-t joint mode (both from the
likelihood's gradient written out here, not taken from the solver), and integer weights against
repeated rows. All deterministic: the data are fixed draws, the solvers have no randomness.
"""

import warnings

import numpy as np
import pytest
from glum import GeneralizedLinearRegressor, NegativeBinomialDistribution
from scipy import special
from sklearn.linear_model import PoissonRegressor

import bayesreg as br
from bayesreg.families import NEGATIVE_BINOMIAL, POISSON, STUDENT_T, Gamma
from bayesreg.solvers import NoMAPError
from bayesreg.solvers.glm import fit_glm_map
from seeds import shifted


def _counts(seed, n=400, p=8, dispersion=None):
    rng = np.random.default_rng(shifted(seed))
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 3.0, p) + rng.normal(0, 2, p)  # uncentred, unequal scales
    coef = np.zeros(p)
    coef[:3] = [0.4, -0.25, 0.15]
    offset = np.log(rng.uniform(0.5, 3.0, n))  # log exposure
    mu = np.exp(0.3 + offset + (X - X.mean(0)) @ coef)
    if dispersion is not None:
        mu = mu * rng.gamma(dispersion, 1 / dispersion, n)
    weights = rng.integers(1, 4, n).astype(float)
    return X, rng.poisson(mu).astype(float), offset, weights


def _likelihood_gradient(family, X, y, offset, weights, coef, intercept, aux):
    """d NLL / d(b, w) at the MAP, written out from the density (independent of the solver)."""
    mu = np.exp(offset + intercept + X @ coef)
    if family is POISSON:
        g = mu - y
    else:
        (phi,) = aux
        g = phi * (mu - y) / (phi + mu)
    g = weights * g
    return g.sum(), X.T @ g


def test_poisson_normal_equals_sklearn_poisson_regressor():
    X, y, _, _ = _counts(1)
    n = X.shape[0]
    sk = PoissonRegressor(alpha=0.02, tol=1e-14, max_iter=10_000, solver="newton-cholesky").fit(X, y)
    prior = br.prior_from_sklearn(PoissonRegressor(alpha=0.02), n_samples=n)
    fit = fit_glm_map(X, y, POISSON, prior, True)
    np.testing.assert_allclose(fit.coef, sk.coef_, rtol=1e-6)
    np.testing.assert_allclose(fit.intercept, sk.intercept_, rtol=1e-6)


def _glum(family, alpha, l1_ratio, X, y, offset, weights, phi=None):
    glum_family = "poisson" if family is POISSON else NegativeBinomialDistribution(theta=1 / phi)
    return GeneralizedLinearRegressor(alpha=alpha, l1_ratio=l1_ratio, family=glum_family, link="log",
                                      gradient_tol=1e-13, step_size_tol=1e-16, max_iter=10_000).fit(
        X, y, sample_weight=weights, offset=offset)


@pytest.mark.parametrize("family", [POISSON, NEGATIVE_BINOMIAL], ids=lambda f: f.name)
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.filterwarnings("ignore:Line search failed")  # glum at its tightest tolerance; its answer is checked
def test_l1_priors_equal_glum_and_meet_kkt(family, l1_ratio):
    """glum minimises ``NLL / sum(s) + alpha r |w|_1 + alpha (1 - r) / 2 |w|^2`` (deviance / 2 is the NLL
    up to a constant); times ``N = sum(s)``: ``Laplace(1 / (N alpha r))``, Normal part ``1 / sqrt(N alpha (1 - r))``.

    The L1 weight is half the largest gradient at the intercept-only fit: the three signal columns'
    gradients there are ~ N b var(x) ~ 600, the five noise columns' ~ N(0, sqrt(N mu var(x)) ~ 50),
    so the noise columns are exact zeros and a signal is not, but for a ~6 sd event (~1e-9 per run).
    """
    X, y, offset, weights = _counts(2, dispersion=3.0 if family is NEGATIVE_BINOMIAL else None)
    phi, total = 2.5, weights.sum()
    null_mu = np.exp(offset) * (weights @ y) / (weights @ np.exp(offset))
    _, null_gradient = _likelihood_gradient(family, X, y, np.log(null_mu), weights, 0 * X[0], 0.0, (phi,))
    alpha = 0.5 * np.max(np.abs(null_gradient)) / (total * l1_ratio)
    if l1_ratio == 1.0:
        prior = br.Laplace(1 / (total * alpha))
    else:
        prior = br.ElasticNet(1 / (total * alpha * l1_ratio), 1 / np.sqrt(total * alpha * (1 - l1_ratio)))
    fixed = {"phi": phi} if family is NEGATIVE_BINOMIAL else {}
    fit = fit_glm_map(X, y, family, prior, True, offset=offset, sample_weight=weights, aux_fixed=fixed)
    reference = _glum(family, alpha, l1_ratio, X, y, offset, weights, phi)
    assert 0 < np.count_nonzero(fit.coef) < X.shape[1]  # the L1 part is active: exact zeros, and signals
    np.testing.assert_array_equal(fit.coef == 0, reference.coef_ == 0)
    np.testing.assert_allclose(fit.coef, reference.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fit.intercept, reference.intercept_, rtol=1e-6)
    # KKT: d NLL/d b = 0; d NLL/d w_j + l2 w_j = -l1 sign(w_j) off zero, |.| <= l1 at zero
    g_b, g_w = _likelihood_gradient(family, X, y, offset, weights, fit.coef, fit.intercept, (phi,))
    l1 = total * alpha * l1_ratio
    g_w = g_w + total * alpha * (1 - l1_ratio) * fit.coef
    scale = np.abs(weights * y).sum()  # the size of the gradient's terms
    assert abs(g_b) <= 1e-10 * scale
    on = fit.coef != 0
    np.testing.assert_array_less(np.abs(g_w[on] + l1 * np.sign(fit.coef[on])), 1e-10 * scale)
    np.testing.assert_array_less(np.abs(g_w[~on]), l1 * (1 + 1e-10))


def test_negative_binomial_joint_mode_is_stationary_in_phi():
    """With phi learned under Exponential(1): d/dphi [NLL + phi] = 0 at the MAP (the score written out)."""
    X, y, offset, weights = _counts(3, dispersion=2.0)
    fit = fit_glm_map(X, y, NEGATIVE_BINOMIAL, br.Normal(1.0), True, offset=offset, sample_weight=weights)
    phi = fit.aux["phi"]
    mu = np.exp(offset + fit.intercept + X @ fit.coef)
    score = special.digamma(y + phi) - special.digamma(phi) + np.log(phi / (phi + mu)) + (mu - y) / (phi + mu)
    assert abs(-weights @ score + 1.0) <= 1e-10 * weights.sum()
    assert 0.5 < phi < 8  # simulated with gamma shape 2: phi near 2


def _student_t_data(seed, n=200, p=5):
    rng = np.random.default_rng(shifted(seed))
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 2.0, p) + 1.0
    y = 1.0 + X @ np.array([1.0, -0.5, 0.0, 0.3, 0.0]) + 0.8 * rng.standard_t(3, n)
    y[:5] += 30.0  # outliers
    return X, y, rng.integers(1, 3, n).astype(float)


@pytest.mark.parametrize("prior", [br.Normal(0.7), br.Laplace(0.5)], ids=["normal", "laplace"])
def test_student_t_joint_mode_is_stationary(prior):
    """Gradient of ``sum s l_i + penalty - log p(sigma) - log p(nu)`` in (b, w, sigma, nu) at the
    MAP, written out from the t density; L1 coordinates by their KKT conditions."""
    X, y, weights = _student_t_data(4)
    fit = fit_glm_map(X, y, STUDENT_T, prior, True, sample_weight=weights)
    sigma, nu = fit.aux["sigma"], fit.aux["nu"]
    r = y - fit.intercept - X @ fit.coef
    D = nu * sigma**2 + r**2
    g_eta = weights * (-(nu + 1) * r / D)
    g_sigma = weights @ (1 / sigma - (nu + 1) * r**2 / (sigma * D))
    g_nu = weights @ (0.5 * (special.digamma(nu / 2) - special.digamma((nu + 1) / 2) + 1 / nu
                             + np.log1p(r**2 / (nu * sigma**2))) - (nu + 1) * r**2 / (2 * nu * D))
    mean = weights @ y / weights.sum()  # the default sigma prior's scale: the weighted sd of y
    sd_y, scale = np.sqrt(weights @ (y - mean) ** 2 / weights.sum()), weights.sum()
    g_sigma += 5 * sigma / (4 * sd_y**2 + sigma**2)  # Half-t(4, sd(y)): -log p' = (nu+1) x / (nu s^2 + x^2)
    g_nu += -1 / nu + 0.1  # Gamma(2, 0.1)
    assert abs(g_eta.sum()) <= 1e-10 * scale
    assert abs(g_sigma * sigma) <= 1e-10 * scale and abs(g_nu * nu) <= 1e-10 * scale
    g_w = X.T @ g_eta + prior.l2 * fit.coef
    on = fit.coef != 0
    np.testing.assert_array_less(np.abs(g_w[on] + prior.l1 * np.sign(fit.coef[on])), 1e-10 * scale)
    np.testing.assert_array_less(np.abs(g_w[~on]), prior.l1 * (1 + 1e-10) + 1e-10 * scale)


def test_student_t_fixed_nu_and_user_prior():
    X, y, _ = _student_t_data(5)
    free = fit_glm_map(X, y, STUDENT_T, br.Normal(1.0), True, aux_priors={"nu": Gamma(400.0, 20.0)})
    fixed = fit_glm_map(X, y, STUDENT_T, br.Normal(1.0), True, aux_fixed={"nu": 4.0})
    assert fixed.aux["nu"] == 4.0 and 15 < free.aux["nu"] < 25  # Gamma(400, 20): mean 20, sd 1


@pytest.mark.parametrize("family", [POISSON, NEGATIVE_BINOMIAL, STUDENT_T], ids=lambda f: f.name)
def test_integer_weights_equal_repeated_rows(family):
    if family is STUDENT_T:
        X, y, weights = _student_t_data(6)
        offset = np.zeros(len(y))
    else:
        X, y, offset, weights = _counts(6, dispersion=2.0)
    prior = br.ElasticNet(0.05, 1.0)
    weighted = fit_glm_map(X, y, family, prior, True, offset=offset, sample_weight=weights)
    rows = np.repeat(np.arange(len(y)), weights.astype(int))
    repeated = fit_glm_map(X[rows], y[rows], family, prior, True, offset=offset[rows])
    np.testing.assert_allclose(weighted.coef, repeated.coef, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weighted.intercept, repeated.intercept, rtol=1e-10)
    for name in weighted.aux:
        np.testing.assert_allclose(weighted.aux[name], repeated.aux[name], rtol=1e-10)


def test_all_zero_counts_have_no_map():
    X, y, _, _ = _counts(7, n=50)
    with pytest.raises(NoMAPError, match="every count in y is 0"):
        fit_glm_map(X, np.zeros_like(y), POISSON, br.Normal(1.0), True)


def test_negative_binomial_map_survives_an_overshooting_newton_step():
    """On 30 simulated data sets the default NB MAP converges with warnings as errors and is
    stationary in phi under its Exponential(1) prior (the score written out, as above). Before the
    fix 2 of 40 such data sets failed: a trial Newton step put log phi near 800, and ``phi**2`` of
    the Python float raised OverflowError (or NaN sums warned) instead of halving the step."""
    for seed in range(30):
        rng = np.random.default_rng(shifted(1000 + seed))
        X = rng.normal(size=(200, 6))
        mu = np.exp(1 + 0.8 * X[:, 0] - 0.6 * X[:, 1])
        y = rng.negative_binomial(3, 3 / (3 + mu)).astype(float)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fit = fit_glm_map(X, y, NEGATIVE_BINOMIAL, br.Normal(1.0), True)
        phi = fit.aux["phi"]
        mu = np.exp(fit.intercept + X @ fit.coef)
        score = special.digamma(y + phi) - special.digamma(phi) + np.log(phi / (phi + mu)) + (mu - y) / (phi + mu)
        assert abs(-score.sum() + 1.0) <= 1e-8 * len(y), seed
