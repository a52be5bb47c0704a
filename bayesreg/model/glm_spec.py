r"""The model data of the count and robust families (Poisson, negative binomial, Student-t), with
offsets and row weights. No PyMC here; :mod:`bayesreg.model.pymc_families` builds the PyMC
likelihood from it, :mod:`bayesreg.sampling.nutpie` packs it for the compiled kernel.

Data keys (beside the design's ``X``, ``y``, ``x_mean``, ``n`` and the prior's ``prior_*``):
``offset`` and ``weights`` when given; per auxiliary parameter ``a`` (``phi``; ``sigma``, ``nu``)
either ``aux_<a>`` (its fixed value) or ``aux_<a>_kind``, ``aux_<a>_a``, ``aux_<a>_b`` (its prior:
kind 0 Exponential(rate a), 1 Gamma(shape a, rate b), 2 Half-t(nu a, scale b)). ``pseudo_sigma``
(for the regularized horseshoe's tau0): Piironen & Vehtari's ``1 / sqrt(mean y)`` for the count
families, ``sd(y)`` for Student-t.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..families import FAMILIES, Exponential, Gamma, HalfT
from ..families.gaussian import SIGMA_PRIOR_NU
from ..priors import Prior
from .spec import ModelSpec, prior_data

GLM_FAMILIES = ("poisson", "negative_binomial", "student_t")
PRIOR_KINDS = {Exponential: 0, Gamma: 1, HalfT: 2}


def aux_prior_data(prior) -> tuple[float, float, float]:
    """``(kind, a, b)`` of an auxiliary prior (module docstring)."""
    if isinstance(prior, Exponential):
        return 0.0, prior.rate, 0.0
    if isinstance(prior, Gamma):
        return 1.0, prior.shape, prior.rate
    if isinstance(prior, HalfT):
        return 2.0, prior.nu, prior.scale
    raise TypeError(f"no model for the auxiliary prior {prior!r}")


def sigma_prior_data(prior) -> dict[str, np.ndarray]:
    """``LinearRegression(sigma_prior=...)``: the noise sd's prior as Gaussian model data
    (``aux_sigma_kind``, ``aux_sigma_a``, ``aux_sigma_b``, as the families' auxiliary priors)."""
    return {f"aux_sigma_{key}": np.array(float(value)) for key, value in zip(("kind", "a", "b"), aux_prior_data(prior))}


def gaussian_sigma_prior(data: dict) -> tuple[float, float, float]:
    """``(kind, a, b)`` of the Gaussian model's prior on sigma: the user's (:func:`sigma_prior_data`),
    else the default ``Half-t_4(0, sigma_prior_scale)`` (``sd(y)``)."""
    if "aux_sigma_kind" in data:
        return tuple(float(data[f"aux_sigma_{key}"]) for key in ("kind", "a", "b"))
    return 2.0, SIGMA_PRIOR_NU, float(data.get("sigma_prior_scale", 1.0))


def glm_inputs(X, y, prior: Prior, family: str, *, fit_intercept: bool, offset=None, sample_weight=None,
               aux_fixed: dict | None = None, aux_priors: dict | None = None) -> tuple[ModelSpec, dict]:
    """The spec and data of a count or robust model (module docstring)."""
    the_family = FAMILIES[family]
    n, p = X.shape
    weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    aux_fixed = dict(aux_fixed or {})
    data = {
        "X": np.ascontiguousarray(X, dtype=float),
        "y": np.ascontiguousarray(y, dtype=float),
        # weighted, so that integer weights give the repeated rows' density at every point
        "x_mean": weights @ X / weights.sum() if fit_intercept else np.zeros(p),
        "n": np.array(float(weights.sum())),
    }
    mean = float(weights @ y / weights.sum())
    if family == "student_t":
        data["pseudo_sigma"] = np.array(float(np.sqrt(weights @ (y - mean) ** 2 / weights.sum())) or 1.0)
    else:
        data["pseudo_sigma"] = np.array(1.0 / math.sqrt(max(mean, 1e-300)))
    if offset is not None:
        data["offset"] = np.ascontiguousarray(offset, dtype=float)
    if sample_weight is not None:
        data["weights"] = np.ascontiguousarray(weights)
    for name in the_family.aux_names:
        if name in aux_fixed:
            data[f"aux_{name}"] = np.array(float(aux_fixed[name]))
        else:
            chosen = (aux_priors or {}).get(name) or the_family.default_aux_prior(name, y, weights)
            for key, value in zip(("kind", "a", "b"), aux_prior_data(chosen)):
                data[f"aux_{name}_{key}"] = np.array(float(value))
    spec = replace(ModelSpec.of(family, prior, p, fit_intercept),
                   aux_fixed=tuple(name for name in the_family.aux_names if name in aux_fixed))
    return spec, {**data, **prior_data(prior, p)}


def free_aux(spec: ModelSpec) -> list[str]:
    """The auxiliary parameters sampled (after the intercept, in this order)."""
    if spec.family not in GLM_FAMILIES:
        return []
    return [name for name in FAMILIES[spec.family].aux_names if name not in spec.aux_fixed]


def all_aux(spec: ModelSpec) -> list[str]:
    return list(FAMILIES[spec.family].aux_names) if spec.family in GLM_FAMILIES else []
