"""Leave-one-out of a weighted fit (issue 23): a row of weight w_i is w_i copies, left out together
(brms's convention; the same in ``est.loo``, ``est.kfold`` and ``br.select``).

References: the conjugate Gaussian posterior without row i solved from scratch (weighted normal
equations) and the density of its w_i copies written independently: for integer w_i the
multivariate normal of w_i equal values (covariance v 11' + sigma^2 I), for fractional w_i the
integral of N(y | f, sigma^2)^w N(f | m, v) by quadrature; the repeated rows with each row's copies'
log-likelihood summed and given to ArviZ's own ``loo``; the in-memory result for Dask rows.
"""

import warnings

import arviz_stats as azs
import dask.array as da
import numpy as np
import pytest
import xarray as xr
from scipy import integrate, special, stats

import bayesreg as br
from bayesreg.assessment.loo import exact_gaussian_loo, log_likelihood_blocks
from bayesreg.assessment.reloo import refit_elpd
from seeds import shifted

pytestmark = [pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning"),
              pytest.mark.filterwarnings("ignore::bayesreg.assessment.LOOWarning")]
rng = np.random.default_rng(shifted(2323))
N, P, SIGMA = 50, 3, 0.8
SCALES = np.array([1.0, 0.5, 2.0])
X = rng.normal(size=(N, P)) * [1.0, 2.0, 0.5]
y = 1.0 + X @ [1.0, 0.4, 0.0] + SIGMA * rng.normal(size=N)
COPIES = rng.integers(0, 4, size=N).astype(float)  # integer weights 0..3 (0: the row is no data)
FRACTIONAL = rng.uniform(0.2, 2.5, size=N)


def cavity(weights, fit_intercept=True):
    """Per row: mean and variance of its fitted value under the weighted posterior of the other rows,
    from that posterior's normal equations (solved from scratch, row i's copies removed)."""
    Z = np.hstack([np.ones((N, 1)), X]) if fit_intercept else X
    prior_precision = np.diag(np.r_[[0.0] * fit_intercept, 1 / SCALES**2])
    mean, variance = np.empty(N), np.empty(N)
    for i in range(N):
        w = np.where(np.arange(N) == i, 0.0, weights)
        C = np.linalg.inv(Z.T @ (w[:, None] * Z) / SIGMA**2 + prior_precision)
        mean[i], variance[i] = Z[i] @ C @ Z.T @ (w * y) / SIGMA**2, Z[i] @ C @ Z[i]
    return mean, variance


def copies_density_integer(weights, mean, variance):
    return np.array([stats.multivariate_normal.logpdf(np.full(int(w), r), np.full(int(w), m),
                                                      v * np.ones((int(w), int(w))) + SIGMA**2 * np.eye(int(w)))
                     if w > 0 else 0.0 for w, r, m, v in zip(weights, y, mean, variance)])


def copies_density_quadrature(weights, mean, variance):
    """log of the integral of N(y | f, sigma^2)^w N(f | m, v) df, the integrand scaled by its value at
    the mode of the Gaussian factor product (relative quadrature error ~1e-12)."""
    out = []
    for w, r, m, v in zip(weights, y, mean, variance):
        def log_integrand(f):
            return w * stats.norm.logpdf(r, f, SIGMA) + stats.norm.logpdf(f, m, np.sqrt(v))
        precision = w / SIGMA**2 + 1 / v
        mode = (w * r / SIGMA**2 + m / v) / precision
        top = log_integrand(mode)
        width = 12 / np.sqrt(precision)
        value, _ = integrate.quad(lambda f: np.exp(log_integrand(f) - top), mode - width, mode + width,
                                  epsabs=0, epsrel=1e-13, limit=200)
        out.append(top + np.log(value))
    return np.array(out)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_exact_weighted_loo_equals_refits_without_the_copies(fit_intercept):
    """The closed form (rank-1 downdate of weight w_i) against the posterior without row i solved
    from scratch, to 1e-8 (float error of the two Cholesky/inverse routes is ~1e-12)."""
    mean, variance = cavity(COPIES, fit_intercept)
    got = exact_gaussian_loo(X, y, 1 / SCALES**2, SIGMA, fit_intercept, COPIES)
    np.testing.assert_allclose(got, copies_density_integer(COPIES, mean, variance), rtol=0, atol=1e-8)
    mean, variance = cavity(FRACTIONAL, fit_intercept)
    got = exact_gaussian_loo(X, y, 1 / SCALES**2, SIGMA, fit_intercept, FRACTIONAL)
    np.testing.assert_allclose(got, copies_density_quadrature(FRACTIONAL, mean, variance), rtol=0, atol=1e-8)


