r"""Simulation-based calibration (Talts et al., 2018) of the linear and logistic posteriors.

Draw the parameters from the prior (the generators below: scipy, from the docs), simulate
``y``, sample the posterior, and record the rank of each true parameter among (thinned) posterior
draws. Given ``y``, the truth and exact posterior draws are exchangeable, so every rank is uniform
on ``0..L``; a chi-square test on binned ranks has a known false-alarm rate. The ranks are uniform
given ``y``, so a replication may be redrawn on an event of the data alone (a logistic ``y`` with
one class, which the estimator refuses) without spoiling them.

SBC needs a proper prior that does not depend on the data. These paths need care:

Linear intercept (flat prior)
    With a flat prior on ``b`` (flat on the centred ``b_c = b + xbar'w`` is the same given ``w``:
    the Jacobian is 1), the posterior is translation equivariant: the likelihood depends on ``y``
    and ``b`` only through ``y - b``, so ``p(b, theta | y + c) = p(b - c, theta | y)`` for the other
    parameters ``theta``. With ``y = b0 + y0``, ``y0 = Xw + sigma e`` independent of ``b0``, the rank
    of ``b0`` among draws of ``b`` given ``y`` is that of ``0`` given ``y0``, and ``theta``'s ranks are
    those given ``y0``: the ranks' law is the same for every fixed ``b0``. It is uniform: give ``b``
    a ``N(0, T^2)`` prior, for which SBC holds when ``b0`` is drawn from it. That posterior is the
    flat one times ``exp(-b^2 / (2T^2))``, whose log-slope over the flat posterior's width is
    ``O(|b0| / T^2)``, so for ``|b0| <= M T`` the two posteriors differ in total variation by
    ``O(M / T)`` (the flat posterior of ``b`` has Gaussian, or with ``sigma`` estimated Student-t,
    tails), and the law of ``L`` draws' ranks by ``L`` times that. Letting ``T -> inf`` and then
    ``M -> inf``, the flat-prior ranks are uniform for any fixed ``b0``. The SBC fixes ``b0 = 10``:
    away from 0 and of one sign, so that a prior wrongly pulling ``b`` towards 0 skews the ranks
    one way (a symmetric law of ``b0`` would mix two opposite skews into a weaker U).

Estimated sigma
    ``sigma ~ Half-t_4(0, s)`` with ``s = sd(y)`` in the estimator (:mod:`bayesreg.families`),
    a prior that depends on the data. The SBC fixes ``s`` through the model's data, the entry
    ``sigma_prior_scale`` that :mod:`bayesreg.model.spec` fills in from ``y``, and samples with
    :func:`bayesreg.sampling.sample_posterior` (the estimator's own path, without the estimator);
    no public option. ``sigma`` is drawn first: the horseshoe's ``tau0 = sigma`` (scale None), the
    regularized horseshoe's ``tau0 = p0 / (p - p0) sigma / sqrt(n)`` and the Bayesian lasso's
    ``sigma / lambda`` scale with it; Normal, Laplace, ElasticNet and the learned scales do not.

Logistic intercept
    A Bernoulli likelihood is not translation equivariant, and the intercept is flat for priors
    with a MAP: those run with ``fit_intercept=False``. Priors without a MAP put ``b_c ~ N(0, 2.5^2)``
    on the design centred at the sample means (:mod:`bayesreg.model.spec`), drawn as such.

Logistic pseudo-sigma
    The regularized horseshoe's ``tau0`` uses ``1 / sqrt(ybar (1 - ybar))`` in logistic regression,
    again data: the SBC fixes it at 2 (its value at ``ybar = 1/2``) through the same hook
    (``pseudo_sigma``). The horseshoe's ``tau0`` is 1 there, a constant.

Separation
    Logistic data sets drawn from heavy-tailed priors are often completely separable (a quarter of
    them under the horseshoe at n = 50, p = 3: ``benchmarks/RESULTS.md``). Every prior SBC runs
    with is proper, the intercept's included, so the posterior is proper under separation and SBC
    holds there too; the benchmark checks the separable data sets on their own.

The generators
    Draws from the priors as the docs write them, with scipy (``draw_*`` below).

    Each generator reads the density or hierarchy from a docstring (:mod:`bayesreg.priors`,
    :mod:`bayesreg.priors.hyperpriors`, :mod:`bayesreg.families`, :mod:`bayesreg.model.spec`) and draws
    it with :mod:`scipy.stats`, never through :mod:`bayesreg.model.pymc` or :mod:`bayesreg.sampling.kernels.noncentred`, the
    code under test. The constants (the Half-t's 4 degrees of freedom, the logistic intercept's 2.5) are
    written here as the docs state them, not imported, so that a change in the code that the docs do
    not follow shows up as a failed calibration.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import special, stats

from .estimators import LinearRegression, LogisticRegression
from .model import linear_inputs, logistic_inputs
from .priors import (R2D2, BayesianLasso, ElasticNet, GroupLaplace, HalfCauchy, Horseshoe, HorseshoePlus, Laplace, Normal,
                     Prior,
                     RegularizedHorseshoe)
from .priors.groups import group_number
from .sampling import SamplingWarning, sample_posterior

__all__ = ["sbc_ranks", "rank_names", "simulate", "uniformity_pvalues", "draw_coefficients"]

FLAT_INTERCEPT_TRUTH = 10.0  # any fixed value works for a flat intercept (module docstring)
X_MEAN_WITH_INTERCEPT = 1.0  # uncentred columns, so the reported b = b_c - xbar'w differs from b_c
LOGISTIC_PSEUDO_SIGMA = 2.0


def rank_names(p: int, *, family: str = "gaussian", sigma: float | None = 1.0,
               fit_intercept: bool = False) -> list[str]:
    """The parameters :func:`sbc_ranks` ranks, in its columns' order."""
    names = [f"coef[{j}]" for j in range(p)] + ["intercept"] * fit_intercept
    return names + ["sigma"] * (family == "gaussian" and sigma is None)


