"""K-fold cross-validation (issue 23): ``est.kfold`` and ``est.loo(reloo=True)`` when many rows fail PSIS.

Reference: the conjugate Gaussian model (fixed Normal prior, known sigma), whose posterior given the
training folds is solved here from scratch (normal equations, matrix inverse; with weights and an
offset too), so each held-out row's predictive density is known exactly.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from arviz_stats.utils import ELPDDataLOOKFold
from scipy import stats

import bayesreg as br
from bayesreg.assessment import LOOWarning
from bayesreg.assessment.kfold import exact_gaussian_kfold, fold_ids
from seeds import shifted

pytestmark = pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning")
rng = np.random.default_rng(shifted(231))
N, P, SIGMA = 60, 4, 0.8
SCALES = np.array([1.0, 0.5, 2.0, 1.0])
X = rng.normal(size=(N, P)) * [1.0, 3.0, 0.5, 1.0]
y = 1.5 + X @ [1.0, 0.3, 0.0, 0.0] + SIGMA * rng.normal(size=N)


def brute_force_kfold(fold, fit_intercept=True, offset=None, weights=None):
    """Per row: ``(mean, variance)`` of its fitted value under the posterior of the other folds, and
    its exact elpd_i: the log density of its w_i copies held out together (integer w_i), the
    multivariate normal of w_i equal values with covariance variance 11' + sigma^2 I."""
    offset = np.zeros(N) if offset is None else offset
    weights = np.ones(N) if weights is None else weights
    Z = np.hstack([np.ones((N, 1)), X]) if fit_intercept else X
    prior_precision = np.diag(np.r_[[0.0] * fit_intercept, 1 / SCALES**2])
    mean, variance = np.empty(N), np.empty(N)
    for k in np.unique(fold):
        train, test = fold != k, fold == k
        W = np.diag(weights[train])
        C = np.linalg.inv(Z[train].T @ W @ Z[train] / SIGMA**2 + prior_precision)
        mean[test] = Z[test] @ C @ Z[train].T @ W @ (y[train] - offset[train]) / SIGMA**2
        variance[test] = np.einsum("ij,jk,ik->i", Z[test], C, Z[test])
    elpd_i = np.array([stats.multivariate_normal.logpdf(np.full(int(w), r), np.full(int(w), m),
                                                         v * np.ones((int(w), int(w))) + SIGMA**2 * np.eye(int(w)))
                       if w > 0 else 0.0 for w, r, m, v in zip(weights, y - offset, mean, variance)])
    return mean, variance, elpd_i


def monte_carlo_sd(mean, variance, residual, n_effective, weights=1.0):
    """sd of log((1/S) sum_s N(r | f_s, sigma^2)^w) for f_s ~ N(mean, variance), by the delta method:
    sqrt(rho / ESS) with rho = E[p^2w] / E[p^w]^2 - 1 and, since N(r | f, sigma^2)^a =
    (2 pi sigma^2)^((1-a)/2) a^(-1/2) N(r | f, sigma^2 / a), E[p^a] = (2 pi sigma^2)^((1-a)/2) a^(-1/2)
    N(r | mean, variance + sigma^2 / a) (Gaussian integrals)."""
    def moment(a):
        return ((2 * np.pi * SIGMA**2) ** ((1 - a) / 2) / np.sqrt(a)
                * stats.norm.pdf(residual, mean, np.sqrt(variance + SIGMA**2 / a)))

    return np.sqrt((moment(2 * weights) / moment(weights) ** 2 - 1) / n_effective)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_exact_kfold_equals_brute_force_refits(fit_intercept):
    fold = fold_ids(N, 7, random_seed=shifted(1))
    np.testing.assert_allclose(exact_gaussian_kfold(X, y, 1 / SCALES**2, SIGMA, fit_intercept, fold),
                               brute_force_kfold(fold, fit_intercept)[2], rtol=0, atol=1e-8)


