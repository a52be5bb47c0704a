"""A learned Normal scale per group, ``br.Normal(br.HalfCauchy(s), groups=...)``: the hierarchical
ridge of a factor's dummies. Its compiled density against the PyMC model is in
tests/test_logdensity.py (the ``-groups`` cases); here the exact reduction to the learned Normal, the
estimator's handling (formula terms, no MAP, stored scales, save/load) and the SBC."""

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesreg as br
from bayesreg.calibration import draw_coefficients, sbc_ranks, uniformity_pvalues
from bayesreg.model.spec import linear_inputs, logistic_inputs
from bayesreg.sampling import SamplingWarning
from bayesreg.sampling import nutpie as adapter
from seeds import shifted


@pytest.mark.parametrize("family", ["gaussian", "bernoulli"])
def test_one_group_of_all_columns_is_the_learned_normal(family):
    """One group holding every column is the learned Normal (one global tau), term for term: the
    same unconstrained layout and the same log density and gradient at any point (to rounding; the
    spectral sampler of a learned Normal in linear regression is compared with the non-centred
    density it integrates, as tests/test_logdensity.py does)."""
    rng = np.random.default_rng(shifted(31))
    X = rng.normal(size=(15, 3)) * [1.0, 2.0, 0.5]
    factor = np.array([1.0, 0.3, 2.0])
    grouped = br.Normal(br.HalfCauchy(0.7), factor=factor, groups=["g", "g", "g"])
    single = br.Normal(br.HalfCauchy(0.7), factor=factor)
    if family == "gaussian":
        y = X @ [0.5, -1.0, 0.2] + rng.normal(size=15)
        inputs = [linear_inputs(X, y, prior, sigma=None, fit_intercept=True) for prior in (grouped, single)]
    else:
        y = (rng.random(15) < 0.5).astype(float)
        inputs = [logistic_inputs(X, y, prior, fit_intercept=True) for prior in (grouped, single)]
    (spec_g, data_g), (spec_s, data_s) = inputs
    assert spec_g.scale_groups == ("g",) and not spec_g.collapsed
    spec_s = spec_s.__class__(**{**spec_s.__dict__, "collapsed": False})
    assert adapter.unconstrained_layout(spec_g) == adapter.unconstrained_layout(spec_s)
    header_g, _keep_g = adapter.pack(spec_g, data_g)
    header_s, _keep_s = adapter.pack(spec_s, data_s)
    for _ in range(4):
        theta = rng.normal(scale=0.8, size=int(header_g[7]))
        value_g, grad_g = adapter.log_density(header_g, theta)
        value_s, grad_s = adapter.log_density(header_s, theta)
        np.testing.assert_allclose(value_g, value_s, rtol=1e-12)
        np.testing.assert_allclose(grad_g, grad_s, rtol=1e-12, atol=1e-12 * np.abs(grad_s).max())


def test_groups_of_one_column_draw_independent_scales():
    """Groups of one column each: ``w_j ~ N(0, tau_j^2)`` with ``tau_j ~ H`` independently (the
    horseshoe's local scales with its global scale fixed at 1). The generator's coefficients are
    then independent: the magnitudes |w_1| and |w_2| are uncorrelated only with separate scales (with one shared
    HalfCauchy tau their log-magnitudes correlate strongly, rho ~ 0.6). 1500 draws: the sd of a
    correlation estimate near 0 is 1/sqrt(1500) = 0.026, so |rho| < 0.13 is a 5-sd bound."""
    rng = np.random.default_rng(shifted(32))
    separate = br.Normal(br.HalfCauchy(1.0), groups=["a", "b"])
    draws = np.array([draw_coefficients(separate, 2, 1.0, rng) for _ in range(1500)])
    rho = np.corrcoef(np.log(np.abs(draws)).T)[0, 1]
    assert abs(rho) < 0.13, rho
    shared = np.array([draw_coefficients(br.Normal(br.HalfCauchy(1.0)), 2, 1.0, rng) for _ in range(1500)])
    assert np.corrcoef(np.log(np.abs(shared)).T)[0, 1] > 0.3


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(shifted(33))
    n = 60
    df = pd.DataFrame({"x1": rng.normal(size=n), "region": rng.choice(["north", "south", "west"], n),
                       "arm": rng.choice(["a", "b"], n)})
    df["y"] = 1.0 + df.x1 + df.region.map({"north": 0.0, "south": 1.5, "west": -1.0}) + rng.normal(size=n)
    return df


