"""The dispersion projections of issue 23 (bayesreg/assessment/projection_nb.py, projection_student_t.py):
negative binomial (coefficients and phi) and Student-t (coefficients and sigma, nu kept).

Independent references: scipy.stats' log densities summed over the NB support, and for the
Student-t the inverse-CDF variable with a tanh-sinh rule (another variable and another rule than
the projection's sinh-sinh one) or adaptive ``scipy.integrate.quad``; the minimum found by
scipy's Nelder-Mead on those expected negative log-likelihoods; closed forms
(``E log(1 + T^2 / nu) = psi((nu + 1) / 2) - psi(nu / 2)``); a model projected onto its own columns.
Every check is deterministic (no Monte Carlo): the tolerances are the references' own accuracy.
"""

import warnings

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from bayesreg.assessment.projection_nb import EPSILON, nb_survival_table, project_nb
from bayesreg.assessment.projection_student_t import project_student_t, t_nodes
from seeds import shifted

N, S = 25, 3


def _design(generator, n=N, columns=2):
    X = generator.normal(size=(n, 3))
    return X, np.column_stack([np.ones(n), X[:, :columns]])


def _nb_reference(generator, X):
    """Means that are no NB model on the submodel's columns (a third column and row noise), and phi."""
    eta = 0.6 + X @ (generator.normal(size=(3, S)) * 0.4) + 0.3 * generator.normal(size=(N, S))
    return np.exp(eta).T, np.exp(generator.normal(0.3, 0.5, S))


def _nb_expected_nll(params, Z, mean, phi):
    """``-sum_i E log NB(y | e^{z_i'b}, phi')`` by direct summation of scipy's pmf and log pmf over
    ``y = 0 .. Y`` with ``Y`` far past where every row's tail is below 1e-16."""
    b, dispersion = params[:-1], np.exp(params[-1])
    top = int(stats.nbinom.isf(1e-16, phi, phi / (phi + mean.max()))) + 50
    y = np.arange(top + 1.0)[:, None]
    weights = stats.nbinom.pmf(y, phi, phi / (phi + mean))
    mu = np.exp(Z @ b)
    return -np.sum(weights * stats.nbinom.logpmf(y, dispersion, dispersion / (dispersion + mu)))


def test_nb_projection_equals_brute_force_minimisation():
    """(b, log phi') per draw equal Nelder-Mead's minimum of the expected NLL written with scipy's NB
    (simplex tolerance 1e-10, objective tolerance 1e-13 on values ~ 1e2 whose curvature is O(n)):
    agreement to 1e-6 is the brute force's own accuracy."""
    generator = np.random.default_rng(shifted(2401))
    X, Z = _design(generator)
    mean, phi = _nb_reference(generator, X)
    B, projected = project_nb(Z, mean, phi)
    for s in range(S):
        start = np.r_[B[s] + 0.05, np.log(projected[s]) - 0.1]
        found = optimize.minimize(_nb_expected_nll, start, args=(Z, mean[s], phi[s]), method="Nelder-Mead",
                                  options=dict(xatol=1e-10, fatol=1e-13, maxiter=40000, maxfev=40000))
        np.testing.assert_allclose(np.r_[B[s], np.log(projected[s])], found.x, atol=1e-6)
        assert _nb_expected_nll(np.r_[B[s], np.log(projected[s])], Z, mean[s], phi[s]) <= found.fun + 1e-9


def test_nb_projection_solves_its_score_equations():
    """At the projection: ``Z'[phi'(mu - m) / (phi' + mu)] = 0`` and the dispersion's score
    ``sum_i E d/dphi' log NB(y | mu_i, phi') = 0``, the expectation by summing scipy's pmf times the
    digamma form of the score over the support (not the projection's survival table). Both to 1e-9
    relative to the size of their terms (Newton's last step is rounding)."""
    generator = np.random.default_rng(shifted(2402))
    X, Z = _design(generator)
    mean, phi = _nb_reference(generator, X)
    B, projected = project_nb(Z, mean, phi)
    for s in range(S):
        mu, f = np.exp(Z @ B[s]), projected[s]
        score = Z.T @ (f * (mu - mean[s]) / (f + mu))
        assert np.max(np.abs(score)) < 1e-9 * np.sum(mean[s])
        top = int(stats.nbinom.isf(1e-16, phi[s], phi[s] / (phi[s] + mean[s].max()))) + 50
        y = np.arange(top + 1.0)[:, None]
        weights = stats.nbinom.pmf(y, phi[s], phi[s] / (phi[s] + mean[s]))
        terms = special.digamma(y + f) - special.digamma(f) + np.log(f / (f + mu)) + (mu - y) / (f + mu)
        assert abs(np.sum(weights * terms)) < 1e-9 * np.sum(weights * np.abs(terms))