def test_est_loo_with_weights_is_exact_and_its_se_is_over_rows():
    est = br.LinearRegression(br.Normal(SCALES), sigma=SIGMA).fit(X, y, method="map", sample_weight=FRACTIONAL)
    elpd = est.loo(X, y, sample_weight=FRACTIONAL)
    expected = copies_density_quadrature(FRACTIONAL, *cavity(FRACTIONAL))
    np.testing.assert_allclose(elpd.elpd_i.to_numpy(), expected, atol=1e-8)
    assert elpd.se == pytest.approx(np.sqrt(N * np.var(expected, ddof=1)), rel=1e-8)
    unweighted = est.loo(X, y)  # a MAP fit records nothing: each row once, another number
    assert abs(unweighted.elpd - elpd.elpd) > 1.0


def _stand_in(weights, generator, draws=400):
    """A LinearRegression (sigma estimated) fitted by MAP on the weighted rows, with draws around
    the MAP standing in for its posterior: both sides of the comparison use the same draws."""
    est = br.LinearRegression(br.Normal(SCALES)).fit(X, y, method="map", sample_weight=weights)
    center = np.r_[est.intercept_, est.coef_]
    values = center + 0.08 * generator.normal(size=(2, draws, len(center)))
    posterior = xr.Dataset({"coef": (("chain", "draw", "feature"), values[..., 1:]),
                            "intercept": (("chain", "draw"), values[..., 0]),
                            "sigma": (("chain", "draw"), SIGMA * np.exp(0.1 * generator.normal(size=(2, draws))))},
                           coords={"chain": [0, 1], "draw": np.arange(draws), "feature": est.feature_names_})
    est.idata_ = xr.DataTree.from_dict({"posterior": posterior})
    return est


def test_psis_with_integer_weights_is_arviz_loo_of_the_copies_left_out_together():
    """Row i repeated w_i times, its w_i copies' log-likelihood (written out) summed per draw: ArviZ's
    own loo on that sum gives elpd_i, p_loo_i and k-hat to 1e-10; weight-0 rows give 0; the SE is
    sqrt(n var(elpd_i)) over the n rows."""
    est = _stand_in(COPIES, np.random.default_rng(shifted(2324)))
    got = est.loo(X, y, method="psis", sample_weight=COPIES)
    repeat = np.repeat(np.arange(N), COPIES.astype(int))
    posterior = est.idata_["posterior"]
    eta = posterior["intercept"].to_numpy()[..., None] + posterior["coef"].to_numpy() @ X[repeat].T
    sigma = posterior["sigma"].to_numpy()[..., None]
    per_copy = -0.5 * np.log(2 * np.pi * sigma**2) - (y[repeat] - eta) ** 2 / (2 * sigma**2)
    summed = np.zeros(per_copy.shape[:2] + (N,))
    np.add.at(np.moveaxis(summed, -1, 0), repeat, np.moveaxis(per_copy, -1, 0))
    kept = COPIES > 0
    tree = xr.DataTree.from_dict({"posterior": posterior.to_dataset(),
                                  "log_likelihood": xr.Dataset({"y": (("chain", "draw", "obs"), summed[..., kept])})})
    reference = azs.loo(tree, pointwise=True)
    np.testing.assert_allclose(got.elpd_i.to_numpy()[kept], reference.elpd_i.to_numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got.pareto_k.to_numpy()[kept], reference.pareto_k.to_numpy(), atol=1e-10)
    assert got.p == pytest.approx(reference.p, rel=1e-10)
    assert np.all(got.elpd_i.to_numpy()[~kept] == 0)
    assert got.se == pytest.approx(np.sqrt(N * np.var(got.elpd_i.to_numpy(), ddof=1)), rel=1e-10)
    on_dask = est.loo(da.from_array(X, chunks=(17, 2)), da.from_array(y, chunks=17), method="psis",
                      sample_weight=da.from_array(COPIES, chunks=17))
    np.testing.assert_allclose(on_dask.elpd_i.to_numpy(), got.elpd_i.to_numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(on_dask.pareto_k.to_numpy(), got.pareto_k.to_numpy(), atol=1e-10)


@pytest.fixture(scope="module")
def weighted_nuts():
    weights = 1.0 + COPIES  # 1..4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = br.LinearRegression(br.Normal(SCALES), sigma=SIGMA).fit(X, y, sample_weight=weights, draws=1000,
                                                                      tune=500, chains=2, random_seed=shifted(2325),
                                                                      progressbar=False)
    return est, weights


