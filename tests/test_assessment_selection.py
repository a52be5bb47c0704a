"""Projection predictive selection (issue 23): the Gaussian projection, the forward search, its
LOO validation and the suggested size.

References: per-draw least squares (``np.linalg.lstsq``) and the KL formula for sigma written out;
a brute-force greedy search that refits every candidate; the simulated truth.
"""

import warnings

import numpy as np
import pytest

import bayesreg as br
from bayesreg.assessment import LOOWarning, forward_search, project_gaussian
from seeds import shifted

pytestmark = [pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning"),
              pytest.mark.filterwarnings("ignore::bayesreg.assessment.LOOWarning")]  # 600 draws: some k-hat > 0.7
rng = np.random.default_rng(shifted(231))
N, P, S = 40, 6, 30
X = rng.normal(size=(N, P)) * [1.0, 5.0, 0.2, 1.0, 2.0, 1.0]
MU = rng.normal(size=(S, N)) + (X @ rng.normal(size=(P, S))).T * 0.5  # arbitrary "reference draws"
SIGMA = rng.uniform(0.5, 1.5, size=S)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_projection_equals_least_squares_per_draw(fit_intercept):
    columns = [4, 1, 2]
    projection = project_gaussian(X, MU, SIGMA, columns, fit_intercept)
    Z = np.hstack([np.ones((N, 1)), X[:, columns]]) if fit_intercept else X[:, columns]
    for s in range(S):
        beta = np.linalg.lstsq(Z, MU[s], rcond=None)[0]
        np.testing.assert_allclose(projection.coef[s], beta[int(fit_intercept):], rtol=0, atol=1e-10)
        if fit_intercept:
            assert projection.intercept[s] == pytest.approx(beta[0], abs=1e-10)
        rss = np.sum((MU[s] - Z @ beta) ** 2)
        assert projection.sigma[s] == pytest.approx(np.sqrt(SIGMA[s] ** 2 + rss / N), abs=1e-10)