def test_nb_model_projected_onto_its_own_columns_returns_itself():
    """Means ``exp(Z b_s)`` with dispersion ``phi_s`` are their own projection (the divergence is 0
    there and nowhere else): ``b_s`` and ``phi_s`` come back to 1e-7 (Newton on a strictly convex
    neighbourhood, tolerance 1e-11; phi's curvature is weak, ~ n / phi^2 E psi_1, hence 1e-7)."""
    generator = np.random.default_rng(shifted(2403))
    _, Z = _design(generator)
    coef = np.column_stack([generator.normal(0.5, 0.2, S), generator.normal(0, 0.4, (S, 2))])
    phi = np.exp(generator.normal(0.5, 0.5, S))
    B, projected = project_nb(Z, np.exp(coef @ Z.T), phi)
    np.testing.assert_allclose(B, coef, atol=1e-7)
    np.testing.assert_allclose(projected, phi, rtol=1e-7)


def test_nb_survival_table_is_scipys_survival_summed_over_rows():
    """``G_s(j) = sum_i P(y_si > j)``, to 1e-12 absolute (scipy's ``sf`` through the incomplete beta
    function; the table by the pmf summed from the top down), and it reaches past every row's
    ``EPSILON`` tail (its last column is below ``n EPSILON``)."""
    generator = np.random.default_rng(shifted(2404))
    X, _ = _design(generator)
    mean, phi = _nb_reference(generator, X)
    table = nb_survival_table(mean, phi)
    j = np.arange(table.shape[1])
    expected = stats.nbinom.sf(j[None, None, :], phi[:, None, None], (phi[:, None] / (phi[:, None] + mean))[..., None])
    np.testing.assert_allclose(table, expected.sum(axis=1), atol=1e-12)
    assert np.all(table[:, -1] < N * EPSILON)


def _t_reference(generator, X):
    mu = (1.0 + X @ (generator.normal(size=(3, S)) * 0.6)).T
    return mu, np.exp(generator.normal(0, 0.3, S)), np.array([2.5, 4.0, 9.0])


def _t_expected_nll(params, Z, mu, sigma, nu):
    """``-sum_i E log t_nu(y | z_i'b, sigma')`` by scipy's log density at the reference's quantiles:
    ``y = mu + sigma F^{-1}(u)``, ``u`` by tanh-sinh on (0, 1) with step 1/16 on ``|t| <= 3`` (``u``
    from 2e-14 up; the tails beyond carry < 1e-12 of this expectation for ``nu >= 2``)."""
    t = np.arange(-3, 3 + 1 / 32, 1 / 16)
    u = (1 + np.tanh(np.pi / 2 * np.sinh(t))) / 2
    weights = np.pi / 4 * np.cosh(t) / np.cosh(np.pi / 2 * np.sinh(t)) ** 2 / 16
    y = mu[:, None] + sigma * stats.t.ppf(u, nu)
    b, scale = params[:-1], np.exp(params[-1])
    return -np.sum(stats.t.logpdf(y, nu, loc=(Z @ b)[:, None], scale=scale) @ weights)


def test_student_t_projection_equals_brute_force_minimisation():
    """(b, log sigma') per draw equal Nelder-Mead's minimum of the expected NLL by the inverse-CDF
    tanh-sinh rule (:func:`_t_expected_nll`), to 1e-6 (the simplex's tolerance 1e-10 and both
    quadratures' errors, below 1e-9 for these rows with ``|d| <~ 3 sqrt(c)``)."""
    generator = np.random.default_rng(shifted(2405))
    X, Z = _design(generator)
    mu, sigma, nu = _t_reference(generator, X)
    B, projected = project_student_t(Z, mu, sigma, nu)
    for s in range(S):
        start = np.r_[B[s] + 0.05, np.log(projected[s]) - 0.1]
        found = optimize.minimize(_t_expected_nll, start, args=(Z, mu[s], sigma[s], nu[s]), method="Nelder-Mead",
                                  options=dict(xatol=1e-10, fatol=1e-13, maxiter=40000, maxfev=40000))
        np.testing.assert_allclose(np.r_[B[s], np.log(projected[s])], found.x, atol=1e-6)


