"""A fixed Normal prior in linear regression, the conjugate cases (issue 24).

Sigma known: the posterior is Gaussian and bayesreg/sampling/exact.py draws it exactly (no NUTS).
Sigma estimated: NUTS on log sigma alone (the spectral kernel at tau = 1, ``NORMAL_CONJUGATE``), the
coefficients drawn exactly given sigma. The references never use the package's eigen-data or rank-r
factor: the closed-form posterior and the n x n Gaussian marginal of y on the raw, uncentred X
(tests/gaussian_references.py), and the non-centred sampler, which tests/test_logdensity.py holds to
the PyMC model.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

import bayesreg as br
from bayesreg.families.gaussian import SIGMA_PRIOR_NU
from bayesreg.model import weighted_linear_inputs
from bayesreg.model.spec import CONJUGATE_MIN_FEATURES, conjugate_inputs, conjugate_pays, linear_inputs
from bayesreg.sampling import IgnoredOptionsWarning, SamplingWarning, convergence_problems, sample_posterior
from bayesreg.sampling import nutpie as adapter
from gaussian_references import dense_log_evidence, exact_conditional, uncentred_problem
from seeds import shifted

SHAPES = [(12, 30), (37, 5)]  # p > n and n > p
FALSE_ALARM = 1e-6  # per statistic below


def _problem(n, p, seed=0):
    X, y = uncentred_problem(n, p, seed)
    return X, y, np.random.default_rng(shifted(seed + 100)).uniform(0.5, 2.0, size=p)  # the prior's sds


def _conjugate(spec, data):
    """The conjugate spec and data even where conjugate_pays keeps the joint sampler (n > p, p < 30)."""
    return (spec, data) if spec.conjugate else conjugate_inputs(spec, data)


def _draws(idata, fit_intercept):
    posterior = idata["posterior"]
    coef = posterior["coef"].to_numpy().reshape(-1, posterior.sizes["feature"])
    return np.column_stack([coef, posterior["intercept"].to_numpy().ravel()]) if fit_intercept else coef


def assert_gaussian_draws(draws, mu, Sigma):
    r"""``draws`` (m x q, iid) are N(mu, Sigma), by two exact tests each failing with probability
    ``FALSE_ALARM`` when they are:

    - mean: :math:`m(\bar x - \mu)^\top\Sigma^{-1}(\bar x - \mu) \sim \chi^2_q` exactly;
    - covariance (Bartlett): :math:`A = \sum_i (x_i - \mu)(x_i - \mu)^\top \sim W_q(m, \Sigma)`, so with
      :math:`\Sigma = CC^\top` the whitened :math:`C^{-1}AC^{-\top} \sim W_q(m, I)`, whose lower Cholesky
      factor ``T`` has independent :math:`T_{ii}^2 \sim \chi^2_{m - i + 1}` and :math:`T_{ij} \sim N(0, 1)`
      (i > j). Mapping each diagonal to a standard normal through its chi-square's distribution
      function, the sum of the q(q + 1)/2 squares is :math:`\chi^2_{q(q+1)/2}`: a too wide or too narrow
      variance, or a wrong correlation, moves it.
    """
    m, q = draws.shape
    C = np.linalg.cholesky(Sigma)
    white = np.linalg.solve(C, (draws - mu).T)  # q x m, iid N(0, I) columns under the claim
    mean = white.mean(axis=1)
    assert m * mean @ mean < stats.chi2(q).isf(FALSE_ALARM), m * mean @ mean
    T = np.linalg.cholesky(white @ white.T)
    diagonal = stats.norm.isf(stats.chi2(m - np.arange(q)).sf(np.diag(T) ** 2))
    bartlett = float(np.sum(np.tril(T, -1) ** 2) + np.sum(diagonal**2))
    assert bartlett < stats.chi2(q * (q + 1) // 2).isf(FALSE_ALARM), bartlett


@pytest.mark.parametrize("n,p", SHAPES)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_exact_draws_have_the_closed_form_mean_and_covariance(n, p, fit_intercept):
    """4 x 2,000 iid draws of (coef, intercept) against the textbook posterior on the raw X
    (:func:`assert_gaussian_draws`: 2 statistics x 4 cases, false alarms below 8e-6 in all).
    Broken once: the conditional's sd sigma / sqrt(v_i) as sigma / v_i, or the intercept's
    variance sigma^2 / n as sigma^2, fails here."""
    X, y, scales = _problem(n, p)
    est = br.LinearRegression(br.Normal(scales), sigma=1.3, fit_intercept=fit_intercept)
    est.fit(X, y, draws=2000, chains=4, random_seed=shifted(3), progressbar=False)
    assert est.idata_.attrs["sampler"] == "exact"
    mu, Sigma = exact_conditional(X, y, scales**2, 1.3, fit_intercept)
    assert_gaussian_draws(_draws(est.idata_, fit_intercept), mu, Sigma)


def test_exact_fit_is_shaped_as_a_nuts_fit_and_names_the_options_it_ignores():
    """chains x draws, sample_stats.diverging all False, the summary and the convergence checks as
    usual; nutpie's options are named in one warning, and no warning comes without them.
    Broken once: dropping the warning fails here."""
    X, y, scales = _problem(37, 5)
    est = br.LinearRegression(br.Normal(scales), sigma=1.3)
    with pytest.warns(IgnoredOptionsWarning, match="maxdepth, target_accept") as caught:
        est.fit(X, y, draws=300, chains=3, random_seed=shifted(4), progressbar=False, target_accept=0.95,
                maxdepth=12)
    assert len([w for w in caught if issubclass(w.category, IgnoredOptionsWarning)]) == 1
    assert dict(est.idata_["posterior"].sizes) == {"chain": 3, "draw": 300, "feature": 5}
    diverging = est.idata_["sample_stats"]["diverging"]
    assert diverging.shape == (3, 300) and not diverging.any()
    table = est.summary(round_to="none")
    assert list(table.index) == [*[f"x{j}" for j in range(5)], "intercept"]
    assert np.all(np.isfinite(table[["r_hat", "ess_bulk", "ess_tail"]].to_numpy()))
    with warnings.catch_warnings():
        warnings.simplefilter("error", IgnoredOptionsWarning)
        warnings.simplefilter("ignore", SamplingWarning)  # 900 draws: an ESS estimate may fall below 400
        est.fit(X, y, draws=300, chains=3, random_seed=shifted(4), progressbar=False)
    with pytest.raises(ValueError, match="draws must be a positive integer"):
        est.fit(X, y, draws=0, progressbar=False)
    assert est.idata_["posterior"].sizes["draw"] == 300  # the failed fit left the previous one


def test_exact_draws_are_not_judged_by_r_hat():
    """iid draws have nothing to converge: however far R-hat lands from 1 (here pushed far above 1.01 by
    shifting one chain), the convergence checks do not report it for an exact fit, and still do for
    the same draws labelled as NUTS's. Broken once: dropping the sampler test fails here."""
    X, y, scales = _problem(37, 5)
    est = br.LinearRegression(br.Normal(scales), sigma=1.3).fit(X, y, draws=500, chains=4, random_seed=shifted(12),
                                                                 progressbar=False)
    idata = est.idata_.copy()
    shifted_chain = idata["posterior"]["intercept"].copy()
    shifted_chain[0] += 10 * float(shifted_chain.std())
    idata["posterior"] = idata["posterior"].to_dataset().assign(intercept=shifted_chain)
    assert not any("R-hat" in problem for problem in convergence_problems(idata, ["coef", "intercept"]))
    idata.attrs["sampler"] = "nutpie"
    assert any("R-hat" in problem for problem in convergence_problems(idata, ["coef", "intercept"]))


