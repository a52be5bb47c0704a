"""Projection predictive selection with an offset and row weights (issue 23): ``br.select(est, X, y,
offset=..., sample_weight=...)``.

References: weighted least squares by ``np.linalg.lstsq`` on the sqrt(weight)-scaled rows, with
sigma's projection written out; the GLM projection's score equations written out (weighted, offset
in the linear predictor); the same data with each row repeated as often as its integer weight
(projection and search path: a weight is that many copies; the elpd: the copies left out together,
PSIS on their summed log-likelihood, brute force); ``est.kfold`` with the offset and
weights (the K-fold reference elpd); the simulated truth.
"""

import warnings

import numpy as np
import pytest
from scipy import special

import bayesreg as br
from bayesreg.assessment import forward_search, project_gaussian
from bayesreg.assessment.projection_glm import FAMILIES, forward_search_glm, project_glm
from seeds import shifted

pytestmark = [pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning"),
              pytest.mark.filterwarnings("ignore::bayesreg.assessment.LOOWarning")]
N, P, S = 40, 5, 16


def _data(seed):
    generator = np.random.default_rng(seed)
    X = generator.normal(size=(N, P)) * [1.0, 3.0, 0.3, 1.0, 2.0]
    mu = generator.normal(size=(S, N)) + (X @ generator.normal(size=(P, S))).T * 0.4  # "draws" of b + X w
    offset = generator.normal(size=N)
    copies = generator.integers(0, 4, size=N)  # integer weights, some 0 (the row left out)
    return generator, X, mu + offset, offset, copies


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gaussian_projection_is_weighted_least_squares_of_mu_less_the_offset(fit_intercept):
    """Per draw: lstsq of sqrt(v) (mu_s - o) on sqrt(v) Z, sigma_perp^2 = sigma^2 + sum v r^2 / sum v,
    to 1e-10 (both solve the same well-conditioned least squares: rounding ~1e-14)."""
    generator, X, mu, offset, _ = _data(shifted(2401))
    weights, sigma, columns = generator.uniform(0.2, 3.0, N), generator.uniform(0.5, 1.5, S), [1, 3]
    projection = project_gaussian(X, mu, sigma, columns, fit_intercept, offset, weights)
    Z = np.hstack([np.ones((N, 1)), X[:, columns]]) if fit_intercept else X[:, columns]
    root = np.sqrt(weights)
    for s in range(S):
        beta = np.linalg.lstsq(root[:, None] * Z, root * (mu[s] - offset), rcond=None)[0]
        np.testing.assert_allclose(projection.coef[s], beta[int(fit_intercept):], atol=1e-10)
        residual = mu[s] - offset - Z @ beta
        assert projection.sigma[s] == pytest.approx(np.sqrt(sigma[s] ** 2 + weights @ residual**2 / weights.sum()),
                                                    abs=1e-10)
    np.testing.assert_allclose(projection.linear_predictor(X, offset), (Z @ np.vstack(
        [projection.intercept, projection.coef.T] if fit_intercept else projection.coef.T)).T + offset, atol=1e-10)


@pytest.mark.parametrize("family", ["bernoulli", "poisson"])
def test_glm_projection_solves_the_weighted_score_equations_with_the_offset(family):
    """``Z'V(A'(o + Z b_s) - m_s) = 0`` per draw, to 1e-10 relative to ``|Z|'V|m_s|`` (Newton converges
    quadratically: what is left is rounding)."""
    generator, X, mu, offset, _ = _data(shifted(2402))
    target = FAMILIES[family].mean(0.5 * mu)  # probabilities or rates that are no submodel's
    weights, columns = generator.uniform(0.2, 3.0, N), [0, 4]
    projection = project_glm(X, target, columns, True, family, offset=0.5 * offset, weights=weights)
    Z = np.hstack([np.ones((N, 1)), X[:, columns]])
    score = (weights * (FAMILIES[family].mean(projection.linear_predictor(X, 0.5 * offset)) - target)) @ Z
    assert np.max(np.abs(score) / ((weights * np.abs(target)) @ np.abs(Z))) < 1e-10