def test_est_kfold_is_exact_and_is_arviz_kfold_object():
    """No posterior needed (MAP fit); the folds are equal-sized and reproducible from the seed;
    se and p follow ArviZ's loo_kfold (ddof 0; p = lppd - elpd with the exact full-data lppd)."""
    est = br.LinearRegression(br.Normal(SCALES), sigma=SIGMA).fit(X, y, method="map")
    result = est.kfold(X, y, k=10, random_seed=shifted(2))
    fold = fold_ids(N, 10, random_seed=shifted(2))
    assert np.bincount(fold).tolist() == [6] * 10
    assert isinstance(result, ELPDDataLOOKFold) and result.kind == "loo_kfold" and result.n_folds == 10
    elpd_i = brute_force_kfold(fold)[2]
    np.testing.assert_allclose(result.elpd_i.to_numpy(), elpd_i, atol=1e-8)
    assert result.se == pytest.approx(np.sqrt(N * np.var(elpd_i)), rel=1e-8)
    Z = np.hstack([np.ones((N, 1)), X])
    C = np.linalg.inv(Z.T @ Z / SIGMA**2 + np.diag(np.r_[0.0, 1 / SCALES**2]))
    lppd = stats.norm.logpdf(y, Z @ C @ Z.T @ y / SIGMA**2, np.sqrt(np.einsum("ij,jk,ik->i", Z, C, Z) + SIGMA**2))
    assert result.p == pytest.approx(lppd.sum() - elpd_i.sum(), abs=1e-8)
    given = est.kfold(X, y, folds=np.repeat(["a", "b", "c"], 20))  # labels of any kind
    assert given.n_folds == 3
    np.testing.assert_allclose(given.elpd_i.to_numpy(), brute_force_kfold(np.repeat([0, 1, 2], 20))[2], atol=1e-8)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_exact_weighted_kfold_equals_brute_force(fit_intercept):
    """Integer weights 0..3: the closed form (weighted training rows, each held-out row's copies scored
    together) against the weighted posterior of the other folds solved from scratch and the
    multivariate normal of the copies (brute_force_kfold), to 1e-8; weight-0 rows give 0."""
    weights = np.random.default_rng(shifted(232)).integers(0, 4, size=N).astype(float)
    fold = fold_ids(N, 6, random_seed=shifted(233))
    est = br.LinearRegression(br.Normal(SCALES), sigma=SIGMA, fit_intercept=fit_intercept).fit(
        X, y, method="map", sample_weight=weights)
    result = est.kfold(X, y, k=6, sample_weight=weights, random_seed=shifted(233))
    assert np.all(result.p_kfold_i.to_numpy()[weights == 0] == 0)
    expected = brute_force_kfold(fold, fit_intercept, weights=weights)[2]
    np.testing.assert_allclose(result.elpd_i.to_numpy(), expected, rtol=0, atol=1e-8)


def test_kfold_refits_respect_offset_and_weights():
    """NUTS refits with an offset (sd 3: ignoring it costs ~10 nats per row) and weights 1 or 2 (a
    weight-2 row is two copies held out together: their joint density), against the brute-force weighted
    posterior. Each row's error is within 4.5 Monte Carlo sds (monte_carlo_sd of p^w) at a conservative ESS of
    S / 4 (NUTS on a Gaussian posterior gets about S): two-sided 7e-6 per row, < 5e-4 for the 60."""
    offset = 3.0 * rng.normal(size=N)
    weights = rng.integers(1, 3, size=N).astype(float)
    est = br.LinearRegression(br.Normal(SCALES), sigma=SIGMA).fit(X, y + offset, offset=offset, sample_weight=weights,
                                                                  draws=1000, tune=500, chains=2,
                                                                  random_seed=shifted(3), progressbar=False)
    result = est.kfold(X, y + offset, k=5, offset=offset, sample_weight=weights, random_seed=shifted(4))
    fold = fold_ids(N, 5, random_seed=shifted(4))
    mean, variance, exact = brute_force_kfold(fold, offset=np.zeros(N), weights=weights)
    tolerance = 4.5 * monte_carlo_sd(mean, variance, y, 2000 / 4, weights)
    error = result.elpd_i.to_numpy() - exact
    assert np.all(np.abs(error) < tolerance), (np.abs(error) / tolerance).max()
    with pytest.raises(ValueError, match="method='exact'.*without an offset"):
        est.kfold(X, y + offset, offset=offset, sample_weight=weights, method="exact")
    with pytest.raises(ValueError, match="this fit had sample_weight.*pass the same weights"):
        est.kfold(X, y + offset, offset=offset)  # the weights forgotten: each row would count once