def dense_log_posterior_and_gradient(log_sigma, X, y, scales, fit_intercept):
    r"""``log p(y | sigma) + log p(log sigma)`` and its derivative in ``log sigma``, on the raw X.

    The marginal is :func:`dense_log_evidence` (S = sigma^2 I + X diag(s^2) X', the flat intercept
    integrated out). Its derivative: with P = S^-1 and Q = P - P 1 1'P / (1'P1) (Q = P without an
    intercept), :math:`\partial\log p(y\mid\sigma)/\partial\sigma^2 = \tfrac12(\|Qy\|^2 - \operatorname{tr}Q)`,
    so ``d/d log sigma = sigma^2 (|Qy|^2 - tr Q)``. The prior is Half-t_4(sd(y)) on sigma with the
    Jacobian of log sigma. Also returns the size of the gradient's largest terms, the scale of its
    rounding.
    """
    sigma = math.exp(log_sigma)
    n = len(y)
    S = sigma**2 * np.eye(n) + (X * scales**2) @ X.T
    P = np.linalg.inv(S)
    Q = P - np.outer(P.sum(axis=1), P.sum(axis=0)) / P.sum() if fit_intercept else P
    Qy = Q @ y
    nu, scale = SIGMA_PRIOR_NU, float(np.std(y))
    q = sigma**2 / (nu * scale**2)
    value = dense_log_evidence(X, y, scales**2, sigma, fit_intercept)
    value += math.log(2) + stats.t.logpdf(sigma, nu, scale=scale) + log_sigma
    gradient = sigma**2 * (Qy @ Qy - np.trace(Q)) + 1 - (nu + 1) * q / (1 + q)
    return value, gradient, sigma**2 * (Qy @ Qy + abs(np.trace(Q))) + nu + 2


