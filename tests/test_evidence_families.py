"""Poisson and negative binomial empirical Bayes: the Laplace-approximate evidence against the exact
evidence by quadrature (bayesreg/evidence_glm.py).

The Laplace approximation's error in the log evidence is c/n + O(1/n^2) (Tierney & Kadane 1986).
On nested data (the first n rows of one sample) going from n = 50 to n = 800 divides it by about
16; the tests ask for a factor 4, so they fail if the approximation is wrong by anything that does
not vanish like 1/n (a missing log 2 pi, a dropped log y! or prior constant, the determinant taken
in log phi without its Jacobian). The exact log joint is written independently, from scipy.stats'
Poisson and negative binomial pmfs and the Normal and Exponential(1) densities.
"""

import math

import numpy as np
import pytest
from scipy import integrate, stats

import bayesreg as br
from bayesreg.evidence_glm import family_laplace_log_evidence
from bayesreg.families import NEGATIVE_BINOMIAL, POISSON
from seeds import shifted

T = 1.5


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(shifted(13))
    X = rng.normal(size=(800, 1))
    mu = np.exp(0.4 + 0.6 * X[:, 0])
    # larger counts for the negative binomial: phi is then well determined already at n = 50 (with
    # mean counts ~1.5 the posterior of log phi stays skewed to n ~ 1000s, and the error's 1/n
    # regime starts later: 50 -> 800 divided it by only 2-2.7 over three data seeds, by 17-21 here)
    mu_nb = np.exp(2.5 + 0.6 * X[:, 0])
    return X, rng.poisson(mu).astype(float), rng.poisson(rng.gamma(3.0, mu_nb / 3.0)).astype(float)


def poisson_log_joint(X, y, b, w):
    return (np.sum(stats.poisson.logpmf(y, np.exp(b + X[:, 0] * w))) + stats.norm.logpdf(w, 0.0, T))


def nb_log_joint(X, y, w, phi):
    mu = np.exp(X[:, 0] * w)
    return (np.sum(stats.nbinom.logpmf(y, phi, phi / (phi + mu))) + stats.norm.logpdf(w, 0.0, T)
            + stats.expon.logpdf(phi))


def log_integral(log_f, centre, half):
    """log of the 1-d or 2-d integral of exp(log_f) over a box of half-widths ``half`` around ``centre``
    (boxes of dozens of posterior sds: what lies outside is below double precision)."""
    top = log_f(*centre)
    if len(centre) == 1:
        value, _ = integrate.quad(lambda a: math.exp(log_f(a) - top), centre[0] - half[0], centre[0] + half[0],
                                  epsabs=0, epsrel=1e-11, limit=500)
    else:
        value, _ = integrate.dblquad(lambda a2, a1: math.exp(log_f(a1, a2) - top), centre[0] - half[0],
                                     centre[0] + half[0], centre[1] - half[1], centre[1] + half[1], epsabs=0,
                                     epsrel=1e-10)
    return top + math.log(value)


def test_poisson_laplace_error_shrinks_like_one_over_n(sample):
    X, y, _ = sample
    errors = []
    for n in (50, 800):
        approx, fit = family_laplace_log_evidence(X[:n], y[:n], POISSON, 1.0, T, True)
        half = [40 / math.sqrt(n)] * 2  # posterior sds ~ 1 / sqrt(n mean(mu)) ~ 0.75 / sqrt(n): ~50 sds
        exact = log_integral(lambda b, w: poisson_log_joint(X[:n], y[:n], b, w), (fit.intercept, fit.coef[0]), half)
        errors.append(abs(approx - exact))
    assert errors[1] < errors[0] / 4, errors


def test_negative_binomial_laplace_error_shrinks_like_one_over_n(sample):
    """phi learned (Exponential(1) prior), no intercept: the integral is over (w, phi), the
    Laplace approximation taken in log phi (the density of log phi, Jacobian included)."""
    X, _, y = sample
    errors = []
    for n in (50, 800):
        approx, fit = family_laplace_log_evidence(X[:n], y[:n], NEGATIVE_BINOMIAL, 1.0, T, False)
        phi = fit.aux["phi"]

        def log_f(w, log_phi):  # in log phi, with its Jacobian: the same integral, a rounder integrand
            return nb_log_joint(X[:n], y[:n], w, math.exp(log_phi)) + log_phi

        exact = log_integral(log_f, (fit.coef[0], math.log(phi)), [30 / math.sqrt(n), 60 / math.sqrt(n)])
        errors.append(abs(approx - exact))
    assert errors[1] < errors[0] / 4, errors


