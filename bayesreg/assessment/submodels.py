"""What the selection's validations share: the reference's draws on some rows, the search, and the
projection of those draws onto a submodel with its log predictive density (:mod:`.selection` and
:mod:`.selection_kfold`)."""

from __future__ import annotations

import numpy as np

from .. import results
from .projection import Projection, forward_search, project_gaussian
from .projection_dispersion import (DISPERSION_FAMILIES, dispersion_reference, forward_search_dispersion,
                                    project_dispersion, reference_log_density)
from .projection_glm import FAMILIES, forward_search_glm, project_glm

__all__ = ["log_density", "mean_of", "project", "reference_draws", "search"]


def log_normal(y, mean, sd):
    return -0.5 * np.log(2 * np.pi) - np.log(sd) - (y - mean) ** 2 / (2 * sd**2)


def _thinned(idata, ndraws: int) -> np.ndarray:
    total = idata["posterior"].sizes["chain"] * idata["posterior"].sizes["draw"]
    return np.unique(np.linspace(0, total - 1, min(ndraws, total)).round().astype(int))


def project(reference, columns) -> Projection:
    """``reference``: ``(X, mu, sigma, fit_intercept, family)`` as :func:`reference_draws` gives them."""
    X, mu, sigma, fit_intercept, family = reference
    if family == "gaussian":
        return project_gaussian(X, mu, sigma, columns, fit_intercept)
    if family in DISPERSION_FAMILIES:  # ``sigma`` holds the dispersion draws (a dict)
        return project_dispersion(X, mu, sigma, columns, fit_intercept, family)
    return project_glm(X, mu, columns, fit_intercept, family)


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


def reference_draws(est, idata, X, y, ndraws: int):
    """``(mu, sigma, log-likelihood)`` of the reference at ``ndraws`` evenly thinned draws of
    ``idata`` (``est``'s posterior or a refit's) on rows ``X, y``: ``mu`` is the mean response's
    linear predictor (Gaussian) or mean (probability, Poisson rate; there ``sigma`` is None); for the
    negative binomial and Student-t, the mean (location) and ``sigma`` a dict of dispersion draws."""
    keep = _thinned(idata, ndraws)
    coef = results.stacked_draws(idata, "coef")[keep]
    intercept = results.stacked_draws(idata, "intercept")[keep] if est.fit_intercept else np.zeros(len(keep))
    eta = coef @ X.T + intercept[:, None]
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


def search(X, mu, sigma, fit_intercept: bool, max_terms: int, groups, search_draws: int, family: str) -> list:
    """The forward search's path (term indices): Gaussian in closed form, a GLM on ``search_draws`` draws."""
    if family == "gaussian":
        return forward_search(X, mu, sigma, fit_intercept, max_terms, groups=groups)
    if family in DISPERSION_FAMILIES:
        rows = _thinned_rows(len(mu), search_draws)
        return forward_search_dispersion(X, mu[rows], {name: draws[rows] for name, draws in sigma.items()},
                                         fit_intercept, max_terms, family, groups=groups)
    return forward_search_glm(X, mu[_thinned_rows(len(mu), search_draws)], fit_intercept, max_terms, family,
                              groups=groups)


def _thinned_rows(total: int, count: int) -> np.ndarray:
    return np.unique(np.linspace(0, total - 1, min(count, total)).round().astype(int))