def test_weighted_fit_refuses_assessment_without_its_weights(weighted_nuts):
    est, weights = weighted_nuts
    assert est.idata_.attrs["sample_weight_sum"] == pytest.approx(weights.sum())
    for call in (lambda: est.loo(X, y), lambda: est.loo(X, y, method="psis"), lambda: br.select(est, X, y)):
        with pytest.raises(ValueError, match="this fit had sample_weight.*pass the same weights"):
            call()


def test_psis_kfold_and_exact_loo_of_a_weighted_fit_agree(weighted_nuts):
    """One weighted NUTS fit: PSIS-LOO against the exact weighted LOO (sum within 4.5 Monte Carlo sds,
    each row's sd bounded by the delta method at ESS S / 4 summed in quadrature; plus 0.05 nat for the
    PSIS bias), and 10-fold CV (refits) against the exact LOO within either's standard error (K-fold
    trains on 90% of the rows, so it is lower by a systematic few nats here: the SE of the pointwise
    differences, which measures noise, not that bias, is the wrong yardstick; the per-row check of
    the K-fold refits against the exact weighted K-fold is tests/test_assessment_kfold.py's)."""
    est, weights = weighted_nuts
    exact = est.loo(X, y, sample_weight=weights)
    assert np.all(exact.pareto_k.to_numpy() == 0)  # the closed form
    psis = est.loo(X, y, method="psis", sample_weight=weights)
    mean, variance = cavity(weights)
    moments = [((2 * np.pi * SIGMA**2) ** ((1 - a) / 2) / np.sqrt(a)
                * stats.norm.pdf(y, mean, np.sqrt(variance + SIGMA**2 / a))) for a in (weights, 2 * weights)]
    sd = np.sqrt(np.sum((moments[1] / moments[0] ** 2 - 1) / (2000 / 4)))
    assert abs(psis.elpd - exact.elpd) < 4.5 * sd + 0.05, (psis.elpd - exact.elpd, sd)
    kfold = est.kfold(X, y, k=10, method="refit", sample_weight=weights, random_seed=shifted(2326),
                      refit_kwargs={"draws": 500, "tune": 300, "chains": 1})
    assert abs(kfold.elpd - exact.elpd) < min(kfold.se, exact.se), (kfold.elpd, exact.elpd, exact.se)


def test_reloo_refits_leave_a_rows_copies_out_together(weighted_nuts):
    """reloo's refit of two rows of weight 4 and 1 (NUTS without them) against the exact weighted LOO,
    each within 4.5 Monte Carlo sds of log mean p^w (delta method, ESS S / 4)."""
    est, weights = weighted_nuts
    rows = np.array([int(np.argmax(weights)), int(np.argmin(weights))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = refit_elpd(est, X, y, y, rows, {"draws": 1000, "tune": 500, "chains": 2, "progressbar": False,
                                              "random_seed": shifted(2327)}, sample_weight=weights)
    mean, variance = cavity(weights)
    expected = copies_density_integer(weights, mean, variance)[rows]  # integer weights: the copies' density
    w = weights[rows]
    moments = [((2 * np.pi * SIGMA**2) ** ((1 - a) / 2) / np.sqrt(a)
                * stats.norm.pdf(y[rows], mean[rows], np.sqrt(variance[rows] + SIGMA**2 / a))) for a in (w, 2 * w)]
    sd = np.sqrt((moments[1] / moments[0] ** 2 - 1) / (2000 / 4))
    assert np.all(np.abs(got - expected) < 4.5 * sd), (got - expected) / sd
    assert w[0] > 1  # a weighted row, its copies all left out (without them its density is ~w times lower)
