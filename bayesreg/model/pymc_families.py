"""The PyMC likelihood of the count and robust families (:mod:`bayesreg.model.glm_spec`'s data):
PyMC's own ``Poisson``, ``NegativeBinomial(mu, alpha = phi)`` and ``StudentT`` log densities,
weighted per row, with the offset in the linear predictor. The reference the compiled kernel
(:mod:`bayesreg.sampling.kernels.likelihoods`) is tested against."""

from __future__ import annotations

import pymc as pm
import pytensor.tensor as pt

from ..families.gaussian import SIGMA_PRIOR_NU
from .glm_spec import all_aux


def _aux_variable(name, d, data):
    if f"aux_{name}" in data:
        return d[f"aux_{name}"]
    kind = int(data[f"aux_{name}_kind"])
    a, b = d[f"aux_{name}_a"], d[f"aux_{name}_b"]
    if kind == 0:
        return pm.Exponential(name, lam=a)
    if kind == 1:
        return pm.Gamma(name, alpha=a, beta=b)
    return pm.HalfStudentT(name, nu=a, sigma=b)


def family_log_likelihood(spec, d, data, make_coef, intercept_c):
    """Create the auxiliary variables, then ``coef`` (the unconstrained layout's order); return
    ``(coef, log-likelihood)``."""
    aux = {name: _aux_variable(name, d, data) for name in all_aux(spec)}
    coef = make_coef(d, noise_scale=d["pseudo_sigma"], n=d["n"], p=spec.n_features, logistic=True)
    eta = intercept_c + pt.dot(d["X"] - d["x_mean"], coef)
    if "offset" in d:
        eta = eta + d["offset"]
    if spec.family == "poisson":
        distribution = pm.Poisson.dist(mu=pt.exp(eta))
    elif spec.family == "negative_binomial":
        distribution = pm.NegativeBinomial.dist(mu=pt.exp(eta), alpha=aux["phi"])
    else:
        distribution = pm.StudentT.dist(nu=aux["nu"], mu=eta, sigma=aux["sigma"])
    rows = pm.logp(distribution, d["y"])
    return coef, pt.sum(rows * d["weights"]) if "weights" in d else pt.sum(rows)


def gaussian_sigma(d, data):
    """The Gaussian model's noise sd: under ``LinearRegression(sigma_prior=...)`` (``aux_sigma_*`` data),
    else ``Half-t_4(0, sd(y))``."""
    if "aux_sigma_kind" in data:
        return _aux_variable("sigma", d, data)
    return pm.HalfStudentT("sigma", nu=SIGMA_PRIOR_NU, sigma=d["sigma_prior_scale"])
