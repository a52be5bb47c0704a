"""What a fit gives back to a new user (issue 20, "Results"): a readable summary, a posterior
predictive group ArviZ can use, the mean response's interval, one default interval level."""

import re

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesreg as br
from bayesreg import results
from gaussian_references import exact_conditional
from seeds import shifted

pytestmark = pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning")  # short runs
QUICK = dict(draws=300, tune=300, chains=2, random_seed=shifted(1), progressbar=False)
rng = np.random.default_rng(shifted(3))
X = rng.normal(size=(80, 3)) * [1.0, 50.0, 0.02]  # mixed units: estimates of very different sizes
y = 2.0 + X @ [1.0, 0.01, 20.0] + rng.normal(size=80)
labels = np.where(X[:, 0] + rng.normal(size=80) > 0, "yes", "no")


@pytest.fixture(scope="module")
def linear():
    return br.LinearRegression().fit(X, y, **QUICK)


# -- the summary ---------------------------------------------------------------------------------------
def test_summary_shows_the_interval_first_and_every_column(linear):
    table = linear.summary()
    assert list(table.columns[:5]) == ["mean", "sd", "eti94_lb", "eti94_ub", "map"]
    assert list(table.columns[5:]) == ["r_hat", "ess_bulk", "ess_tail", "mcse_mean", "mcse_sd"]
    shown = str(table)
    assert "..." not in shown  # pandas' default width hid the interval and R-hat columns
    header = shown.splitlines()[0].split()
    assert header == list(table.columns)


def test_summary_is_shown_rounded_but_keeps_full_precision(linear):
    table = linear.summary()
    shown = table.rounded()
    raw = linear.summary(round_to="none")
    assert type(raw) is pd.DataFrame
    pd.testing.assert_frame_equal(pd.DataFrame(table), raw)  # computing with it: the exact numbers
    for name in table.index:
        assert re.fullmatch(r"\d+", shown.at[name, "ess_bulk"]), shown.at[name, "ess_bulk"]
        assert re.fullmatch(r"\d\.\d{3}", shown.at[name, "r_hat"])
        # the mean to the decimal of 2 x MCSE: the last shown digit is at most 10 x MCSE and at least
        # 2 x MCSE / 10 (ArviZ's rule), so no digit below the Monte Carlo noise is printed
        mcse = table.at[name, "mcse_mean"]
        decimals = len(shown.at[name, "mean"].partition(".")[2])
        assert 2 * mcse / 10 <= 10.0**-decimals <= 10 * mcse, (name, shown.at[name, "mean"], mcse)
        assert abs(float(shown.at[name, "mean"]) - table.at[name, "mean"]) <= 0.5 * 10.0**-decimals + 1e-12
    assert "2840.523168" not in str(table) and not re.search(r"\d\.\d{5,}", str(table)), str(table)
    selection = table.loc[["x0", "x1"], ["mean", "sd"]]  # a selection stays rounded on display
    assert str(selection) == selection.rounded().to_string()
    with pytest.raises(ValueError, match="round_to"):
        linear.summary(round_to=2)


def test_summaries_side_by_side_are_shown_too(linear):
    """Notebook 03 compares fits with ``pd.concat({name: fit.summary()...}, axis=1)``: the columns
    become (fit, statistic) pairs. Each cell is rounded by its own fit's MCSE and the two-level
    header survives (the first version of the table failed on tuple columns)."""
    table = linear.summary()
    both = pd.concat({"a": table.loc[:, ["mean", "sd", "mcse_mean"]], "b": table.loc[:, ["mean", "r_hat"]]}, axis=1)
    shown = both.rounded()
    assert list(shown.columns) == [("a", "mean"), ("a", "sd"), ("a", "mcse_mean"), ("b", "mean"), ("b", "r_hat")]
    assert shown.loc["x0", ("a", "mean")] == table.rounded().loc["x0", "mean"]
    assert shown.loc["x0", ("b", "mean")] == f"{table.at['x0', 'mean']:.3g}"  # no MCSE beside it: 3 digits
    assert re.fullmatch(r"\d\.\d{3}", shown.loc["x0", ("b", "r_hat")])
    assert "a" in both._repr_html_() and str(both) == shown.to_string()


