"""How good is a fit (issue 23): exact and PSIS leave-one-out, compare, Bayesian R^2.

References: brute-force leave-one-out refits, each in closed form (the conjugate Gaussian posterior
solved from scratch without row i); ArviZ's own ``loo`` on the stored log-likelihood;
a direct per-draw computation of R^2 and ArviZ's ``bayesian_r2``.
"""

import warnings

import arviz_stats as azs
import numpy as np
import pytest
import xarray as xr
from scipy import special, stats

import bayesreg as br
from bayesreg.assessment import LOOWarning, bayes_r2_draws
from bayesreg.assessment.loo import exact_gaussian_loo, log_likelihood_blocks, make_elpd, psis_loo, warn_on_khat
from seeds import shifted

pytestmark = pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning")
rng = np.random.default_rng(shifted(23))
N, P = 60, 4
X = rng.normal(size=(N, P)) * [1.0, 3.0, 0.5, 1.0]
y = 1.5 + X @ [1.0, 0.3, 0.0, 0.0] + rng.normal(size=N)
SCALES = np.array([1.0, 0.5, 2.0, 1.0])


@pytest.fixture(scope="module")
def fitted():
    return br.LinearRegression(br.Normal(SCALES), sigma=1.0).fit(X, y, draws=1000, tune=500, chains=4,
                                                                 random_seed=shifted(1), progressbar=False)


def brute_force_loo(X, y, scales, sigma, fit_intercept):
    """For each i: the Gaussian posterior of (b, w) from the other rows, solved from its normal
    equations, and the predictive density N(y_i | z_i'm, z_i'C z_i + sigma^2)."""
    Z = np.hstack([np.ones((len(y), 1)), X]) if fit_intercept else X
    prior_precision = np.diag(np.r_[[0.0] * fit_intercept, 1 / np.broadcast_to(scales, X.shape[1]) ** 2])
    out = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        C = np.linalg.inv(Z[keep].T @ Z[keep] / sigma**2 + prior_precision)
        m = C @ Z[keep].T @ y[keep] / sigma**2
        out.append(stats.norm.logpdf(y[i], Z[i] @ m, np.sqrt(Z[i] @ C @ Z[i] + sigma**2)))
    return np.array(out)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_exact_loo_equals_brute_force_refits(fit_intercept):
    exact = exact_gaussian_loo(X, y, 1 / SCALES**2, 0.8, fit_intercept)
    np.testing.assert_allclose(exact, brute_force_loo(X, y, SCALES, 0.8, fit_intercept), rtol=0, atol=1e-8)


def test_est_loo_is_exact_for_a_fixed_normal_prior_with_known_sigma():
    est = br.LinearRegression(br.Normal(SCALES), sigma=0.8).fit(X, y, method="map")  # no posterior needed
    elpd = est.loo(X, y)
    np.testing.assert_allclose(elpd.elpd_i.to_numpy(), brute_force_loo(X, y, SCALES, 0.8, True), atol=1e-8)
    assert elpd.elpd == pytest.approx(float(elpd.elpd_i.sum())) and np.all(elpd.pareto_k.to_numpy() == 0)
    Z = np.hstack([np.ones((N, 1)), X])  # p_loo = sum_i log p(y_i | y) - elpd: the full-data posterior
    C = np.linalg.inv(Z.T @ Z / 0.64 + np.diag(np.r_[0.0, 1 / SCALES**2]))
    lppd = stats.norm.logpdf(y, Z @ C @ Z.T @ y / 0.64, np.sqrt(np.einsum("ij,jk,ik->i", Z, C, Z) + 0.64))
    assert elpd.p == pytest.approx(lppd.sum() - elpd.elpd, abs=1e-8)
    with pytest.raises(ValueError, match="known noise sd"):
        br.LinearRegression(br.Normal(1.0)).fit(X, y, method="map").loo(X, y, method="exact")
    with pytest.raises(ValueError, match="needs a posterior"):
        est.loo(X, y, method="psis")