def test_scales_per_formula_term_fit_store_and_load(tmp_path, frame):
    """``groups="terms"``: one scale per term, stored as ``prior_scale`` with dim ``group`` named by
    the terms; no MAP (as for any learned scale); save/load keeps the draws and the groups."""
    prior = br.Normal(br.HalfCauchy(1.0), groups="terms")
    est = br.LinearRegression(prior, formula="y ~ x1 + C(region) + C(arm)")
    with pytest.raises(br.NoMAPError, match="learned prior scale has no joint MAP"):
        est.fit(frame, method="map")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # 100 draws: ESS warnings are expected
        est.fit(frame, draws=100, tune=100, chains=1, random_seed=shifted(5), progressbar=False)
    scales = est.idata_["posterior"]["prior_scale"]
    assert scales.dims == ("chain", "draw", "group")
    assert list(scales["group"].to_numpy()) == ["x1", "C(region)", "C(arm)"]
    assert list(est.prior_.groups) == ["x1", "C(region)", "C(region)", "C(arm)"]
    table = est.term_summary()
    assert list(table.index) == ["x1", "C(region)", "C(arm)"]
    np.testing.assert_allclose(table["scale_mean"], scales.mean(dim=("chain", "draw")).to_numpy(), rtol=1e-12)
    est.save(tmp_path / "fit.zip")
    loaded = br.load(tmp_path / "fit.zip")
    np.testing.assert_array_equal(loaded.idata_["posterior"]["prior_scale"].to_numpy(), scales.to_numpy())
    assert loaded.prior == prior and list(loaded.prior_.groups) == list(est.prior_.groups)
    np.testing.assert_array_equal(loaded.predict(frame.iloc[:5]), est.predict(frame.iloc[:5]))


def test_bad_groups_are_errors_that_say_what_to_do(frame):
    with pytest.raises(TypeError, match="learned scale"):
        br.Normal(1.0, groups="terms")
    with pytest.raises(ValueError, match="'terms'"):
        br.Normal(br.HalfCauchy(1.0), groups="factors")
    X = frame[["x1"]].assign(x2=frame.x1**2)
    with pytest.raises(ValueError, match="no formula"):
        br.LinearRegression(br.Normal(br.HalfCauchy(1.0), groups="terms")).fit(X, frame.y)
    with pytest.raises(ValueError, match="one entry per feature|entries"):
        br.LinearRegression(br.Normal(br.HalfCauchy(1.0), groups=["a", "b", "c"])).fit(
            X, frame.y, draws=10, tune=10, chains=1, progressbar=False)


@pytest.mark.slow
def test_simulation_based_calibration_group_scales():
    """SBC of the non-centred group-scale kernel against its generator (tau_g ~ C+(0, 1) per group,
    then w_j ~ N(0, tau_g(j)^2), bayesreg.calibration): a group of 2 and one of 1, two rows for
    three coefficients so that the prior shapes the posterior. A correct sampler fails with
    probability < 1e-3 (chi-square per coefficient at 1e-3 / 3, Bonferroni). Power at 60
    replications, measured once with the generator broken: coefficients 2x or 4x too large passed
    (min p 0.07, 0.15: a half-Cauchy scale hides a constant factor), 10x gave p = 1e-3 (still above
    the threshold), one tau shared by both groups p = 0.018. Gross errors only; the exact check of
    the kernel is the PyMC cross-check (tests/test_logdensity.py) and the reduction above."""
    prior = br.Normal(br.HalfCauchy(1.0), groups=["a", "a", "b"])
    ranks, n_values = sbc_ranks(prior, n=2, p=3, replications=60, seed=shifted(7))
    pvalues = uniformity_pvalues(ranks, n_values)
    assert pvalues.min() > 1e-3 / len(pvalues), pvalues