@pytest.mark.parametrize("estimator, column", [(br.PoissonRegression, 1), (br.NegativeBinomialRegression, 2)])
def test_empirical_bayes_maximises_the_approximate_evidence(sample, estimator, column):
    X = np.column_stack([sample[0][:200, 0], np.random.default_rng(shifted(2)).normal(size=200)])
    y = sample[column][:200]
    fit = estimator(br.Normal(1.0, autoscale=True)).fit(X, y, method="empirical_bayes")
    base = 1.0 / X.std(axis=0)
    t = fit.prior_.scale[0] / base[0]
    np.testing.assert_allclose(fit.prior_.scale, t * base, rtol=1e-12)
    family = POISSON if column == 1 else NEGATIVE_BINOMIAL
    assert fit.log_evidence_ == pytest.approx(family_laplace_log_evidence(X, y, family, base, t, True)[0], rel=1e-12)
    for factor in (0.98, 1.02):
        assert family_laplace_log_evidence(X, y, family, base, t * factor, True)[0] < fit.log_evidence_
    centre = family_laplace_log_evidence(X, y, family, base, t, True)[1]  # the Laplace approximation's centre
    np.testing.assert_allclose(fit.coef_, centre.coef, rtol=1e-12)
    if family is POISSON:  # no auxiliary parameter: the centre is the MAP at the chosen scale
        again = estimator(fit.prior_).fit(X, y, method="map")
        np.testing.assert_allclose(fit.coef_, again.coef_, rtol=1e-9)
    else:
        assert fit.phi_ == pytest.approx(centre.aux["phi"], rel=1e-12)
    assert fit.idata_ is None and fit.method_ == "empirical_bayes"


def test_poisson_laplace_evidence_takes_the_offset(sample):
    """An exposure offset (log exposure between log 0.5 and log 4) enters the evidence: the Laplace
    value against quadrature of the joint with the offset in the rate, its error shrinking like 1/n
    as without one (dropping the offset changes the evidence by O(n), far beyond either)."""
    X, _, _ = sample
    rng = np.random.default_rng(shifted(31))
    offset = np.log(rng.uniform(0.5, 4.0, size=X.shape[0]))
    y = rng.poisson(np.exp(offset + 0.4 + 0.6 * X[:, 0])).astype(float)
    errors = []
    for n in (50, 800):
        approx, fit = family_laplace_log_evidence(X[:n], y[:n], POISSON, 1.0, T, True, offset=offset[:n])

        def log_f(b, w):
            rate = np.exp(offset[:n] + b + X[:n, 0] * w)
            return np.sum(stats.poisson.logpmf(y[:n], rate)) + stats.norm.logpdf(w, 0.0, T)

        exact = log_integral(log_f, (fit.intercept, fit.coef[0]), [40 / math.sqrt(n)] * 2)
        errors.append(abs(approx - exact))
    assert errors[1] < errors[0] / 4 and errors[1] < 1e-3, errors


@pytest.mark.parametrize("estimator", [br.PoissonRegression, br.NegativeBinomialRegression])
def test_empirical_bayes_with_weights_and_offset_is_the_repeated_rows(sample, estimator):
    """Integer weights are repeated rows for empirical Bayes too (the evidence is of the same data):
    the chosen scale, the log evidence and the centre equal those of the rows repeated, with the
    offset repeated alongside (to the bounded Brent search's 1e-10 in log t)."""
    X = sample[0][:120]
    rng = np.random.default_rng(shifted(32))
    offset = np.log(rng.uniform(0.5, 2.0, size=120))
    y = rng.poisson(np.exp(offset + 1.0 + 0.5 * X[:, 0])).astype(float)
    weights = rng.integers(0, 4, size=120)
    repeated = np.repeat(np.arange(120), weights)
    weighted = estimator(br.Normal(1.0)).fit(X, y, method="empirical_bayes", offset=offset, sample_weight=weights)
    copies = estimator(br.Normal(1.0)).fit(X[repeated], y[repeated], method="empirical_bayes",
                                           offset=offset[repeated])
    assert weighted.log_evidence_ == pytest.approx(copies.log_evidence_, rel=1e-8)
    np.testing.assert_allclose(weighted.prior_.scale, copies.prior_.scale, rtol=1e-6)
    np.testing.assert_allclose(weighted.coef_, copies.coef_, rtol=1e-5)
