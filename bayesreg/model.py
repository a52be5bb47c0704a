r"""Build the PyMC model: prior x likelihood, the density both MAP and NUTS use.

Data are ``pm.Data`` and the graph depends only on a :class:`ModelSpec`, so one compiled
sampler serves every refit with the same structure (see :mod:`bayesreg.sampling`).

Gaussian likelihood through sufficient statistics
    For any least-squares solution :math:`\hat w` of the centred data (``X_c' X_c \hat w = X_c' y_c``),

    .. math::
        \|y - b - Xw\|^2 = \mathrm{RSS}_{\min} + \|F(w - \hat w)\|^2
                           + n(\bar y - b - \bar x^\top w)^2,\qquad F^\top F = X_c^\top X_c,

    so a log-density gradient costs :math:`O(p \min(n, p))` whatever ``n`` is. Expanding around
    :math:`\hat w` (rather than using ``y'y - 2w'X'y + w'X'Xw``) avoids cancellation when the fit
    is good. Pointwise log-likelihoods are computed after sampling, not in the model.

Priors (one PyMC variable ``coef`` with dim ``feature``; scales under their own names)
    Normal, Laplace: direct. ElasticNet: a flat ``coef`` plus its exact log density.
    Horseshoe and regularized horseshoe: non-centred, ``coef = coef_raw * global_scale * ...``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from .data.statistics import GaussianStatistics, array_statistics
from .likelihoods import SIGMA_PRIOR_NU, check_sigma_prior_scale
from .priors import ElasticNet, Horseshoe, Laplace, Normal, Prior, RegularizedHorseshoe


@dataclass(frozen=True)
class ModelSpec:
    """Everything that fixes the model's *graph*: equal specs share one compiled sampler.

    Data (sufficient statistics, ``X``, ``y``, ``n``, a known sigma) and the prior's
    hyperparameters (:func:`prior_data`) are ``pm.Data`` and are swapped in without
    recompiling, so a path over prior scales compiles once.
    """

    family: str  # "gaussian", "bernoulli" or "quadratic" (the logistic surrogate)
    prior_type: type
    n_features: int
    fit_intercept: bool
    sigma_known: bool = False
    global_scale_given: bool = True  # Horseshoe(scale=None) scales tau by the noise instead

    @classmethod
    def of(cls, family: str, prior: Prior, n_features: int, fit_intercept: bool, sigma_known: bool = False):
        given = not (isinstance(prior, Horseshoe) and prior.scale is None)
        return cls(family, type(prior), n_features, fit_intercept, sigma_known, given)


def prior_data(prior: Prior, n_features: int) -> dict[str, np.ndarray]:
    """The prior's hyperparameters as model data, named ``prior_*``."""
    if isinstance(prior, (Normal, Laplace)):
        values = {"scale": prior.scale}
    elif isinstance(prior, ElasticNet):
        values = {"l1": prior.l1, "l2": prior.l2, "log_normalizer": prior.log_normalizer()}
    elif isinstance(prior, Horseshoe):
        values = {} if prior.scale is None else {"scale": prior.scale}
    elif isinstance(prior, RegularizedHorseshoe):
        prior.check_dimension(n_features)
        values = {"expected_nonzero": prior.expected_nonzero, "slab_scale": prior.slab_scale,
                  "slab_df": prior.slab_df}
    else:
        raise TypeError(f"no PyMC translation for prior {type(prior).__name__}")
    return {f"prior_{name}": np.array(float(value)) for name, value in values.items()}


def gaussian_data(X, y, fit_intercept: bool, sigma) -> dict[str, np.ndarray]:
    """Sufficient statistics of the Gaussian likelihood: O(p^2) numbers, not O(np)."""
    return statistics_data(array_statistics(X, y), fit_intercept, sigma)


def statistics_data(statistics: GaussianStatistics, fit_intercept: bool, sigma) -> dict[str, np.ndarray]:
    """The Gaussian model's data from sufficient statistics (in-memory or Dask input alike)."""
    about = statistics.about(fit_intercept)
    least_squares = about.least_squares()
    return {
        # F'F = X_c'X_c, fixed p x p shape
        "factor": np.sqrt(least_squares.eigval)[:, None] * least_squares.eigvec.T,
        "coef_ls": least_squares.coef,
        "x_mean": about.x_mean,
        "y_mean": np.array(about.y_mean),
        "rss_min": np.array(least_squares.rss),
        "n": np.array(float(statistics.n)),
        # only one of these two enters the graph; the other is pruned by PyTensor
        "sigma_prior_scale": np.array(check_sigma_prior_scale(statistics.y_sd) if sigma is None else 1.0),
        "sigma_known": np.array(1.0 if sigma is None else float(sigma)),
    }


