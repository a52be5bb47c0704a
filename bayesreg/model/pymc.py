r"""The PyMC model: the specification of every posterior this package samples.

Built from the same :class:`~bayesreg.model.spec.ModelSpec` and data as the compiled log density
(:mod:`bayesreg.sampling.nutpie`), which samples it; ``tests/test_logdensity.py`` checks the two agree
in value and gradient at random points for every structure. Use it to extend a model or to sample
it with ``pm.sample``: :func:`build_model`, or ``est.pymc_model()`` on a fitted estimator.

Priors (one PyMC variable ``coef`` with dim ``feature``; scales under their own names)
    Normal, Laplace: direct. ElasticNet: a flat ``coef`` plus its exact log density.
    Horseshoe and regularized horseshoe: non-centred, ``coef = coef_raw * global_scale * ...``.
The intercept is sampled at the centred design (``intercept_c``; see :mod:`bayesreg.model.spec`)
and reported for the original X as the deterministic ``intercept``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ..priors import (R2D2, BayesianLasso, ElasticNet, GroupLaplace, Horseshoe, HorseshoePlus, Laplace, Normal, Prior,
                      RegularizedHorseshoe)
from .glm_spec import GLM_FAMILIES
from .pymc_families import family_log_likelihood, gaussian_sigma
from .spec import ModelSpec, linear_inputs, logistic_inputs


def build_model(spec: ModelSpec, data: dict[str, np.ndarray], feature_names) -> pm.Model:
    make_coef = (functools.partial(_learned_scale, laplace=spec.prior_type is Laplace) if spec.scale_learned
                 else coefficient_prior.dispatch(spec.prior_type))
    groups = {"group": list(spec.scale_groups)} if spec.scale_groups else {}  # a learned scale per group
    with pm.Model(coords={"feature": list(feature_names), **groups}) as model:
        shared = {name: pm.Data(name, value) for name, value in data.items()}
        intercept_c = _centred_intercept(spec, shared)
        if spec.family == "gaussian":
            sigma = shared["sigma_known"] if spec.sigma_known else gaussian_sigma(shared, data)
            coef = make_coef(shared, noise_scale=sigma, n=shared["n"], p=spec.n_features)
            loglik = _gaussian_log_likelihood(shared, coef, intercept_c, sigma)
        elif spec.family == "quadratic":  # the logistic surrogate (bayesreg.sampling.surrogate): priors as bernoulli
            coef = make_coef(shared, noise_scale=shared["pseudo_sigma"], n=shared["n"], p=spec.n_features,
                             logistic=True)
            misfit = pt.dot(shared["factor"], coef - shared["coef_hat"])
            # x_mean is the weighted mean of the expansion, so b_c = b + x_mean'w as in the other families
            offset = intercept_c - shared["intercept_hat"]
            loglik = -0.5 * pt.sum(misfit**2) - 0.5 * shared["weight_sum"] * offset**2
        elif spec.family in GLM_FAMILIES:  # count and robust families: bayesreg.model.pymc_families
            coef, loglik = family_log_likelihood(spec, shared, data, make_coef, intercept_c)
        else:
            coef = make_coef(shared, noise_scale=shared["pseudo_sigma"], n=shared["n"], p=spec.n_features,
                             logistic=True)
            eta = intercept_c + pt.dot(shared["X"] - shared["x_mean"], coef)
            eta = eta + shared["offset"] if "offset" in shared else eta  # model/row_weights.py
            rows = shared["y"] * eta - pt.softplus(eta)
            loglik = pt.sum(rows * shared["weights"] if "weights" in shared else rows)
        if spec.fit_intercept:
            pm.Deterministic("intercept", intercept_c - pt.dot(shared["x_mean"], coef))
        pm.Potential("log_likelihood", loglik)
    return model


def _centred_intercept(spec: ModelSpec, shared):
    if not spec.fit_intercept:
        return 0.0
    if spec.intercept_prior:
        return pm.Normal("intercept_c", 0.0, shared["intercept_prior_scale"])
    return pm.Flat("intercept_c")


def _gaussian_log_likelihood(d, coef, intercept_c, sigma):
    misfit = pt.dot(d["factor"], coef - d["coef_ls"])
    offset = d["y_mean"] - intercept_c
    rss = d["rss_min"] + pt.sum(misfit**2) + d["n"] * offset**2
    return -d["n"] * pt.log(sigma) - d["n"] / 2 * math.log(2 * math.pi) - rss / (2 * sigma**2)


def build_linear_model(X, y, prior: Prior, *, sigma, fit_intercept, feature_names) -> pm.Model:
    return build_model(*linear_inputs(X, y, prior, sigma=sigma, fit_intercept=fit_intercept), feature_names)


def build_logistic_model(X, y01, prior: Prior, *, fit_intercept, feature_names) -> pm.Model:
    return build_model(*logistic_inputs(X, y01, prior, fit_intercept=fit_intercept), feature_names)


@functools.singledispatch
def coefficient_prior(prior: Prior, d, *, noise_scale, n, p, logistic=False):
    """Create ``coef`` (dim ``feature``) in the current model; hyperparameters come from ``d``.

    Dispatched on the prior's type only: its values are the ``prior_*`` data in ``d``.
    """
    raise TypeError(f"no PyMC translation for prior {prior!r}")


@coefficient_prior.register(Normal)
def _(d, **_):
    return pm.Normal("coef", 0.0, d["prior_scale"], dims="feature")


@coefficient_prior.register(Laplace)
def _(d, **_):
    return pm.Laplace("coef", 0.0, d["prior_scale"], dims="feature")


@coefficient_prior.register(ElasticNet)
def _(d, **_):
    coef = pm.Flat("coef", dims="feature")
    kernel = pt.sum(d["prior_l1"] * pt.abs(coef)) + pt.sum(d["prior_l2"] / 2 * coef**2)
    pm.Potential("coef_prior", -kernel - pt.sum(d["prior_log_normalizer"]))
    return coef


@coefficient_prior.register(GroupLaplace)
def _(d, **_):
    """A flat ``coef`` plus ``sum_g -c_g ||coef_g||_2 - log Z_g`` (:mod:`bayesreg.priors.groups`)."""
    coef = pm.Flat("coef", dims="feature")
    group_of = d["prior_group_of"].get_value().astype(int)
    members = (np.arange(group_of.max() + 1)[:, None] == group_of[None, :]).astype(float)  # groups x coefficients
    rates = members @ d["prior_group_rate"].get_value() / members.sum(axis=1)
    norms = pt.sqrt(pt.dot(members, coef**2))
    pm.Potential("coef_prior", -pt.sum(rates * norms) - pt.sum(d["prior_group_log_normalizer"]))
    return coef


@coefficient_prior.register(Horseshoe)
def _(d, *, noise_scale, logistic=False, **_):
    """With ``prior_group_of``, the group horseshoe: ``local_scale`` per group, ``lambda_g(j)`` for ``coef_j``."""
    global_prior_scale = d["prior_scale"] if "prior_scale" in d else (1.0 if logistic else noise_scale)
    grouped = "prior_group_of" in d
    coef_raw = pm.Normal("coef_raw", 0.0, 1.0, dims="feature")
    local_scale = pm.HalfCauchy("local_scale", 1.0, dims="group" if grouped else "feature")
    global_scale = pm.HalfCauchy("global_scale_raw", 1.0) * global_prior_scale
    pm.Deterministic("global_scale", global_scale)
    local = local_scale[d["prior_group_of"].get_value().astype(int)] if grouped else local_scale
    return pm.Deterministic("coef", coef_raw * local * global_scale * d["prior_factor"], dims="feature")


@coefficient_prior.register(HorseshoePlus)
def _(d, *, noise_scale, logistic=False, **_):
    """``coef_j = z_j tau nu_j eta_j c_j``, ``nu_j, eta_j ~ C+(0, 1)`` (lambda_j = eta_j nu_j ~ C+(0, eta_j))."""
    global_prior_scale = d["prior_scale"] if "prior_scale" in d else (1.0 if logistic else noise_scale)
    coef_raw = pm.Normal("coef_raw", 0.0, 1.0, dims="feature")
    local_scale = pm.HalfCauchy("local_scale", 1.0, dims="feature")
    global_scale = pm.Deterministic("global_scale", pm.HalfCauchy("global_scale_raw", 1.0) * global_prior_scale)
    local_hyper = pm.HalfCauchy("local_scale_hyper", 1.0, dims="feature")
    return pm.Deterministic("coef", coef_raw * global_scale * local_scale * local_hyper * d["prior_factor"],
                            dims="feature")


@coefficient_prior.register(R2D2)
def _(d, *, noise_scale, **_):
    """``coef_j = z_j s sqrt(W phi_j) c_j``, ``W = R^2 / (1 - R^2)``, ``R^2 ~ Beta(a, b)``,
    ``phi = gamma / sum(gamma)`` with ``gamma_j ~ Gamma(alpha_j, 1)`` (so phi ~ Dirichlet(alpha))."""
    coef_raw = pm.Normal("coef_raw", 0.0, 1.0, dims="feature")
    r2 = pm.Beta("r2", d["prior_r2_a"], d["prior_r2_b"])
    raw = pm.Gamma("variance_share_raw", alpha=d["prior_concentration"], beta=1.0, dims="feature")
    phi = pm.Deterministic("variance_share", raw / pt.sum(raw), dims="feature")
    scale = noise_scale * pt.sqrt(r2 / (1 - r2) * phi)
    return pm.Deterministic("coef", coef_raw * scale * d["prior_factor"], dims="feature")


@coefficient_prior.register(RegularizedHorseshoe)
def _(d, *, noise_scale, n, p, **_):
    p0 = d["prior_expected_nonzero"]
    tau0 = p0 / (p - p0) * noise_scale / pt.sqrt(n)
    nu, s = d["prior_slab_df"], d["prior_slab_scale"]
    coef_raw = pm.Normal("coef_raw", 0.0, 1.0, dims="feature")
    local_scale = pm.HalfCauchy("local_scale", 1.0, dims="feature")
    global_scale = pm.Deterministic("global_scale", pm.HalfCauchy("global_scale_raw", 1.0) * tau0)
    slab_sq = pm.InverseGamma("slab_sq_raw", nu / 2, nu / 2) * s**2  # c^2 ~ Inv-Gamma(nu/2, nu s^2/2)
    pm.Deterministic("slab_scale", pt.sqrt(slab_sq))
    local_reg = pt.sqrt(slab_sq * local_scale**2 / (slab_sq + global_scale**2 * local_scale**2))
    return pm.Deterministic("coef", coef_raw * global_scale * local_reg * d["prior_factor"], dims="feature")


def _learned_scale(d, *, laplace=False, **_):
    """Normal or Laplace with a half-t hyperprior (nu = 1: half-Cauchy) on the global scale tau,
    non-centred: ``coef_j = z_j * tau * c_j`` with ``c_j`` the (autoscale) factor; with groups
    (``prior_group_of``) one ``tau_g`` per group, ``coef_j = z_j * tau_{g(j)} * c_j``."""
    grouped = "prior_group_of" in d
    tau = pm.HalfStudentT("prior_scale", nu=d["prior_hyper_nu"], sigma=d["prior_hyper_scale"],
                          dims="group" if grouped else None)
    z = (pm.Laplace if laplace else pm.Normal)("coef_raw", 0.0, 1.0, dims="feature")
    scale = tau[d["prior_group_of"].get_value().astype(int)] if grouped else tau
    return pm.Deterministic("coef", z * scale * d["prior_factor"], dims="feature")


@coefficient_prior.register(BayesianLasso)
def _(d, *, noise_scale, **_):
    """Park & Casella: ``coef_j = z_j * sigma / lambda``, ``z_j ~ Laplace(0, 1)``, ``lambda^2 ~ Gamma(r, delta)``."""
    lambda_sq = pm.Gamma("prior_lambda_sq", alpha=d["prior_r"], beta=d["prior_delta"])
    z = pm.Laplace("coef_raw", 0.0, 1.0, dims="feature")
    lam = pm.Deterministic("prior_lambda", pt.sqrt(lambda_sq))
    scale = pm.Deterministic("prior_scale", noise_scale / lam)
    return pm.Deterministic("coef", z * scale, dims="feature")