def simulate(prior: Prior, rng, *, n: int, p: int, family: str = "gaussian", sigma: float | None = 1.0,
             sigma_prior_scale: float = 1.0, fit_intercept: bool = False):
    """One replication ``(X, y, truth)``; ``truth`` as :func:`rank_names` orders it.

    ``X`` is standard normal (mean 1 with an intercept). Gaussian: ``y = b + Xw + sigma e``, with
    ``sigma ~ Half-t_4(0, sigma_prior_scale)`` when ``sigma`` is None and ``b = 10`` (flat prior: any
    fixed value; module docstring). Bernoulli: ``y ~ Bernoulli(expit(b + Xw))``, redrawn while
    it has one class.
    """
    while True:
        X = rng.normal(size=(n, p)) + (X_MEAN_WITH_INTERCEPT if fit_intercept else 0.0)
        if family == "gaussian":
            noise_sd = draw_sigma(sigma_prior_scale, rng) if sigma is None else sigma
            coef = draw_coefficients(prior, p, noise_sd, rng, n=n)
            intercept = FLAT_INTERCEPT_TRUTH if fit_intercept else 0.0
            y = intercept + X @ coef + noise_sd * rng.normal(size=n)
            return X, y, np.r_[coef, [intercept] * fit_intercept, [noise_sd] * (sigma is None)]
        scale = LOGISTIC_PSEUDO_SIGMA if isinstance(prior, (RegularizedHorseshoe, R2D2)) else 1.0
        coef = draw_coefficients(prior, p, scale, rng, n=n)
        intercept = draw_logistic_intercept(X, coef, rng) if fit_intercept else 0.0
        y = (rng.random(n) < special.expit(intercept + X @ coef)).astype(float)
        if 0 < y.sum() < n:
            return X, y, np.r_[coef, [intercept] * fit_intercept]