def test_loo_runs_kfold_when_more_rows_than_max_refits_fail_psis():
    """reloo with every row flagged (k_threshold=-inf) and max_refits=0: the K-fold result, the same
    numbers as est.kfold with the same seed (same folds, same refit seeds); with kfold=None the
    old behaviour, PSIS kept and a warning."""
    est = br.LinearRegression(br.Normal(SCALES), sigma=SIGMA).fit(X, y, draws=300, tune=300, chains=2,
                                                                  random_seed=shifted(5), progressbar=False)
    settings = {"draws": 200, "tune": 200, "chains": 1}
    result = est.loo(X, y, method="psis", reloo=True, max_refits=0, k_threshold=-np.inf, kfold=4,
                     refit_kwargs=settings, random_seed=shifted(6))
    direct = est.kfold(X, y, 4, method="refit", refit_kwargs=settings, random_seed=shifted(6))
    assert isinstance(result, ELPDDataLOOKFold) and result.n_folds == 4
    np.testing.assert_array_equal(result.elpd_i.to_numpy(), direct.elpd_i.to_numpy())
    exact = est.kfold(X, y, 4, random_seed=shifted(6))  # same folds, closed form: within a loose MC bound
    assert abs(result.elpd - exact.elpd) < 2.0, (result.elpd, exact.elpd)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.loo(X, y, method="psis", reloo=True, max_refits=0, k_threshold=-np.inf, kfold=None)
    assert any(issubclass(w.category, LOOWarning) and "none was refitted" in str(w.message) for w in caught)


def test_kfold_bad_input():
    est = br.LinearRegression(br.Normal(SCALES), sigma=SIGMA).fit(X, y, method="map")
    for k in (1, N + 1, 2.5, True):
        with pytest.raises(ValueError, match="number of folds"):
            est.kfold(X, y, k=k)
    with pytest.raises(ValueError, match="one fold label per row"):
        est.kfold(X, y, folds=[0, 1])
    with pytest.raises(ValueError, match="at least 2 folds"):
        est.kfold(X, y, folds=np.zeros(N))
    with pytest.raises(ValueError, match="method must be one of"):
        est.kfold(X, y, method="psis")
    with pytest.raises(ValueError, match=r"pass it, est.kfold\(X, y\)"):
        est.kfold(X, None)
    learned = br.LinearRegression(br.Normal(SCALES)).fit(X, y, method="map")
    with pytest.raises(ValueError, match="needs a posterior"):
        learned.kfold(X, y)
    with pytest.raises(ValueError, match="known noise sd"):
        learned.kfold(X, y, method="exact")


def formula_frame(n_rows=N):
    """A frame with a number column and a factor of levels a, b, c (d only in rows 0-2, so the fold
    that holds those rows trains without level d), and the design built by hand: x and treatment
    dummies against level a, the columns formulaic gives for ``y ~ x + C(g)``."""
    labels = np.array(["a", "b", "c"])[np.arange(n_rows) % 3]
    labels[:3] = "d"
    frame = pd.DataFrame({"x": X[:n_rows, 0], "g": labels, "y": y[:n_rows]})
    design = np.asfortranarray(np.column_stack([X[:n_rows, 0]] + [(labels == level).astype(float) for level in "bcd"]))
    folds = np.where(labels == "d", 0, 1 + np.arange(n_rows) % 3)  # fold 0's training rows lack level d
    return frame, design, folds


