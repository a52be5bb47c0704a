"""Which variables matter (issue 23): shrinkage factors, m_eff, ranks.

References: Piironen & Vehtari's (2017) closed form of the horseshoe's prior mean of
``1 - kappa_j`` at a fixed ``tau``; the Laplace mixture's own prior (Gibbs stationarity of the
inverse-Gaussian step); a loop over draws with ``argsort`` for ranks.
"""

import dataclasses

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import bayesreg as br
from bayesreg.assessment import rank_draws
from bayesreg.assessment.shrinkage import kappa, posterior_variances, prior_variances
from seeds import shifted

pytestmark = pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning")
rng = np.random.default_rng(shifted(230))
N, P = 100, 6
SDS = np.array([1.0, 10.0, 0.1, 1.0, 3.0, 0.5])
X = rng.normal(size=(N, P)) * SDS
TRUE = np.array([2.0, 0.0, 20.0, 0.0, 0.0, 0.0])  # two signals of 2 sds of x each
y = X @ TRUE + rng.normal(size=N)
QUICK = dict(draws=500, tune=500, chains=2, progressbar=False)


@pytest.fixture(scope="module")
def horseshoe():
    sparse = br.Horseshoe(scale=2 / (P - 2) / np.sqrt(N))  # Piironen & Vehtari's tau_0 for 2 non-zero of 6
    return br.LinearRegression(sparse, sigma=1.0).fit(X, y, random_seed=shifted(1), **QUICK)


@pytest.mark.parametrize("autoscale", [True, False])
def test_horseshoe_prior_m_eff_equals_piironen_vehtari_closed_form(autoscale):
    """At tau = sigma / sqrt(n), E[1 - kappa_j] = a_j / (1 + a_j) with a_j = tau sqrt(n) s_j c_j / sigma
    (c_j the prior's factor: 1 / s_j under autoscale, so a_j = 1 and m_eff = p / 2). Each
    1 - kappa_j is in [0, 1] (variance <= 1/4) and independent given tau, so the Monte Carlo sd of
    the mean of m_eff over 40000 draws is <= sqrt(p) / 2 / 200 = 0.0061; the tolerance 0.03 is
    4.9 sd (false alarm < 1e-6)."""
    sigma = 1.3
    est = br.LinearRegression(br.Horseshoe(autoscale=autoscale), sigma=sigma).fit(X, y, random_seed=shifted(2),
                                                                                  draws=50, tune=50, chains=1,
                                                                                  progressbar=False)
    tau = sigma / np.sqrt(N)
    result = est.shrinkage(n_prior_draws=40000, random_seed=shifted(3), tau=tau)
    sd = X.std(axis=0)
    factor = 1 / sd if autoscale else np.ones(P)
    a = tau * np.sqrt(N) * sd * factor / sigma
    expected = np.sum(a / (1 + a))
    if autoscale:
        assert expected == pytest.approx(P / 2)
    assert result.prior_m_eff.mean() == pytest.approx(expected, abs=0.03)


def test_posterior_shrinkage_keeps_the_signals(horseshoe):
    result = horseshoe.shrinkage(random_seed=shifted(4))
    assert result.kappa.shape == (1000, P) and np.all((result.kappa >= 0) & (result.kappa <= 1))
    np.testing.assert_allclose(result.m_eff, (1 - result.kappa).sum(axis=1))
    table = result.summary()
    assert list(table.index) == horseshoe.feature_names_
    assert table.loc[["x0", "x2"], "kappa_mean"].max() < 0.05  # the two signals are kept
    nulls = table.loc[["x1", "x3", "x4", "x5"], "kappa_mean"]  # shrunk: each more than any signal, on
    assert nulls.min() > 0.1 and nulls.mean() > 0.3  # on average by much (seen: min 0.17 at shift 1)
    assert 1.5 < result.m_eff.mean() < P - 1  # two signals kept whole, the nulls in part
    assert list(result.m_eff_summary().index) == ["prior", "posterior"]


