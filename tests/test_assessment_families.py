"""LOO, Bayesian R^2 and shrinkage for the count and robust families (issues 21 and 23 together).

References: scipy.stats' log densities (Poisson, negative binomial, Student-t) evaluated draw by
draw; Gelman et al.'s R^2 written out per draw with NumPy; ArviZ's ``loo`` on the stored
pointwise log-likelihood. The stand-in posteriors are random draws, not fits: every check here is
deterministic (exact to rounding), so no tolerance rests on Monte Carlo error.
"""

import warnings

import arviz_stats as azs
import numpy as np
import pytest
import xarray as xr
from scipy import stats

import bayesreg as br
from bayesreg.assessment import bayes_r2_draws
from bayesreg.assessment.loo import log_likelihood_blocks
from seeds import shifted

pytestmark = pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning")
CHAINS, DRAWS, N, P = 2, 30, 40, 3


def _stand_in(rng, aux: dict) -> xr.DataTree:
    shape = (CHAINS, DRAWS)
    posterior = {"coef": (("chain", "draw", "feature"), rng.normal(0, 0.3, (*shape, P))),
                 "intercept": (("chain", "draw"), rng.normal(0.5, 0.1, shape))}
    posterior.update({name: (("chain", "draw"), value(shape)) for name, value in aux.items()})
    return xr.DataTree.from_dict({"posterior": xr.Dataset(posterior)})


def _draws(tree, name):
    return tree["posterior"][name].to_numpy().reshape(CHAINS * DRAWS, *tree["posterior"][name].shape[2:])


CASES = {
    "poisson": ({}, lambda mu, a, y: stats.poisson.logpmf(y, mu)),
    "negative_binomial": ({"phi": lambda s: np.exp(np.random.default_rng(1).normal(0, 0.5, s))},  # seed fixed: any phi
                          lambda mu, a, y: stats.nbinom.logpmf(y, a["phi"], a["phi"] / (a["phi"] + mu))),
    "student_t": ({"sigma": lambda s: np.exp(np.random.default_rng(2).normal(0, 0.3, s)),  # seed fixed: any sigma
                   "nu": lambda s: np.exp(np.random.default_rng(3).normal(1.5, 0.5, s))},  # seed fixed: any nu
                  lambda mu, a, y: stats.t.logpdf(y, a["nu"], loc=mu, scale=a["sigma"])),
}


@pytest.mark.parametrize("family", CASES)
def test_pointwise_log_likelihood_is_the_family_density_with_its_offset(family):
    """Each block row equals scipy's log density at that draw's mean (offset included), to 1e-10
    relative; a wrong normalising constant (e.g. a missing log y!) would break comparisons of families."""
    rng = np.random.default_rng(shifted(211))
    aux, reference = CASES[family]
    tree = _stand_in(rng, aux)
    X, offset = rng.normal(size=(N, P)), np.log(rng.uniform(0.5, 2.0, N))
    y = rng.poisson(2.0, N).astype(float) if family != "student_t" else rng.normal(size=N)
    eta = _draws(tree, "coef") @ X.T + _draws(tree, "intercept")[:, None] + offset
    mu = np.exp(eta) if family != "student_t" else eta
    expected = reference(mu, {name: _draws(tree, name)[:, None] for name in aux}, y)
    got = np.concatenate([values.reshape(CHAINS * DRAWS, -1) for _, values in
                          log_likelihood_blocks(tree, X, y, family, True, offset=offset, budget=8 * 200)], axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("family", CASES)
def test_bayes_r2_is_gelmans_formula_with_the_family_variance(family):
    """Per draw: Var_i(mu) / (Var_i(mu) + mean_i of the family's variance), written out directly
    (Poisson mu, NB mu + mu^2 / phi, Student-t sigma^2 nu / (nu - 2), 0 where nu <= 2)."""
    rng = np.random.default_rng(shifted(212))
    aux, _ = CASES[family]
    tree = _stand_in(rng, aux)
    X, offset = rng.normal(size=(N, P)), np.log(rng.uniform(0.5, 2.0, N))
    eta = _draws(tree, "coef") @ X.T + _draws(tree, "intercept")[:, None] + offset
    mu = np.exp(eta) if family != "student_t" else eta
    if family == "poisson":
        residual = mu.mean(axis=1)
    elif family == "negative_binomial":
        residual = (mu + mu**2 / _draws(tree, "phi")[:, None]).mean(axis=1)
    else:
        nu, sigma = _draws(tree, "nu"), _draws(tree, "sigma")
        residual = np.where(nu > 2, sigma**2 * nu / np.where(nu > 2, nu - 2, 1.0), np.inf)
    variance = mu.var(axis=1, ddof=1)
    got = bayes_r2_draws(tree, X, family, True, offset=offset, budget=8 * 200)
    np.testing.assert_allclose(got, variance / (variance + residual), rtol=1e-10)


def test_count_fit_loo_uses_its_offset_and_the_stored_log_likelihood_agrees():
    """A small Poisson NUTS fit with an exposure offset: ``loo(X, y, offset=...)`` (row blocks)
    equals ``loo()`` on the log-likelihood stored at fit and ArviZ's ``loo`` of it to 1e-10; leaving
    the offset out changes the answer (so it is used). ``compare`` ranks a Poisson against a
    negative binomial fit; ``select`` refuses the offsets it cannot project yet."""
    rng = np.random.default_rng(shifted(213))
    X = rng.normal(size=(120, 2))
    offset = np.log(rng.uniform(0.5, 3.0, 120))
    y = rng.poisson(np.exp(offset + 0.3 + X @ [0.5, 0.0]))
    settings = dict(draws=200, tune=300, chains=2, random_seed=shifted(4), progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        poisson = br.PoissonRegression().fit(X, y, offset=offset, **settings)
        nb = br.NegativeBinomialRegression(phi=5.0).fit(X, y, offset=offset, **settings)
        from_rows = poisson.loo(X, y, offset=offset)
        stored = poisson.loo()
        without = poisson.loo(X, y)
    reference = azs.loo(poisson.idata_)
    np.testing.assert_allclose(from_rows.elpd_i, stored.elpd_i, rtol=1e-10)
    np.testing.assert_allclose(float(stored.elpd), float(reference.elpd), rtol=1e-10)
    assert abs(float(without.elpd) - float(from_rows.elpd)) > 1.0
    table = br.compare({"poisson": poisson, "nb": nb})
    assert set(table.index) == {"poisson", "nb"}
    assert np.isfinite(nb.bayes_r2(X, offset=offset)).all()
    assert np.isfinite(nb.shrinkage().m_eff).all()
    with pytest.raises(ValueError, match="offset is that of the training rows"):
        poisson.loo(offset=offset)
    with pytest.raises(ValueError, match="cannot project a fit with an offset"):
        br.select(poisson, X, y)  # Poisson projects, but not yet with the offset in each submodel
    with pytest.raises(ValueError, match="cannot project a fit with an offset"):
        br.select(nb, X, y)  # the NB (dispersion included) is projected, but not yet with the offset
