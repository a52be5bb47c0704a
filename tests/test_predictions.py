"""Predictions after NUTS: consistent with each other, checked against direct computation, and in
bounded memory at large n.

A synthetic posterior (draws placed by hand) stands in for NUTS here: these are properties of the
arithmetic on draws, and a hand-made posterior can put the draws where the old code failed.
"""

import tracemalloc

import numpy as np
import pytest
import xarray as xr
from scipy import special, stats

import bayesreg as br
from bayesreg import results
from seeds import shifted


def with_posterior(est, coef, intercept, sigma=None):
    """Give a MAP fit the posterior draws ``coef`` (chains, draws, p) and ``intercept`` (chains, draws),
    with ``coef_`` / ``intercept_`` at their means as after a NUTS fit."""
    chains, draws, p = coef.shape
    data = {"coef": (("chain", "draw", "feature"), coef), "intercept": (("chain", "draw"), intercept)}
    if sigma is not None:
        data["sigma"] = (("chain", "draw"), sigma)
    est.idata_ = xr.DataTree.from_dict({"posterior": xr.Dataset(data, coords={
        "chain": np.arange(chains), "draw": np.arange(draws), "feature": [f"x{j}" for j in range(p)]})})
    est.coef_, est.intercept_ = coef.mean(axis=(0, 1)), float(intercept.mean())
    return est


def classifier(seed=0, n=200, p=3, chains=2, draws=100, spread=1.5):
    rng = np.random.default_rng(shifted(seed))
    X = rng.normal(size=(n, p))
    y = X @ np.arange(1.0, p + 1) + rng.normal(size=n) > 0
    est = br.LogisticRegression(method="map").fit(X, y)
    coef = est.coef_ + spread * rng.normal(size=(chains, draws, p))
    intercept = est.intercept_ + spread * rng.normal(size=(chains, draws))
    return with_posterior(est, coef, intercept), X, y


