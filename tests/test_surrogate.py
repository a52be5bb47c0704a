"""LogisticRegression(method="surrogate") against exact NUTS, and its k-hat diagnostic.

Reference: exact NUTS on the same data and prior. Tolerance: the issue's criterion, posterior
means within 0.1 posterior sd. The Monte Carlo error of the difference of two means is
sd * sqrt(1/ESS_exact + 1/ESS_surrogate); each test first asserts that this is at most 0.025 sd,
so 0.1 sd is >= 4 standard errors (a false failure has probability < 7e-5 per comparison, < 0.3%
over the 33 comparisons here) and a real bias above 0.1 sd shows.
"""

import warnings

import numpy as np
import pytest

import bayesreg as br
from bayesreg.surrogate import ApproximationWarning, LargeDataWarning

SE_MAX = 0.025  # largest Monte Carlo sd of (mean difference) / posterior sd that the check allows


@pytest.fixture(scope="module")
def large_logistic():
    rng = np.random.default_rng(2026)
    n, p = 30_000, 10
    X = rng.normal(size=(n, p))
    coef = np.array([1.0, -0.5, 0.25, 0.0, 0.0, 0.8, 0.0, -0.3, 0.0, 0.1])
    y = (rng.random(n) < 1 / (1 + np.exp(-(-0.4 + X @ coef)))).astype(int)
    return X, y


def _importance_ess(est) -> float:
    """ESS of the corrected draws: the surrogate draws' worst bulk ESS times the weights'
    efficiency 1 / (S sum w^2) (Kish), the usual PSIS approximation."""
    import arviz as az

    log_w = est.idata_["surrogate_weights"]["log_weight"].to_numpy().ravel()
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    surrogate = est.idata_["surrogate_posterior"]
    ess = az.ess(surrogate, var_names=["coef", "intercept"])
    worst = min(float(ess[name].min()) for name in ("coef", "intercept"))
    return worst / (w.size * np.sum(w**2))


@pytest.mark.slow
# The regularized horseshoe is not here: exact NUTS on it at n = 3e4, p = 10 ran for more than 25
# minutes without finishing on this 2-core machine (twice), so it cannot be the reference inside
# make test. Issue 14 stays open for that comparison.
@pytest.mark.parametrize("prior", [br.Normal(1.0), br.Laplace(0.5)], ids=["normal", "laplace"])
def test_surrogate_matches_exact_nuts(large_logistic, prior):
    import arviz as az

    X, y = large_logistic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LargeDataWarning)
        exact = br.LogisticRegression(prior).fit(X, y, draws=1000, tune=1000, random_seed=1, progressbar=False)
    surrogate = br.LogisticRegression(prior, method="surrogate").fit(X, y, draws=2500, tune=1000,
                                                                     random_seed=2, progressbar=False)
    k_hat = surrogate.idata_.attrs["pareto_k"]
    assert k_hat < 0.5
    ess_exact = az.ess(exact.idata_, var_names=["coef", "intercept"])
    worst_exact = min(float(ess_exact[name].min()) for name in ("coef", "intercept"))
    se = np.sqrt(1 / worst_exact + 1 / _importance_ess(surrogate))
    assert se <= SE_MAX, f"too few effective draws for the check: SE {se:.3f} sd"
    e, s = exact.summary(), surrogate.summary()
    names = [*exact.feature_names_, "intercept"]
    gap = np.abs(s.loc[names, "mean"] - e.loc[names, "mean"]) / e.loc[names, "sd"]
    assert gap.max() < 0.1, gap.sort_values().tail(3)
    assert "pareto_k" in surrogate.idata_.attrs and "surrogate_posterior" in surrogate.idata_.children


def test_small_n_gives_large_k_hat_and_the_warning(capsys):
    # n = 20 with 8 strong effects: the likelihood is far from quadratic (near separation), so the
    # Gaussian surrogate misses the posterior's skewed tails and the weights are heavy-tailed
    # (k-hat 0.87-0.92 over data seeds 0-2; 0.66-0.81 at n = 30).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 8))
    y = (X @ np.full(8, 2.0) + rng.normal(size=20) > 0).astype(int)
    est = br.LogisticRegression(br.Normal(5.0), method="surrogate")
    with pytest.warns(ApproximationWarning, match=r"k-hat .*\(> 0.7\).*method='nuts'"):
        est.fit(X, y, draws=1000, tune=500, random_seed=3, progressbar=False)
    assert est.idata_.attrs["pareto_k"] > 0.7


def test_exact_nuts_on_large_logistic_data_warns_with_a_time_estimate():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200_000, 20))
    y = (X[:, 0] + rng.normal(size=len(X)) > 0).astype(int)
    est = br.LogisticRegression(br.Normal(1.0))
    # warned before any sampling starts: the warning is turned into an error to stop the fit there
    with warnings.catch_warnings():
        warnings.simplefilter("error", LargeDataWarning)
        with pytest.raises(LargeDataWarning, match=r"estimated \d+ min.*method='surrogate'"):
            est.fit(X, y)
    assert not hasattr(est, "coef_")  # nothing fitted


def test_surrogate_is_for_logistic_only(diabetes):
    with pytest.raises(ValueError, match="method='surrogate' is for LogisticRegression"):
        br.LinearRegression().fit(*diabetes, method="surrogate")
