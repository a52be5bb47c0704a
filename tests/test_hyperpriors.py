"""Learned scales: hyperprior densities, the specifications, no MAP, and the NUTS quadrature reference."""

import math

import numpy as np
import pytest
from scipy import integrate, linalg, stats

import bayesreg as br
from seeds import shifted


@pytest.mark.parametrize("hyper, reference", [
    (br.HalfCauchy(2.5), stats.halfcauchy(scale=2.5)),
    (br.HalfStudentT(3.0, 0.7), stats.t(df=3.0, scale=0.7)),  # half-t density = 2 x t density on tau > 0
])
def test_hyperprior_densities_are_scipy(hyper, reference):
    tau = np.array([1e-3, 0.1, 0.7, 2.5, 40.0])
    expected = -reference.logpdf(tau) - (math.log(2.0) if isinstance(hyper, br.HalfStudentT) else 0.0)
    np.testing.assert_allclose(hyper.neg_log_density(tau), expected, rtol=1e-13)
    total, _ = integrate.quad(lambda t: math.exp(-hyper.neg_log_density(t)), 0, np.inf)
    assert total == pytest.approx(1.0, abs=1e-8)


def test_bayesian_lasso_gamma_density_is_scipy():
    prior = br.BayesianLasso(r=1.5, delta=0.4)
    lam2 = np.array([0.01, 1.0, 7.0])
    np.testing.assert_allclose(prior.lambda_sq_neg_log_density(lam2), -stats.gamma(1.5, scale=1 / 0.4).logpdf(lam2),
                               rtol=1e-13)
    assert (br.BayesianLasso().r, br.BayesianLasso().delta) == (1.0, 1.78)


@pytest.mark.parametrize("prior", [br.Normal(br.HalfCauchy(1.0)), br.Laplace(br.HalfStudentT(3, 1.0), autoscale=True),
                                   br.BayesianLasso()])
def test_learned_scales_have_no_map(diabetes, prior):
    X, y = diabetes
    assert not prior.has_map
    with pytest.raises(br.NoMAPError, match="empirical_bayes|learns its penalty"):
        br.LinearRegression(prior).fit(X, y, method="map")
    with pytest.raises(ValueError, match="no penalty equivalent"):
        br.penalty_from_prior(prior)


def test_learned_scale_map_message_explains_the_degeneracy(diabetes):
    X, y = diabetes
    with pytest.raises(br.NoMAPError, match=r"infinite at coef = 0 as the scale -> 0.*method='empirical_bayes'"):
        br.LinearRegression(br.Normal(br.HalfCauchy(1.0))).fit(X, y, method="map")


def test_bayesian_lasso_is_linear_only(breast_cancer):
    X, y = breast_cancer
    with pytest.raises(ValueError, match="conditioned on the Gaussian noise sd"):
        br.LogisticRegression(br.BayesianLasso()).fit(X, y, method="nuts")


@pytest.mark.parametrize("bad", [lambda: br.HalfCauchy(0.0), lambda: br.HalfStudentT(-1, 1.0),
                                 lambda: br.BayesianLasso(delta=0), lambda: br.Normal(1.0, autoscale="yes")])
def test_bad_hyperparameters(bad):
    with pytest.raises((ValueError, TypeError), match="must be"):
        bad()


def test_prior_data_for_a_learned_scale():
    from bayesreg.model.spec import prior_data

    data = prior_data(br.Normal(br.HalfStudentT(3.0, 0.5), factor=[1.0, 2.0, 3.0]), 3)
    assert "prior_scale" not in data  # that name is the posterior's tau
    np.testing.assert_array_equal(data["prior_factor"], [1.0, 2.0, 3.0])
    assert (float(data["prior_hyper_nu"]), float(data["prior_hyper_scale"])) == (3.0, 0.5)
    assert float(prior_data(br.Laplace(br.HalfCauchy(2.0)), 3)["prior_hyper_nu"]) == 1.0


# -- the NUTS reference: known sigma, Normal prior, tau ~ HalfCauchy(s0) ----------------------------

def quadrature_posterior(X, y, sigma, s0, factor, n_nodes=400):
    """Exact posterior means and sds of tau and w by 1-d quadrature over tau.

    Given tau, w ~ N(0, tau^2 diag(factor^2)) and the flat intercept integrate out in closed form:
    in the basis Q orthogonal to 1, Q'y ~ N(0, sigma^2 I + tau^2 Q'X D^2 X'Q), computed here by a
    direct slogdet (independent of bayesreg.evidence), and w | tau, y is Gaussian with mean
    M (X_c'y_c / sigma^2) and covariance M = (X_c'X_c / sigma^2 + D^-2 / tau^2)^-1.
    Gauss-Legendre in log tau on [-12, 8] (the posterior of tau is far inside on these data).
    """
    n = len(y)
    Q = linalg.null_space(np.ones((1, n)))
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    z, XQ = Q.T @ y, Q.T @ (X * factor)
    nodes, weights = np.polynomial.legendre.leggauss(n_nodes)
    log_tau = -2.0 + 10.0 * nodes
    log_post, means, second = [], [], []
    for lt in log_tau:
        tau = math.exp(lt)
        C = sigma**2 * np.eye(n - 1) + tau**2 * XQ @ XQ.T
        _, logdet = np.linalg.slogdet(C)
        loglik = -0.5 * (logdet + z @ np.linalg.solve(C, z))
        # density of log tau: p(tau) * tau (Jacobian)
        log_post.append(loglik + stats.halfcauchy(scale=s0).logpdf(tau) + lt)
        M = np.linalg.inv(Xc.T @ Xc / sigma**2 + np.diag(1 / (tau * factor) ** 2))
        m = M @ Xc.T @ yc / sigma**2
        means.append(m)
        second.append(np.diag(M) + m**2)
    log_post = np.array(log_post)
    w = weights * np.exp(log_post - log_post.max())
    w /= w.sum()
    tau = np.exp(log_tau)
    coef_mean = w @ np.array(means)
    coef_sd = np.sqrt(w @ np.array(second) - coef_mean**2)
    tau_mean = w @ tau
    return {"tau_mean": tau_mean, "tau_sd": math.sqrt(w @ tau**2 - tau_mean**2), "coef_mean": coef_mean,
            "coef_sd": coef_sd, "log_tau": log_tau, "weights": w}


