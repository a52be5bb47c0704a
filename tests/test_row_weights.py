"""Offsets and row weights in the posterior of LinearRegression and LogisticRegression (NUTS), and of
the count and robust families' model data (bayesreg/model/row_weights.py, model/glm_spec.py).

References, all deterministic (no statistical tolerance but in the last two tests):
- integer weights are repeated rows: the compiled density and gradient of the weighted model equal
  those of the unweighted model of the repeated rows (another code path: the plain statistics or
  the plain Bernoulli kernel) at random points, rtol 1e-10, for the non-centred kernel and for
  every sampler that integrates the coefficients out (spectral, scale mixture, global-local);
- the Gaussian density from the weighted statistics equals the row-by-row sum of
  ``s_i log N(y_i - offset_i | b + x_i'w, sigma)`` plus scipy's prior densities.
The PyMC cross-check with offsets and weights is in tests/test_logdensity.py.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone

import bayesreg as br
from bayesreg.families import HalfT
from bayesreg.model import linear_inputs, logistic_inputs, weighted_linear_inputs, weighted_logistic_inputs
from bayesreg.model.glm_spec import glm_inputs
from bayesreg.sampling import nutpie as adapter
from seeds import shifted

RTOL = 1e-10
PRIORS = [br.Normal(np.array([0.5, 1.0, 2.0, 3.0])), br.Laplace(0.7), br.RegularizedHorseshoe(2, 1.5, 3),
          br.Horseshoe(), br.Normal(br.HalfCauchy(0.8)), br.Laplace(br.HalfStudentT(3.0, 1.2)),
          br.BayesianLasso(1.5, 0.7), br.R2D2(0.3, 3.0)]


def _ids(prior):
    return type(prior).__name__ + ("-learned" if getattr(prior, "learned", False) else "")


def _rows(seed, n, p=4):
    rng = np.random.default_rng(shifted(seed))
    X = rng.normal(size=(n, p)) * [1.0, 3.0, 0.2, 2.0] + [5.0, -2.0, 0.0, 10.0]
    weights = rng.integers(0, 4, n).astype(float)
    weights[:2] = [1.0, 2.0]
    return rng, X, weights, np.repeat(np.arange(n), weights.astype(int)), rng.normal(0, 0.3, n)


def _same_density(first, second, rng):
    (spec1, data1), (spec2, data2) = first, second
    assert spec1 == spec2
    header1, _keep1 = adapter.pack(spec1, data1)
    header2, _keep2 = adapter.pack(spec2, data2)
    dim = sum(size for _, size in adapter.unconstrained_layout(spec1))
    for _ in range(3):
        theta = rng.normal(scale=0.5, size=dim)
        value1, grad1 = adapter.log_density(header1, theta)
        value2, grad2 = adapter.log_density(header2, theta)
        np.testing.assert_allclose(value1, value2, rtol=RTOL)
        np.testing.assert_allclose(grad1, grad2, rtol=RTOL, atol=RTOL * np.abs(grad2).max())


@pytest.mark.parametrize("n", [30, 3], ids=["n>p", "n<p"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("prior", PRIORS, ids=_ids)
def test_gaussian_integer_weights_are_repeated_rows(prior, fit_intercept, n):
    """Weighted statistics (with an offset) against the repeated rows' plain statistics of ``y - offset``
    (the default sigma prior: both from the weighted sd of y, as the MAP's). Covers the collapsed,
    mixture and global-local samplers wherever ``linear_inputs`` chooses them, and ``n < p``."""
    rng, X, weights, rows, offset = _rows(1, n)
    y = 1.0 + X @ [0.5, 0.0, -0.3, 0.1] + rng.normal(size=n)
    weighted = weighted_linear_inputs(X, y, prior, sigma=None, fit_intercept=fit_intercept, offset=offset,
                                      sample_weight=weights)
    spec, data = linear_inputs(X[rows], y[rows] - offset[rows], prior, sigma=None, fit_intercept=fit_intercept)
    data["sigma_prior_scale"] = weighted[1]["sigma_prior_scale"]
    _same_density(weighted, (spec, data), rng)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("prior", [p for p in PRIORS if not isinstance(p, br.BayesianLasso)], ids=_ids)
def test_bernoulli_integer_weights_are_repeated_rows(prior, fit_intercept):
    """Weights alone against the plain Bernoulli model of the repeated rows; weights and an offset
    against the repeated rows with the offset."""
    rng, X, weights, rows, offset = _rows(2, 30)
    y01 = (rng.random(30) < 0.4).astype(float)
    y01[:2] = [0.0, 1.0]
    _same_density(weighted_logistic_inputs(X, y01, prior, fit_intercept=fit_intercept, sample_weight=weights),
                  logistic_inputs(X[rows], y01[rows], prior, fit_intercept=fit_intercept), rng)
    _same_density(weighted_logistic_inputs(X, y01, prior, fit_intercept=fit_intercept, offset=offset,
                                           sample_weight=weights),
                  weighted_logistic_inputs(X[rows], y01[rows], prior, fit_intercept=fit_intercept,
                                           offset=offset[rows]), rng)


@pytest.mark.parametrize("family", ["poisson", "negative_binomial", "student_t"])
@pytest.mark.parametrize("prior", [br.Normal(1.0), br.RegularizedHorseshoe(2, 1.5, 3)], ids=_ids)
def test_family_integer_weights_are_repeated_rows(family, prior):
    """The regularized horseshoe's ``tau0`` reads ``n`` and the centred intercept ``xbar``: both weighted."""
    rng, X, weights, rows, offset = _rows(3, 30)
    eta = 0.5 + (X - X.mean(0)) @ [0.2, -0.1, 0.5, 0.01]
    y = rng.poisson(np.exp(eta)).astype(float) if family != "student_t" else eta + rng.standard_t(3, 30)
    _same_density(glm_inputs(X, y, prior, family, fit_intercept=True, offset=offset, sample_weight=weights),
                  glm_inputs(X[rows], y[rows], prior, family, fit_intercept=True, offset=offset[rows]), rng)


@pytest.mark.parametrize("sigma", [None, 1.3])
def test_gaussian_weighted_density_is_the_row_sum(sigma):
    """Non-integer weights: kernel value = sum_i s_i log N(y_i - o_i | b + x_i'w, sigma) + log N(w | 0, s)
    (+ log Half-t_4(sigma | sd_s(y)) + log sigma, the Jacobian of log sigma), at random points."""
    rng, X, _, _, offset = _rows(4, 25)
    weights = rng.uniform(0.0, 3.0, 25)
    y = 1.0 + X @ [0.5, 0.0, -0.3, 0.1] + rng.normal(size=25)
    scales = np.array([0.5, 1.0, 2.0, 3.0])
    spec, data = weighted_linear_inputs(X, y, br.Normal(scales), sigma=sigma, fit_intercept=True, offset=offset,
                                        sample_weight=weights)
    # with sigma known the fit draws exactly (tests/test_conjugate.py); the non-centred kernel is held here
    header, _keep = adapter.pack(dataclasses.replace(spec, collapsed=False), data)
    mean = weights @ y / weights.sum()
    sd_y = np.sqrt(weights @ (y - mean) ** 2 / weights.sum())
    for _ in range(3):
        b_c, log_sigma, coef = rng.normal(), rng.normal(scale=0.3), rng.normal(size=4)
        theta = np.r_[b_c, [log_sigma] * (sigma is None), coef]
        s = sigma or np.exp(log_sigma)
        b = b_c - data["x_mean"] @ coef
        expected = (weights @ stats.norm.logpdf(y - offset, b + X @ coef, s) + stats.norm.logpdf(coef, 0, scales).sum())
        if sigma is None:
            expected += np.log(2 * stats.t.pdf(s / sd_y, 4) / sd_y) + log_sigma
        np.testing.assert_allclose(adapter.log_density(header, theta)[0], expected, rtol=RTOL)
        np.testing.assert_allclose(data["x_mean"], weights @ X / weights.sum(), rtol=1e-12)


def test_linear_nuts_with_offset_and_weights_is_the_closed_form_posterior():
    """Known sigma and a Normal prior: the posterior of (b, w) is Gaussian with mean = the MAP (the
    weighted ridge with a flat intercept, from the general MAP solver). Each posterior mean is within
    5 Monte Carlo standard errors (ArviZ's mcse_mean) of it: a correct sampler fails with probability
    < 5 x 6e-7 (normal tails, 5 quantities). The fit keeps observed y and no log-likelihood."""
    rng, X, _, _, offset = _rows(5, 60)
    weights = rng.uniform(0.2, 3.0, 60)
    y = 1.0 + offset + X @ [0.5, 0.0, -0.3, 0.1] + rng.normal(size=60)
    est = br.LinearRegression(br.Normal(1.0), sigma=1.0).fit(X, y, offset=offset, sample_weight=weights, draws=500,
                                                            tune=400, chains=2, random_seed=shifted(6),
                                                            progressbar=False)
    table = est.summary(round_to="none")
    np.testing.assert_allclose(table["map"], np.r_[est.map_.coef, est.map_.intercept], rtol=1e-12)
    assert np.all(np.abs(table["mean"] - table["map"]) < 5 * table["mcse_mean"]), table
    assert "log_likelihood" not in est.idata_.children and "observed_data" in est.idata_.children
    with pytest.raises(ValueError, match="not available with offset or sample_weight"):
        est.fit(X, y, offset=offset, log_likelihood=True)


def test_logistic_nuts_with_offset_and_weights_equals_repeated_rows():
    """Integer weights and an offset against the repeated rows: the same posterior, so each posterior
    mean agrees within 5 combined Monte Carlo standard errors; false alarm < 5 x 6e-7."""
    rng, X, weights, rows, offset = _rows(7, 40)
    y01 = (rng.random(40) < 1 / (1 + np.exp(-(offset + X[:, 0] - 5.0)))).astype(float)
    y01[:2] = [0.0, 1.0]
    settings = dict(draws=500, tune=400, chains=2, progressbar=False)
    est = br.LogisticRegression(br.Normal(1.0))
    weighted = est.fit(X, y01, offset=offset, sample_weight=weights, random_seed=shifted(8),
                       **settings).summary(round_to="none")
    repeated = br.LogisticRegression(br.Normal(1.0)).fit(X[rows], y01[rows], offset=offset[rows],
                                                         random_seed=shifted(9), **settings).summary(round_to="none")
    np.testing.assert_allclose(weighted["map"], repeated["map"], rtol=1e-8)
    error = np.sqrt(weighted["mcse_mean"] ** 2 + repeated["mcse_mean"] ** 2)
    assert np.all(np.abs(weighted["mean"] - repeated["mean"]) < 5 * error), (weighted, repeated)


@pytest.mark.parametrize("prior", [br.Normal(br.HalfCauchy(1.0)), br.Laplace(br.HalfCauchy(1.0))],
                         ids=["spectral", "mixture"])
def test_integrated_samplers_with_weights_equal_repeated_rows(prior):
    """The samplers that integrate the coefficients out and draw them afterwards from their exact
    conditional (bayesreg/sampling/conditional.py, from the weighted statistics): integer weights
    and an offset against the repeated rows, each posterior mean (coef, intercept, sigma, the scale)
    within 5 combined Monte Carlo standard errors; false alarm < 7 x 6e-7."""
    rng, X, weights, rows, offset = _rows(11, 40)
    y = 1.0 + offset + X @ [0.5, 0.0, -0.3, 0.1] + rng.normal(size=40)
    settings = dict(draws=500, tune=400, chains=2, progressbar=False)
    # the repeated rows through the plain path: y - offset, and the same stated sigma prior (the default's
    # scale would be the sd of y - offset there)
    est = br.LinearRegression(prior, sigma_prior=HalfT(4.0, 1.5))
    weighted = clone(est).fit(X, y, offset=offset, sample_weight=weights, random_seed=shifted(12), **settings)
    repeated = clone(est).fit(X[rows], y[rows] - offset[rows], random_seed=shifted(13), **settings)
    first, second = weighted.summary(round_to="none"), repeated.summary(round_to="none")
    assert "prior_scale" in first.index and list(first.index) == list(second.index)
    error = np.sqrt(first["mcse_mean"] ** 2 + second["mcse_mean"] ** 2)
    assert np.all(np.abs(first["mean"] - second["mean"]) < 5 * error), (first, second)
