"""What the selection's validations share: the reference's draws on some rows, the search, and the
projection of those draws onto a submodel with its log predictive density (:mod:`.selection` and
:mod:`.selection_kfold`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import results
from .draw_clusters import cluster_draws
from .projection import Projection, forward_search, project_gaussian
from .projection_dispersion import (DISPERSION_FAMILIES, dispersion_reference, forward_search_dispersion,
                                    project_dispersion, reference_log_density)
from .projection_glm import FAMILIES, forward_search_glm, project_glm

__all__ = ["Reference", "log_density", "mean_of", "project", "reference_draws", "search"]


@dataclass(frozen=True, repr=False)
class Reference:
    """The reference's draws on the training rows, as the projections need them: ``mu`` (S, n) is
    the linear predictor (Gaussian, the ``offset`` included) or the mean (probability, Poisson rate),
    ``sigma`` (S,) the Gaussian noise sd (None otherwise); ``offset`` and ``weights`` those of the rows
    (None: 0 and 1)."""

    X: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray | None
    fit_intercept: bool
    family: str
    offset: np.ndarray | None = None
    weights: np.ndarray | None = None


def log_normal(y, mean, sd):
    return -0.5 * np.log(2 * np.pi) - np.log(sd) - (y - mean) ** 2 / (2 * sd**2)


def _thinned(idata, ndraws: int) -> np.ndarray:
    total = idata["posterior"].sizes["chain"] * idata["posterior"].sizes["draw"]
    return np.unique(np.linspace(0, total - 1, min(ndraws, total)).round().astype(int))


def project(reference: Reference, columns) -> Projection:
    """Every reference draw projected onto ``columns`` (:mod:`.projection`, :mod:`.projection_glm`,
    :mod:`.projection_dispersion`)."""
    r = reference
    if r.family == "gaussian":
        return project_gaussian(r.X, r.mu, r.sigma, columns, r.fit_intercept, r.offset, r.weights)
    if r.family in DISPERSION_FAMILIES:  # ``sigma`` holds the dispersion draws (a dict); no offset, weights yet
        return project_dispersion(r.X, r.mu, r.sigma, columns, r.fit_intercept, r.family)
    return project_glm(r.X, r.mu, columns, r.fit_intercept, r.family, offset=r.offset, weights=r.weights)


def log_density(y, eta, projection: Projection, family: str):
    if family == "gaussian":
        return log_normal(y, eta, projection.sigma[:, None])
    if family in DISPERSION_FAMILIES:
        return projection.log_density(y, eta)
    return FAMILIES[family].log_density(y, eta)


def mean_of(eta, family: str):
    """The mean response of a linear predictor: ``eta`` itself (Gaussian, Student-t) or the inverse link."""
    if family in ("gaussian", "student_t"):
        return eta
    return np.exp(eta) if family == "negative_binomial" else FAMILIES[family].mean(eta)


def reference_draws(est, idata, X, y, ndraws: int, offset=None):
    """``(mu, sigma, log-likelihood)`` of the reference at ``ndraws`` evenly thinned draws of
    ``idata`` (``est``'s posterior or a refit's) on rows ``X, y`` with their ``offset``: ``mu`` is the
    mean response's linear predictor (Gaussian) or mean (probability, Poisson rate; there ``sigma``
    is None); for the negative binomial and Student-t, the mean (location) and ``sigma`` a dict of
    dispersion draws."""
    keep = _thinned(idata, ndraws)
    coef = results.stacked_draws(idata, "coef")[keep]
    intercept = results.stacked_draws(idata, "intercept")[keep] if est.fit_intercept else np.zeros(len(keep))
    eta = coef @ X.T + intercept[:, None]
    if offset is not None:
        eta = eta + offset
    if est._family == "gaussian":
        known = est._known_sigma()
        sigma = np.full(len(keep), known) if known is not None else results.stacked_draws(idata, "sigma")[keep]
        return eta, sigma, log_normal(y, eta, sigma[:, None])
    if est._family in DISPERSION_FAMILIES:
        mean = np.exp(eta) if est._family == "negative_binomial" else eta
        aux = dispersion_reference(est, idata, keep, mean)
        return mean, aux, reference_log_density(y, eta, aux, est._family)
    glm = FAMILIES[est._family]
    return glm.mean(eta), None, glm.log_density(y, eta)


def search(reference: Reference, max_terms: int, groups, search_draws: int, random_seed=None, parents=None) -> list:
    """The forward search's path (term indices): Gaussian in closed form over every draw; a GLM on
    ``search_draws`` clusters of the draws (:mod:`.draw_clusters`, seeded by ``random_seed``), each
    cluster's divergence counted once per draw it holds; the negative binomial and Student-t on
    ``search_draws`` evenly thinned draws (:mod:`.projection_dispersion`)."""
    r = reference
    if r.family == "gaussian":
        return forward_search(r.X, r.mu, r.sigma, r.fit_intercept, max_terms, groups=groups, offset=r.offset,
                              weights=r.weights, parents=parents)
    if r.family in DISPERSION_FAMILIES:
        rows = _thinned_rows(len(r.mu), search_draws)
        return forward_search_dispersion(r.X, r.mu[rows], {name: draws[rows] for name, draws in r.sigma.items()},
                                         r.fit_intercept, max_terms, r.family, groups=groups, parents=parents)
    glm = FAMILIES[r.family]
    targets, sizes, _ = cluster_draws(glm.link(r.mu), r.mu, search_draws, random_seed, r.weights)
    return forward_search_glm(r.X, targets, r.fit_intercept, max_terms, r.family, groups=groups, offset=r.offset,
                              weights=r.weights, draw_weights=sizes, parents=parents)


def _thinned_rows(total: int, count: int) -> np.ndarray:
    return np.unique(np.linspace(0, total - 1, min(count, total)).round().astype(int))
