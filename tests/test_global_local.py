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
          br.RegularizedHorseshoe(2, 1.5, 3, autoscale=False), br.HorseshoePlus(autoscale=False),
          br.HorseshoePlus(0.3, autoscale=False), br.R2D2(0.3, 3.0, autoscale=False)]
PRIOR_IDS = ["Horseshoe-tau0-sigma", "Horseshoe-tau0-given", "RegularizedHorseshoe", "HorseshoePlus-tau0-sigma",
             "HorseshoePlus-tau0-given", "R2D2"]


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
    if isinstance(prior, br.R2D2):  # u = logit R^2, log gamma (p); W = R^2 / (1 - R^2), phi = gamma / sum
        u, gamma = theta[i], np.exp(theta[i + 1:i + 1 + p])
        r2 = 1 / (1 + math.exp(-u))
        a, b = prior.mean_r2 * prior.precision, (1 - prior.mean_r2) * prior.precision
        value = noise + stats.beta.logpdf(r2, a, b) + math.log(r2 * (1 - r2))
        value += float(np.sum(stats.gamma.logpdf(gamma, prior.concentrations(p)) + np.log(gamma)))
        variances = factor**2 * sigma**2 * r2 / (1 - r2) * gamma / gamma.sum()
        return value + dense_log_evidence(X, y, variances, sigma, fit_intercept)
    u_g, u_l = theta[i], np.asarray(theta[i + 1:i + 1 + p])
    value = noise + _half_cauchy_log(u_g) + _half_cauchy_log(u_l)
    if isinstance(prior, br.RegularizedHorseshoe):
        tau0 = prior.expected_nonzero / (p - prior.expected_nonzero) * sigma / math.sqrt(n)
    else:
        tau0 = sigma if prior.scale is None else prior.scale
    tau, lam = math.exp(u_g) * tau0, np.exp(u_l)
    local_sq = lam**2
    if isinstance(prior, br.HorseshoePlus):  # lambda_j = nu_j eta_j
        u_eta = np.asarray(theta[i + 1 + p:i + 1 + 2 * p])
        value += _half_cauchy_log(u_eta)
        local_sq = (lam * np.exp(u_eta)) ** 2
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
    derivative, or R2D2's -phi_k Gamma from d/d log gamma_k, fails here."""
    X, y, factor = _problem(n, p)
    spec, data = linear_inputs(X, y, _with_factor(prior, factor), sigma=sigma_known, fit_intercept=fit_intercept)
    assert spec.collapsed
    header, _arrays = adapter.pack(spec, data)
    extra = 1 if isinstance(prior, br.RegularizedHorseshoe) else p if isinstance(prior, br.HorseshoePlus) else 0
    centre = np.r_[[math.log(np.std(y))] * (sigma_known is None), 0.0, np.zeros(p + extra)]
    points = centre + np.random.default_rng(shifted(1)).normal(scale=1.0, size=(3, centre.size))
    assert_density_matches(header, lambda theta: dense_log_posterior(theta, X, y, factor, prior, sigma_known,
                                                                     fit_intercept), points)


def test_which_horseshoe_fits_are_integrated():
    """As the mixture's rule (bayesreg.model.spec.mixture_pays): no residual degrees of freedom always,
    otherwise while r^2 p stays small; never logistic. The integrated fits carry the prior's scales
    and no coefficient block in their unconstrained vector."""
    for prior in (br.Horseshoe(), br.RegularizedHorseshoe(2)):
        for n, p, expected in ((12, 30, True), (40, 8, True), (121, 120, True), (400, 120, False)):
            X, y, _ = _problem(n, p)
            spec = linear_inputs(X, y, prior, sigma=None, fit_intercept=True)[0]
            assert spec.collapsed is expected, (n, p)
        X, y, _ = _problem(12, 30)
        spec = linear_inputs(X, y, prior, sigma=None, fit_intercept=True)[0]
        names = [name for name, _ in adapter.unconstrained_layout(spec)]
        assert names[:3] == ["sigma_log__", "global_scale_raw_log__", "local_scale_log__"]
        y01 = (y > y.mean()).astype(float)
        from bayesreg.model.spec import logistic_inputs
        assert not logistic_inputs(X, y01, prior, fit_intercept=True)[0].collapsed


@pytest.mark.parametrize("prior", [br.Horseshoe(), br.RegularizedHorseshoe(2, 1.0), br.HorseshoePlus(),
                                   br.R2D2(0.5, 2.0, autoscale=False)],
                         ids=["Horseshoe", "RegularizedHorseshoe", "HorseshoePlus", "R2D2"])