def test_one_default_interval_level(linear, monkeypatch):
    """summary and predict_interval read bayesreg.results.CI_PROB when the user sets no level."""
    assert results.CI_PROB == 0.94
    monkeypatch.setattr(results, "CI_PROB", 0.5)
    assert {"eti50_lb", "eti50_ub"} <= set(linear.summary().columns)
    np.testing.assert_array_equal(linear.predict_interval(X[:5], random_seed=shifted(4)),
                                  linear.predict_interval(X[:5], prob=0.5, random_seed=shifted(4)))
    np.testing.assert_array_equal(linear.predict_interval(X[:5], kind="mean"),
                                  linear.predict_interval(X[:5], prob=0.5, kind="mean"))
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        linear.summary(ci_prob=94)


# -- the posterior predictive group ---------------------------------------------------------------------
def test_posterior_predictive_at_fit_serves_arviz():
    fit = br.LinearRegression().fit(X, y, posterior_predictive=True, **QUICK)
    assert {"posterior_predictive", "observed_data", "log_likelihood"} <= set(fit.idata_.children)
    assert fit.idata_["posterior_predictive"]["y"].shape == (2, 300, len(y))
    pit = az.loo_pit(fit.idata_)["y"].to_numpy()
    assert pit.shape == (len(y),) and np.all((pit >= 0) & (pit <= 1))
    az.plot_ppc_dist(fit.idata_)  # raised "Could not find node at posterior_predictive" before


def test_posterior_predictive_needs_a_posterior():
    with pytest.raises(ValueError, match="posterior_predictive=True needs a posterior"):
        br.LinearRegression().fit(X, y, method="map", posterior_predictive=True)


def test_sample_posterior_predictive_with_y_describes_those_rows():
    fit = br.LogisticRegression().fit(X[:, :1], labels, **QUICK)
    rows = slice(10, 40)
    fit.sample_posterior_predictive(X[rows, :1], labels[rows], random_seed=shifted(2))
    idata = fit.idata_
    np.testing.assert_array_equal(idata["observed_data"]["y"], (labels[rows] == "yes").astype(float))
    assert idata["log_likelihood"]["y"].shape == (2, 300, 30)
    assert idata["posterior_predictive"]["y"].shape == (2, 300, 30)
    pit = az.loo_pit(idata)["y"].to_numpy()
    assert pit.shape == (30,)
    with pytest.raises(ValueError, match="maybe"):
        fit.sample_posterior_predictive(X[:5, :1], ["yes", "no", "maybe", "no", "yes"])


# -- the mean response's interval ----------------------------------------------------------------------
def _conjugate(seed=0, n=40, tau=1.0, sigma=1.5):
    local = np.random.default_rng(seed)
    Xc = local.normal(size=(n, 3))
    return Xc, 1.0 + Xc @ [1.0, -0.5, 0.0] + local.normal(scale=sigma, size=n), tau, sigma


def _closed_form_interval(X_fit, y_fit, X_new, tau, sigma, prob):
    """b + x'w under w ~ N(0, tau^2 I), flat b, known sigma: Gaussian with mean x~'m, variance x~'C x~."""
    mean, cov = exact_conditional(X_fit, y_fit, np.full(X_fit.shape[1], tau**2), sigma, True)
    design = np.column_stack([X_new, np.ones(len(X_new))])
    centre, sd = design @ mean, np.sqrt(np.einsum("ij,jk,ik->i", design, cov, design))
    z = stats.norm.ppf((1 + prob) / 2)
    return np.column_stack([centre - z * sd, centre + z * sd]), sd