@pytest.fixture(scope="module")
def learned_scale_problem():
    rng = np.random.default_rng(shifted(5))
    X = rng.normal(size=(40, 3))
    y = 1.0 + X @ [0.8, -0.4, 0.0] + rng.normal(size=40)
    return X, y, 1.0, 1.0


def test_quadrature_reference_agrees_with_the_evidence_module(learned_scale_problem):
    """The reference's integrand is p(y | tau); bayesreg.evidence computes it by SVD. Two routes, one number."""
    from bayesreg.evidence import _Spectrum

    X, y, sigma, s0 = learned_scale_problem
    ref = quadrature_posterior(X, y, sigma, s0, np.ones(3))
    spectrum = _Spectrum(X, y, 1.0, True)
    log_post = np.array([spectrum.log_evidence(math.exp(lt), sigma) for lt in ref["log_tau"]])
    log_post += stats.halfcauchy(scale=s0).logpdf(np.exp(ref["log_tau"])) + ref["log_tau"]
    _, weights = np.polynomial.legendre.leggauss(len(ref["log_tau"]))
    w = weights * np.exp(log_post - log_post.max())
    np.testing.assert_allclose(w / w.sum(), ref["weights"], rtol=1e-8, atol=1e-15)
    # and Gauss-Legendre has converged: half the nodes give the same answer to 1e-6
    coarse = quadrature_posterior(X, y, sigma, s0, np.ones(3), n_nodes=200)
    np.testing.assert_allclose(coarse["coef_mean"], ref["coef_mean"], rtol=1e-6)
    assert coarse["tau_mean"] == pytest.approx(ref["tau_mean"], rel=1e-6)


def test_nuts_learned_scale_matches_quadrature(learned_scale_problem):
    """Exact values by quadrature (converged to 1e-6, test above) against NUTS, each within 4 Monte
    Carlo standard errors (a 4-sigma band fails by chance with probability 6e-5 per quantity):

    - coefficient means and sds, and the mean of tau, with ArviZ's ``mcse_mean`` / ``mcse_sd``;
    - tau's distribution through its CDF at the exact quartiles and 90% point: the fraction of
      draws below the exact q-quantile has MCSE sqrt(q (1 - q) / ESS) with ESS that of the
      indicator draws.
    Not tau's sd: p(tau | y) ~ p(y | tau) p(tau) falls like tau^(-p-2) = tau^-5 here, so E[tau^4] is
    infinite, and so is the variance of a sample sd; no MCSE bounds it (NUTS's 0.37 against the
    exact 0.46 is what a heavy tail sampled 4000 times looks like).
    """
    import arviz as az

    X, y, sigma, s0 = learned_scale_problem
    ref = quadrature_posterior(X, y, sigma, s0, np.ones(3))
    fit = br.LinearRegression(br.Normal(br.HalfCauchy(s0)), sigma=sigma).fit(
        X, y, draws=1000, tune=1000, random_seed=shifted(3), progressbar=False)
    table = fit.summary().loc[[*fit.feature_names_, "prior_scale"]]
    coef = table.loc[fit.feature_names_]
    assert np.all(np.abs(coef["mean"].to_numpy() - ref["coef_mean"]) <= 4 * coef["mcse_mean"].to_numpy())
    assert np.all(np.abs(coef["sd"].to_numpy() - ref["coef_sd"]) <= 4 * coef["mcse_sd"].to_numpy())
    tau = table.loc["prior_scale"]
    assert abs(tau["mean"] - ref["tau_mean"]) <= 4 * tau["mcse_mean"]
    draws = fit.idata_["posterior"]["prior_scale"].to_numpy()  # (chain, draw)
    grid, cdf = np.exp(ref["log_tau"]), np.cumsum(ref["weights"])
    for q in (0.25, 0.5, 0.75, 0.9):
        exact_quantile = np.interp(q, cdf, grid)
        below = (draws <= exact_quantile).astype(float)
        ess = float(az.ess(below))
        assert abs(below.mean() - q) <= 4 * np.sqrt(q * (1 - q) / ess), (q, below.mean(), ess)