def test_psis_loo_agrees_with_the_exact_loo(fitted):
    """PSIS on 4000 NUTS draws against the exact value. The tolerance: within the elpd's SE (the
    issue's criterion, ~8 here), and within 0.5, ten times the Monte Carlo sd of the PSIS total
    measured over 20 data sets with 4000 exact independent posterior draws (0.05; max 0.12)."""
    exact = fitted.loo(X, y)
    psis = fitted.loo(X, y, method="psis")
    assert abs(psis.elpd - exact.elpd) < min(psis.se, 0.5), (psis.elpd, exact.elpd, psis.se)
    assert abs(psis.p - exact.p) < 0.5
    assert np.all(psis.pareto_k.to_numpy() < 0.7)


def test_psis_in_row_blocks_equals_arviz_on_the_stored_log_likelihood(fitted):
    """Many small blocks (a tiny memory budget: 7 rows each) give ArviZ's own numbers on the stored
    group: elpd_i, k-hat, p_loo_i and the normalized smoothed log weights that selection uses."""
    reference = azs.loo(fitted.idata_, pointwise=True)
    stored = fitted.loo(method="psis")
    blocks = log_likelihood_blocks(fitted.idata_, X, y, "gaussian", True, 1.0, budget=8 * 8 * 4000 * 7)
    from bayesreg.assessment.loo import relative_efficiency
    elpd_i, p_i, khat, log_weights, _ = psis_loo(blocks, N, relative_efficiency(fitted.idata_), keep_log_weights=True)
    for values in (stored.elpd_i.to_numpy(), elpd_i):
        np.testing.assert_allclose(values, reference.elpd_i.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(khat, reference.pareto_k.to_numpy(), rtol=1e-10)
    lppd_i = special.logsumexp(fitted.idata_["log_likelihood"]["y"].to_numpy(), axis=(0, 1)) - np.log(4000)
    np.testing.assert_allclose(p_i, lppd_i - reference.elpd_i.to_numpy(), rtol=1e-10, atol=1e-12)
    reference_lw = reference.log_weights.transpose("chain", "draw", "obs").to_numpy().reshape(4000, N)
    np.testing.assert_allclose(log_weights, reference_lw - special.logsumexp(reference_lw, axis=0), atol=1e-10)
    assert stored.elpd == pytest.approx(reference.elpd, rel=1e-12)
    assert stored.se == pytest.approx(reference.se, rel=1e-10) and stored.p == pytest.approx(reference.p, rel=1e-9)


def test_loo_without_a_stored_log_likelihood(fitted):
    est = br.LinearRegression(br.Normal(SCALES)).fit(X, y, draws=300, tune=300, chains=2, random_seed=shifted(2),
                                                     progressbar=False, log_likelihood=False)
    with pytest.raises(ValueError, match=r"est.loo\(X, y\)"):
        est.loo()
    elpd = est.loo(X, y)  # sigma estimated: PSIS, the log-likelihood computed in row blocks
    assert elpd.n_data_points == N and np.isfinite(elpd.elpd) and elpd.pareto_k.shape == (N,)
    with pytest.raises(ValueError, match="both"):
        est.loo(X)


def test_high_khat_is_named_with_advice():
    khat = np.zeros(50)
    khat[[3, 7]] = 0.9
    elpd = make_elpd(np.full(50, -1.0), np.full(50, 0.1), 4000, khat)
    with pytest.warns(LOOWarning, match=r"2 of 50 rows.*\[3, 7\].*refit without each"):
        warn_on_khat(elpd, 50)
    khat[:20] = 0.9
    with pytest.warns(LOOWarning, match="K-fold"):
        warn_on_khat(make_elpd(np.full(50, -1.0), np.full(50, 0.1), 4000, khat), 50)


def test_compare_ranks_fits_with_stacking_weights(fitted):
    crushed = br.LinearRegression(br.Normal(0.01), sigma=1.0).fit(X, y, draws=300, tune=300, chains=2,
                                                                  random_seed=shifted(3), progressbar=False)
    table = br.compare({"crushed": crushed, "good": fitted})  # full precision (ArviZ's "auto" rounds)
    assert list(table.index) == ["good", "crushed"]  # the 0.01 prior erases a slope of 1
    assert table["weight"].sum() == pytest.approx(1.0, abs=1e-6) and table.loc["good", "weight"] > 0.9
    exact = br.compare({"crushed": crushed, "good": fitted}, X=X, y=y)  # exact LOO for both
    assert exact.loc["crushed", "elpd"] == pytest.approx(crushed.loo(X, y).elpd)
    with pytest.raises(ValueError, match="at least two"):
        br.compare({"good": fitted})


def test_bayes_r2_equals_a_direct_computation_and_arviz(fitted):
    draws = fitted.bayes_r2(X)
    posterior = fitted.idata_["posterior"]
    coef = posterior["coef"].to_numpy().reshape(-1, P)
    mu = coef @ X.T + posterior["intercept"].to_numpy().reshape(-1, 1)
    direct = np.array([np.var(m, ddof=1) / (np.var(m, ddof=1) + 1.0) for m in mu])
    np.testing.assert_allclose(draws, direct, rtol=1e-12)
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset(
        {"mu": (("chain", "draw", "obs"), mu.reshape(4, -1, N)), "s": (("chain", "draw"), np.ones((4, 1000)))})})
    arviz = azs.bayesian_r2(tree, pred_mean="mu", scale="s", summary=False)
    np.testing.assert_allclose(draws, np.asarray(arviz).ravel(), rtol=1e-12)
    # many row blocks (Chan's update of means and sums of squares), and the Bernoulli pseudo-variance
    logistic = bayes_r2_draws(fitted.idata_, X, "bernoulli", True, budget=8 * 8 * 4000 * 7)
    p = special.expit(mu)
    expected = np.var(p, axis=1, ddof=1) / (np.var(p, axis=1, ddof=1) + np.mean(p * (1 - p), axis=1))
    np.testing.assert_allclose(logistic, expected, rtol=1e-10)
    np.testing.assert_allclose(bayes_r2_draws(fitted.idata_, X, "gaussian", True, 1.0, budget=8 * 8 * 4000 * 7),
                               direct, rtol=1e-10)