def bernoulli_data(X, y01) -> dict[str, np.ndarray]:
    mean = float(np.mean(y01))
    return {
        "X": X,
        "y": y01,
        "n": np.array(float(len(y01))),
        # Piironen & Vehtari (2017), sec. 3.2: the pseudo-sigma of a Bernoulli likelihood
        "pseudo_sigma": np.array(1.0 / math.sqrt(mean * (1 - mean))),
    }


def build_model(spec: ModelSpec, data: dict[str, np.ndarray], feature_names) -> pm.Model:
    make_coef = coefficient_prior.dispatch(spec.prior_type)
    with pm.Model(coords={"feature": list(feature_names)}) as model:
        shared = {name: pm.Data(name, value) for name, value in data.items()}
        intercept = pm.Flat("intercept") if spec.fit_intercept else 0.0
        if spec.family == "gaussian":
            sigma = shared["sigma_known"] if spec.sigma_known else pm.HalfStudentT(
                "sigma", nu=SIGMA_PRIOR_NU, sigma=shared["sigma_prior_scale"])
            coef = make_coef(shared, noise_scale=sigma, n=shared["n"], p=spec.n_features)
            loglik = _gaussian_log_likelihood(shared, coef, intercept, sigma)
        elif spec.family == "quadratic":  # the logistic surrogate (bayesreg.surrogate): priors as bernoulli
            coef = make_coef(shared, noise_scale=shared["pseudo_sigma"], n=shared["n"], p=spec.n_features,
                             logistic=True)
            misfit = pt.dot(shared["factor"], coef - shared["coef_hat"])
            offset = intercept + pt.dot(shared["x_mean"], coef) - shared["intercept_hat"]
            loglik = -0.5 * pt.sum(misfit**2) - 0.5 * shared["weight_sum"] * offset**2
        else:
            coef = make_coef(shared, noise_scale=shared["pseudo_sigma"], n=shared["n"], p=spec.n_features,
                             logistic=True)
            eta = intercept + pt.dot(shared["X"], coef)
            loglik = pt.sum(shared["y"] * eta - pt.softplus(eta))
        pm.Potential("log_likelihood", loglik)
    return model


def _gaussian_log_likelihood(d, coef, intercept, sigma):
    misfit = pt.dot(d["factor"], coef - d["coef_ls"])
    offset = d["y_mean"] - intercept - pt.dot(d["x_mean"], coef)
    rss = d["rss_min"] + pt.sum(misfit**2) + d["n"] * offset**2
    return -d["n"] * pt.log(sigma) - d["n"] / 2 * math.log(2 * math.pi) - rss / (2 * sigma**2)


def linear_inputs(X, y, prior: Prior, *, sigma, fit_intercept) -> tuple[ModelSpec, dict]:
    return linear_inputs_from_statistics(array_statistics(X, y), prior, sigma=sigma, fit_intercept=fit_intercept)


def linear_inputs_from_statistics(statistics: GaussianStatistics, prior: Prior, *, sigma,
                                  fit_intercept) -> tuple[ModelSpec, dict]:
    p = statistics.n_features
    spec = ModelSpec.of("gaussian", prior, p, fit_intercept, sigma is not None)
    return spec, {**statistics_data(statistics, fit_intercept, sigma), **prior_data(prior, p)}


def logistic_inputs(X, y01, prior: Prior, *, fit_intercept) -> tuple[ModelSpec, dict]:
    spec = ModelSpec.of("bernoulli", prior, X.shape[1], fit_intercept)
    return spec, {**bernoulli_data(X, y01), **prior_data(prior, X.shape[1])}


def quadratic_inputs(data: dict, prior: Prior, *, fit_intercept) -> tuple[ModelSpec, dict]:
    """The logistic surrogate's model: ``data`` from :func:`bayesreg.surrogate.expansion_data`."""
    p = len(data["coef_hat"])
    spec = ModelSpec.of("quadratic", prior, p, fit_intercept)
    return spec, {**data, **prior_data(prior, p)}


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
def _(d, *, p, **_):
    coef = pm.Flat("coef", dims="feature")
    kernel = d["prior_l1"] * pt.sum(pt.abs(coef)) + d["prior_l2"] / 2 * pt.sum(coef**2)
    pm.Potential("coef_prior", -kernel - p * d["prior_log_normalizer"])
    return coef


@coefficient_prior.register(Horseshoe)
def _(d, *, noise_scale, logistic=False, **_):
    global_prior_scale = d["prior_scale"] if "prior_scale" in d else (1.0 if logistic else noise_scale)
    coef_raw = pm.Normal("coef_raw", 0.0, 1.0, dims="feature")
    local_scale = pm.HalfCauchy("local_scale", 1.0, dims="feature")
    global_scale = pm.HalfCauchy("global_scale_raw", 1.0) * global_prior_scale
    pm.Deterministic("global_scale", global_scale)
    return pm.Deterministic("coef", coef_raw * local_scale * global_scale, dims="feature")


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
    return pm.Deterministic("coef", coef_raw * global_scale * local_reg, dims="feature")
