"""The collapsed model (linear regression, Normal prior with a learned scale) against dense references.

NUTS samples p(tau, sigma | y) with coef and intercept integrated out (bayesreg/sampling/kernels/spectral.py),
then draws them from their Gaussian conditional (bayesreg.sampling.conditional.normal_scale_coefficients). The
references here never use the eigen-data: the marginal of y is written as the n-dimensional Gaussian
N(b 1, sigma^2 I + tau^2 X D X') on the raw (uncentred) X, the flat intercept integrated out in
closed form, with numpy's slogdet and solve; the conditional is the textbook Gaussian posterior.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import bayesreg as br
from bayesreg.sampling import nutpie as adapter
from bayesreg.sampling.conditional import normal_scale_coefficients
from bayesreg.families.gaussian import SIGMA_PRIOR_NU
from bayesreg.model.spec import linear_inputs
from gaussian_references import assert_density_matches, dense_log_evidence, exact_conditional, uncentred_problem
from seeds import shifted

FACTOR = np.array([1.0, 2.0, 0.5, 3.0, 0.7])
SHAPES = [(37, 5), (12, 5 * 6)]  # n > p (eigendecomposition of X'X) and n < p (thin SVD, rank n - 1)


def _problem(n, p, seed=0, offset=10.0):
    X, y = uncentred_problem(n, p, seed, offset)
    return X, y, np.resize(FACTOR, p)


def _dense_log_posterior(theta, X, y, d, hyper, sigma_known, fit_intercept):
    """On the sampler's unconstrained space: (log sigma,) log tau, with the log-Jacobians."""
    if sigma_known is None:
        log_sigma, log_tau = theta
        sigma = math.exp(log_sigma)
        noise = stats.t(df=SIGMA_PRIOR_NU, scale=np.std(y)).logpdf(sigma) + math.log(2) + log_sigma
    else:
        (log_tau,), sigma, noise = theta, sigma_known, 0.0
    tau = math.exp(log_tau)
    nu = 1.0 if isinstance(hyper, br.HalfCauchy) else hyper.nu
    scale_prior = stats.t(df=nu, scale=hyper.scale).logpdf(tau) + math.log(2) + log_tau
    return dense_log_evidence(X, y, (tau * d) ** 2, sigma, fit_intercept) + scale_prior + noise


@pytest.mark.parametrize("n,p", SHAPES)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sigma_known", [None, 1.3])
@pytest.mark.parametrize("hyper", [br.HalfCauchy(0.8), br.HalfStudentT(3.0, 1.2)], ids=["HalfCauchy", "HalfStudentT"])
def test_collapsed_density_and_gradient_match_the_dense_marginal(n, p, fit_intercept, sigma_known, hyper):
    """Value to 1e-9 relative (both exact in double precision; the dense slogdet of an n x n
    matrix loses a few digits to conditioning). Gradient against Richardson-extrapolated central
    differences of the dense value, h = 1e-3: truncation O(h^4 f^(5)) ~ 1e-12 f^(5), and the dense
    value's rounding error delta ~ eps cond(S) |f| ~ 1e-10 here (uncentred X: cond(S) up to ~1e6)
    becomes ~ delta / h ~ 1e-7; so 1e-6 relative and absolute is above both and far below any real
    error (a wrong term moves the gradient by O(1))."""
    X, y, d = _problem(n, p)
    spec, data = linear_inputs(X, y, br.Normal(hyper, factor=d), sigma=sigma_known, fit_intercept=fit_intercept)
    assert spec.collapsed and adapter.unconstrained_layout(spec)[-1] == ("prior_scale_log__", 1)
    header, _arrays = adapter.pack(spec, data)
    dim = 1 if sigma_known else 2
    centre = np.array([math.log(np.std(y)), -1.0][2 - dim:])  # (log sigma at sd(y),) log tau at -1
    points = centre + np.random.default_rng(shifted(1)).normal(scale=1.0, size=(4, dim))
    assert_density_matches(header, lambda theta: _dense_log_posterior(theta, X, y, d, hyper, sigma_known,
                                                                      fit_intercept), points)


