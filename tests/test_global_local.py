"""The horseshoes in linear regression sampled on their scales alone (bayesreg/sampling/kernels/global_local.py).

NUTS samples (log sigma, log g, log lambda, [log c^2_raw]) with the coefficients integrated out, then
bayesreg.sampling.conditional.mixture_coefficients draws them given the variances. The references never
use the likelihood's factor F: the marginal of y is the n-dimensional Gaussian N(b 1, sigma^2 I + X D X')
on the raw (uncentred) X with the flat intercept integrated out in closed form
(tests/gaussian_references.py), plus the scales' priors written with scipy.stats; the posterior is
that of the non-centred density, which tests/test_logdensity.py holds to the PyMC model.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

import bayesreg as br
from bayesreg.families.gaussian import SIGMA_PRIOR_NU
from bayesreg.model.spec import linear_inputs
from bayesreg.sampling import nutpie as adapter
from bayesreg.sampling import sample_posterior
from gaussian_references import assert_density_matches, dense_log_evidence, uncentred_problem
from seeds import shifted

SHAPES = [(12, 30), (37, 5)]  # p > n (rank n - 1 < p) and n > p with r^2 p small
PRIORS = [br.Horseshoe(autoscale=False), br.Horseshoe(0.3, autoscale=False),
          br.RegularizedHorseshoe(2, 1.5, 3, autoscale=False)]
PRIOR_IDS = ["Horseshoe-tau0-sigma", "Horseshoe-tau0-given", "RegularizedHorseshoe"]


def _with_factor(prior, factor):
    return dataclasses.replace(prior, factor=factor)


def _half_cauchy_log(u):
    """log density of log x for x ~ half-Cauchy(1), summed over ``u``."""
    return float(np.sum(stats.halfcauchy.logpdf(np.exp(u)) + u))


def dense_log_posterior(theta, X, y, factor, prior, sigma_known, fit_intercept):
    """On the sampler's unconstrained space: (log sigma,) log g, log lambda (p), (log c^2_raw), with the
    log-Jacobians. y ~ N(b0 1, sigma^2 I + X D X'), D = diag(c^2 tau^2 lambda~^2), b0 flat and integrated
    out; tau = g tau0 with tau0 = sigma (Horseshoe(None)), the given scale, or p0 / (p - p0) sigma / sqrt(n)."""
    n, p = X.shape
    i = 0
    if sigma_known is None:
        sigma = math.exp(theta[0])
        i = 1
        noise = stats.t.logpdf(sigma, SIGMA_PRIOR_NU, scale=np.std(y)) + math.log(2) + theta[0]
    else:
        sigma, noise = sigma_known, 0.0
    u_g, u_l = theta[i], np.asarray(theta[i + 1:i + 1 + p])
    value = noise + _half_cauchy_log(u_g) + _half_cauchy_log(u_l)
    if isinstance(prior, br.RegularizedHorseshoe):
        tau0 = prior.expected_nonzero / (p - prior.expected_nonzero) * sigma / math.sqrt(n)
    else:
        tau0 = sigma if prior.scale is None else prior.scale
    tau, lam = math.exp(u_g) * tau0, np.exp(u_l)
    local_sq = lam**2
    if isinstance(prior, br.RegularizedHorseshoe):
        u_c = theta[i + 1 + p]
        nu = prior.slab_df
        value += stats.invgamma.logpdf(math.exp(u_c), nu / 2, scale=nu / 2) + u_c
        c2 = math.exp(u_c) * prior.slab_scale**2
        local_sq = c2 * lam**2 / (c2 + tau**2 * lam**2)
    return value + dense_log_evidence(X, y, factor**2 * tau**2 * local_sq, sigma, fit_intercept)


def _problem(n, p, seed=0, offset=10.0):
    X, y = uncentred_problem(n, p, seed, offset)
    return X, y, np.random.default_rng(shifted(seed + 100)).uniform(0.5, 2.0, size=p)


@pytest.mark.parametrize("n,p", SHAPES)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sigma_known", [None, 1.3])
@pytest.mark.parametrize("prior", PRIORS, ids=PRIOR_IDS)
def test_integrated_density_and_gradient_match_the_dense_marginal(n, p, fit_intercept, sigma_known, prior):
    """Value to 1e-9 relative; gradient against Richardson-extrapolated central differences of the
    dense value (h = 1e-3) to 1e-6: truncation O(h^4 f^(5)) ~ 1e-12, the dense value's rounding
    (~1e-14 |f|, |f| <= 300; slogdet and solve of an n x n matrix, n <= 37) ~3e-9 after dividing by h,
    while a wrong term moves a gradient entry by O(1) (the derivation of tests/test_mixture.py).
    Broken once: dropping tau0's dependence on sigma from d/d log sigma, or s_j from the slab's
    derivative, fails here."""
    X, y, factor = _problem(n, p)
    spec, data = linear_inputs(X, y, _with_factor(prior, factor), sigma=sigma_known, fit_intercept=fit_intercept)
    assert spec.collapsed
    header, _arrays = adapter.pack(spec, data)
    regularized = isinstance(prior, br.RegularizedHorseshoe)
    centre = np.r_[[math.log(np.std(y))] * (sigma_known is None), 0.0, np.zeros(p), [0.0] * regularized]
    points = centre + np.random.default_rng(shifted(1)).normal(scale=1.0, size=(3, centre.size))
    assert_density_matches(header, lambda theta: dense_log_posterior(theta, X, y, factor, prior, sigma_known,
                                                                     fit_intercept), points)
