"""``LinearRegression(sigma_prior=...)``: the prior on the noise sd, in the MAP, every sampler and the
PyMC model.

References: the exact stationarity conditions of the joint (b, w, sigma) MAP (gradient of the
negative log posterior written out here with scipy's prior densities; 1e-10 relative), the three
MAP solvers against each other, scipy's log densities of the prior (every kernel's density changes
by exactly log p_new(sigma) - log p_default(sigma), rtol 1e-10) and the PyMC reference model
(tests/test_logdensity.py style, rtol 1e-8). Deterministic but for the last NUTS test.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import bayesreg as br
from bayesreg.data import array_statistics
from bayesreg.families import Exponential, Gamma, HalfT
from bayesreg.model import linear_inputs, sigma_prior_data
from bayesreg.model.spec import conjugate_inputs
from bayesreg.sampling import nutpie as adapter
from bayesreg.solvers import fit_glm_map, fit_linear_group_map, fit_linear_map, fit_linear_map_from_statistics
from seeds import shifted

SIGMA_PRIORS = [Gamma(3.0, 2.0), Gamma(0.7, 0.5), Exponential(1.5), HalfT(2.0, 0.4)]


def _log_prior(prior, x):
    if isinstance(prior, Gamma):
        return stats.gamma.logpdf(x, prior.shape, scale=1 / prior.rate)
    if isinstance(prior, Exponential):
        return stats.expon.logpdf(x, scale=1 / prior.rate)
    return np.log(2.0) + stats.t.logpdf(x, prior.nu, scale=prior.scale)


def _data(seed, n=40, p=4):
    rng = np.random.default_rng(shifted(seed))
    X = rng.normal(size=(n, p)) * [1.0, 30.0, 0.2, 2.0] + [5.0, -2.0, 0.0, 100.0]
    y = 3.0 + X @ [0.5, 0.01, -0.3, 0.1] + 2.0 * rng.normal(size=n)
    return rng, X, y


@pytest.mark.parametrize("sigma_prior", SIGMA_PRIORS, ids=repr)
def test_map_is_stationary_and_the_solvers_agree(sigma_prior):
    """Normal(s) prior: d/d(b, w, sigma) of sum (y - b - Xw)^2 / (2 sigma^2) + n log sigma
    + sum w^2 / (2 s^2) - log p(sigma) is 0 at the MAP, relative to the terms' size, to 1e-10; the
    in-memory, sufficient-statistics and general (GLM) solvers give the same mode to 1e-8."""
    rng, X, y = _data(1)
    scale = np.array([1.0, 0.05, 2.0, 0.5])
    est = br.LinearRegression(br.Normal(scale), sigma_prior=sigma_prior, method="map").fit(X, y)
    w, b, s = est.coef_, est.intercept_, est.sigma_
    r = y - b - X @ w
    terms_w = np.abs(X.T @ r) / s**2 + np.abs(w) / scale**2
    grad_w = -X.T @ r / s**2 + w / scale**2
    h = 1e-6 * s
    d_prior = (_log_prior(sigma_prior, s + h) - _log_prior(sigma_prior, s - h)) / (2 * h)  # smooth: O(h^2)
    grad_s = len(y) / s - r @ r / s**3 - d_prior
    assert np.all(np.abs(grad_w) <= 1e-10 * terms_w.max()), grad_w
    assert abs(r.sum()) / s**2 <= 1e-10 * np.abs(r).sum() / s**2
    assert abs(grad_s) <= 1e-7 * (len(y) / s)  # the finite difference's error, ~h^2, dominates
    d_prior_exact = -sigma_prior.neg_log_density(s)[1]  # the same equation with the exact derivative
    assert abs(len(y) / s - r @ r / s**3 - d_prior_exact) <= 1e-10 * len(y) / s
    prior = br.Normal(scale)
    for other in (fit_linear_map_from_statistics(array_statistics(X, y), prior, None, True, sigma_prior),
                  fit_glm_map(X, y, br.families.GAUSSIAN, prior, True, sample_weight=np.ones(len(y)),
                              aux_priors={"sigma": sigma_prior})):
        np.testing.assert_allclose(other.coef, w, rtol=1e-8)
        np.testing.assert_allclose(getattr(other, "sigma", None) or other.aux["sigma"], s, rtol=1e-8)
    group = fit_linear_group_map(X, y, br.GroupLaplace(1.0, groups=[0, 0, 1, 1]), None, True, sigma_prior)
    rg = y - group.intercept - X @ group.coef
    d_group = -sigma_prior.neg_log_density(group.sigma)[1]
    assert abs(len(y) / group.sigma - rg @ rg / group.sigma**3 - d_group) <= 1e-9 * len(y) / group.sigma


PRIORS = [br.Normal(1.0), br.Normal(br.HalfCauchy(1.0)), br.Laplace(br.HalfCauchy(1.0)), br.BayesianLasso(),
          br.Horseshoe(), br.RegularizedHorseshoe(2, 1.0, 4), br.HorseshoePlus(), br.R2D2(0.3, 3.0)]


@pytest.mark.parametrize("sigma_prior", SIGMA_PRIORS[::2] + SIGMA_PRIORS[3:], ids=repr)
@pytest.mark.parametrize("collapsed", [True, False], ids=["integrated", "noncentred"])
@pytest.mark.parametrize("prior", PRIORS, ids=lambda p: type(p).__name__ + ("-learned" if getattr(p, "learned", False) else ""))
def test_every_kernel_reads_the_sigma_prior(prior, collapsed, sigma_prior):
    """At random points the density under ``sigma_prior`` minus the default's is exactly
    log p(sigma) - log Half-t_4(sigma; sd(y)) (scipy), and only the log-sigma coordinate of the
    gradient moves, by that difference's derivative: every kernel that samples sigma (non-centred;
    spectral, mixture, global-local where the coefficients are integrated out)."""
    import dataclasses

    rng, X, y = _data(2, n=30)
    spec, data = linear_inputs(X, y, prior, sigma=None, fit_intercept=True)
    if not collapsed:
        spec = dataclasses.replace(spec, collapsed=False)
    elif not spec.collapsed and isinstance(prior, br.Normal) and not prior.learned:
        spec, data = conjugate_inputs(spec, data)  # NUTS on log sigma alone, as for p >= 30 (tests/test_conjugate.py)
    elif not spec.collapsed:
        pytest.skip("no integrated sampler for this prior")
    header, _keep = adapter.pack(spec, data)
    header_new, _keep_new = adapter.pack(spec, {**data, **sigma_prior_data(sigma_prior)})
    layout = adapter.unconstrained_layout(spec)
    at = [name for name, _ in layout].index("sigma_log__")
    default = HalfT(4.0, float(data["sigma_prior_scale"]))
    for _ in range(3):
        theta = rng.normal(scale=0.5, size=sum(size for _, size in layout))
        value, grad = adapter.log_density(header, theta)
        value_new, grad_new = adapter.log_density(header_new, theta)
        sigma = np.exp(theta[at])
        expected = _log_prior(sigma_prior, sigma) - _log_prior(default, sigma)
        np.testing.assert_allclose(value_new - value, expected, rtol=1e-10, atol=1e-10 * abs(value))
        moved = grad_new - grad
        d_expected = sigma * (-sigma_prior.neg_log_density(sigma)[1] + default.neg_log_density(sigma)[1])
        np.testing.assert_allclose(moved[at], d_expected, rtol=1e-9, atol=1e-9 * np.abs(grad).max())
        np.testing.assert_allclose(np.delete(moved, at), 0.0, atol=1e-12 * np.abs(grad).max())


@pytest.mark.parametrize("sigma_prior", SIGMA_PRIORS[::2] + SIGMA_PRIORS[3:], ids=repr)
def test_compiled_density_with_sigma_prior_matches_pymc(sigma_prior):
    """The PyMC reference model under ``sigma_prior`` (PyMC's Gamma / Exponential / HalfStudentT),
    value and gradient, rtol 1e-8; with a Laplace prior and an offset and weights."""
    from bayesreg.model import build_model, weighted_linear_inputs

    rng, X, y = _data(3, n=30)
    spec, data = weighted_linear_inputs(X, y, br.Laplace(0.7), sigma=None, fit_intercept=True,
                                        offset=rng.normal(size=30), sample_weight=rng.uniform(0.2, 2.0, 30))
    data.update(sigma_prior_data(sigma_prior))
    model = build_model(spec, data, [f"x{j}" for j in range(4)])
    logp, dlogp = model.compile_logp(mode="FAST_COMPILE"), model.compile_dlogp(mode="FAST_COMPILE")
    layout = adapter.unconstrained_layout(spec)
    assert [v.name for v in model.value_vars] == [name for name, _ in layout]
    header, _keep = adapter.pack(spec, data)
    for _ in range(3):
        theta = rng.normal(scale=0.5, size=sum(size for _, size in layout))
        point, start = {}, 0
        for name, size in layout:
            point[name] = theta[start:start + size].reshape(model.initial_point()[name].shape)
            start += size
        value, grad = adapter.log_density(header, theta)
        np.testing.assert_allclose(value, logp(point), rtol=1e-8)
        np.testing.assert_allclose(grad, dlogp(point), rtol=1e-8, atol=1e-8 * np.abs(dlogp(point)).max())


@pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning")
def test_sigma_prior_reaches_nuts_and_survives_save(tmp_path):
    """A Gamma(400, 80) prior (mean 5, sd 0.25) against data whose noise sd is 2: the posterior of
    sigma sits between, far above the default fit's (whose mean is within ~0.3 of 2); 4 is more than
    10 posterior sds from either, so a correct sampler cannot fail this but by a broken prior.
    The estimator saves and loads with its sigma_prior."""
    rng, X, y = _data(4, n=40)
    settings = dict(draws=300, tune=300, chains=2, progressbar=False)
    strong = br.LinearRegression(br.Normal(1.0), sigma_prior=Gamma(400.0, 80.0)).fit(X, y, random_seed=shifted(5),
                                                                                      **settings)
    default = br.LinearRegression(br.Normal(1.0)).fit(X, y, random_seed=shifted(6), **settings)
    assert default.sigma_ < 3.0 < strong.sigma_
    strong.save(tmp_path / "fit.zip")
    back = br.load(tmp_path / "fit.zip")
    assert back.sigma_prior == Gamma(400.0, 80.0)
    np.testing.assert_array_equal(back.idata_["posterior"]["sigma"], strong.idata_["posterior"]["sigma"])


@pytest.mark.parametrize("params, method, error, match", [
    ({"sigma_prior": 2.0}, "map", TypeError, "sigma_prior must be a prior from bayesreg.families"),
    ({"sigma_prior": HalfT(3.0, 1.0), "sigma": 1.0}, "map", ValueError, "sigma=1.0 is fixed"),
    ({"sigma_prior": HalfT(3.0, 1.0)}, "empirical_bayes", ValueError, "sigma_prior would not be used"),
])
def test_bad_sigma_prior_keeps_previous_fit(params, method, error, match):
    rng, X, y = _data(7)
    est = br.LinearRegression(method="map").fit(X, y)
    before = est.coef_.copy()
    est.set_params(**params)
    with pytest.raises(error, match=match):
        est.fit(X, y, method=method)
    np.testing.assert_array_equal(est.coef_, before)
