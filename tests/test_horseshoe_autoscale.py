"""Horseshoes autoscale by default: their scales are stated in standardized units (issue 20).

References: the resolved prior in closed form (``factor_j = 1 / sd(x_j)``, the slab and a given
global scale times ``sd(y)``); the SBC generator (scipy, written from the docs) for the claim
that coefficient ``j`` is ``sd(y) / sd(x_j)`` times a draw of the standardized prior; and the
compiled density's exact equivariance: the same model in any units of ``X`` and ``y``.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesreg as br
from bayesreg.calibration import draw_coefficients
from bayesreg.model.spec import linear_inputs, logistic_inputs
from bayesreg.sampling import nutpie as adapter
from bayesreg.sampling.kernels import noncentred
from seeds import shifted

DATA = Path(__file__).parent / "data"


def _data(seed=0, n=60, p=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * [1.0, 30.0, 0.01, 5.0] + [0.0, 100.0, -3.0, 1.0]
    y = 50.0 + X @ [2.0, 0.0, 300.0, 0.0] + 4.0 * rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("prior", [br.Horseshoe(), br.Horseshoe(0.5), br.RegularizedHorseshoe(2, 1.5, 4)],
                         ids=["Horseshoe", "Horseshoe-scale", "RegularizedHorseshoe"])
@pytest.mark.parametrize("family", ["gaussian", "bernoulli"])
def test_the_resolved_prior_in_closed_form(prior, family):
    X, y = _data()
    sd_x, sd_y = X.std(axis=0), y.std()
    unit = sd_y if family == "gaussian" else 1.0
    resolved = br.resolve_prior(prior, X, y, family)
    assert prior.autoscale and not resolved.autoscale
    np.testing.assert_allclose(resolved.factor, 1.0 / sd_x, rtol=1e-12)
    if isinstance(prior, br.RegularizedHorseshoe):
        assert resolved.slab_scale == pytest.approx(prior.slab_scale * unit, rel=1e-12)
    elif prior.scale is not None:
        assert resolved.scale == pytest.approx(prior.scale * unit, rel=1e-12)
    else:
        assert resolved.scale is None  # tau_0 = sigma (linear) or 1 (logistic): no conversion needed
    assert br.resolve_prior(dataclasses.replace(prior, autoscale=False), X, y, family) == dataclasses.replace(
        prior, autoscale=False)


@pytest.mark.parametrize("prior", [br.Horseshoe(), br.Horseshoe(0.5), br.RegularizedHorseshoe(2, 1.5, 4)],
                         ids=["Horseshoe", "Horseshoe-scale", "RegularizedHorseshoe"])
def test_a_coefficient_is_the_standardized_prior_times_sd_y_over_sd_x(prior):
    """The documented meaning, drawn by the SBC's scipy generator: the resolved prior with noise sd
    sigma gives, from the same random numbers, exactly ``sd(y) / sd(x_j)`` times the standardized
    prior (``autoscale=False``) with noise sd ``sigma / sd(y)``: tau, the slab and the local scales
    are scale families, so equal up to rounding."""
    X, y = _data(1)
    sd_x, sd_y, sigma, n = X.std(axis=0), y.std(), 3.0, len(y)
    resolved = br.resolve_prior(prior, X, y, "gaussian")
    standardized = dataclasses.replace(prior, autoscale=False)
    for seed in range(5):
        raw = draw_coefficients(resolved, X.shape[1], sigma, np.random.default_rng(seed), n=n)
        unit = draw_coefficients(standardized, X.shape[1], sigma / sd_y, np.random.default_rng(seed), n=n)
        np.testing.assert_allclose(raw, sd_y / sd_x * unit, rtol=1e-10)


def _position(spec, name):
    start = 0
    for block, size in adapter.unconstrained_layout(spec):
        if block == name:
            return start
        start += size
    raise KeyError(name)


@pytest.mark.parametrize("prior", [br.Horseshoe(), br.RegularizedHorseshoe(2, 1.5, 4)],
                         ids=["Horseshoe", "RegularizedHorseshoe"])
@pytest.mark.parametrize("family", ["gaussian", "bernoulli"])
def test_the_compiled_model_is_the_same_in_any_units(prior, family):
    """Columns multiplied by ``d`` and (linear) ``y`` by ``k``: at the corresponding point (the
    centred intercept and sigma times ``k``, every other coordinate the same), each coefficient is
    ``k / d_j`` times the one in the original units, and the log density differs by the constant
    ``-n log k`` (the Gaussian likelihood's Jacobian; sigma's half-t prior has scale sd(y), so its
    density on log sigma is unchanged; logistic: no change at all). Without autoscale the
    coefficients would keep their prior scale, and neither would hold. Exact up to rounding."""
    X, y = _data(2)
    d, k = np.array([10.0, 0.001, 1e4, 3.0]), (1e3 if family == "gaussian" else 1.0)
    if family == "bernoulli":
        y = (y > np.median(y)).astype(float)
    values, coefs = [], []
    for X_units, y_units in ((X, y), (X * d, y * k)):
        resolved = br.resolve_prior(prior, X_units, y_units, family)
        if family == "gaussian":
            spec, data = linear_inputs(X_units, y_units, resolved, sigma=None, fit_intercept=True)
            # the non-centred density (the one with the coefficients in it); the integrated one
            # (kernels/global_local.py) reads the same resolved factors and scales
            spec = dataclasses.replace(spec, collapsed=False)
        else:
            spec, data = logistic_inputs(X_units, y_units, resolved, fit_intercept=True)
        header, arrays = adapter.pack(spec, data)
        rng = np.random.default_rng(shifted(7))
        rows = []
        for _ in range(5):
            theta = rng.normal(size=sum(size for _, size in adapter.unconstrained_layout(spec))) * 0.5
            if y_units is not y:  # the corresponding point in the new units
                theta[_position(spec, "intercept_c")] *= k
                if family == "gaussian":
                    theta[_position(spec, "sigma_log__")] += np.log(k)
            rows.append(theta)
        rng = np.random.default_rng(shifted(7))
        out = np.empty(sum(int(np.prod(shape)) for _, shape in adapter.expanded_layout(spec)))
        point_values, point_coefs = [], []
        for theta in rows:
            point_values.append(adapter.log_density(header, theta)[0])
            noncentred.expand(theta, out, header)
            point_coefs.append(out[:X.shape[1]].copy())  # coef comes first in the expanded layout
        values.append(np.array(point_values))
        coefs.append(np.array(point_coefs))
    assert [name for name, _ in adapter.expanded_layout(spec)][0] == "coef"
    np.testing.assert_allclose(coefs[1], coefs[0] * k / d, rtol=1e-9)
    np.testing.assert_allclose(values[1] - values[0], -len(y) * np.log(k), rtol=1e-9, atol=1e-8)


def test_longley_year_is_not_shrunk_to_nothing():
    """The case a new user met: Longley (NIST StRD, tests/data/README.md), columns in raw units
    (YEAR 1947-1962, GNP in the hundreds of thousands), ``RegularizedHorseshoe(expected_nonzero=2)``.
    Least squares gives YEAR 1829; with the slab in raw units (the old behaviour, autoscale=False)
    the posterior was -0.003 +- 1.5, that is, no room for any effect per year. Autoscaled, the slab
    is 2 sd(y) per sd of YEAR: about 800 +- 470 in two seeds. The bounds below are far from both
    (posterior sd above 50, mean above 0 by 3 posterior sds of the old fit), so any seed passes
    where the old prior fails all."""
    frame = pd.read_csv(DATA / "longley.csv", index_col=0)
    X, y = frame.drop(columns="TOTEMP"), frame["TOTEMP"]
    settings = dict(draws=500, tune=500, chains=2, random_seed=shifted(3), progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", br.sampling.SamplingWarning)  # 1000 draws, collinear: ESS may be low
        fit = br.LinearRegression(br.RegularizedHorseshoe(expected_nonzero=2)).fit(X, y, **settings)
    year = fit.summary().loc["YEAR"]
    assert year["sd"] > 50 and year["mean"] > 4.5
    np.testing.assert_allclose(fit.prior_.factor, 1.0 / X.std(axis=0, ddof=0).to_numpy(), rtol=1e-12)
