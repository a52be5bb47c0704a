"""The estimators of the new families, and offset / sample_weight on every estimator (MAP).

References: the plain fits of LinearRegression and LogisticRegression (unit weights, zero offset:
another solver), repeated rows (integer weights), ``y - offset`` (the identity link's offset),
scikit-learn's PoissonRegressor. Deterministic data and solvers: no statistical tolerance.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import PoissonRegressor

import bayesreg as br
from bayesreg.families import Gamma
from seeds import shifted


def _data(seed, n=120, p=4):
    rng = np.random.default_rng(shifted(seed))
    X = rng.normal(size=(n, p)) * [1.0, 2.0, 0.5, 1.5] + 1.0
    eta = 0.3 + (X - 1.0) @ np.array([0.4, -0.2, 0.0, 0.1])
    return X, eta, rng


@pytest.mark.parametrize("make", [
    lambda: br.LinearRegression(br.Normal(1.0), sigma=0.7, method="map"),
    lambda: br.LinearRegression(br.Laplace(0.3), method="map"),
    lambda: br.LogisticRegression(br.Normal(1.0), method="map"),
    lambda: br.LogisticRegression(br.ElasticNet(0.5, 1.0), method="map"),
], ids=["linear-normal-known-sigma", "linear-laplace-joint-sigma", "logistic-normal", "logistic-elasticnet"])
def test_old_estimators_take_weights_and_offsets(make):
    X, eta, rng = _data(1)
    logistic = isinstance(make(), br.LogisticRegression)
    y = (rng.random(len(eta)) < 1 / (1 + np.exp(-eta))).astype(float) if logistic else eta + rng.normal(0, 1, len(eta))
    n = len(y)
    plain = make().fit(X, y)
    unit = make().fit(X, y, offset=np.zeros(n), sample_weight=np.ones(n))  # the general solver, same model
    np.testing.assert_allclose(unit.coef_, plain.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(unit.intercept_, plain.intercept_, rtol=1e-9, atol=1e-12)
    weights = rng.integers(0, 4, n).astype(float)
    rows = np.repeat(np.arange(n), weights.astype(int))
    weighted = make().fit(X, y, sample_weight=weights)
    repeated = make().fit(X[rows], y[rows], sample_weight=np.ones(rows.size))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-10, atol=1e-12)
    if not logistic and make().sigma is not None:  # identity link: an offset is y - offset (the default
        # prior on an unknown sigma has scale sd(y), which an offset does not change, so only with sigma known)
        offset = rng.normal(0, 1, n)
        shifted_fit = make().fit(X, y - offset, sample_weight=np.ones(n))
        np.testing.assert_allclose(make().fit(X, y, offset=offset).coef_, shifted_fit.coef_, rtol=1e-10, atol=1e-12)


def test_poisson_regression_equals_sklearn():
    X, eta, rng = _data(2)
    y = rng.poisson(np.exp(eta)).astype(float)
    sk = PoissonRegressor(alpha=0.05, tol=1e-14, max_iter=10_000, solver="newton-cholesky").fit(X, y)
    ours = br.PoissonRegression(br.prior_from_sklearn(PoissonRegressor(alpha=0.05), n_samples=len(y)),
                                 method="map").fit(X, y)
    np.testing.assert_allclose(ours.coef_, sk.coef_, rtol=1e-6)
    np.testing.assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-6)
    weights = rng.integers(1, 3, len(y)).astype(float)
    sk_weighted = clone(sk).fit(X, y, sample_weight=weights)
    prior = br.prior_from_sklearn(PoissonRegressor(alpha=0.05), sample_weight=weights)  # n = sum of weights
    ours = br.PoissonRegression(prior, method="map").fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(ours.coef_, sk_weighted.coef_, rtol=1e-6)


def test_exposure_offset_and_predict():
    """Doubling every exposure leaves the coefficients and moves the intercept by exactly -log 2."""
    X, eta, rng = _data(3)
    exposure = rng.uniform(0.5, 2.0, len(eta))
    y = rng.poisson(exposure * np.exp(eta)).astype(float)
    for est in (br.PoissonRegression(br.Normal(1.0), method="map"),
                br.NegativeBinomialRegression(br.Laplace(0.5), method="map")):
        a = clone(est).fit(X, y, offset=np.log(exposure))
        b = clone(est).fit(X, y, offset=np.log(2 * exposure))
        np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(a.intercept_ - np.log(2), b.intercept_, rtol=1e-10)
        np.testing.assert_allclose(a.predict(X, offset=np.log(exposure)), np.exp(np.log(exposure) + a.intercept_ + X @ a.coef_))


def test_aux_parameters_fixed_or_learned():
    X, eta, rng = _data(4)
    y = rng.poisson(np.exp(eta) * rng.gamma(2.0, 0.5, len(eta))).astype(float)
    learned = br.NegativeBinomialRegression(br.Normal(1.0), method="map").fit(X, y)
    fixed = br.NegativeBinomialRegression(br.Normal(1.0), phi=learned.phi_, method="map").fit(X, y)
    np.testing.assert_allclose(fixed.coef_, learned.coef_, rtol=1e-8)  # at the learned phi the mode is the same
    t = br.StudentTRegression(nu=3.0, nu_prior=Gamma(2.0, 0.1), method="map").fit(X, eta + rng.standard_t(3, len(eta)))
    assert t.nu_ == 3.0 and t.sigma_ > 0


@pytest.mark.parametrize("est, y, offset, weights, match", [
    (br.PoissonRegression(method="map"), [0, 1, -1.0] * 40, None, None, "counts"),
    (br.NegativeBinomialRegression(method="map"), [0, 1, 2.5] * 40, None, None, "counts"),
    (br.PoissonRegression(method="map"), [0, 1, 2.0] * 40, [np.nan] + [0.0] * 119, None, "offset contains NaN"),
    (br.PoissonRegression(method="map"), [0, 1, 2.0] * 40, None, [-1.0] + [1.0] * 119, "sample_weight must be >= 0"),
    (br.PoissonRegression(method="map"), [0, 1, 2.0] * 40, None, [1.0] * 5, "one number per row"),
    (br.PoissonRegression(method="map"), [0.0] * 120, None, None, "every count in y is 0"),
    (br.NegativeBinomialRegression(method="map"), [0, 1, 2.0] * 40, None, None, "phi must be"),
    (br.StudentTRegression(method="map"), [0, 1, 2.0] * 40, None, None, "nu_prior must be"),
    (br.LinearRegression(method="empirical_bayes"), [0, 1, 2.0] * 40, [0.0] * 120, None,
     "not yet with method='empirical_bayes'"),
])
def test_bad_input_keeps_previous_fit(est, y, offset, weights, match):
    X, eta, rng = _data(5)
    good = np.abs(np.round(eta * 3))
    est.fit(X, good, method="map")
    before = est.coef_.copy()
    est.set_params(**{"phi must be": {"phi": -1.0}, "nu_prior must be": {"nu_prior": 3.0}}.get(match, {}))
    with pytest.raises((ValueError, TypeError), match=match):
        est.fit(X, np.array(y, dtype=float), offset=offset, sample_weight=weights)
    np.testing.assert_array_equal(est.coef_, before)


def test_save_and_load_round_trip(tmp_path):
    """Parameters (auxiliary priors included), point estimates, the auxiliary parameters and the draws."""
    from bayesreg.families import Exponential

    X, eta, rng = _data(6, n=60)
    y = rng.poisson(np.exp(eta)).astype(float)
    fitted = [br.NegativeBinomialRegression(br.Normal(1.0), phi_prior=Exponential(2.0), method="map").fit(X, y),
              br.StudentTRegression(nu_prior=Gamma(3.0, 0.2)).fit(
                  X, eta + rng.standard_t(3, 60), draws=50, tune=50, chains=1, random_seed=shifted(1),
                  progressbar=False)]
    for est in fitted:
        est.save(tmp_path / "fit.zip")
        back = br.load(tmp_path / "fit.zip")
        assert repr(back.get_params()) == repr(est.get_params())
        np.testing.assert_array_equal(back.coef_, est.coef_)
        for name in ("phi_", "sigma_", "nu_"):
            assert getattr(back, name, None) == getattr(est, name, None)
        if est.idata_ is not None:
            np.testing.assert_array_equal(back.idata_["posterior"]["nu"], est.idata_["posterior"]["nu"])


def test_integer_weights_equal_repeated_rows_in_the_posterior():
    """NUTS with integer weights against NUTS on the repeated rows: the same posterior, so each
    posterior mean agrees within 5 combined Monte Carlo standard errors (ArviZ's mcse_mean of both
    fits): a correct sampler fails this with probability < 6 x 6e-7 (normal tails, 6 quantities).
    The summary has the MAP and the auxiliary parameter beside the coefficients."""
    X, eta, rng = _data(7, n=40, p=4)
    y = rng.poisson(np.exp(eta) * rng.gamma(3.0, 1 / 3, 40)).astype(float)
    weights = rng.integers(1, 4, 40).astype(float)
    rows = np.repeat(np.arange(40), weights.astype(int))
    settings = dict(draws=500, tune=500, chains=2, progressbar=False)
    est = br.NegativeBinomialRegression(br.Normal(1.0))
    weighted = clone(est).fit(X, y, sample_weight=weights, random_seed=shifted(2), **settings).summary(round_to="none")
    repeated = clone(est).fit(X[rows], y[rows], random_seed=shifted(3), **settings).summary(round_to="none")
    assert list(weighted.index) == ["x0", "x1", "x2", "x3", "intercept", "phi"]
    np.testing.assert_allclose(weighted["map"], repeated["map"], rtol=1e-8)  # the MAP of both: one model
    error = np.sqrt(weighted["mcse_mean"] ** 2 + repeated["mcse_mean"] ** 2)
    assert np.all(np.abs(weighted["mean"] - repeated["mean"]) < 5 * error), (weighted, repeated)


def test_posterior_predictive_draws_with_exposure():
    """The replicated counts average the posterior mean response: summed over rows, the draws' mean
    and E[exp(offset + eta)] differ by less than 5 sd of the Poisson noise's mean (sqrt(sum mu / S))
    but for a ~6e-7 event. The PyMC model of the estimator names the same variables."""
    X, eta, rng = _data(8, n=50)
    exposure = rng.uniform(0.5, 2.0, 50)
    y = rng.poisson(exposure * np.exp(eta)).astype(float)
    est = br.PoissonRegression(br.Normal(1.0)).fit(X, y, offset=np.log(exposure), draws=300, tune=300, chains=2,
                                                    random_seed=shifted(4), progressbar=False)
    draws = est.sample_posterior_predictive(X, offset=np.log(exposure), random_seed=shifted(5))["y"].to_numpy()
    assert draws.shape == (2, 300, 50)
    coef = est.idata_["posterior"]["coef"].to_numpy().reshape(-1, 4)
    intercept = est.idata_["posterior"]["intercept"].to_numpy().reshape(-1)
    mu = np.exp(np.log(exposure) + intercept[:, None] + coef @ X.T)
    assert abs(draws.reshape(600, 50).mean(0).sum() - mu.mean(0).sum()) < 5 * np.sqrt(mu.mean(0).sum() / 600)
    assert {v.name for v in est.pymc_model(X, y).free_RVs} == {"intercept_c", "coef"}
