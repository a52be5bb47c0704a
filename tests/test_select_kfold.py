"""K-fold validated projection predictive selection (issue 23): ``br.select(est, X, y, cv_method=...)``.

References: ``est.kfold`` with the same folds and refit seeds (the reference's elpd); per-draw least
squares by ``np.linalg.lstsq`` with sigma's projection written out, on a refit made by hand (a
submodel's held-out elpd); the PSIS-LOO selection (``cv_method="auto"`` without high k-hat).
"""

import warnings

import numpy as np
import pytest
from scipy import special, stats
from sklearn.base import clone

import bayesreg as br
from bayesreg.assessment import LOOWarning
from bayesreg.assessment.kfold import fold_ids, fold_seeds
from bayesreg.assessment.reloo import refit_settings
from seeds import shifted

pytestmark = pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning")
rng = np.random.default_rng(shifted(232))
N, P, K = 60, 6, 4
X = rng.normal(size=(N, P)) * [1.0, 2.0, 0.5, 1.0, 1.0, 3.0]
y = 0.5 + X @ [2.0, -1.0, 0.0, 0.0, 1.5, 0.0] + rng.normal(size=N)
REFITS = {"draws": 300, "tune": 300, "chains": 1}


@pytest.fixture(scope="module")
def fitted():
    return br.LinearRegression(br.Normal(1.0, autoscale=True)).fit(X, y, draws=300, tune=300, chains=2,
                                                                   random_seed=shifted(1), progressbar=False)


@pytest.fixture(scope="module")
def selection(fitted):
    return br.select(fitted, X, y, cv_method="kfold", k=K, refit_kwargs=REFITS, random_seed=shifted(2))