def test_mean_interval_of_exact_draws_matches_the_closed_form():
    """S = 40000 i.i.d. draws of (w, b) from the exact posterior N(m, C). The sample quantile at
    q = 0.03 of the Gaussian x~'theta has sd sqrt(q (1 - q) / S) / phi(z_q) x sd(x~'theta) =
    0.0125 sd (z_q = 1.881, phi = 0.0681); 5 of them: a false alarm has chance < 1e-6 per endpoint,
    < 1e-4 over the 60 endpoints. The observation interval is wider: by the noise, sqrt(sd^2 + sigma^2)."""
    X_fit, y_fit, tau, sigma = _conjugate()
    mean, cov = exact_conditional(X_fit, y_fit, np.full(3, tau**2), sigma, True)
    draws = np.random.default_rng(shifted(9)).multivariate_normal(mean, cov, size=(4, 10000))
    est = br.LinearRegression(br.Normal(tau), sigma=sigma, method="map").fit(X_fit, y_fit)
    _with_posterior(est, draws[..., :3], draws[..., 3])
    X_new = np.random.default_rng(shifted(10)).normal(size=(30, 3)) * 2
    expected, sd = _closed_form_interval(X_fit, y_fit, X_new, tau, sigma, 0.94)
    got = est.predict_interval(X_new, prob=0.94, kind="mean")
    np.testing.assert_array_less(np.abs(got - expected), np.broadcast_to(5 * 0.0125 * sd[:, None], got.shape))
    wide = est.predict_interval(X_new, prob=0.94, random_seed=shifted(1))
    assert np.all(wide[:, 1] - wide[:, 0] > got[:, 1] - got[:, 0])


def test_mean_interval_after_nuts_matches_the_closed_form():
    """The same through the sampler: tolerance 5 x ArviZ's MCSE of each endpoint's quantile (from
    its ESS; the draws are autocorrelated). Gaussian errors: < 1e-6 chance per endpoint to exceed,
    < 1e-4 over the 40; the MCSE is itself estimated (relative error ~ 1/sqrt(ESS) ~ 5%), which
    leaves the union bound below 1e-3."""
    X_fit, y_fit, tau, sigma = _conjugate(seed=1)
    fit = br.LinearRegression(br.Normal(tau), sigma=sigma).fit(X_fit, y_fit, draws=1000, tune=500, chains=4,
                                                              random_seed=shifted(5), progressbar=False)
    X_new = X_fit[:20]
    expected, _ = _closed_form_interval(X_fit, y_fit, X_new, tau, sigma, 0.94)
    got = fit.predict_interval(X_new, prob=0.94, kind="mean")
    eta = results.linear_predictor_draws(fit.idata_, X_new, True).reshape(4, 1000, -1)  # (chain, draw, row)
    for column, q in enumerate((0.03, 0.97)):
        mcse = np.array([float(az.mcse(eta[:, :, i], method="quantile", prob=q)) for i in range(len(X_new))])
        np.testing.assert_array_less(np.abs(got[:, column] - expected[:, column]), 5 * mcse)


def test_logistic_mean_interval_is_the_probabilitys():
    """Quantiles of logit^-1(eta) are logit^-1 of eta's (monotone): against the draws directly."""
    fit = br.LogisticRegression().fit(X[:, :1], labels, **QUICK)
    got = fit.predict_interval(X[:10, :1], prob=0.9)
    eta = results.linear_predictor_draws(fit.idata_, X[:10, :1], True)
    np.testing.assert_allclose(got, np.quantile(1 / (1 + np.exp(-eta)), [0.05, 0.95], axis=0).T, rtol=1e-12)
    assert np.all((got > 0) & (got < 1))
    with pytest.raises(ValueError, match="predict_proba"):
        fit.predict_interval(X[:10, :1], kind="observation")


def _with_posterior(est, coef, intercept):
    import xarray as xr

    chains, draws, p = coef.shape
    est.idata_ = xr.DataTree.from_dict({"posterior": xr.Dataset(
        {"coef": (("chain", "draw", "feature"), coef), "intercept": (("chain", "draw"), intercept)},
        coords={"chain": np.arange(chains), "draw": np.arange(draws), "feature": [f"x{j}" for j in range(p)]})})
    return est