# -- the group horseshoe (Xu et al. 2016): one local scale per group -----------------------------
@pytest.mark.parametrize("family", ["gaussian", "bernoulli"])
def test_group_horseshoe_with_groups_of_one_column_is_the_horseshoe(family):
    """Groups of one column each are the horseshoe, term for term: the same unconstrained layout and
    the same log density and gradient at any point (tau0 = sigma in linear regression, sampled:
    the chain into log sigma is compared too; the horseshoe's non-centred density, as
    tests/test_logdensity.py compares it)."""
    rng = np.random.default_rng(shifted(34))
    X = rng.normal(size=(15, 3)) * [1.0, 2.0, 0.5]
    factor = np.array([1.0, 0.3, 2.0])
    priors = (br.Horseshoe(factor=factor, groups=["a", "b", "c"]), br.Horseshoe(factor=factor))
    if family == "gaussian":
        y = X @ [0.5, -1.0, 0.2] + rng.normal(size=15)
        inputs = [linear_inputs(X, y, prior, sigma=None, fit_intercept=True) for prior in priors]
    else:
        y = (rng.random(15) < 0.5).astype(float)
        inputs = [logistic_inputs(X, y, prior, fit_intercept=True) for prior in priors]
    (spec_g, data_g), (spec_h, data_h) = inputs
    assert spec_g.scale_groups == ("a", "b", "c") and not spec_g.collapsed
    spec_h = spec_h.__class__(**{**spec_h.__dict__, "collapsed": False})
    data_h = {k: v for k, v in data_h.items() if not k.startswith("mixture")}
    assert adapter.unconstrained_layout(spec_g) == adapter.unconstrained_layout(spec_h)
    header_g, _keep_g = adapter.pack(spec_g, data_g)
    header_h, _keep_h = adapter.pack(spec_h, data_h)
    for _ in range(4):
        theta = rng.normal(scale=0.8, size=int(header_g[7]))
        value_g, grad_g = adapter.log_density(header_g, theta)
        value_h, grad_h = adapter.log_density(header_h, theta)
        np.testing.assert_allclose(value_g, value_h, rtol=1e-12)
        np.testing.assert_allclose(grad_g, grad_h, rtol=1e-12, atol=1e-12 * np.abs(grad_h).max())


def test_group_horseshoe_per_formula_term(frame):
    """``Horseshoe(groups="terms")``: one local scale per term, stored with dim ``group``; the
    horseshoe+ takes no groups."""
    est = br.LinearRegression(br.Horseshoe(groups="terms"), formula="y ~ x1 + C(region) + C(arm)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # 100 draws: ESS warnings are expected
        est.fit(frame, draws=100, tune=100, chains=1, random_seed=shifted(6), progressbar=False)
    local = est.idata_["posterior"]["local_scale"]
    assert local.dims == ("chain", "draw", "group")
    assert list(local["group"].to_numpy()) == ["x1", "C(region)", "C(arm)"]
    assert est.idata_["posterior"]["global_scale"].dims == ("chain", "draw")
    np.testing.assert_allclose(est.term_summary()["scale_mean"], local.mean(dim=("chain", "draw")).to_numpy(),
                               rtol=1e-12)
    with pytest.raises(TypeError, match="takes no groups"):
        br.HorseshoePlus(groups="terms")


@pytest.mark.slow
def test_simulation_based_calibration_group_horseshoe():
    """SBC of the group horseshoe's kernel against its generator (tau ~ C+(0, 1), one lambda_g ~
    C+(0, 1) per group, w_j ~ N(0, (tau lambda_g(j))^2)): a group of 2 and one of 1, n = 20 rows
    (as the horseshoe's own SBC in tests/test_sbc.py), 2 x 200 draws. A correct sampler fails with
    probability < 1e-3 (Bonferroni over 3 coefficients). Gross errors only at 60 replications."""
    prior = br.Horseshoe(1.0, autoscale=False, groups=["a", "a", "b"])
    ranks, n_values = sbc_ranks(prior, n=20, p=3, replications=60, seed=shifted(8), draws=200, tune=200)
    pvalues = uniformity_pvalues(ranks, n_values)
    assert pvalues.min() > 1e-3 / len(pvalues), pvalues