def test_kappa_is_the_posterior_mean_over_least_squares_on_orthogonal_columns():
    """P&V's defining property: with centred, orthogonal columns, a fixed Normal prior and known
    sigma, the posterior mean (the MAP, the conjugate solution) is (1 - kappa_j) times least squares."""
    centred = rng.normal(size=(N, 3))
    Q, _ = np.linalg.qr(centred - centred.mean(axis=0))  # orthonormal columns in the span of centred ones
    Z = Q * np.sqrt(N) * [3.0, 1.0, 0.2]
    target = Z @ [1.0, -2.0, 3.0] + rng.normal(size=N)
    prior = br.Normal(np.array([0.1, 0.5, 2.0]))
    est = br.LinearRegression(prior, sigma=1.5).fit(Z, target, random_seed=shifted(8), **QUICK)
    k = est.shrinkage(n_prior_draws=10).kappa[0]
    least_squares = np.linalg.lstsq(Z, target - target.mean(), rcond=None)[0]
    np.testing.assert_allclose(est.map_.coef, (1 - k) * least_squares, rtol=1e-8)


def test_kappa_is_invariant_to_rescaling_a_column_under_autoscale(horseshoe):
    """Normal(autoscale) with known sigma: kappa is a number; rescaling x_1 by 1000 changes the prior
    scale by 1/1000 and sd(x_1) by 1000. Horseshoe: the same draws, rescaled as the fit would be."""
    scaled = X * [1.0, 1000.0, 1, 1, 1, 1]
    fits = [br.LinearRegression(br.Normal(1.0, autoscale=True), sigma=1.0).fit(data, y, random_seed=shifted(5),
                                                                                **QUICK) for data in (X, scaled)]
    k0, k1 = (fit.shrinkage(n_prior_draws=10, random_seed=0) for fit in fits)  # seed fixed: deterministic here
    np.testing.assert_allclose(k0.kappa, k1.kappa, rtol=1e-12)
    np.testing.assert_allclose(k0.prior_m_eff, k1.prior_m_eff, rtol=1e-12)
    prior = horseshoe.prior_
    v = posterior_variances(horseshoe.idata_, prior, np.random.default_rng(0))  # seed fixed: unused (no draws)
    rescaled_prior = dataclasses.replace(prior, factor=prior.factor * [1, 1e-3, 1, 1, 1, 1])
    v_scaled = posterior_variances(horseshoe.idata_, rescaled_prior, np.random.default_rng(0))  # seed fixed: as above
    np.testing.assert_allclose(kappa(v, horseshoe.x_sd_, N, 1.0),
                               kappa(v_scaled, horseshoe.x_sd_ * [1, 1e3, 1, 1, 1, 1], N, 1.0), rtol=1e-10)


def test_laplace_mixture_variances_given_w_keep_the_prior():
    """Draw (w, v) from the Laplace prior as a Normal mixture, redraw v | w by the inverse-Gaussian
    step: v must again be Exp(mean 2 b^2) (the step leaves the joint distribution invariant), and
    w must be Laplace(b). KS tests at 40000 draws, each with a false-alarm rate of 1e-4."""
    b, m = 0.7, 40000
    generator = np.random.default_rng(shifted(6))
    prior = br.Laplace(b)
    v = prior_variances(prior, m, 1, generator, sigma=1.0, n=10)
    w = np.sqrt(v) * generator.standard_normal(v.shape)
    assert stats.kstest(w.ravel(), stats.laplace(scale=b).cdf).pvalue > 1e-4
    idata = xr.DataTree.from_dict({"posterior": xr.Dataset({"coef": (("chain", "draw", "feature"), w[None])})})
    redrawn = posterior_variances(idata, prior, generator)
    assert stats.kstest(redrawn.ravel(), stats.expon(scale=2 * b**2).cdf).pvalue > 1e-4
    assert stats.kstest(redrawn.ravel(), stats.expon(scale=2 * b**2 * 1.1).cdf).pvalue < 1e-4  # the test has power