@pytest.mark.parametrize("family", ["gaussian", "bernoulli", "poisson"])
def test_integer_weights_are_repeated_rows_in_the_projection_and_the_search(family):
    """Weight v_i = the row repeated v_i times (0: left out): projections to 1e-10 (the same normal /
    score equations, summed in another order) and the search path equal."""
    generator, X, mu, offset, copies = _data(shifted(2403))
    repeat = np.repeat(np.arange(N), copies)
    weights = copies.astype(float)
    columns = [0, 2, 4]
    if family == "gaussian":
        sigma = generator.uniform(0.5, 1.5, S)
        weighted = project_gaussian(X, mu, sigma, columns, True, offset, weights)
        repeated = project_gaussian(X[repeat], mu[:, repeat], sigma, columns, True, offset[repeat])
        np.testing.assert_allclose(weighted.sigma, repeated.sigma, atol=1e-10)
        path = forward_search(X, mu, sigma, True, P, offset=offset, weights=weights)
        assert path == forward_search(X[repeat], mu[:, repeat], sigma, True, P, offset=offset[repeat])
    else:
        target = FAMILIES[family].mean(0.5 * mu)
        weighted = project_glm(X, target, columns, True, family, offset=offset, weights=weights)
        repeated = project_glm(X[repeat], target[:, repeat], columns, True, family, offset=offset[repeat])
        path = forward_search_glm(X, target, True, P, family, offset=offset, weights=weights)
        assert path == forward_search_glm(X[repeat], target[:, repeat], True, P, family, offset=offset[repeat])
    np.testing.assert_allclose(weighted.coef, repeated.coef, atol=1e-10)
    np.testing.assert_allclose(weighted.intercept, repeated.intercept, atol=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_weighted_gaussian_search_is_a_greedy_search_by_weighted_projections(fit_intercept):
    """Each step: the candidate whose weighted projection (offset subtracted) has the least summed
    divergence sum_s log(sigma_perp_s^2), every candidate projected from scratch (noise sds 0.01 to
    10, so the draws weigh differently). Then two cases the weights and the offset decide: x0
    explains the rows of weight ~0 and x1 the others; and mu = offset + x3 with offset = 5 x2 (x2
    would explain mu itself)."""
    generator, X, mu, offset, _ = _data(shifted(2405))
    weights, sigma = generator.uniform(0.05, 3.0, N), np.geomspace(0.01, 10, S)
    chosen = []
    for _ in range(P):
        remaining = [j for j in range(P) if j not in chosen]
        cost = [np.sum(np.log(project_gaussian(X, mu, sigma, chosen + [j], fit_intercept, offset, weights).sigma ** 2))
                for j in remaining]
        chosen.append(remaining[int(np.argmin(cost))])
    assert forward_search(X, mu, sigma, fit_intercept, P, offset=offset, weights=weights) == chosen
    light = np.arange(N) < N // 2
    split = np.where(light, 10 * X[:, 0], X[:, 1])[None] + 0.1 * generator.normal(size=(S, N))
    assert forward_search(X, split, sigma, fit_intercept, 1, weights=np.where(light, 1e-3, 1.0)) == [1]
    assert forward_search(X, split, sigma, fit_intercept, 1) == [0]
    shifted_mu = 5 * X[:, 2] + X[:, 3] + 0.1 * generator.normal(size=(S, N))
    assert forward_search(X, shifted_mu, sigma, fit_intercept, 1, offset=5 * X[:, 2]) == [3]
    assert forward_search(X, shifted_mu, sigma, fit_intercept, 1) == [2]


def _stand_in(model, X, y, weights, generator, draws=150):
    """A fit on the weighted rows (MAP) with draws around it standing in for its posterior (NUTS
    would add seconds and nothing to what is checked: the same draws serve both sides)."""
    import xarray as xr

    est = model.fit(X, y, method="map", sample_weight=weights)
    center = np.r_[est.intercept_, est.coef_]
    values = center + 0.05 * generator.normal(size=(2, draws, len(center)))
    data = {"coef": (("chain", "draw", "feature"), values[..., 1:]), "intercept": (("chain", "draw"), values[..., 0])}
    if isinstance(model, br.LinearRegression):
        data["sigma"] = (("chain", "draw"), np.exp(0.05 * generator.normal(size=(2, draws))))
    posterior = xr.Dataset(data, coords={"chain": [0, 1], "draw": np.arange(draws), "feature": est.feature_names_})
    est.idata_ = xr.DataTree.from_dict({"posterior": posterior})
    return est


def _copies_log_density(y, eta, sigma, linear):
    """log p(y | eta) per draw and row, written out (Gaussian with sd ``sigma`` per draw; Bernoulli)."""
    if linear:
        return -0.5 * np.log(2 * np.pi * sigma[:, None] ** 2) - (y - eta) ** 2 / (2 * sigma[:, None] ** 2)
    return y * eta - np.logaddexp(0.0, eta)


@pytest.mark.parametrize("model", ["linear", "logistic"])
def test_integer_weights_are_repeated_rows_left_out_together_in_the_selection(model):
    """select with sample_weight = integer copies against a brute force on the repeated rows with
    the same draws: each original row's copies summed into one log-likelihood (what "left out
    together" means), ArviZ's PSIS on that sum for the weights, and each size's projection (equal to
    the repeated rows' projection: test above) scored by log sum_s w_is prod_copies p(y | s). The
    path equals the repeated rows' search; elpd_i, the elpd table and k-hat to 1e-10 (the same
    numbers summed in another order). The logistic search projects every draw (no clustering)."""
    from arviz_stats.base import array_stats

    from bayesreg.assessment.loo import relative_efficiency

    generator = np.random.default_rng(shifted(2404))
    n = 80
    X = generator.normal(size=(n, P))
    eta = 0.3 + X @ [1.5, 0.0, -1.0, 0.0, 0.5]
    copies = generator.integers(0, 4, size=n)
    linear = model == "linear"
    if linear:
        y, estimator = eta + generator.normal(size=n), br.LinearRegression(br.Normal(2.0))
    else:
        y, estimator = (generator.uniform(size=n) < special.expit(eta)).astype(float), br.LogisticRegression(br.Normal(2.0))
    est = _stand_in(estimator, X, y, copies.astype(float), generator)
    repeat = np.repeat(np.arange(n), copies)
    weighted = br.select(est, X, y, sample_weight=copies, search_draws=1000, random_seed=shifted(1))
    repeated = br.select(est, X[repeat], y[repeat], search_draws=1000, random_seed=shifted(1))
    assert weighted.order == repeated.order

    posterior = est.idata_["posterior"]
    coef = posterior["coef"].to_numpy().reshape(-1, P)
    intercept = posterior["intercept"].to_numpy().reshape(-1)
    sigma = posterior["sigma"].to_numpy().reshape(-1) if linear else None
    kept = copies > 0

    def summed_over_copies(per_copy):  # (draws, copies) -> (draws, original rows): a row's copies together
        out = np.zeros((per_copy.shape[0], n))
        np.add.at(out.T, repeat, per_copy.T)
        return out

    reference = summed_over_copies(_copies_log_density(y[repeat], intercept[:, None] + coef @ X[repeat].T, sigma, linear))
    draws = len(intercept)
    lw, khat = array_stats.psislw(reference[:, kept].T, r_eff=relative_efficiency(est.idata_), axis=-1)
    lw = (lw - special.logsumexp(lw, axis=-1, keepdims=True)).T  # (draws, kept rows)
    np.testing.assert_allclose(weighted.pareto_k[kept], khat, atol=1e-10)
    expected_ref = special.logsumexp(lw + reference[:, kept], axis=0)
    np.testing.assert_allclose(weighted.reference_elpd_i[kept], expected_ref, rtol=1e-10, atol=1e-10)
    assert np.all(weighted.reference_elpd_i[~kept] == 0) and np.all(weighted.elpd_i[:, ~kept] == 0)
    for size in range(len(weighted.order) + 1):
        projection = repeated.project(weighted.order[:size]).projection
        eta_k = projection.linear_predictor(X[repeat], None)
        sigma_k = projection.sigma if linear else None
        per_row = summed_over_copies(_copies_log_density(y[repeat], eta_k, sigma_k, linear))
        np.testing.assert_allclose(weighted.elpd_i[size, kept], special.logsumexp(lw + per_row[:, kept], axis=0),
                                   rtol=1e-10, atol=1e-10)
    table = weighted.table()
    diff = weighted.elpd_i - weighted.reference_elpd_i
    np.testing.assert_allclose(table["elpd_diff"], diff.sum(axis=1), rtol=1e-10)
    np.testing.assert_allclose(table["elpd_diff_se"], np.sqrt(n * diff.var(axis=1, ddof=1)), rtol=1e-10)
    assert draws == est.idata_["posterior"].sizes["chain"] * est.idata_["posterior"].sizes["draw"]


REFITS = {"draws": 200, "tune": 300, "chains": 1}


@pytest.fixture(scope="module")
def poisson_with_exposure():
    """Counts over exposures from 0.5 to 5 (offset log(exposure)) with three signals (columns 1, 4, 6,
    log-rate effects 0.5 per sd) among 7 columns, n = 150, fitted by NUTS."""
    generator = np.random.default_rng(shifted(2410))
    X = generator.normal(size=(150, 7))
    offset = np.log(generator.uniform(0.5, 5.0, 150))
    counts = generator.poisson(np.exp(offset + 0.2 + 0.5 * (X[:, 1] - X[:, 4] + X[:, 6]))).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = br.PoissonRegression().fit(X, counts, offset=offset, draws=300, tune=300, chains=2,
                                         random_seed=shifted(2411), progressbar=False)
    return est, X, counts, offset


def test_poisson_fit_with_exposure_is_selected_with_its_offset_and_refused_without(poisson_with_exposure):
    """The three signals first (each ~ 8 posterior sd from 0: n = 150 rows with mean exposure 2.75
    and rate ~ e^0.2 give a coefficient sd ~ 0.06; a noise column entering before one has probability
    far below 1e-6), size 0 below the reference by more than 2 SE; the projected model predicts
    ``exp(offset) E[exp(b + X_S w)]``; the projection onto every column is the reference. Without the offset: refused, naming what to do."""
    est, X, counts, offset = poisson_with_exposure
    selection = br.select(est, X, counts, offset=offset, random_seed=shifted(3))
    assert set(selection.order[:3]) == {1, 4, 6}
    table = selection.table()
    assert table["elpd_diff"].iloc[0] + 2 * table["elpd_diff_se"].iloc[0] < 0
    # every column: the projection returns each draw's own rates (Newton to ~1e-12), so the reference's elpd
    assert abs(table["elpd_diff"].iloc[-1]) < 1e-6 and abs(table["rmse_diff"].iloc[-1]) < 1e-6
    model = selection.project(["x1", "x4", "x6"])
    np.testing.assert_allclose(model.predict(X, offset=offset), np.exp(offset) * model.predict(X), rtol=1e-12)
    with pytest.raises(ValueError, match=r"this fit had an offset: pass it, br.select\(est, X, y, offset=...\)"):
        br.select(est, X, counts)
    with pytest.raises(ValueError, match="the offset given is not this fit's"):
        br.select(est, X, counts, offset=offset + 0.1)


def test_kfold_selection_with_an_offset_uses_it_in_the_refits(poisson_with_exposure):
    """K-fold select with the offset: the reference's elpd is est.kfold's with the same offset, folds
    and refit seeds (the same computation: rtol 1e-10); each fold's path starts with the signals."""
    est, X, counts, offset = poisson_with_exposure
    selection = br.select(est, X, counts, offset=offset, max_terms=3, cv_method="kfold", k=3, refit_kwargs=REFITS,
                          random_seed=shifted(4))
    direct = est.kfold(X, counts, 3, method="refit", refit_kwargs=REFITS, random_seed=shifted(4), offset=offset)
    np.testing.assert_allclose(selection.reference_elpd_i, direct.elpd_i.to_numpy(), rtol=1e-10)
    assert all(set(order) == {1, 4, 6} for order in selection.fold_orders)


def test_kfold_selection_of_a_weighted_linear_fit_with_an_offset():
    """A LinearRegression fitted with an offset and real weights: the K-fold reference elpd is
    est.kfold's with both (a row's copies scored together, same folds and seeds: rtol 1e-10), and projecting
    onto every column reproduces the reference fold by fold (atol 1e-8: least squares of a draw's own
    fitted values returns them, sigma_perp = sigma)."""
    generator = np.random.default_rng(shifted(2420))
    X = generator.normal(size=(60, 4))
    offset, weights = generator.normal(size=60), generator.uniform(0.3, 2.0, 60)
    y = offset + 0.5 + X @ [1.5, 0.0, -1.0, 0.0] + generator.normal(size=60) / np.sqrt(weights)
    est = br.LinearRegression(br.Normal(1.0, autoscale=True)).fit(X, y, offset=offset, sample_weight=weights,
                                                                  draws=200, tune=300, chains=2,
                                                                  random_seed=shifted(5), progressbar=False)
    selection = br.select(est, X, y, offset=offset, sample_weight=weights, cv_method="kfold", k=3,
                          refit_kwargs=REFITS, random_seed=shifted(6))
    direct = est.kfold(X, y, 3, method="refit", refit_kwargs=REFITS, random_seed=shifted(6), offset=offset,
                       sample_weight=weights)
    np.testing.assert_allclose(selection.reference_elpd_i, direct.elpd_i.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(selection.elpd_i[-1], selection.reference_elpd_i, atol=1e-8)
    assert set(selection.order[:2]) == {0, 2}  # the signals (t-values > 8) first