def sbc_ranks(prior: Prior, *, n: int, p: int, replications: int, family: str = "gaussian",
              sigma: float | None = 1.0, sigma_prior_scale: float = 1.0, fit_intercept: bool = False,
              draws: int = 400, chains: int = 2, tune: int = 300, thin: int = 4, bins: int = 10, seed: int = 0,
              **fit_kwargs):
    """Ranks of the true parameters, shape (replications, k), and how many values a rank takes.

    Columns as :func:`rank_names`: the coefficients, then the intercept (``fit_intercept``), then
    sigma (``family="gaussian"``, ``sigma=None``). ``family="bernoulli"`` is logistic regression.
    ``L`` thinned draws give ranks ``0..L``; ``L`` is cut so that ``L + 1`` splits into ``bins``
    equal bins, else the binned histogram would not be uniform even for a perfect sampler.
    """
    _check_calibratable(prior, family, fit_intercept)
    kept = (draws * chains // thin + 1) // bins * bins - 1
    rng = np.random.default_rng(seed)
    names = rank_names(p, family=family, sigma=sigma, fit_intercept=fit_intercept)
    ranks = np.empty((replications, len(names)), dtype=int)
    for r in range(replications):
        X, y, truth = simulate(prior, rng, n=n, p=p, family=family, sigma=sigma,
                               sigma_prior_scale=sigma_prior_scale, fit_intercept=fit_intercept)
        settings = dict(draws=draws, tune=tune, chains=chains, random_seed=seed * 100_003 + r, progressbar=False,
                        **fit_kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplingWarning)  # SBC judges the whole, not one fit
            posterior = _posterior(prior, family, X, y, sigma, sigma_prior_scale, fit_intercept, settings)
        columns = [posterior["coef"].to_numpy().reshape(-1, p)]
        columns += [posterior[name].to_numpy().reshape(-1, 1) for name in names[p:]]
        ranks[r] = (np.hstack(columns)[::thin][:kept] < truth).sum(axis=0)
    return ranks, kept + 1


def _check_calibratable(prior: Prior, family: str, fit_intercept: bool) -> None:
    if family not in ("gaussian", "bernoulli"):
        raise ValueError(f"family must be 'gaussian' or 'bernoulli', got {family!r}")
    if getattr(prior, "autoscale", False):
        raise ValueError("autoscale makes the prior depend on the data, which SBC cannot calibrate; "
                         "give the scales as numbers")
    if family == "bernoulli" and fit_intercept and prior.has_map:
        raise ValueError("the logistic intercept is flat for priors with a MAP, and a Bernoulli likelihood is "
                         "not translation equivariant: SBC needs fit_intercept=False there")


def _fixed_model_data(prior: Prior, family: str, sigma, sigma_prior_scale: float) -> dict:
    """Model data that the estimator derives from ``y`` and SBC must fix (module docstring)."""
    if family == "gaussian" and sigma is None:
        return {"sigma_prior_scale": np.array(float(sigma_prior_scale))}
    if family == "bernoulli" and isinstance(prior, (RegularizedHorseshoe, R2D2)):
        return {"pseudo_sigma": np.array(LOGISTIC_PSEUDO_SIGMA)}
    return {}


def _posterior(prior, family, X, y, sigma, sigma_prior_scale, fit_intercept, settings):
    """The posterior group: through the estimator, as users fit, unless a data-derived prior scale
    must be fixed; then through the same model inputs and sampler with that entry replaced."""
    fixed = _fixed_model_data(prior, family, sigma, sigma_prior_scale)
    if not fixed:
        estimator = (LinearRegression(prior, sigma=sigma, fit_intercept=fit_intercept) if family == "gaussian"
                     else LogisticRegression(prior, fit_intercept=fit_intercept))
        return estimator.fit(X, y, log_likelihood=False, **settings).idata_["posterior"]
    if family == "gaussian":
        spec, data = linear_inputs(X, y, prior, sigma=sigma, fit_intercept=fit_intercept)
    else:
        spec, data = logistic_inputs(X, y, prior, fit_intercept=fit_intercept)
    data.update(fixed)
    return sample_posterior(spec, data, [f"x{j}" for j in range(X.shape[1])], **settings)["posterior"]


def uniformity_pvalues(ranks: np.ndarray, n_values: int, bins: int = 10) -> np.ndarray:
    """Chi-square p-value per column that its ranks (``0..n_values-1``) are uniform."""
    edges = np.linspace(0, n_values, bins + 1)
    return np.array([stats.chisquare(np.histogram(column, bins=edges)[0]).pvalue for column in ranks.T])


# -- the generators: scipy draws from the priors as documented (module docstring) -------------
SIGMA_PRIOR_DF = 4.0  # families/gaussian.py: sigma ~ Half-t_4(0, sd(y))
LOGISTIC_INTERCEPT_SD = 2.5  # model/spec.py: b_c ~ N(0, 2.5^2) for logistic priors without a MAP


def draw_coefficients(prior: Prior, p: int, sigma: float, rng, n: int | None = None) -> np.ndarray:
    """One draw of ``coef`` from ``prior``; ``sigma`` is the noise sd (the pseudo-sigma in logistic
    regression) for the priors that scale with it.

    Normal(s): N(0, s^2). Laplace(b): Laplace(0, b). ElasticNet(b, s): density proportional to
    exp(-|w|/b - w^2/(2 s^2)); on w > 0 that is exp(-(w + s^2/b)^2 / (2 s^2)) up to a constant, a
    N(-s^2/b, s^2) truncated to w > 0 (standardized lower bound (0 + s^2/b)/s = s/b), and the
    density is even, so |w| is that truncated Normal and the sign is a fair coin.
    Horseshoe(tau0): tau ~ C+(0, tau0) (tau0 = sigma when None), lambda_j ~ C+(0, 1),
    w_j = f_j v_j with v_j ~ N(0, (tau lambda_j)^2) and f_j the prior's ``factor``; with groups (the
    group horseshoe) one lambda_g per group. RegularizedHorseshoe (needs ``n``): tau ~ C+(0, p0 / (p -
    p0) sigma / sqrt(n)), c^2 ~ Inv-Gamma(nu/2, nu s^2/2), w_j = f_j v_j with v_j ~ N(0, tau^2 c^2
    lambda_j^2 / (c^2 + tau^2 lambda_j^2)). A learned scale (Normal or Laplace with a hyperprior H):
    tau ~ H, then w_j ~ N(0, (tau c_j)^2) or Laplace(0, tau c_j); with groups, one tau_g ~ H per
    group. BayesianLasso(r, delta): lambda^2 ~ Gamma(shape r, rate delta), w_j ~ Laplace(0, sigma /
    lambda). HorseshoePlus(tau0): as the horseshoe with
    lambda_j = eta_j nu_j, both C+(0, 1). R2D2: R^2 ~ Beta(a, b), phi ~ Dirichlet(alpha),
    w_j = f_j v_j with v_j ~ N(0, sigma^2 phi_j R^2 / (1 - R^2)). GroupLaplace(b): per group of m
    columns, w_g = r u with u uniform on the unit sphere (a standard Normal vector over its norm) and
    r ~ Gamma(shape m, rate sqrt(m) / b), the radial law of exp(-sqrt(m) ||w|| / b) in m dimensions.
    """
    if isinstance(prior, GroupLaplace):
        coef = np.empty(p)
        for index, rate in zip(prior.group_indices(), prior.group_rates()):
            direction = rng.standard_normal(index.size)
            radius = stats.gamma(a=index.size, scale=1.0 / rate).rvs(random_state=rng)
            coef[index] = radius * direction / np.linalg.norm(direction)
        return coef
    if isinstance(prior, (Normal, Laplace)) and prior.learned:
        hyper = prior.scale
        nu = 1.0 if isinstance(hyper, HalfCauchy) else hyper.nu  # a half-t is |t|; nu = 1: half-Cauchy
        groups = getattr(prior, "groups", None)
        if groups is not None:  # a scale per group: tau_g ~ H independently, w_j ~ N(0, (tau_g(j) c_j)^2)
            number = group_number(groups).astype(int)
            tau = np.abs(stats.t(df=nu, scale=hyper.scale).rvs(number.max() + 1, random_state=rng))[number]
            return stats.norm(0.0, tau * np.broadcast_to(prior.factor, (p,))).rvs(p, random_state=rng)
        tau = abs(stats.t(df=nu, scale=hyper.scale).rvs(random_state=rng))
        base = stats.norm if isinstance(prior, Normal) else stats.laplace
        return base(0.0, tau * np.broadcast_to(prior.factor, (p,))).rvs(p, random_state=rng)
    if isinstance(prior, BayesianLasso):
        lambda_sq = stats.gamma(a=prior.r, scale=1.0 / prior.delta).rvs(random_state=rng)
        return stats.laplace(0.0, sigma / np.sqrt(lambda_sq)).rvs(p, random_state=rng)
    if isinstance(prior, Normal):
        return stats.norm(0.0, prior.scale).rvs(p, random_state=rng)
    if isinstance(prior, Laplace):
        return stats.laplace(0.0, prior.scale).rvs(p, random_state=rng)
    if isinstance(prior, ElasticNet):
        b, s = np.broadcast_to(prior.laplace_scale, (p,)), np.broadcast_to(prior.normal_scale, (p,))
        size = stats.truncnorm(a=s / b, b=np.inf, loc=-s**2 / b, scale=s).rvs(p, random_state=rng)
        return np.where(rng.random(p) < 0.5, -size, size)
    if isinstance(prior, HorseshoePlus):
        tau = stats.halfcauchy(scale=sigma if prior.scale is None else prior.scale).rvs(random_state=rng)
        local = stats.halfcauchy().rvs(p, random_state=rng) * stats.halfcauchy().rvs(p, random_state=rng)
        return np.broadcast_to(prior.factor, (p,)) * stats.norm(0.0, tau * local).rvs(p, random_state=rng)
    if isinstance(prior, R2D2):
        a, b = prior.r2_shape
        r2 = stats.beta(a, b).rvs(random_state=rng)
        phi = stats.dirichlet(prior.concentrations(p)).rvs(random_state=rng)[0]
        return np.broadcast_to(prior.factor, (p,)) * stats.norm(0.0, sigma * np.sqrt(r2 / (1 - r2) * phi)).rvs(
            p, random_state=rng)
    if isinstance(prior, Horseshoe):
        tau = stats.halfcauchy(scale=sigma if prior.scale is None else prior.scale).rvs(random_state=rng)
        local = stats.halfcauchy().rvs(p, random_state=rng)
        if prior.groups is not None:  # the group horseshoe: one lambda per group, shared by its columns
            number = group_number(prior.groups).astype(int)
            local = stats.halfcauchy().rvs(number.max() + 1, random_state=rng)[number]
        return np.broadcast_to(prior.factor, (p,)) * stats.norm(0.0, tau * local).rvs(p, random_state=rng)
    if isinstance(prior, RegularizedHorseshoe):
        if n is None:
            raise TypeError("the regularized horseshoe's global scale depends on n: pass n=")
        p0, nu, s = prior.expected_nonzero, prior.slab_df, prior.slab_scale
        tau = stats.halfcauchy(scale=p0 / (p - p0) * sigma / np.sqrt(n)).rvs(random_state=rng)
        slab_sq = stats.invgamma(nu / 2, scale=nu * s**2 / 2).rvs(random_state=rng)
        local = stats.halfcauchy().rvs(p, random_state=rng)
        return np.broadcast_to(prior.factor, (p,)) * stats.norm(
            0.0, np.sqrt(tau**2 * slab_sq * local**2 / (slab_sq + tau**2 * local**2))).rvs(p, random_state=rng)
    raise TypeError(f"no SBC generator for {type(prior).__name__}")


def draw_sigma(scale: float, rng) -> float:
    """The noise sd from its prior with ``sigma=None``, Half-t_4(0, scale): |t| with 4 df, scaled."""
    return float(abs(stats.t(df=SIGMA_PRIOR_DF, scale=scale).rvs(random_state=rng)))


def draw_logistic_intercept(X: np.ndarray, coef: np.ndarray, rng) -> float:
    """The logistic intercept ``b`` under the proper prior of the priors without a MAP:
    ``b_c ~ N(0, 2.5^2)`` on the design centred at the sample means, and ``b = b_c - xbar'w``."""
    return float(stats.norm(0.0, LOGISTIC_INTERCEPT_SD).rvs(random_state=rng) - X.mean(axis=0) @ coef)