def test_classifier_outputs_agree_with_each_other_and_with_direct_computation():
    """Issue 13 item 5. Reference: P(y=1 | x) = mean over draws of logit^-1(b_s + x'w_s), by hand."""
    est, X, _ = classifier()
    coef = est.idata_["posterior"]["coef"].to_numpy().reshape(-1, X.shape[1])
    intercept = est.idata_["posterior"]["intercept"].to_numpy().ravel()
    p1 = special.expit(intercept[:, None] + coef @ X.T).mean(axis=0)
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], p1, rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(np.exp(est.predict_log_proba(X)), proba, rtol=1e-12)
    np.testing.assert_allclose(est.decision_function(X), special.logit(p1), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(est.predict(X) == est.classes_[1], est.decision_function(X) > 0)


def test_decision_function_follows_the_probability_not_the_mean_coefficients():
    """Where E[eta] < 0 but E[logit^-1(eta)] > 1/2, predict and decision_function used to disagree.

    Intercept draws -10 (30%) and +1 (70%), coef 0: mean eta = -2.3, but
    P(y = 1) = 0.3 expit(-10) + 0.7 expit(1) = 0.5118 > 1/2, so every row is predicted positive.
    """
    est, X, _ = classifier()
    intercept = np.where(np.arange(100) < 30, -10.0, 1.0)[None, :].repeat(2, axis=0)
    with_posterior(est, np.zeros((2, 100, 3)), intercept)
    expected = 0.3 * special.expit(-10.0) + 0.7 * special.expit(1.0)
    np.testing.assert_allclose(est.predict_proba(X)[:, 1], expected, rtol=1e-12)
    assert np.all(est.decision_function(X) > 0)
    assert np.all(est.predict(X) == est.classes_[1])


def test_log_probabilities_stay_finite_where_probabilities_round_to_zero():
    est, X, _ = classifier()
    with_posterior(est, np.zeros((1, 2, 3)), np.array([[-800.0, -801.0]]))
    log_p1 = est.predict_log_proba(X)[:, 1]
    # log mean(expit(-800), expit(-801)) = -800 + log((1 + e^-1) / 2), exactly, to rounding
    np.testing.assert_allclose(log_p1, -800.0 + np.log((1 + np.exp(-1.0)) / 2), rtol=1e-14)
    assert np.all(est.predict_proba(X)[:, 1] == 0.0) and np.all(est.predict(X) == est.classes_[0])


def test_map_decision_function_is_the_linear_predictor():
    est, X, _ = classifier()
    est.idata_ = None
    est.coef_, est.intercept_ = np.array([1.0, -2.0, 0.5]), 0.25
    np.testing.assert_allclose(est.decision_function(X), 0.25 + X @ [1.0, -2.0, 0.5], rtol=1e-14)
    np.testing.assert_allclose(est.predict_proba(X)[:, 1], special.expit(0.25 + X @ [1.0, -2.0, 0.5]), rtol=1e-13)


def regressor(n=200, p=3, chains=2, draws=100, spread=0.3, seed=1):
    rng = np.random.default_rng(shifted(seed))
    X = rng.normal(size=(n, p))
    y = X @ [1.0, -1.0, 0.5] + rng.normal(size=n)
    est = br.LinearRegression(method="map").fit(X, y)
    return with_posterior(est, est.coef_ + spread * rng.normal(size=(chains, draws, p)),
                          est.intercept_ + spread * rng.normal(size=(chains, draws)),
                          sigma=np.abs(1 + 0.1 * rng.normal(size=(chains, draws)))), X, y


@pytest.mark.parametrize("budget", [8 * 200 * 7 * results.LIVE_BLOCKS, None], ids=["blocks-of-7-rows", "one-block"])
def test_row_blocks_give_the_direct_answer(budget):
    """Blocked reductions against the same quantities on the whole draws x rows array."""
    est, X, y = regressor()
    idata = est.idata_
    eta = results.linear_predictor_draws(idata, X, True)
    sigma = results.stacked_draws(idata, "sigma")
    np.testing.assert_allclose(results.predictive_sd(idata, X, True, budget=budget),
                               np.sqrt(eta.var(axis=0) + np.mean(sigma**2)), rtol=1e-12)
    blocks = results.row_blocks(len(X), 200, budget)
    assert len(blocks) == (29 if budget else 1) and blocks[-1].stop == len(X)
    loglik = results.pointwise_log_likelihood(idata, X, y, "gaussian", True)
    np.testing.assert_allclose(loglik, stats.norm(eta, sigma[:, None]).logpdf(y), rtol=1e-12)
    probability = special.expit(eta)
    summary = results.probability_summary(idata, X, True, [0.05, 0.95], budget=budget)
    np.testing.assert_allclose(summary, np.vstack([probability.mean(0), np.quantile(probability, [0.05, 0.95], 0)]),
                               rtol=1e-12)


def test_predict_interval_covers_the_known_predictive_quantiles():
    """All draws equal, known sigma: the predictive is exactly N(eta, sigma^2), so the 94% interval is
    eta -+ 1.8808 sigma. With S = 20000 simulated draws a sample quantile at q = 0.03 has sd
    sqrt(q (1 - q) / S) / phi(1.8808) = 0.0177 sigma; 5 sd = 0.09 (rows are independent, so with 50
    rows a 5-sd miss has chance ~3e-5)."""
    rng = np.random.default_rng(shifted(4))
    X = rng.normal(size=(50, 2))
    est = br.LinearRegression(sigma=2.0, method="map").fit(X, X @ [1.0, 1.0] + rng.normal(size=50))
    with_posterior(est, np.broadcast_to(est.coef_, (4, 5000, 2)).copy(), np.full((4, 5000), est.intercept_))
    interval = est.predict_interval(X, prob=0.94, random_seed=shifted(0))
    z = stats.norm.ppf(0.97)
    centre = est.intercept_ + X @ est.coef_
    np.testing.assert_allclose(interval, np.column_stack([centre - z * 2.0, centre + z * 2.0]), atol=0.09 * 2.0)


def test_peak_memory_is_bounded_at_large_n(monkeypatch):
    """Issue 13 item 6. n = 2e5 rows x 400 draws is a 640 MB draws x rows array; with a 16 MB working
    budget every prediction must stay within it, plus its O(n) inputs and outputs (X is 6 MB): < 40 MB."""
    monkeypatch.setattr(results, "MEMORY_BUDGET_BYTES", 16 * 2**20)
    n, p, chains, draws = 200_000, 4, 2, 200
    rng = np.random.default_rng(shifted(0))
    X = rng.normal(size=(n, p))
    y_linear = X @ np.ones(p) + rng.normal(size=n)
    small = slice(0, 500)
    linear = br.LinearRegression(method="map").fit(X[small], y_linear[small])
    with_posterior(linear, rng.normal(size=(chains, draws, p)), rng.normal(size=(chains, draws)),
                   sigma=np.ones((chains, draws)))
    clf = br.LogisticRegression(method="map").fit(X[small], y_linear[small] > 0)
    with_posterior(clf, rng.normal(size=(chains, draws, p)), rng.normal(size=(chains, draws)))
    full_array = chains * draws * n * 8
    calls = {"predict(return_std)": lambda: linear.predict(X, return_std=True),
             "predict_interval": lambda: linear.predict_interval(X),
             "predict_proba": lambda: clf.predict_proba(X),
             "decision_function": lambda: clf.decision_function(X),
             "predict": lambda: clf.predict(X)}
    for name, call in calls.items():
        tracemalloc.start()
        call()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 40 * 2**20, f"{name} peaked at {peak / 2**20:.0f} MB (draws x rows: {full_array / 2**20:.0f} MB)"


def test_calibration_plot_memory_is_bounded_at_large_n(monkeypatch):
    """The PAV calibration plot refits every replicated data set (draws x rows); it thins the draws to
    the budget. Measured 44 MB at a 16 MB budget (arviz keeps several O(n) copies per replicate),
    against 640 MB for all 400 draws."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayesreg import plots

    monkeypatch.setattr(results, "MEMORY_BUDGET_BYTES", 16 * 2**20)
    n, p, chains, draws = 200_000, 4, 2, 200
    rng = np.random.default_rng(shifted(0))
    X = rng.normal(size=(n, p))
    y = X @ np.ones(p) + rng.normal(size=n) > 0
    clf = br.LogisticRegression(method="map").fit(X[:500], y[:500])
    with_posterior(clf, rng.normal(size=(chains, draws, p)), rng.normal(size=(chains, draws)))
    tracemalloc.start()
    figure = plots.posterior_predictive(clf, X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    plt.close(figure)
    assert peak < 100 * 2**20, f"calibration plot peaked at {peak / 2**20:.0f} MB"