@pytest.mark.parametrize("n,p", [(37, 5), (8, 12)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_conditional_draws_have_the_exact_gaussian_mean_and_covariance(n, p, fit_intercept):
    """m = 200000 draws at fixed (tau, sigma), q = p (+ 1) coordinates. The draws are exactly
    Gaussian if the code is right, so
    - mean: m (xbar - mu)' Sigma^-1 (xbar - mu) ~ chi-square(q) exactly; fails at its 1 - 1e-6 quantile;
    - covariance: the sample covariance is Wishart(Sigma / (m - 1), m - 1), so entry (i, j) has sd
      sqrt((Sigma_ij^2 + Sigma_ii Sigma_jj) / (m - 1)); each entry within 5.5 of those sds (two-sided
      normal tail 3.8e-8, times at most 91 entries: a false alarm below 4e-6).
    n < p checks the directions the data do not inform (the prior's, off span(V)). Power (measured):
    conditional sds 2% too wide, the null-space term left out, or the intercept's sigma^2 / (n - 1)
    for sigma^2 / n each fail it.
    """
    X, y, d = _problem(n, p, seed=2, offset=0.1)  # small column means: the intercept's own variance shows
    tau, sigma = 0.3, 1.1
    spec, data = linear_inputs(X, y, br.Normal(br.HalfCauchy(1.0), factor=d), sigma=None, fit_intercept=fit_intercept)
    m = 200_000
    coef, intercept = normal_scale_coefficients(data, fit_intercept, np.full(m, sigma), np.full(m, tau),
                                               np.random.default_rng(shifted(3)))
    draws = np.column_stack([coef, intercept]) if fit_intercept else coef
    mu, Sigma = exact_conditional(X, y, (tau * d) ** 2, sigma, fit_intercept)
    q = len(mu)
    error = draws.mean(axis=0) - mu
    assert m * error @ np.linalg.solve(Sigma, error) < stats.chi2(q).ppf(1 - 1e-6)
    sd = np.sqrt((Sigma**2 + np.outer(np.diag(Sigma), np.diag(Sigma))) / (m - 1))
    assert np.all(np.abs(np.cov(draws, rowvar=False) - Sigma) <= 5.5 * sd)


def test_only_the_linear_learned_normal_case_is_collapsed():
    """(Learned Laplace scales have a collapsed sampler of their own: tests/test_mixture.py; so have
    the global-local priors: tests/test_global_local.py.)"""
    X, y, _ = _problem(20, 3)
    assert linear_inputs(X, y, br.Normal(br.HalfCauchy(1.0)), sigma=None, fit_intercept=True)[0].collapsed
    for prior in (br.Normal(1.0), br.Laplace(1.0)):
        assert not linear_inputs(X, y, prior, sigma=None, fit_intercept=True)[0].collapsed
    logistic = br.model.logistic_inputs(X, (y > y.mean()).astype(float), br.Normal(br.HalfCauchy(1.0)),
                                               fit_intercept=True)[0]
    assert not logistic.collapsed


@pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning")  # 2 x 200 draws: a structure check
def test_collapsed_fit_has_the_usual_posterior_and_the_seed_fixes_the_draws():
    """Same variables, dims and order as every other structure; the same seed gives the same coef draws."""
    X, y, _ = _problem(30, 4, seed=4)
    fits = [br.LinearRegression(br.Normal(br.HalfCauchy(1.0), autoscale=True)).fit(
        X, y, draws=200, tune=200, chains=2, random_seed=shifted(5), progressbar=False) for _ in range(2)]
    posterior = fits[0].idata_["posterior"]
    assert list(posterior.data_vars) == ["coef", "intercept", "sigma", "prior_scale"]
    assert posterior["coef"].dims == ("chain", "draw", "feature") and posterior.sizes["draw"] == 200
    np.testing.assert_array_equal(posterior["coef"], fits[1].idata_["posterior"]["coef"])
    assert {"x0", "intercept", "sigma", "prior_scale"} <= set(fits[0].summary().index)