def test_elastic_net_is_refused_with_the_alternative():
    est = br.LinearRegression(br.ElasticNet(1.0, 1.0), sigma=1.0).fit(X, y, random_seed=shifted(7), **QUICK)
    with pytest.raises(ValueError, match=r"ElasticNet.*est.rank\(\)"):
        est.shrinkage()


def test_ranks_equal_a_loop_over_draws(horseshoe):
    ranks = horseshoe.rank()
    coef = horseshoe.idata_["posterior"]["coef"].to_numpy().reshape(-1, P)
    effect = np.abs(coef * X.std(axis=0))
    expected = np.empty_like(effect)
    for s, row in enumerate(effect):
        expected[s, np.argsort(-row)] = np.arange(1, P + 1)
    np.testing.assert_array_equal(ranks.draws, expected)  # continuous draws: no ties
    table = ranks.summary()
    assert set(table.index[:2]) == {"x0", "x2"} and table["p_within_median"].between(0, 1).all()
    probabilities = ranks.probabilities()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    np.testing.assert_allclose(rank_draws(horseshoe.idata_, horseshoe.x_sd_ * 7.0), ranks.draws)  # units of y
    # terms of several columns rank by the norm of their standardized effects; singletons as before
    groups = [[0, 3], [1], [2]]
    grouped = np.stack([np.linalg.norm(effect[:, g], axis=1) for g in groups], axis=1)
    expected = np.empty_like(grouped)
    for s, row in enumerate(grouped):
        expected[s, np.argsort(-row)] = np.arange(1, len(groups) + 1)
    np.testing.assert_array_equal(rank_draws(horseshoe.idata_, horseshoe.x_sd_, groups), expected)
    np.testing.assert_array_equal(rank_draws(horseshoe.idata_, horseshoe.x_sd_, [[j] for j in range(P)]), ranks.draws)


def test_a_formula_fit_ranks_its_terms():
    """A factor's dummies are one term of ``rank()`` (named by the formula's term)."""
    import pandas as pd

    import bayesreg as br

    generator = np.random.default_rng(shifted(233))
    frame = pd.DataFrame({"x1": generator.normal(size=80), "region": generator.choice(list("abc"), 80)})
    frame["y"] = frame["x1"] + frame["region"].map({"a": 0.0, "b": 3.0, "c": -3.0}) + generator.normal(size=80)
    est = br.LinearRegression(formula="y ~ x1 + C(region)").fit(frame, draws=200, tune=200, chains=2,
                                                                random_seed=shifted(6), progressbar=False)
    ranks = est.rank()
    assert ranks.feature_names == ["x1", "C(region)"] and ranks.draws.shape == (400, 2)
    assert ranks.summary().index[0] == "C(region)"  # effect norm ~ 3 against ~ 1


def test_shrinkage_and_rank_plots_draw_what_they_claim(horseshoe):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayesreg import plots

    result = horseshoe.shrinkage(random_seed=shifted(9))
    figure = plots.shrinkage_factors(result)
    left, right = figure.axes
    assert [t.get_text() for t in left.get_yticklabels()] == horseshoe.feature_names_[::-1]
    assert [t.get_text() for t in right.get_legend().get_texts()] == ["prior", "posterior"]
    plt.close(figure)
    figure = plots.ranks(horseshoe)
    image = figure.axes[0].images[0].get_array()
    np.testing.assert_allclose(image, horseshoe.rank().probabilities().to_numpy())
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()][:2] in (["x0", "x2"], ["x2", "x0"])
    p = len(horseshoe.feature_names_)
    assert [int(t) for t in figure.axes[0].get_xticks()] == list(range(1, p + 1))  # every rank labelled
    plt.close(figure)