def test_student_t_projection_solves_its_score_equations_by_quad():
    """At the projection, the score ``sum_i z_i E[(nu+1) x / (c + x^2)] = 0`` and
    ``n - (nu+1) sum_i E[x^2 / (c + x^2)] = 0``, the expectations by adaptive ``quad`` (split at the
    reference's mean; tolerance 1e-12): to 1e-8, the quad's accuracy summed over rows."""
    generator = np.random.default_rng(shifted(2406))
    X, Z = _design(generator, n=12)
    mu, sigma, nu = _t_reference(generator, X)
    B, projected = project_student_t(Z, mu, sigma, nu)
    for s in range(S):
        c = nu[s] * projected[s] ** 2
        eta = Z @ B[s]
        location, square = np.zeros(len(eta)), np.zeros(len(eta))
        for i in range(len(eta)):
            density = stats.t(nu[s], loc=mu[s, i], scale=sigma[s]).pdf
            for out, g in ((location, lambda y: (y - eta[i]) / (c + (y - eta[i]) ** 2)),
                           (square, lambda y: (y - eta[i]) ** 2 / (c + (y - eta[i]) ** 2))):
                out[i] = sum(integrate.quad(lambda y: density(y) * g(y), a, b, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
                             for a, b in ((-np.inf, mu[s, i]), (mu[s, i], np.inf)))
        np.testing.assert_allclose(Z.T @ ((nu[s] + 1) * location), 0.0, atol=1e-8)
        assert abs(len(eta) - (nu[s] + 1) * square.sum()) < 1e-8


def test_student_t_model_projected_onto_its_own_columns_returns_itself():
    """Locations ``Z b_s`` with scale ``sigma_s`` (and ``nu_s``) are their own projection: ``b_s`` and
    ``sigma_s`` to 1e-9 (at ``d = 0`` the rule is exact to rounding: the closed-form check below)."""
    generator = np.random.default_rng(shifted(2407))
    _, Z = _design(generator)
    coef = generator.normal(size=(S, 3))
    sigma, nu = np.exp(generator.normal(0, 0.3, S)), np.array([1.0, 3.0, 20.0])
    B, projected = project_student_t(Z, coef @ Z.T, sigma, nu)
    np.testing.assert_allclose(B, coef, atol=1e-9)
    np.testing.assert_allclose(projected, sigma, rtol=1e-9)


@pytest.mark.parametrize("nu", [0.5, 1.0, 3.0, 30.0])
def test_t_rule_against_the_closed_form_and_quad(nu):
    """The rule's ``E log(c + (d + T)^2)``: at ``d = 0, c = nu`` the closed form ``log nu + psi((nu+1)/2)
    - psi(nu/2)`` to 1e-12; against ``quad`` on pieces split at the features (both the density's and
    ``log``'s), the module docstring's table: 1e-9 for ``|d| <= 2 sqrt(c)``, and for
    ``|d| <= 5 sqrt(c)`` 2e-5 (``nu <= 1``) / 1e-6 (``nu = 3``) / 1e-9 (``nu >= 10``), sigma' in [sigma/2, 4 sigma]."""
    T, weights = t_nodes([nu])
    weights = weights[0]
    exact = np.log(nu) + special.digamma((nu + 1) / 2) - special.digamma(nu / 2)
    assert abs(weights @ np.log(nu + T**2) - exact) < 1e-12
    bound = {0.5: 2e-5, 1.0: 2e-5, 3.0: 1e-6, 30.0: 1e-9}[nu]
    for ratio in (0.5, 1.0, 2.0, 4.0):
        c = nu * ratio**2
        for d in np.sqrt(c) * np.array([0.0, 0.7, 2.0, 3.5, 5.0]):
            width = np.sqrt(c)
            points = sorted({-d + k * width for k in (-100, -20, -5, -1, 0, 1, 5, 20, 100)} | {0, -1, 1, -5, 5, -20, 20})
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", integrate.IntegrationWarning)
                f = lambda t: stats.t.pdf(t, nu) * np.log(c + (d + t) ** 2)  # noqa: E731
                reference = (integrate.quad(f, -np.inf, points[0], epsabs=1e-15, epsrel=1e-13, limit=2000)[0]
                             + integrate.quad(f, points[-1], np.inf, epsabs=1e-15, epsrel=1e-13, limit=2000)[0]
                             + sum(integrate.quad(f, a, b, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
                                   for a, b in zip(points[:-1], points[1:])))
            error = abs(weights @ np.log(c + (d + T) ** 2) - reference)
            assert error < (1e-9 if d <= 2 * width else bound), (ratio, d, error)