def test_integrated_posterior_matches_the_non_centred_one(prior):
    """Both samplers on one data set (n = 30, p = 4, three clear signals, where the non-centred one
    mixes): every posterior mean and sd of coef, intercept, sigma, global_scale (and slab_scale; R2D2:
    r2 and phi) agrees within 4.5 combined Monte Carlo standard errors sqrt(mcse_1^2 + mcse_2^2) (ArviZ's
    mcse_mean and mcse_sd, from each run's ESS). The estimates are asymptotically normal, so each
    comparison fails with probability 6.8e-6; over at most 2 x 11 comparisons, below 1.5e-4. The
    local scales are left out: a noise coefficient's lambda_j keeps a half-Cauchy tail, no finite mean.
    Broken once: the regularized horseshoe's lambda~ without the slab (d_j = c_j^2 tau^2 lambda_j^2)
    fails it."""
    import arviz as az

    X, y, _ = _problem(30, 4, seed=6, offset=1.0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    spec, data = linear_inputs(X, y, prior, sigma=None, fit_intercept=True)
    assert spec.collapsed
    data_noncentred = {key: value for key, value in data.items() if not key.startswith("mixture_")}
    names = [f"x{j}" for j in range(4)]
    settings = dict(draws=2000, tune=1000, chains=4, random_seed=shifted(7), progressbar=False)
    integrated = sample_posterior(spec, data, names, **settings)
    noncentred = sample_posterior(dataclasses.replace(spec, collapsed=False), data_noncentred, names, **settings)
    # a guard against a broken reference (as in tests/test_mixture.py), not a test of it
    assert int(noncentred["sample_stats"]["diverging"].sum()) <= 0.01 * noncentred["sample_stats"]["diverging"].size
    quantities = ["coef", "intercept", "sigma", *(["r2", "variance_share"] if isinstance(prior, br.R2D2) else ["global_scale"])]
    quantities += ["slab_scale"] * isinstance(prior, br.RegularizedHorseshoe)
    first, second = (az.summary(fit, var_names=quantities) for fit in (integrated, noncentred))
    for statistic, error in (("mean", "mcse_mean"), ("sd", "mcse_sd")):
        gap = (first[statistic] - second[statistic]).abs()
        allowed = 4.5 * np.sqrt(first[error] ** 2 + second[error] ** 2)
        assert (gap <= allowed).all(), (statistic, (gap / allowed).to_dict())


@pytest.mark.parametrize("prior", PRIORS, ids=PRIOR_IDS)
def test_integrated_expand_matches_the_non_centred_scales(prior):
    """The stored scales (sigma, global_scale, local_scale, slab_scale, local_scale_hyper; R2D2's r2
    and phi) equal the non-centred kernel's (held to the PyMC model's deterministics by
    tests/test_logdensity.py) at the same point, every block placed by its name in each layout; and
    each stored variance d_j is (coef_j / z_j)^2 of the non-centred coefficient at any z."""
    from bayesreg.sampling.kernels import global_local, noncentred

    p = 6
    X, y, factor = _problem(12, p)
    spec, data = linear_inputs(X, y, _with_factor(prior, factor), sigma=None, fit_intercept=True)
    header, _arrays = adapter.pack(spec, data)
    plain = dataclasses.replace(spec, collapsed=False)
    plain_header, _plain_arrays = adapter.pack(plain, data)
    rng = np.random.default_rng(shifted(9))
    blocks = {name: rng.normal(size=size) for name, size in adapter.unconstrained_layout(plain)}
    blocks["intercept_c"] = np.zeros(1)
    theta = np.concatenate([blocks[name] for name, _ in adapter.unconstrained_layout(spec)])
    out = np.empty(sum(int(np.prod(shape)) for _, shape in adapter.expanded_layout(spec)))
    global_local.global_local_expand(theta, out, header)
    reference = np.empty(sum(int(np.prod(shape)) for _, shape in adapter.expanded_layout(plain)))
    noncentred.expand(np.concatenate([blocks[name] for name, _ in adapter.unconstrained_layout(plain)]), reference,
                      plain_header)
    coef = reference[:p]
    assert out.size == reference.size - 1  # mixture_variance (p) for coef and intercept (p + 1)
    np.testing.assert_allclose(out[:-p], reference[p + 1:], rtol=1e-12)  # past coef and intercept
    np.testing.assert_allclose(out[-p:], (coef / blocks["coef_raw"]) ** 2, rtol=1e-12)
