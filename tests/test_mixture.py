"""The scale-mixture sampler (learned Laplace scales and the Bayesian lasso in linear regression).

NUTS samples (log sigma, log b, log e) with the coefficients integrated out
(bayesreg/sampling/kernels/mixture.py), then bayesreg.sampling.conditional.mixture_coefficients draws them. The
references never use the likelihood's factor F: the Laplace as a mixture by quadrature; the
marginal of y as the n-dimensional Gaussian N(b 1, sigma^2 I + X D X') on the raw (uncentred) X
with the flat intercept integrated out in closed form, and the conditional as the textbook
Gaussian posterior (tests/gaussian_references.py); the posterior as that of the non-centred
density, which tests/test_logdensity.py holds to the PyMC model.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import integrate, stats

import bayesreg as br
from bayesreg.model import spec as model_spec
from bayesreg.sampling import nutpie as adapter
from bayesreg.sampling.conditional import mixture_coefficients
from bayesreg.families.gaussian import SIGMA_PRIOR_NU
from bayesreg.model.spec import linear_inputs
from bayesreg.sampling import sample_posterior
from gaussian_references import assert_density_matches, dense_log_evidence, exact_conditional, uncentred_problem
from seeds import shifted

SHAPES = [(12, 30), (37, 5)]  # p > n (rank n - 1 < p) and n > p (r^2 p small)
PRIORS = [br.Laplace(br.HalfCauchy(0.8)), br.Laplace(br.HalfStudentT(3.0, 1.2)), br.BayesianLasso(2.0, 1.5)]
PRIOR_IDS = ["Laplace-HalfCauchy", "Laplace-HalfStudentT", "BayesianLasso"]


def _problem(n, p, seed=0, offset=10.0):
    X, y = uncentred_problem(n, p, seed, offset)
    return X, y, np.random.default_rng(shifted(seed + 100)).uniform(0.5, 2.0, size=p)


def _with_factor(prior, factor):
    return prior if isinstance(prior, br.BayesianLasso) else br.Laplace(prior.scale, factor=factor)


@pytest.mark.parametrize("w", [0.0, 0.3, 1.7, -4.0])
@pytest.mark.parametrize("b", [0.5, 2.0])
def test_laplace_is_an_exponential_scale_mixture_of_normals(w, b):
    """int N(w; 0, d) Exp(d; mean 2 b^2) dd = Laplace(w; 0, b), by adaptive quadrature over
    s = sqrt(d) (a bounded integrand), to within quad's own error estimate (itself below 1e-8):
    the identity the sampler and the dense reference below rest on, with its rate (2 b^2, which
    the sampler's density hard-codes; a rate off by 2 misses by 10-40%)."""
    mixture, error = integrate.quad(
        lambda s: stats.norm.pdf(w, scale=s) * stats.expon.pdf(s * s, scale=2 * b * b) * 2 * s,
        0, np.inf, epsabs=1e-12, limit=200)
    assert error < 1e-8
    assert abs(mixture - stats.laplace.pdf(w, scale=b)) <= error + 1e-12


def _dense_log_posterior(theta, X, y, factor, prior, sigma_known, fit_intercept):
    """On the sampler's unconstrained space: (log sigma,) log b, log e (p), with the log-Jacobians.
    y ~ N(b0 1, sigma^2 I + X D X'), D = diag(2 b^2 c^2 e), the flat b0 integrated out as in
    tests/test_collapsed.py; e ~ Exp(1); b ~ half-t, or b = sigma / lambda with lambda^2 ~ Gamma(r, delta)."""
    p = X.shape[1]
    i = 0
    if sigma_known is None:
        sigma = math.exp(theta[0])
        i = 1
        noise = stats.t(df=SIGMA_PRIOR_NU, scale=np.std(y)).logpdf(sigma) + math.log(2) + theta[0]
    else:
        sigma, noise = sigma_known, 0.0
    log_b, u = theta[i], np.asarray(theta[i + 1:])
    b = math.exp(log_b)
    if isinstance(prior, br.BayesianLasso):
        factor = np.ones(p)
        lam_sq = (sigma / b) ** 2  # d log lambda^2 / d log b = -2
        scale_prior = stats.gamma(prior.r, scale=1 / prior.delta).logpdf(lam_sq) + math.log(2 * lam_sq)
    else:
        nu = 1.0 if isinstance(prior.scale, br.HalfCauchy) else prior.scale.nu
        scale_prior = stats.t(df=nu, scale=prior.scale.scale).logpdf(b) + math.log(2) + log_b
    value = dense_log_evidence(X, y, 2 * b * b * factor**2 * np.exp(u), sigma, fit_intercept)
    return value + np.sum(u - np.exp(u)) + scale_prior + noise


@pytest.mark.parametrize("n,p", SHAPES)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sigma_known", [None, 1.3])
@pytest.mark.parametrize("prior", PRIORS, ids=PRIOR_IDS)
def test_mixture_density_and_gradient_match_the_dense_marginal(n, p, fit_intercept, sigma_known, prior):
    """Value to 1e-9 relative; gradient against Richardson-extrapolated central differences of the
    dense value, h = 1e-3, to 1e-6. Truncation is O(h^4 f^(5)) ~ 1e-12 f^(5); the dense value (slogdet
    and solve of an n x n matrix, n <= 37) is exact to ~1e-14 relative here (measured: at most
    1.6e-14 over these cases), so its rounding, ~1e-14 |f| with |f| <= 300, becomes ~3e-9 after
    dividing by h. A wrong term moves a gradient entry by O(1). Broken once: dropping the trace term from d/d log sigma,
    or the Exp(1) prior's -e from d/d log e, fails here."""
    X, y, factor = _problem(n, p)
    spec, data = linear_inputs(X, y, _with_factor(prior, factor), sigma=sigma_known, fit_intercept=fit_intercept)
    assert spec.collapsed and adapter.unconstrained_layout(spec)[-1] == ("mixture_raw_log__", p)
    header, _arrays = adapter.pack(spec, data)
    centre = np.r_[[math.log(np.std(y))] * (sigma_known is None), -1.0, np.zeros(p)]
    points = centre + np.random.default_rng(shifted(1)).normal(scale=0.7, size=(3, centre.size))
    assert_density_matches(header, lambda theta: _dense_log_posterior(theta, X, y, factor, prior, sigma_known,
                                                                      fit_intercept), points)


@pytest.mark.parametrize("n,p", [(37, 5), (8, 12)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_mixture_draws_have_the_exact_gaussian_mean_and_covariance(n, p, fit_intercept):
    """m = 40000 draws at fixed (sigma, d). Exactly Gaussian if the code is right, so (as in
    tests/test_collapsed.py) m (xbar - mu)' Sigma^-1 (xbar - mu) ~ chi-square(q), failing at its
    1 - 1e-6 quantile, and each sample covariance entry within 5.5 Wishart sds
    sqrt((Sigma_ij^2 + Sigma_ii Sigma_jj) / (m - 1)) (false alarm below 4e-6 over at most 91
    entries). n < p checks the directions the data leave to the prior. Broken once: without the
    simulated noise ``sigma delta`` the covariance check fails; with the prior draw ``u`` scaled by
    d instead of sqrt(d), the n < p cases fail."""
    X, y, _ = _problem(n, p, seed=2, offset=0.1)  # small column means: the intercept's own variance shows
    variances = np.random.default_rng(shifted(4)).uniform(0.05, 2.0, size=p)
    sigma = 1.1
    spec, data = linear_inputs(X, y, br.Laplace(br.HalfCauchy(1.0)), sigma=None, fit_intercept=fit_intercept)
    assert spec.collapsed
    m = 40_000
    coef, intercept = mixture_coefficients(data, fit_intercept, np.full(m, sigma), np.tile(variances, (m, 1)),
                                           np.random.default_rng(shifted(3)))
    draws = np.column_stack([coef, intercept]) if fit_intercept else coef
    mu, Sigma = exact_conditional(X, y, variances, sigma, fit_intercept)
    error = draws.mean(axis=0) - mu
    assert m * error @ np.linalg.solve(Sigma, error) < stats.chi2(len(mu)).ppf(1 - 1e-6)
    sd = np.sqrt((Sigma**2 + np.outer(np.diag(Sigma), np.diag(Sigma))) / (m - 1))
    assert np.all(np.abs(np.cov(draws, rowvar=False) - Sigma) <= 5.5 * sd)



def test_mixture_draws_survive_a_numerically_singular_k():
    """Extreme scales (a horseshoe's span many decades) can make K = sigma^2 I + F D F' singular in
    floating point though it is positive definite: here F = [[1, 0, 1], [1, 1, 0]], sigma = 1 and
    d = (2^134, 1, 1), so every entry of K is 2^134 + {0, 2} and rounds to exactly 2^134 (the ulp
    there is 2^82): K = 2^134 [[1, 1], [1, 1]], whose Cholesky factor fails with an exactly zero
    pivot on any IEEE machine (asserted, so the case is known to hit it). The posterior is proper
    (the data pin the first coefficient), with the textbook precision Q = F'F / sigma^2 + D^-1 as the
    independent reference. m = 40000 draws, checked as in
    test_mixture_draws_have_the_exact_gaussian_mean_and_covariance (false alarm below 1e-5).
    Broken once: without the precision-form fallback cho_factor raises LinAlgError."""
    from scipy import linalg

    F = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    variances, sigma = np.array([2.0**134, 1.0, 1.0]), 1.0
    a = np.array([0.8, -1.3])
    K = (F * variances) @ F.T + sigma**2 * np.eye(2)
    with pytest.raises(linalg.LinAlgError):
        linalg.cho_factor(K, lower=True)
    m = 40_000
    coef, _ = mixture_coefficients({"factor": F, "mixture_projection": a}, False, np.full(m, sigma),
                                   np.tile(variances, (m, 1)), np.random.default_rng(shifted(8)))
    Sigma = np.linalg.inv(F.T @ F / sigma**2 + np.diag(1 / variances))
    mu = Sigma @ F.T @ a / sigma**2
    error = coef.mean(axis=0) - mu
    assert m * error @ np.linalg.solve(Sigma, error) < stats.chi2(3).ppf(1 - 1e-6)
    sd = np.sqrt((Sigma**2 + np.outer(np.diag(Sigma), np.diag(Sigma))) / (m - 1))
    assert np.all(np.abs(np.cov(coef, rowvar=False) - Sigma) <= 5.5 * sd)


@pytest.mark.parametrize("n,p", [(37, 5), (8, 12)])
def test_precision_form_fallback_is_the_same_draw(n, p, monkeypatch):
    """The fallback is the same linear map of the same normals as the K form (Woodbury, its
    docstring), so with every draw forced onto it (no K passes a reciprocal condition number above
    2) the draws equal the K form's to rounding, 1e-9 relative to the draws' scale (both are
    backward stable solves of systems of condition below 100 here). Broken once: the simulated
    noise's sign flipped in the fallback fails it."""
    from bayesreg.sampling import conditional

    X, y, _ = _problem(n, p, seed=3)
    variances = np.random.default_rng(shifted(9)).uniform(0.05, 2.0, size=p)
    spec, data = linear_inputs(X, y, br.Laplace(br.HalfCauchy(1.0)), sigma=None, fit_intercept=True)
    m = 50
    draw = lambda: mixture_coefficients(data, True, np.full(m, 0.9), np.tile(variances, (m, 1)),  # noqa: E731
                                        np.random.default_rng(shifted(10)))
    k_form = draw()
    monkeypatch.setattr(conditional, "K_MIN_RCOND", 2.0)
    fallback = draw()
    for expected, got in zip(k_form, fallback):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9 * np.abs(expected).max())

def test_which_fits_are_sampled_as_a_mixture():
    """No residual degrees of freedom always (p >= n; n = p + 1 with an intercept: the funnel case);
    otherwise while r^2 p stays small (120^3 does not), collinear columns included; never logistic
    or a fixed scale."""
    laplace, lasso = br.Laplace(br.HalfCauchy(1.0)), br.BayesianLasso()
    for prior in (laplace, lasso):
        for n, p, expected in ((12, 30, True), (40, 8, True), (121, 120, True), (400, 120, False)):
            X, y, _ = _problem(n, p)
            assert linear_inputs(X, y, prior, sigma=None, fit_intercept=True)[0].collapsed is expected, (n, p)
        X[:, 1] = X[:, 0]  # rank 119 < p, but n > p pins sigma
        assert not linear_inputs(X, y, prior, sigma=None, fit_intercept=True)[0].collapsed
    X, y, _ = _problem(12, 30)
    assert not linear_inputs(X, y, br.Laplace(1.0), sigma=None, fit_intercept=True)[0].collapsed
    y01 = (y > y.mean()).astype(float)
    assert not model_spec.logistic_inputs(X, y01, laplace, fit_intercept=True)[0].collapsed


@pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning")  # 2 x 200 draws: a structure check
@pytest.mark.parametrize("prior,scales", [(br.Laplace(br.HalfCauchy(1.0), autoscale=True), ["prior_scale"]),
                                          (br.BayesianLasso(), ["prior_scale", "prior_lambda"])],
                         ids=["Laplace", "BayesianLasso"])
def test_mixture_fit_has_the_usual_posterior_and_the_seed_fixes_the_draws(prior, scales):
    """The variables, dims and order of the non-centred structures (the mixture variances are
    the sampler's device and are dropped); the same seed gives the same draws."""
    X, y, _ = _problem(10, 14, seed=4)
    fits = [br.LinearRegression(prior).fit(X, y, draws=200, tune=200, chains=2, random_seed=shifted(5), progressbar=False)
            for _ in range(2)]
    posterior = fits[0].idata_["posterior"]
    assert list(posterior.data_vars) == ["coef", "intercept", "sigma", *scales]
    assert posterior["coef"].dims == ("chain", "draw", "feature") and posterior.sizes["draw"] == 200
    np.testing.assert_array_equal(posterior["coef"], fits[1].idata_["posterior"]["coef"])


@pytest.mark.parametrize("prior", [br.Laplace(br.HalfCauchy(1.0)), br.BayesianLasso(1.0, 0.5)],
                         ids=["Laplace", "BayesianLasso"])
def test_mixture_posterior_matches_the_non_centred_one(prior):
    """Both samplers on one data set (n = 15, p = 4, where the non-centred one mixes well): every
    posterior mean (coef, intercept, sigma, prior_scale) agrees within 4.5 combined Monte Carlo
    standard errors, sqrt(mcse_1^2 + mcse_2^2), each from ArviZ's ESS; over 7 quantities the
    two-sided normal tail gives a false alarm below 5e-5. Broken once: the Exp(1) mixing prior with
    mean b^2 where 2 b^2 belongs (the Laplace scale off by sqrt 2) fails it."""
    import arviz as az

    X, y, _ = _problem(15, 4, seed=6, offset=1.0)
    spec, data = linear_inputs(X, y, prior, sigma=None, fit_intercept=True)
    assert spec.collapsed
    data_noncentred = {key: value for key, value in data.items() if not key.startswith("mixture_")}
    names = [f"x{j}" for j in range(4)]
    settings = dict(draws=2000, tune=1000, chains=4, random_seed=shifted(7), progressbar=False)
    mixture = sample_posterior(spec, data, names, **settings)
    noncentred = sample_posterior(dataclasses.replace(spec, collapsed=False), data_noncentred, names,
                                  **{**settings, "target_accept": 0.99})
    # A guard against a broken reference, not a test of it: the non-centred sampler has a rare
    # divergence here (about 1 in 8000 transitions on some CPUs, none on others, for the same seed),
    # which moves its means by far less than the tolerance; a reference that fails badly (1%) is no
    # reference at all.
    assert int(noncentred["sample_stats"]["diverging"].sum()) <= 0.01 * noncentred["sample_stats"]["diverging"].size
    quantities = ["coef", "intercept", "sigma", "prior_scale"]
    summaries = [az.summary(fit, var_names=quantities) for fit in (mixture, noncentred)]
    gap = (summaries[0]["mean"] - summaries[1]["mean"]).abs()
    allowed = 4.5 * np.sqrt(summaries[0]["mcse_mean"] ** 2 + summaries[1]["mcse_mean"] ** 2)
    assert (gap <= allowed).all(), (gap / allowed).to_dict()