@pytest.mark.parametrize("n,p", [*SHAPES, (150, 100)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sigma_density_and_gradient_match_the_dense_marginal(n, p, fit_intercept):
    """The compiled NORMAL_CONJUGATE density in log sigma at 5 random sigmas equals the dense n x n
    marginal, value and (analytic) gradient to rtol 1e-8; the gradient's absolute tolerance is 1e-8
    times its largest terms (|Qy|^2 and tr Q, which cancel near the mode). Rounding: the dense value is
    exact to ~1e-16 relative (long double), the kernel's O(r) sums to ~1e-14. Broken once: the
    residual's -(k - r) in d/d log sigma as -k, or a tau hyperprior left in, fails here."""
    X, y, scales = _problem(n, p)
    spec, data = _conjugate(*linear_inputs(X, y, br.Normal(scales), sigma=None, fit_intercept=fit_intercept))
    assert spec.conjugate and adapter.unconstrained_layout(spec) == [("sigma_log__", 1)]
    header, _arrays = adapter.pack(spec, data)
    for log_sigma in math.log(np.std(y)) + np.random.default_rng(shifted(5)).normal(scale=1.5, size=5):
        value, grad = adapter.log_density(header, np.array([log_sigma]))
        expected, expected_grad, terms = dense_log_posterior_and_gradient(log_sigma, X, y, scales, fit_intercept)
        assert math.isclose(value, expected, rel_tol=1e-8), (value, expected)
        assert abs(grad[0] - expected_grad) <= 1e-8 * (abs(expected_grad) + terms), (grad[0], expected_grad)


def test_which_fixed_normal_fits_are_conjugate():
    """Sigma known: always (exact draws). Sigma estimated: where conjugate_pays (p >= n, or p >= 30);
    never for a learned scale (its own collapsed sampler), logistic regression or another prior."""
    cases = ((20, 3, False), (12, 15, True), (16, 15, True),  # n = p + 1 with an intercept: no residual direction
             (300, CONJUGATE_MIN_FEATURES - 1, False), (300, CONJUGATE_MIN_FEATURES, True))
    for n, p, expected in cases:
        X, y, _ = _problem(n, p)
        assert linear_inputs(X, y, br.Normal(1.0), sigma=None, fit_intercept=True)[0].conjugate is expected, (n, p)
        assert linear_inputs(X, y, br.Normal(1.0), sigma=2.0, fit_intercept=True)[0].conjugate
    assert conjugate_pays(n_features=30, residual_dof=0) and not conjugate_pays(10, 5)
    X, y, _ = _problem(20, 3)
    learned = linear_inputs(X, y, br.Normal(br.HalfCauchy(1.0)), sigma=None, fit_intercept=True)[0]
    assert learned.spectral and not learned.conjugate
    assert not linear_inputs(X, y, br.Laplace(1.0), sigma=2.0, fit_intercept=True)[0].collapsed
    logistic = br.model.logistic_inputs(X, (y > y.mean()).astype(float), br.Normal(1.0), fit_intercept=True)[0]
    assert not logistic.collapsed


def test_sigma_unknown_posterior_matches_the_non_centred_one():
    """Both samplers on one data set (n = 30, p = 4, where the non-centred one mixes; the conjugate
    spec forced, as conjugate_pays would keep the joint sampler here): every posterior mean and sd of
    coef, intercept and sigma agrees within 4.5 combined Monte Carlo standard errors
    sqrt(mcse_1^2 + mcse_2^2). The estimates are asymptotically normal, so each of the 2 x 6
    comparisons fails with probability 6.8e-6, all together below 8.2e-5. Broken once: the
    conditional draws at the prior's variance c_j^2 instead of its sd c_j as the factor fail it."""
    import arviz as az

    X, y, _ = _problem(30, 4, seed=6)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    spec, data = linear_inputs(X, y, br.Normal(np.array([0.5, 1.0, 2.0, 0.7])), sigma=None, fit_intercept=True)
    assert not spec.collapsed
    names = [f"x{j}" for j in range(4)]
    settings = dict(draws=2000, tune=1000, chains=4, random_seed=shifted(7), progressbar=False)
    conjugate = sample_posterior(*_conjugate(spec, data), names, **settings)
    noncentred = sample_posterior(spec, data, names, **settings)
    # a guard against a broken sampler (as in tests/test_global_local.py), not a test of it
    assert int(conjugate["sample_stats"]["diverging"].sum()) <= 0.01 * conjugate["sample_stats"]["diverging"].size
    first, second = (az.summary(fit, var_names=["coef", "intercept", "sigma"]) for fit in (conjugate, noncentred))
    for statistic, error in (("mean", "mcse_mean"), ("sd", "mcse_sd")):
        gap = (first[statistic] - second[statistic]).abs()
        allowed = 4.5 * np.sqrt(first[error] ** 2 + second[error] ** 2)
        assert (gap <= allowed).all(), (statistic, (gap / allowed).to_dict())


def _rows(n, seed):
    rng = np.random.default_rng(shifted(seed))
    return rng.integers(0, 4, size=n), rng.normal(scale=2.0, size=n)  # integer weights (0 drops a row), offsets


def test_weights_and_offset_give_the_repeated_rows_posterior():
    """Integer sample_weight k_i is k_i copies of row i, offset o_i shifts y_i: the exact draws with
    weights and offsets pass :func:`assert_gaussian_draws` against the closed form of the repeated
    rows with y - offset (false alarms below 2e-6), and the sigma-estimated density at 3 random sigmas
    equals that rows' dense marginal to rtol 1e-8 (the derivation above). Broken once: ignoring the
    offset in the weighted statistics fails both."""
    X, y, scales = _problem(37, 5)
    weights, offset = _rows(37, 8)
    X_rep, y_rep = np.repeat(X, weights, axis=0), np.repeat(y - offset, weights)
    est = br.LinearRegression(br.Normal(scales), sigma=1.3)
    est.fit(X, y, sample_weight=weights, offset=offset, draws=2000, chains=4, random_seed=shifted(9),
            progressbar=False)
    assert est.idata_.attrs["sampler"] == "exact"
    assert_gaussian_draws(_draws(est.idata_, True), *exact_conditional(X_rep, y_rep, scales**2, 1.3, True))
    wide_X = np.hstack([X, np.random.default_rng(shifted(10)).normal(size=(37, 100))])  # p >= 30: conjugate
    wide_scales = np.r_[scales, np.full(100, 0.3)]
    spec, data = weighted_linear_inputs(wide_X, y, br.Normal(wide_scales), sigma=None, fit_intercept=True,
                                        offset=offset, sample_weight=weights)
    assert spec.conjugate
    header, _arrays = adapter.pack(spec, data)
    wide_rep = np.repeat(wide_X, weights, axis=0)
    for log_sigma in np.random.default_rng(shifted(11)).normal(scale=1.0, size=3):
        value, _ = adapter.log_density(header, np.array([log_sigma]))
        expected, _, _ = dense_log_posterior_and_gradient(log_sigma, wide_rep, y_rep, wide_scales, True)
        # the default sigma prior's scale is the weighted sd of y (not of y - offset): put it back
        sd_rep, sd_weighted = float(np.std(y_rep)), float(data["sigma_prior_scale"])
        sigma = math.exp(log_sigma)
        expected += (stats.t.logpdf(sigma, SIGMA_PRIOR_NU, scale=sd_weighted)
                     - stats.t.logpdf(sigma, SIGMA_PRIOR_NU, scale=sd_rep))
        assert math.isclose(value, expected, rel_tol=1e-8), (value, expected)