def test_formula_kfold_equals_the_hand_built_design_exactly():
    """Closed form on both sides, so equal to rounding (1e-10): the formula fit's K-fold (y read
    from the formula, the frame's rows encoded by the full fit's spec) is the K-fold of the
    hand-built design, also for the fold whose training rows miss level d (its column is kept and
    its coefficient is the prior's)."""
    frame, design, folds = formula_frame()
    prior = br.Normal(np.r_[SCALES[:1], 0.7, 1.3, 2.0])
    by_formula = br.LinearRegression(prior, sigma=SIGMA, formula="y ~ x + C(g)").fit(frame, method="map")
    by_hand = br.LinearRegression(prior, sigma=SIGMA).fit(design, y, method="map")
    assert by_formula.feature_names_ == ["x", "C(g)[T.b]", "C(g)[T.c]", "C(g)[T.d]"]
    formula_elpd = by_formula.kfold(frame, folds=folds).elpd_i.to_numpy()
    np.testing.assert_allclose(formula_elpd, by_hand.kfold(design, y, folds=folds).elpd_i.to_numpy(),
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(by_formula.kfold(frame, frame["y"], 5, random_seed=shifted(4)).elpd_i.to_numpy(),
                               by_hand.kfold(design, y, 5, random_seed=shifted(4)).elpd_i.to_numpy(), rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match="no column 'g'"):
        by_formula.kfold(frame.drop(columns="g"), folds=folds)
    no_outcome = br.LinearRegression(prior, sigma=SIGMA, formula="~ x + C(g)").fit(frame, y, method="map")
    with pytest.raises(ValueError, match="names no outcome: pass y"):
        no_outcome.kfold(frame, folds=folds)
    np.testing.assert_allclose(no_outcome.kfold(frame, y, folds=folds).elpd_i.to_numpy(), formula_elpd, rtol=0, atol=1e-10)


@pytest.fixture(scope="module")
def formula_and_hand_fits():
    """The same model fitted by NUTS with the same seed on the frame (formula) and on its design by
    hand. The hand-built fit takes the formula fit's resolved prior: autoscale's column sds of the
    formula's column-major design can differ from those of a row-major copy in the last bit, and
    NUTS would amplify that; with the same prior numbers the two fits are the same computation."""
    frame, design, folds = formula_frame(30)
    options = dict(draws=150, tune=150, chains=1, random_seed=shifted(8), progressbar=False)
    by_formula = br.LinearRegression(br.Normal(1.0, autoscale=True), formula="y ~ x + C(g)").fit(frame, **options)
    return frame, design, folds, by_formula, br.LinearRegression(by_formula.prior_).fit(design, y[:30], **options)


def test_formula_kfold_refits_equal_those_of_the_hand_built_design(formula_and_hand_fits):
    """Refits by NUTS: the formula fit's refits get the full fit's design rows and prior, so with the
    same seeds they are the hand-built design's refits draw for draw: the same numbers (rtol 1e-10:
    the same floating-point operations in one process, so no Monte Carlo tolerance is involved)."""
    frame, design, folds, by_formula, by_hand = formula_and_hand_fits
    settings = dict(method="refit", folds=folds, refit_kwargs={"draws": 100, "tune": 100}, random_seed=shifted(9))
    formula_kfold, hand_kfold = by_formula.kfold(frame, **settings), by_hand.kfold(design, y[:30], **settings)
    assert np.all(np.isfinite(formula_kfold.elpd_i.to_numpy()))
    np.testing.assert_allclose(formula_kfold.elpd_i.to_numpy(), hand_kfold.elpd_i.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(formula_kfold.p_kfold_i.to_numpy(), hand_kfold.p_kfold_i.to_numpy(), rtol=1e-10)


def test_reloo_of_a_formula_fit_refits_its_worst_rows_as_the_hand_built_design(formula_and_hand_fits):
    """reloo on a formula fit (y read from the formula): the two rows of highest k-hat refitted
    (k_threshold just below them) get k-hat 0, the other rows keep PSIS's, and every elpd_i is the
    hand-built design's reloo with the same seeds (rtol 1e-10, the same computation)."""
    frame, design, _, by_formula, by_hand = formula_and_hand_fits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LOOWarning)
        psis = by_formula.loo(frame)
        khat = psis.pareto_k.to_numpy()
        threshold = np.sort(khat)[-3]
        options = dict(reloo=True, k_threshold=threshold, max_refits=2, random_seed=shifted(10),
                       refit_kwargs={"draws": 100, "tune": 100})
        reloo, hand = by_formula.loo(frame, **options), by_hand.loo(design, y[:30], **options)
    refitted = khat > threshold
    assert refitted.sum() == 2 and np.all(reloo.pareto_k.to_numpy()[refitted] == 0)
    np.testing.assert_array_equal(reloo.elpd_i.to_numpy()[~refitted], psis.elpd_i.to_numpy()[~refitted])
    np.testing.assert_allclose(reloo.elpd_i.to_numpy(), hand.elpd_i.to_numpy(), rtol=1e-10)