def test_projecting_onto_every_term_reproduces_the_reference():
    mu = rng.normal(size=(S, P)) @ X.T + rng.normal(size=(S, 1))  # draws of b + X w
    projection = project_gaussian(X, mu, SIGMA, range(P), True)
    np.testing.assert_allclose(projection.linear_predictor(X), mu, atol=1e-10)
    np.testing.assert_allclose(projection.sigma, SIGMA, atol=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_forward_search_equals_a_greedy_search_by_refitting(fit_intercept):
    """Each step's choice: the candidate whose projection has the least summed divergence
    sum_s log(sigma_perp_s^2), every candidate projected from scratch. Noise sds from 0.01 to 10:
    the draws with little noise weigh most, so a search by the plain sum of squares differs."""
    sigma = np.geomspace(0.01, 10, S)
    chosen = []
    for _ in range(P):
        remaining = [j for j in range(P) if j not in chosen]
        cost = [np.sum(np.log(project_gaussian(X, MU, sigma, chosen + [j], fit_intercept).sigma ** 2))
                for j in remaining]
        chosen.append(remaining[int(np.argmin(cost))])
    assert forward_search(X, MU, sigma, fit_intercept, P) == chosen
    # half the draws nearly noiseless on x0, half noisy on x1 with 100x its sum of squares: the
    # divergence takes x0 first (log(1e-4 + 1) - log(1e-4) >> log(200) - log(100)), least squares x1
    two = np.vstack([np.tile(X[:, 0], (5, 1)), np.tile(2 * X[:, 1], (5, 1))])
    assert forward_search(X, two, np.r_[[0.01] * 5, [10.0] * 5], fit_intercept, 1) == [0]


def simulated(seed, n=80, p=40):
    """5 signals spread over the columns, signal-to-noise variance ratio 25 ("high")."""
    generator = np.random.default_rng(seed)
    X = generator.normal(size=(n, p))
    signals = np.linspace(1, p - 2, 5).astype(int)
    w = np.zeros(p)
    w[signals] = [3.0, -2.5, 2.0, -2.0, 1.5]
    return X, X @ w + generator.normal(size=n), signals


def test_search_finds_the_true_signals_and_suggests_their_number():
    """5 true signals among 40 at high SNR, a regularized horseshoe reference (300 draws x 2 chains).
    Must hold in at least 2 of 3 data sets: with each seed failing independently with probability
    q, the false alarm is 3 q^2 - 2 q^3. Measured at this setting on 20 other seeds (100-119): the
    order right in 20/20, the size 5 in 19/20 (q ~ 0.05: false alarm ~ 0.7%). The issue's harder
    benchmark (p = 200, 10 seeds) is benchmarks/select_simulation.py (RESULTS.md: order 10/10,
    size 8/10 at first, 9/10 in the second run with LOO; "Projection predictive selection, K-fold")."""
    found, sizes = 0, []
    for k in range(3):
        X, y, signals = simulated(shifted(40 + k))
        est = br.LinearRegression(br.RegularizedHorseshoe(expected_nonzero=5)).fit(
            X, y, draws=300, tune=300, chains=2, random_seed=shifted(41 + k), progressbar=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LOOWarning)  # a few k-hat > 0.7 at 600 draws
            selection = br.select(est, X, y, max_terms=8)
        found += set(selection.order[:5]) == set(signals.tolist())
        sizes.append(selection.suggest_size())
    assert found >= 2, found
    assert sizes.count(5) >= 2, sizes


@pytest.fixture(scope="module")
def selection_and_fit():
    X, y, _ = simulated(shifted(50), n=80, p=12)
    est = br.LinearRegression(br.Normal(1.0, autoscale=True)).fit(X, y, draws=300, tune=300, chains=2,
                                                                  random_seed=shifted(51), progressbar=False)
    return br.select(est, X, y), est, X, y


def test_selection_table_projection_and_plot(selection_and_fit):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayesreg import plots

    selection, est, X, y = selection_and_fit
    table = selection.table()
    assert list(table["size"]) == list(range(13)) and table["added"].iloc[0] == ""
    full = table.iloc[-1]  # every term: the reference's own predictions, so no difference
    assert abs(full["elpd_diff"]) < 1e-8 and abs(full["rmse_diff"]) < 1e-8
    assert table["elpd_diff"].iloc[0] < -20  # the empty model predicts badly
    shown = repr(selection)  # the path and its numbers, not the n x draws arrays behind them
    assert f"suggest_size() = {selection.suggest_size()}" in shown and selection.terms[0] in shown
    assert len(shown.splitlines()) == len(table) + 3 and "array(" not in shown  # title, header, index name
    model = selection.project(["x3", "x1"])
    assert model.terms == ["x3", "x1"] and list(model.summary().index) == ["x3", "x1", "intercept", "sigma"]
    everything = selection.project(est.feature_names_)
    np.testing.assert_allclose(everything.predict(X), est.predict(X), atol=1e-8)  # means over the same draws
    with pytest.raises(ValueError, match="unknown terms"):
        selection.project(["nope"])
    figure = plots.selection(selection)
    assert len(figure.axes[0].lines) >= 2
    ticks = [t.get_text().split() for t in figure.axes[0].get_xticklabels()]  # size, then the term it adds
    assert ticks[0] == ["0", "(none)"] and [t[1] for t in ticks[1:]] == [f"+{name}" for name in selection.terms]
    plt.close(figure)


def test_select_refuses_point_estimates_and_bad_sizes(selection_and_fit):
    _, est, X, y = selection_and_fit
    with pytest.raises(ValueError, match="max_terms"):
        br.select(est, X, y, max_terms=0)
    labels = (y > np.median(y)).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logistic = br.LogisticRegression().fit(X, labels, method="map")
    with pytest.raises(ValueError, match="needs a posterior"):
        br.select(logistic, X, labels)
    counts = np.round(np.abs(y - y.min())).astype(int)
    negative_binomial = br.NegativeBinomialRegression(method="map").fit(X, counts)
    with pytest.raises(ValueError, match="needs a posterior"):
        br.select(negative_binomial, X, counts)  # projected with its dispersion, but from posterior draws


def test_logistic_projection_solves_its_score_equations_and_reproduces_the_reference():
    """Score equations Z'(pi_s - sigma(Z b_s)) = 0 per draw (to 1e-8 relative to Z'pi_s), and the
    projection onto every column of probabilities that are a logistic model's returns that model."""
    from scipy import special

    from bayesreg.assessment.projection_glm import project_bernoulli

    truth = rng.normal(size=(S, P)) * 0.3
    prob = special.expit(truth @ X.T + 0.2)
    projection = project_bernoulli(X, prob, range(P), True)
    np.testing.assert_allclose(projection.coef, truth, atol=1e-8)
    np.testing.assert_allclose(projection.intercept, 0.2, atol=1e-8)
    sub = project_bernoulli(X, prob, [1, 4], True)
    Z = np.hstack([np.ones((N, 1)), X[:, [1, 4]]])
    score = (prob - special.expit(sub.linear_predictor(X))) @ Z
    assert np.max(np.abs(score)) < 1e-8 * np.max(np.abs(prob @ Z))


def test_logistic_selection_on_a_stand_in_posterior():
    """Draws around the logistic MAP stand in for a posterior (a NUTS fit would add seconds)."""
    import xarray as xr

    from bayesreg import results

    generator = np.random.default_rng(shifted(60))
    Xl = generator.normal(size=(150, 6))
    labels = (generator.random(150) < 1 / (1 + np.exp(-(2 * Xl[:, 1] - 2 * Xl[:, 4])))).astype(int)
    est = br.LogisticRegression(br.Normal(2.5)).fit(Xl, labels, method="map")
    draws = np.r_[est.intercept_, est.coef_] + 0.05 * generator.normal(size=(2, 200, 7))
    posterior = xr.Dataset({"coef": (("chain", "draw", "feature"), draws[..., 1:]),
                            "intercept": (("chain", "draw"), draws[..., 0])},
                           coords={"chain": [0, 1], "draw": np.arange(200), "feature": est.feature_names_})
    est.idata_ = results.add_observation_groups(xr.DataTree.from_dict({"posterior": posterior}), Xl,
                                                labels.astype(float), "bernoulli", True, None, True)
    selection = br.select(est, Xl, labels, max_terms=4)
    assert set(selection.order[:2]) == {1, 4}
    table = selection.table()
    assert table["elpd_diff"].iloc[0] < table["elpd_diff"].iloc[2]
    model = selection.project(["x1", "x4"])
    probability = model.predict(Xl)
    assert np.all((probability > 0) & (probability < 1)) and "sigma" not in model.summary().index


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_group_search_equals_a_greedy_search_over_groups_by_refitting(fit_intercept):
    """Groups (a factor's dummies) enter whole: each step's choice is the group whose union with
    the chosen columns has the least summed divergence, every candidate projected from scratch. One
    group holds a column dependent on another group's (it adds only its new direction)."""
    sigma = np.geomspace(0.01, 10, S)
    Xd = np.hstack([X, X[:, [0]] + X[:, [1]]])  # column 6 = x0 + x1
    groups = [[0, 6], [1, 2], [3], [4, 5]]
    chosen = []
    for _ in range(len(groups)):
        columns = [j for g in chosen for j in groups[g]]
        remaining = [g for g in range(len(groups)) if g not in chosen]
        cost = [np.sum(np.log(project_gaussian(Xd, MU, sigma, _independent(Xd, columns + groups[g]),
                                               fit_intercept).sigma ** 2)) for g in remaining]
        chosen.append(remaining[int(np.argmin(cost))])
    assert forward_search(Xd, MU, sigma, fit_intercept, len(groups), groups=groups) == chosen
    singletons = forward_search(X, MU, sigma, fit_intercept, P, groups=[[j] for j in range(P)])
    assert singletons == forward_search(X, MU, sigma, fit_intercept, P)


def _independent(X, columns):
    """The columns with those dependent on earlier ones dropped (least squares needs full rank)."""
    kept = []
    for j in columns:
        if np.linalg.matrix_rank(X[:, kept + [j]]) == len(kept) + 1:
            kept.append(j)
    return kept


def test_a_formula_fit_selects_factors_as_whole_terms():
    """With ``formula=``, the search is over the formula's terms: a 4-level factor is one term,
    projected with all its dummies; unknown term names are refused."""
    import pandas as pd

    generator = np.random.default_rng(shifted(232))
    frame = pd.DataFrame({"x1": generator.normal(size=120), "x2": generator.normal(size=120),
                          "region": generator.choice(list("abcd"), 120)})
    frame["y"] = 2 * frame["x1"] + frame["region"].map({"a": 0.0, "b": 2.0, "c": -2.0, "d": 1.0}) \
        + generator.normal(size=120)
    est = br.LinearRegression(formula="y ~ x1 + x2 + C(region)").fit(
        frame, draws=300, tune=300, chains=2, random_seed=shifted(5), progressbar=False)
    selection = br.select(est, frame, frame["y"])
    assert sorted(selection.terms) == ["C(region)", "x1", "x2"]
    assert set(selection.terms[:2]) == {"x1", "C(region)"}  # both strong: |effect| / noise >= 2
    submodel = selection.project(["C(region)"])
    assert submodel.terms == [name for name in est.feature_names_ if name.startswith("C(region)")]
    with pytest.raises(ValueError, match="unknown terms"):
        selection.project(["C(region)[T.b]"])
