r"""Gelman, Goodrich, Gabry & Vehtari's (2019) Bayesian R^2, one value per draw:

.. math:: R^2_s = \frac{V_{i}(\mu_{si})}{V_{i}(\mu_{si}) + \overline{\sigma^2_{s}}}

with ``V_i`` the variance over rows (ddof=1, as ArviZ's ``bayesian_r2``) of the mean response
``mu = g^-1(offset + b + x'w)`` and the residual variance the model's, averaged over rows:
``sigma_s^2`` (Gaussian), ``mu (1 - mu)`` (Bernoulli), ``mu`` (Poisson), ``mu + mu^2 / phi``
(negative binomial), ``sigma^2 nu / (nu - 2)`` (Student-t; infinite for ``nu <= 2``, where that
draw's R^2 is 0).

Row blocks with Chan's pairwise update of the means and sums of squares (:class:`RowMoments`), so
there is never a draws x rows array; the same moments, merged in row order, come back from the
partitions of Dask ``X`` (:mod:`.dask_passes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .. import results
from ..families import get_family
from .loo import auxiliary_draws

__all__ = ["RowMoments", "bayes_r2_draws", "r2_draws", "row_moments"]


@dataclass
class RowMoments:
    """Per draw: rows seen, mean and sum of squared deviations of ``mu`` over them, summed noise variance."""

    count: int
    mean: np.ndarray
    m2: np.ndarray
    noise: np.ndarray

    def merge(self, other: "RowMoments") -> "RowMoments":
        """Chan, Golub & LeVeque's pairwise update (exact in exact arithmetic, stable in floating point)."""
        total = self.count + other.count
        if total == 0:
            return self
        delta = other.mean - self.mean
        return RowMoments(total, self.mean + delta * other.count / total,
                          self.m2 + other.m2 + delta**2 * self.count * other.count / total, self.noise + other.noise)


def row_moments(draws: dict, X, family: str, offset=None, budget=None) -> RowMoments:
    """:class:`RowMoments` of the rows ``X`` for the draws ``draws`` (``coef``, ``intercept`` and the
    family's auxiliary columns ``aux``), block by block (``results.row_blocks``)."""
    coef, intercept, aux = draws["coef"], draws["intercept"], draws["aux"]
    zeros = np.zeros(len(coef))
    total = RowMoments(0, zeros, zeros, zeros)
    for rows in results.row_blocks(len(X), len(coef), budget):
        mu = coef @ X[rows].T + intercept
        if offset is not None:
            mu = mu + offset[rows]
        noise = zeros
        if family == "bernoulli":
            mu = special.expit(mu)
            noise = np.sum(mu * (1 - mu), axis=1)
        elif family == "poisson":
            mu = np.exp(mu)
            noise = np.sum(mu, axis=1)
        elif family == "negative_binomial":
            mu = np.exp(mu)
            noise = np.sum(mu + mu**2 / aux[0], axis=1)
        block_mean = mu.mean(axis=1)
        total = total.merge(RowMoments(mu.shape[1], block_mean, np.sum((mu - block_mean[:, None]) ** 2, axis=1), noise))
    return total


def draws_of(idata, family: str, fit_intercept: bool, aux_fixed=None) -> dict:
    """The draws :func:`row_moments` reads: ``coef`` (draws x p), ``intercept`` (draws x 1 or 0), ``aux``."""
    other = None if family in ("gaussian", "bernoulli") else get_family(family)
    return {"coef": results.stacked_draws(idata, "coef"),
            "intercept": results.stacked_draws(idata, "intercept")[:, None] if fit_intercept else 0.0,
            "aux": () if other is None else auxiliary_draws(idata, other.aux_names, aux_fixed)}


def r2_draws(moments: RowMoments, idata, draws: dict, family: str, sigma=None) -> np.ndarray:
    """R^2 per draw from the rows' :class:`RowMoments` (module docstring)."""
    n_draws = len(draws["coef"])
    if moments.count < 2:
        raise ValueError(f"Bayesian R^2 is a variance over rows: it needs at least 2 rows, got {moments.count}")
    variance = moments.m2 / (moments.count - 1)
    if family == "gaussian":
        residual = results.stacked_draws(idata, "sigma") ** 2 if sigma is None else np.full(n_draws, sigma**2)
    elif family == "student_t":
        scale, nu = (np.broadcast_to(np.ravel(a), (n_draws,)) for a in draws["aux"])
        with np.errstate(divide="ignore"):
            residual = np.where(nu > 2, scale**2 * nu / np.maximum(nu - 2, 1e-300), np.inf)
    else:
        residual = moments.noise / moments.count
    return variance / (variance + residual)


def bayes_r2_draws(idata, X, family: str, fit_intercept: bool, sigma=None, budget=None, *, offset=None,
                   aux_fixed=None) -> np.ndarray:
    """Draws of Bayesian R^2 on the in-memory rows ``X`` (module docstring)."""
    draws = draws_of(idata, family, fit_intercept, aux_fixed)
    return r2_draws(row_moments(draws, X, family, offset, budget), idata, draws, family, sigma)
