"""Paths with no other independent check: prior densities by numerical integration, logistic NUTS
against quadrature and against the Bernstein-von Mises limit.

Tolerances from Monte Carlo error: a posterior mean is within 4 MCSE with probability 1 - 6e-5 if
the sampler is right; a posterior sd estimated from ESS effective draws of a roughly normal
posterior has MCSE ~ sd / sqrt(2 ESS) (the sd of a sample sd), and 4 of those is the sd tolerance.
"""

import math
import warnings

import numpy as np
import pymc as pm
import pytest
from scipy import integrate, special, stats

import bayesreg as br
from bayesreg.model.pymc import build_logistic_model
from bayesreg.sampling import SamplingWarning
from seeds import shifted


@pytest.mark.parametrize("laplace_scale,normal_scale", [(0.5, 1.3), (1.0, 1.0), (0.01, 50.0), (100.0, 0.02)])
def test_elastic_net_normaliser_is_the_integral_of_its_kernel(laplace_scale, normal_scale):
    """Z = int exp(-|w|/b - w^2/(2 s^2)) dw by quadrature, not by the erfcx formula under test
    (the erfcx form must hold where exp(s^2/(2 b^2)) alone would overflow: s/b = 5000)."""
    prior = br.ElasticNet(laplace_scale, normal_scale)
    width = min(50 * laplace_scale, 50 * normal_scale)
    half, _ = integrate.quad(lambda w: math.exp(-w / laplace_scale - w**2 / (2 * normal_scale**2)), 0, width,
                             epsabs=0, epsrel=1e-13, limit=200)
    assert prior.log_normalizer() == pytest.approx(math.log(2 * half), abs=1e-10)
    # and the density the MAP and NUTS use is that kernel over that constant
    w = np.array([0.3 * normal_scale, -2 * laplace_scale])
    kernel = np.abs(w).sum() / laplace_scale + (w**2).sum() / (2 * normal_scale**2)
    assert prior.neg_log_density(w) == pytest.approx(kernel + 2 * math.log(2 * half), rel=1e-10)


def regularized_horseshoe_cdf(w: float, tau: float, c: float) -> float:
    r"""P(coef <= w | tau, c) = int_0^inf Phi(w / (tau lt(l))) 2 / (pi (1 + l^2)) dl with
    lt(l) = c l / sqrt(c^2 + tau^2 l^2) (Piironen & Vehtari 2017, eq. 2.8), by adaptive quadrature
    in u = arctan(l), where the half-Cauchy density times dl/du is the constant 2 / pi."""
    def integrand(u):
        scale = tau * c * math.tan(u) / math.sqrt(c**2 + tau**2 * math.tan(u) ** 2)
        return stats.norm.cdf(w / scale) if scale > 0 else float(w > 0) + 0.5 * (w == 0)

    return integrate.quad(integrand, 0, math.pi / 2, epsabs=1e-12, limit=200)[0] * 2 / math.pi


def regularized_horseshoe_cdf_many(w, tau: float, c: float, nodes: int = 800) -> np.ndarray:
    """The same integral for many ``w`` at once: Gauss-Legendre in ``u`` (checked against quad)."""
    u, weight = np.polynomial.legendre.leggauss(nodes)
    u, weight = (u + 1) * math.pi / 4, weight * math.pi / 4
    lam = np.tan(u)
    scale = tau * c * lam / np.sqrt(c**2 + tau**2 * lam**2)
    return special.ndtr(np.asarray(w)[:, None] / scale) @ weight * 2 / math.pi


def test_regularized_horseshoe_hierarchy_matches_its_marginal_given_tau_and_c():
    """The PyMC model's coefficients, with the global scale and slab fixed (pm.do), against the
    marginal CDF by quadrature of the hierarchy as the docs write it. 5 x 4000 independent draws;
    Kolmogorov-Smirnov rejects a correct model with probability 1e-3, and detects a 10% error in c."""
    rng = np.random.default_rng(shifted(0))
    X = rng.normal(size=(40, 5))
    prior = br.RegularizedHorseshoe(expected_nonzero=2, slab_scale=1.5, slab_df=4, autoscale=False)
    model = build_logistic_model(X, (X[:, 0] > 0).astype(float), prior, fit_intercept=False,
                                 feature_names=list("abcde"))
    fixed = pm.do(model, {"global_scale_raw": 10.0, "slab_sq_raw": 0.7})  # tau ~ 2 c: slab and spike both matter
    coef, tau, c = pm.draw([fixed["coef"], fixed["global_scale"], fixed["slab_scale"]], draws=4000, random_seed=shifted(1))
    tau, c = float(tau[0]), float(c[0])
    assert c == pytest.approx(1.5 * math.sqrt(0.7), rel=1e-12)  # c^2 = s^2 x the Inv-Gamma(nu/2, nu/2) draw
    probe = np.array([-3.0, -0.4, -0.01, -1e-4, 0.05, 1.0])
    np.testing.assert_allclose(regularized_horseshoe_cdf_many(probe, tau, c),
                               [regularized_horseshoe_cdf(w, tau, c) for w in probe], atol=1e-7)  # KS D ~ 1e-2
    samples = coef.ravel()
    assert stats.kstest(samples, lambda w: regularized_horseshoe_cdf_many(w, tau, c)).pvalue > 1e-3
    wrong = stats.kstest(samples, lambda w: regularized_horseshoe_cdf_many(w, tau, 1.1 * c)).pvalue
    assert wrong < 1e-3  # the test can fail


