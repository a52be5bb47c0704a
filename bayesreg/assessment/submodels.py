"""What the selection's validations share: the reference's draws on some rows, the search, and the
projection of those draws onto a submodel with its log predictive density (:mod:`.selection` and
:mod:`.selection_kfold`)."""

from __future__ import annotations

import numpy as np
from scipy import special

from .. import results
from .projection import Projection, forward_search, project_gaussian
from .projection_glm import forward_search_bernoulli, project_bernoulli

__all__ = ["log_density", "project", "reference_draws", "search"]


def log_normal(y, mean, sd):
    return -0.5 * np.log(2 * np.pi) - np.log(sd) - (y - mean) ** 2 / (2 * sd**2)


def _thinned(idata, ndraws: int) -> np.ndarray:
    total = idata["posterior"].sizes["chain"] * idata["posterior"].sizes["draw"]
    return np.unique(np.linspace(0, total - 1, min(ndraws, total)).round().astype(int))


def project(reference, columns) -> Projection:
    X, mu, sigma, fit_intercept = reference
    if sigma is None:
        return project_bernoulli(X, mu, columns, fit_intercept)
    return project_gaussian(X, mu, sigma, columns, fit_intercept)


def log_density(y, eta, projection: Projection, gaussian: bool):
    if gaussian:
        return log_normal(y, eta, projection.sigma[:, None])
    return y * eta - np.logaddexp(0.0, eta)


def reference_draws(est, idata, X, y, ndraws: int):
    """``(mu, sigma, log-likelihood)`` of the reference at ``ndraws`` evenly thinned draws of
    ``idata`` (``est``'s posterior or a refit's) on rows ``X, y``: ``mu`` is the mean response's
    linear predictor (Gaussian) or probability (logistic, where ``sigma`` is None)."""
    keep = _thinned(idata, ndraws)
    coef = results.stacked_draws(idata, "coef")[keep]
    intercept = results.stacked_draws(idata, "intercept")[keep] if est.fit_intercept else np.zeros(len(keep))
    eta = coef @ X.T + intercept[:, None]
    if est._family == "gaussian":
        known = est._known_sigma()
        sigma = np.full(len(keep), known) if known is not None else results.stacked_draws(idata, "sigma")[keep]
        return eta, sigma, log_normal(y, eta, sigma[:, None])
    return special.expit(eta), None, y * eta - np.logaddexp(0.0, eta)


def search(X, mu, sigma, fit_intercept: bool, max_terms: int, groups, search_draws: int) -> list:
    """The forward search's path (term indices): Gaussian in closed form, logistic on ``search_draws`` draws."""
    if sigma is not None:
        return forward_search(X, mu, sigma, fit_intercept, max_terms, groups=groups)
    return forward_search_bernoulli(X, mu[_thinned_rows(len(mu), search_draws)], fit_intercept, max_terms,
                                    groups=groups)


def _thinned_rows(total: int, count: int) -> np.ndarray:
    return np.unique(np.linspace(0, total - 1, min(count, total)).round().astype(int))
