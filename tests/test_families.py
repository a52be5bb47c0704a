"""Every registered family against independent references: its per-row negative log-likelihood
against scipy.stats' log densities, its first and second derivatives (in eta and in the log of each
auxiliary parameter) against central finite differences of that value, and its auxiliary priors
against scipy.stats. Parametrised over the registry, so a new family cannot skip these checks.

Finite differences with step h have error O(h^2) ~ 1e-8 relative here (h = 1e-4 on values of
order one), far inside the 1e-6 tolerance and far outside any plausible sign or factor error.
"""

import numpy as np
import pytest
from scipy import stats

from bayesreg.families import FAMILIES, Exponential, Gamma, HalfT
from seeds import shifted

AUX = {"gaussian": (1.3,), "bernoulli": (), "poisson": (), "negative_binomial": (2.5,), "student_t": (1.4, 3.7)}


def _data(name, rng, n=40):
    eta = rng.normal(0.3, 1.0, n)
    if name in ("poisson", "negative_binomial"):
        return eta, rng.poisson(np.exp(eta) * rng.gamma(2.0, 0.5, n)).astype(float)
    if name == "bernoulli":
        return eta, (rng.random(n) < 0.5).astype(float)
    return eta, eta + 2.0 * rng.standard_t(3, n)  # gaussian / student-t: residuals inside and beyond sqrt(nu) sigma


def _scipy_log_density(name, eta, y, aux):
    if name == "gaussian":
        return stats.norm.logpdf(y, eta, aux[0])
    if name == "bernoulli":
        return stats.bernoulli.logpmf(y, 1 / (1 + np.exp(-eta)))
    if name == "poisson":
        return stats.poisson.logpmf(y, np.exp(eta))
    if name == "negative_binomial":
        phi = aux[0]
        return stats.nbinom.logpmf(y, phi, phi / (phi + np.exp(eta)))  # scipy: n = phi, p = phi / (phi + mu)
    return stats.t.logpdf(y, aux[1], eta, aux[0])


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_value_equals_scipy(name):
    rng = np.random.default_rng(shifted(1))
    eta, y = _data(name, rng)
    family = FAMILIES[name]
    np.testing.assert_allclose(-family.nll_rows(eta, y, AUX[name]), _scipy_log_density(name, eta, y, AUX[name]),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_derivatives_equal_finite_differences(name):
    rng = np.random.default_rng(shifted(2))
    eta, y = _data(name, rng)
    family, aux = FAMILIES[name], np.array(AUX[name])
    h = 1e-4

    def parts(eta_, log_aux):
        d = family.derivatives(eta_, y, tuple(np.exp(log_aux)))
        return d

    u = np.log(aux)
    here = parts(eta, u)
    np.testing.assert_allclose(here.value, family.nll_rows(eta, y, tuple(aux)), rtol=1e-14)
    up, down = parts(eta + h, u), parts(eta - h, u)
    np.testing.assert_allclose(here.d_eta, (up.value - down.value) / (2 * h), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(here.d_eta2, (up.d_eta - down.d_eta) / (2 * h), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(here.d_eta_aux, (up.d_aux - down.d_aux) / (2 * h), rtol=1e-6, atol=1e-8)
    for k in range(aux.size):
        step = np.zeros(aux.size)
        step[k] = h
        up, down = parts(eta, u + step), parts(eta, u - step)
        np.testing.assert_allclose(here.d_aux[k], (up.value - down.value) / (2 * h), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(here.d_aux2[:, k], (up.d_aux - down.d_aux) / (2 * h), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(here.d_eta_aux[k], (up.d_eta - down.d_eta) / (2 * h), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("prior, reference", [
    (Exponential(1.7), stats.expon(scale=1 / 1.7)),
    (Gamma(2.0, 0.1), stats.gamma(2.0, scale=10.0)),
    (HalfT(4.0, 2.5), stats.t(4.0, scale=2.5)),
])
def test_auxiliary_priors_equal_scipy(prior, reference):
    x, h = 1.9, 1e-5
    value, d1, d2 = prior.neg_log_density(x)
    expected = -reference.logpdf(x) - (np.log(2.0) if isinstance(prior, HalfT) else 0.0)  # half-t: twice the t
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    np.testing.assert_allclose(d1, (prior.neg_log_density(x + h)[0] - prior.neg_log_density(x - h)[0]) / (2 * h),
                               rtol=1e-7)
    np.testing.assert_allclose(d2, (prior.neg_log_density(x + h)[1] - prior.neg_log_density(x - h)[1]) / (2 * h),
                               rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["poisson", "negative_binomial"])
@pytest.mark.parametrize("bad", [-1.0, 2.5, np.nan])
def test_counts_are_checked(name, bad):
    with pytest.raises(ValueError, match="counts"):
        FAMILIES[name].check_y(np.array([0.0, 3.0, bad]))


@pytest.mark.parametrize("name", ["poisson", "negative_binomial", "student_t"])
def test_sample_has_the_documented_mean_and_variance(name):
    """``family.sample`` against the moments: mean mu (Poisson, NB) or eta (t), variance mu,
    mu + mu^2 / phi, sigma^2 nu / (nu - 2). 2e5 draws per point; the sample mean's error is
    sd / 450 and the variance's a few times var / 450 (kurtosis): 10 such errors are never reached
    by a correct sampler (t with nu = 6 has finite kurtosis)."""
    family = FAMILIES[name]
    rng = np.random.default_rng(shifted(3))
    eta = np.full(200_000, 1.2)
    aux = {"poisson": (), "negative_binomial": (2.5,), "student_t": (1.5, 6.0)}[name]
    draws = family.sample(eta, aux, rng)
    if name == "student_t":
        mean, var = 1.2, 1.5**2 * 6 / 4
    else:
        mean = np.exp(1.2)
        var = mean + (mean**2 / aux[0] if aux else 0.0)
    assert abs(draws.mean() - mean) < 10 * np.sqrt(var / draws.size)
    assert abs(draws.var() / var - 1) < 10 * 3 / np.sqrt(draws.size)