def test_reference_elpd_is_est_kfold_and_the_full_submodel_reproduces_it(fitted, selection):
    """Same folds and seeds as est.kfold, all 300 refit draws used (ndraws = 1000 > 300): equal
    numbers. Projecting onto every term reproduces each draw, so the full size equals the reference."""
    direct = fitted.kfold(X, y, K, method="refit", refit_kwargs=REFITS, random_seed=shifted(2))
    np.testing.assert_allclose(selection.reference_elpd_i, direct.elpd_i.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(selection.elpd_i[-1], selection.reference_elpd_i, atol=1e-8)
    np.testing.assert_allclose(selection.loo_predictions[-1], selection.reference_predictions, atol=1e-8)
    assert selection.cv_method == "kfold" and len(selection.fold_orders) == K
    assert all(sorted(order) == list(range(P)) for order in selection.fold_orders)  # each fold's full path
    assert set(selection.order[:3]) == {0, 1, 4}  # the three signals first (their t-values are > 10)
    assert abs(selection.table()["elpd_diff"].iloc[-1]) < 1e-8


@pytest.mark.parametrize("size", [0, 2])
def test_held_out_elpd_of_a_submodel_equals_least_squares_on_a_refit_by_hand(fitted, selection, size):
    """Fold 0 refitted here with the seed and settings select uses; each draw's fitted values
    projected onto the fold's first ``size`` terms by lstsq (with an intercept column), sigma_perp^2
    = sigma^2 + RSS / n_train, and the held-out rows scored by log mean_s N(y_i | x_i'beta_s, sigma_perp_s)."""
    fold = fold_ids(N, K, random_seed=shifted(2))
    seed = fold_seeds(shifted(2), K)[0]
    settings = {"method": "nuts", **refit_settings(fitted.idata_, REFITS)}
    settings.pop("random_seed")
    train, test = fold != 0, fold == 0
    refit = clone(fitted).set_params(prior=fitted.prior_).fit(X[train], y[train], **settings, random_seed=seed)
    posterior = refit.idata_["posterior"]
    coef = posterior["coef"].to_numpy().reshape(-1, P)
    mu = coef @ X[train].T + posterior["intercept"].to_numpy().reshape(-1, 1)
    sigma = posterior["sigma"].to_numpy().reshape(-1)
    columns = selection.fold_orders[0][:size]
    design = np.hstack([np.ones((train.sum(), 1)), X[train][:, columns]])
    beta, *_ = np.linalg.lstsq(design, mu.T, rcond=None)
    rss = np.sum((mu.T - design @ beta) ** 2, axis=0)
    sigma_perp = np.sqrt(sigma**2 + rss / train.sum())
    eta = (np.hstack([np.ones((test.sum(), 1)), X[test][:, columns]]) @ beta).T
    by_hand = special.logsumexp(stats.norm.logpdf(y[test], eta, sigma_perp[:, None]), axis=0) - np.log(len(sigma))
    np.testing.assert_allclose(selection.elpd_i[size, test], by_hand, atol=1e-8)


def test_auto_is_loo_without_high_khat_and_kfold_with_it(fitted):
    """No k-hat above 0.7 here (checked): "auto" is the LOO selection, number for number. With 12
    rows for 7 coefficients under a wide prior the leverages are ~0.6 on average and the Gaussian
    model's k-hat tracks the leverage: over 20 data sets with 600 exact posterior draws the largest
    k-hat was 0.81 to 1.33 (never <= 0.7), so "auto" switches to K-fold, and does not warn."""
    loo = br.select(fitted, X, y)
    assert np.all(loo.pareto_k <= 0.7)
    auto = br.select(fitted, X, y, cv_method="auto")
    assert auto.cv_method == "loo" and auto.fold_orders is None
    np.testing.assert_array_equal(auto.elpd_i, loo.elpd_i)
    few = slice(0, 12)
    small = br.LinearRegression(br.Normal(10.0), sigma=1.0).fit(X[few], y[few], draws=300, tune=300, chains=2,
                                                                random_seed=shifted(3), progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LOOWarning)
        switched = br.select(small, X[few], y[few], cv_method="auto", k=3, refit_kwargs=REFITS,
                             random_seed=shifted(4))
    assert switched.pareto_k.max() > 0.7 and switched.cv_method == "kfold" and len(switched.fold_orders) == 3
    with pytest.raises(ValueError, match="cv_method must be one of"):
        br.select(fitted, X, y, cv_method="psis")


def test_suggest_size_follows_projpreds_rule():
    """A Selection with made-up pointwise elpd differences whose totals (-50, -10, -1.5, -0.5, 0.2)
    and standard errors (5, 3, 1, 1, 0.5) are exact by construction; each of projpred's arguments
    moves the answer as its rule, worked by hand, says (bounds diff +- z SE against pct (u_0 - u_ref))."""
    n = 100
    noise = np.random.default_rng(shifted(9)).normal(size=n)
    noise = (noise - noise.mean()) / noise.std(ddof=1)  # mean 0, sd 1 exactly
    diffs, ses = np.array([-50, -10, -1.5, -0.5, 0.2]), np.array([5, 3, 1.0, 1.0, 0.5])
    elpd_i = diffs[:, None] / n + (ses[:, None] / np.sqrt(n)) * noise
    truth = np.zeros(n)
    predictions = np.vstack([truth + 5, truth + 5, truth, truth, truth])
    selection = br.assessment.Selection([0, 1, 2, 3], ["a", "b", "c", "d"], elpd_i, np.zeros(n), predictions,
                                        truth, truth, np.zeros(n), None, random_seed=shifted(10))
    table = selection.table()
    np.testing.assert_allclose(table["elpd_diff"], diffs, atol=1e-12)
    np.testing.assert_allclose(table["elpd_diff_se"], ses, atol=1e-12)
    assert selection.suggest_size() == 3  # upper one-SE bounds -45, -7, -0.5, 0.5, 0.7
    assert selection.suggest_size(type="lower") is None  # -55, -13, -2.5, -1.5, -0.3
    assert selection.suggest_size(pct=0.04, type="lower") == 3  # cutoff 0.04 * -50 = -2
    assert selection.suggest_size(pct=0.1) == 2  # cutoff -5: -0.5 >= -5
    assert selection.suggest_size(alpha=2 * stats.norm.cdf(-2)) == 2  # two SE: -1.5 + 2 = 0.5
    assert selection.suggest_size(thres_elpd=-4) == 2  # -1.5 > -4
    assert selection.suggest_size(stat="rmse") == 2  # sizes 0 and 1 are 5 off; 2 on equals the reference
    with pytest.raises(ValueError, match="stat must be"):
        selection.suggest_size(stat="r2")


def test_kfold_selection_of_a_formula_fit_searches_its_terms():
    """A formula fit with a three-level factor: select(cv_method="kfold") on the frame (y read from
    the formula) searches terms, the factor's two dummies as one term, in the full path and in every
    fold's; its reference elpd is the same model's K-fold refits on the hand-built design (same folds
    and seeds, and the formula fit's resolved prior, as in tests/test_assessment_kfold.py: the same
    computation, so rtol 1e-10)."""
    import pandas as pd

    labels = np.array(["a", "b", "c"])[np.arange(N) % 3]
    y_factor = y + np.where(labels == "b", 3.0, 0.0)
    frame = pd.DataFrame({"x0": X[:, 0], "x1": X[:, 1], "x2": X[:, 2], "g": labels, "y": y_factor})
    design = np.column_stack([X[:, :3]] + [(labels == level).astype(float) for level in "bc"])
    options = dict(draws=300, tune=300, chains=1, random_seed=shifted(11), progressbar=False)
    est = br.LinearRegression(br.Normal(1.0, autoscale=True), formula="y ~ x0 + x1 + x2 + C(g)").fit(frame, **options)
    selection = br.select(est, frame, cv_method="kfold", k=3, refit_kwargs=REFITS, random_seed=shifted(12))
    assert sorted(selection.term_names) == ["C(g)", "x0", "x1", "x2"] and len(selection.order) == 4
    assert selection.term_columns[selection.term_names.index("C(g)")] == [3, 4]
    assert all(sorted(order) == [0, 1, 2, 3] for order in selection.fold_orders)
    assert set(selection.terms[:3]) == {"x0", "x1", "C(g)"}  # the signals (t-values > 10) first
    by_hand = br.LinearRegression(est.prior_).fit(design, y_factor, **options)
    direct = by_hand.kfold(design, y_factor, 3, method="refit", refit_kwargs=REFITS, random_seed=shifted(12))
    np.testing.assert_allclose(selection.reference_elpd_i, direct.elpd_i.to_numpy(), rtol=1e-10)
