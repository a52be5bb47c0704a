r"""The prior as actually used: one function the estimators call before MAP, NUTS and empirical Bayes.

:func:`resolve_prior` checks per-coefficient scales against ``X`` and turns ``autoscale=True``
into numbers. A scale stated in standardized units (rstanarm's convention) becomes, for
coefficient ``j`` in the data's units,

.. math::
    c_j = \frac{\mathrm{sd}(y)}{\mathrm{sd}(x_j)}\ \text{(linear)},\qquad
    c_j = \frac{1}{\mathrm{sd}(x_j)}\ \text{(logistic, Poisson, negative binomial: the link's scale)},

with population sds (``ddof=0``) of the training data: a prior on the coefficient of the
standardized column ``x_j / sd(x_j)`` (and ``y / sd(y)``) with scale ``s`` is a prior with scale
``s c_j`` on the raw coefficient. Hence rescaling column ``j`` by ``c`` rescales its
coefficient by exactly ``1/c``. A fixed scale becomes ``scale * c_j``; a learned (hyperprior)
scale stays learned, with ``c_j`` as its per-coefficient ``factor``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .base import Prior
from .coefficients import ElasticNet, Horseshoe, Laplace, Normal, RegularizedHorseshoe
from .global_local import R2D2
from .hyperpriors import BayesianLasso

__all__ = ["autoscale_factors", "population_sd", "resolve_prior"]

_FAMILIES = ("gaussian", "bernoulli", "poisson", "negative_binomial", "student_t")
_UNIT_SCALE = ("bernoulli", "poisson", "negative_binomial")  # the linear predictor is on the link's scale, not y's


def autoscale_factors(X, y, family: str, feature_names=None) -> np.ndarray:
    """``c_j``: ``sd(y) / sd(x_j)`` (gaussian) or ``1 / sd(x_j)`` (bernoulli), population sds."""
    if family not in _FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {_FAMILIES}")
    constant = np.ptp(X, axis=0) == 0  # exactly constant: np.std may leave rounding
    return factors_from_sds(population_sd(X), None if family in _UNIT_SCALE else float(population_sd(y)),
                            family, feature_names, constant)


def factors_from_sds(sd_x, sd_y, family: str, feature_names=None, constant=None) -> np.ndarray:
    """``c_j`` from the sds themselves (Dask input: from one pass of moments); ``constant`` marks
    the exactly constant columns (default: ``sd_x == 0``)."""
    constant = np.flatnonzero(np.asarray(sd_x) == 0 if constant is None else constant)
    if constant.size:
        names = [feature_names[j] for j in constant] if feature_names is not None else constant.tolist()
        raise ValueError(
            f"autoscale=True divides by each column's sd, but columns {names[:10]} of X are constant "
            "(sd 0). Drop them (the intercept already models a constant), or use autoscale=False."
        )
    if family in _UNIT_SCALE:
        return 1.0 / sd_x
    if not sd_y > 0:
        raise ValueError("autoscale=True scales by sd(y), but y is constant; use autoscale=False")
    return sd_y / sd_x


def resolve_prior(prior: Prior, X, y, family: str, feature_names=None, *, sds=None) -> Prior:
    """The prior as used on this ``X``, ``y``: lengths checked, autoscale resolved into numbers.

    ``family`` is ``"gaussian"`` (linear regression) or ``"bernoulli"`` (logistic). Data not in
    memory (Dask) pass ``X = y = None`` and ``sds = (sd_x, sd_y, constant)`` from their moments.
    """
    if family not in _FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {_FAMILIES}")
    prior.check_n_features(X.shape[1] if sds is None else len(sds[0]))
    if isinstance(prior, BayesianLasso) and family != "gaussian":
        raise ValueError(f"BayesianLasso is conditioned on the Gaussian noise sd sigma, which {family} regression does not "
                         "have; use Laplace(scale=HalfCauchy(...)) to learn a lasso scale there")
    if not prior.autoscale:
        return prior
    c = (autoscale_factors(X, y, family, feature_names) if sds is None
         else factors_from_sds(sds[0], sds[1], family, feature_names, sds[2]))
    if isinstance(prior, (Horseshoe, RegularizedHorseshoe)):
        # y's unit goes into the global and slab scales, so that tau_0 (sigma, or the regularized
        # horseshoe's p0 / (D - p0) sigma / sqrt(n)) keeps its formula; 1 / sd(x_j) is the factor
        y_unit = 1.0 if family in _UNIT_SCALE else float(population_sd(y) if sds is None else sds[1])
        resolved = {"autoscale": False, "factor": prior.factor * c / y_unit}
        if isinstance(prior, RegularizedHorseshoe):
            resolved["slab_scale"] = prior.slab_scale * y_unit
        elif prior.scale is not None:
            resolved["scale"] = prior.scale * y_unit
        return dataclasses.replace(prior, **resolved)
    if isinstance(prior, R2D2):  # coefficient j's variance divided by var(x_j); sigma carries y's unit
        y_unit = 1.0 if family == "bernoulli" else float(population_sd(y) if sds is None else sds[1])
        return dataclasses.replace(prior, autoscale=False, factor=prior.factor * c / y_unit)
    if isinstance(prior, (Normal, Laplace)):
        if prior.learned:
            return dataclasses.replace(prior, autoscale=False, factor=prior.factor * c)
        return dataclasses.replace(prior, scale=prior.effective_scale() * c, autoscale=False, factor=1.0)
    if isinstance(prior, ElasticNet):
        return dataclasses.replace(prior, laplace_scale=prior.laplace_scale * c,
                                   normal_scale=prior.normal_scale * c, autoscale=False)
    raise TypeError(f"{type(prior).__name__} does not take autoscale")  # pragma: no cover - no other has the field


def population_sd(values) -> np.ndarray:
    """``np.std`` (ddof=0) along axis 0, computed on the values divided by a power of two near
    their largest magnitude: exact scaling, so data in units of 1e160 do not overflow the squares."""
    exponent = np.frexp(np.max(np.abs(values), axis=0, initial=0.0))[1]
    return np.ldexp(np.std(np.ldexp(values, -exponent), axis=0), exponent)