def test_logistic_loo_in_row_blocks_equals_arviz_and_r2_runs():
    """Draws around the MAP stand in for a posterior (a NUTS fit would add seconds): what is tested
    is the Bernoulli log-likelihood from the draws against ArviZ on the group computed at fit."""
    from bayesreg import results

    labels = np.where(X[:, 0] + rng.normal(size=N) > 0, "yes", "no")
    est = br.LogisticRegression().fit(X, labels, method="map")
    draws = np.r_[est.intercept_, est.coef_] + 0.1 * rng.normal(size=(2, 200, P + 1))
    posterior = xr.Dataset({"coef": (("chain", "draw", "feature"), draws[..., 1:]),
                            "intercept": (("chain", "draw"), draws[..., 0])},
                           coords={"chain": [0, 1], "draw": np.arange(200), "feature": est.feature_names_})
    est.idata_ = results.add_observation_groups(xr.DataTree.from_dict({"posterior": posterior}), X,
                                                (labels == "yes").astype(float), "bernoulli", True, None, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # k-hat at 400 draws: the same rows in both
        reference = azs.loo(est.idata_, pointwise=True)
        computed = est.loo(X, labels)  # from the draws, not the stored group
    np.testing.assert_allclose(computed.elpd_i.to_numpy(), reference.elpd_i.to_numpy(), rtol=1e-10)
    r2 = est.bayes_r2(X)
    assert r2.shape == (400,) and np.all((r2 > 0) & (r2 < 1))


def test_psis_blocks_are_freed_as_they_go():
    """Memory, not time: PSIS over 12 row blocks of a (2 x 500 draws x 40 rows) log-likelihood
    with the cyclic garbage collector off. Finished blocks must not stay alive (they did when each
    was wrapped in a DataTree, a reference cycle): tracemalloc's peak stays under 6 blocks, where
    keeping them all would need 12. Deterministic: no seed."""
    import gc
    import tracemalloc

    def blocks():
        base = -0.5 * np.linspace(0.0, 3.0, 1000).reshape(2, 500, 1) ** 2  # a smooth log-likelihood
        for k in range(12):
            yield slice(40 * k, 40 * (k + 1)), base + np.linspace(0.0, 1.0, 40)

    block_bytes = 1000 * 40 * 8
    gc.disable()
    tracemalloc.start()
    try:
        elpd_i, _, _, _, _ = psis_loo(blocks(), 480, 1.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        gc.enable()
    assert np.all(np.isfinite(elpd_i))
    assert peak < 6 * block_bytes, f"peak {peak / block_bytes:.1f} blocks"