def nuts(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        return est.fit(X, y, progressbar=False, **kwargs)


def within_mcse(table, names, mean, sd):
    """|mean - reference| <= 4 MCSE and |sd - reference| <= 4 sd / sqrt(2 ESS) for each name."""
    rows = table.loc[names]
    mean_error = np.abs(rows["mean"].to_numpy() - mean) / rows["mcse_mean"].to_numpy()
    sd_mcse = rows["sd"].to_numpy() / np.sqrt(2 * rows["ess_bulk"].to_numpy())
    sd_error = np.abs(rows["sd"].to_numpy() - sd) / sd_mcse
    assert np.all(mean_error <= 4), f"means off by {mean_error} MCSE"
    assert np.all(sd_error <= 4), f"sds off by {sd_error} MCSE"


@pytest.mark.slow
@pytest.mark.parametrize("prior", [br.Laplace(0.5), br.Normal(0.7)], ids=["Laplace", "Normal"])
def test_logistic_one_coefficient_against_quadrature(prior):
    """p = 1, no intercept: the posterior of w is likelihood x prior on a line; its mean and sd by
    quadrature (relative error ~1e-10) are exact references for NUTS."""
    rng = np.random.default_rng(shifted(8))
    x = rng.normal(size=(60, 1))
    y = (rng.random(60) < special.expit(0.8 * x[:, 0])).astype(int)
    fit = nuts(br.LogisticRegression(prior, fit_intercept=False), x, y, draws=2000, tune=1000, chains=4,
               random_seed=shifted(2))
    mode = fit.map_.coef[0]

    def log_post(w):
        eta = w * x[:, 0]
        return float(np.sum(y * eta - np.logaddexp(0.0, eta))) - prior.neg_log_density([w])

    peak = log_post(mode)
    moments = [integrate.quad(lambda w: w**k * math.exp(log_post(w) - peak), mode - 8, mode + 8,
                              points=[0.0] if -8 < mode < 8 else None, epsabs=0, epsrel=1e-12, limit=200)[0]
               for k in range(3)]
    mean = moments[1] / moments[0]
    sd = math.sqrt(moments[2] / moments[0] - mean**2)
    within_mcse(fit.summary(), ["x0"], mean, sd)


@pytest.mark.slow
def test_logistic_large_n_is_the_gaussian_at_the_map_plus_its_bias():
    r"""n = 20000, p = 3, no intercept (Bernstein-von Mises): the posterior approaches N(MAP, H^-1)
    with H the Hessian of the negative log posterior at the MAP. Its sd differs from sqrt(diag H^-1)
    by O(1/n) (relative 5e-5 here, far below the MCSE ~ 1%). Its mean differs from the MAP by
    O(1/n): the Laplace-expansion correction (e.g. Tierney & Kadane 1986)

        E[w_i] - MAP_i = -1/2 sum_jkl Hinv_ij T_jkl Hinv_kl + O(n^-2),
        T_jkl = sum_r mu_r (1 - mu_r)(1 - 2 mu_r) x_rj x_rk x_rl   (third derivative of -log post),

    which is computed here and added, so the remaining error is O(n^-2) (~1e-8 sd) plus MCSE.
    """
    rng = np.random.default_rng(shifted(21))
    n, p = 20_000, 3
    X = rng.normal(size=(n, p))
    y = (rng.random(n) < special.expit(X @ [1.0, -0.5, 0.25])).astype(int)
    prior = br.Normal(1.0)
    fit = nuts(br.LogisticRegression(prior, fit_intercept=False), X, y, draws=1000, tune=1000, chains=4,
               random_seed=shifted(4))
    mode = fit.map_.coef
    mu = special.expit(X @ mode)
    weight = mu * (1 - mu)
    H = X.T @ (X * weight[:, None]) + prior.l2 * np.eye(p)
    Hinv = np.linalg.inv(H)
    T = np.einsum("r,rj,rk,rl->jkl", weight * (1 - 2 * mu), X, X, X)
    bias = -0.5 * Hinv @ np.einsum("jkl,kl->j", T, Hinv)
    within_mcse(fit.summary(), fit.feature_names_, mode + bias, np.sqrt(np.diag(Hinv)))


@pytest.mark.slow
@pytest.mark.parametrize("prior", [br.Horseshoe(autoscale=False), br.Horseshoe(0.3, autoscale=False),
                                   br.RegularizedHorseshoe(2, 1.5, 4, autoscale=False)],
                         ids=["Horseshoe-sigma", "Horseshoe-0.3", "RegularizedHorseshoe"])
def test_sbc_generator_and_pymc_model_draw_the_same_prior(prior):
    """calibration.draw_coefficients follows the docs with scipy; the PyMC model is built separately.
    Two-sample Kolmogorov-Smirnov on the first coefficient of 4000 independent draws from each
    (a correct pair fails with probability 1e-3); tau0 = sigma / sqrt(n) p0 / (p - p0) included."""
    from bayesreg.calibration import draw_coefficients
    from bayesreg.model.pymc import build_linear_model

    rng = np.random.default_rng(shifted(5))
    n, p, sigma = 40, 5, 1.7
    X = rng.normal(size=(n, p))
    model = build_linear_model(X, rng.normal(size=n), prior, sigma=sigma, fit_intercept=False,
                               feature_names=list("abcde"))
    from_model = pm.draw(model["coef"], draws=4000, random_seed=shifted(3))[:, 0]
    from_docs = np.array([draw_coefficients(prior, p, sigma, rng, n=n)[0] for _ in range(4000)])
    assert stats.ks_2samp(from_model, from_docs).pvalue > 1e-3
