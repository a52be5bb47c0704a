r"""Projection of a generalized-linear reference posterior onto a submodel, by Newton's method
(IRLS) per draw (projpred's ``project`` for the Bernoulli and Poisson families).

Draw ``s`` of the reference predicts the mean ``m_si`` (a probability, or a Poisson rate). Its
projection onto columns ``S`` minimises the Kullback-Leibler divergence from the reference's
predictive to the submodel's, summed over rows; for an exponential family with canonical link
that is the family's negative log-likelihood with the *fractional* targets ``m_si`` in place of
``y``, up to terms free of ``b``:

.. math:: b_s^\perp = \arg\min_b \sum_i A(z_i'b) - m_{si}\, z_i'b,\qquad
          A(\eta) = \log(1 + e^\eta)\ \text{(Bernoulli)},\quad A(\eta) = e^\eta\ \text{(Poisson)},

whose score equations are ``Z'(A'(Z b_s) - m_s) = 0``: the submodel's mean matches the reference's
mean along every kept column. Targets inside the mean's range (probabilities in (0, 1), rates > 0)
cannot separate, so the minimum exists whenever ``Z`` has full column rank. Newton steps
``b <- b - H^{-1} g`` with ``g = Z'(A'(Zb) - m_s)`` and ``H = Z' diag(A''(Zb)) Z``, all draws at
once, halving a draw's step while its loss would rise. A family is one row of :data:`FAMILIES`.

**Offset and weights.** With an offset ``o`` in both linear predictors (``eta = o + Z b``; the
targets ``m_s = A'(o + b_s + X w_s)`` carry it already) and row weights ``v_i`` (``v_i`` copies of
row ``i``) the loss is ``sum_i v_i (A(eta_i) - m_si eta_i)``: score ``Z' V (A'(eta) - m_s) = 0``,
Hessian ``Z' V diag(A''(eta)) Z``.

**Clustered draws** (the search's, :mod:`.draw_clusters`): a cluster ``c`` of draws is projected
once, with the mean of its draws' means as the target (the loss is linear in the target, so that
minimises the cluster's summed divergence with one parameter vector: ``sum_{s in c} Z'V(A'(eta) -
m_s) = 0``), and its divergence counts ``|c|`` times in the search's sum (``draw_weights``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

from ..families import POISSON
from .projection import Projection, _design
from .term_hierarchy import eligible

__all__ = ["FAMILIES", "bernoulli_divergence", "forward_search_glm", "glm_divergence", "project_bernoulli",
           "project_glm", "project_poisson"]


@dataclass(frozen=True)
class ProjectionFamily:
    """What the projection needs of a canonical-link family, in the linear predictor ``eta``."""

    cumulant: Callable  # A(eta): the loss is A(eta) - target * eta
    mean: Callable  # A'(eta), the inverse link
    variance: Callable  # A''(eta), the Newton weight
    link: Callable  # start: the intercept of the rows' mean target
    log_density: Callable  # log p(y | eta), for the validation


FAMILIES = {
    "bernoulli": ProjectionFamily(lambda eta: np.logaddexp(0.0, eta), special.expit,
                                  lambda eta: special.expit(eta) * special.expit(-eta),
                                  lambda m: special.logit(np.clip(m, 1e-12, 1 - 1e-12)),
                                  lambda y, eta: y * eta - np.logaddexp(0.0, eta)),
    "poisson": ProjectionFamily(np.exp, np.exp, np.exp, lambda m: np.log(np.maximum(m, 1e-300)),
                                lambda y, eta: -POISSON.nll_rows(eta, y)),
}


def _loss(B, Z, target, family: ProjectionFamily, offset, weights) -> np.ndarray:
    eta = B @ Z.T + offset
    with np.errstate(over="ignore"):  # a trial step may overflow exp: its infinite loss halves the step
        return (family.cumulant(eta) - target * eta) @ weights


def _rows(n: int, offset, weights):
    """The offset and weights as arrays (0 and 1 where not given)."""
    return (np.zeros(n) if offset is None else np.asarray(offset, float),
            np.ones(n) if weights is None else np.asarray(weights, float))


def project_glm(X, target, columns, fit_intercept: bool, family: str, max_iter: int = 100,
                tol: float = 1e-12, offset=None, weights=None) -> Projection:
    """The projection (module docstring) of the reference means ``target`` (S, n) onto ``columns``,
    with the rows' ``offset`` and ``weights`` (None: 0 and 1); ``sigma`` of the result is NaN
    (neither family has a noise sd)."""
    glm = FAMILIES[family]
    columns = tuple(int(j) for j in columns)
    Z = _design(X, columns, fit_intercept)
    S, k = len(target), Z.shape[1]
    offset, weights = _rows(Z.shape[0], offset, weights)
    B = np.zeros((S, k))
    if fit_intercept:  # a start: the weighted mean target's link, less the mean offset
        B[:, 0] = glm.link(target @ weights / weights.sum()) - offset @ weights / weights.sum()
    if k:
        loss = _loss(B, Z, target, glm, offset, weights)
        outer = (Z[:, :, None] * Z[:, None, :]).reshape(len(Z), k * k)  # row i: z_i z_i', so H = V @ outer
        for _ in range(max_iter):
            eta = B @ Z.T + offset
            gradient = ((glm.mean(eta) - target) * weights) @ Z
            hessian = ((glm.variance(eta) * weights) @ outer).reshape(S, k, k)  # one product (BLAS), not einsum's loop
            step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
            size = np.ones((S, 1))
            for _ in range(60):  # step halving per draw until its loss does not rise
                trial = B - size * step
                new_loss = _loss(trial, Z, target, glm, offset, weights)
                rising = ~(new_loss <= loss + 1e-12 * np.abs(loss))
                if not rising.any():
                    break
                size[rising] *= 0.5
            B, loss = trial, new_loss
            if np.max(np.abs(size * step)) < tol * (1 + np.max(np.abs(B))):
                break
    intercept = B[:, 0] if fit_intercept else np.zeros(S)
    return Projection(columns, B[:, int(fit_intercept):].copy(), intercept, np.full(S, np.nan))


def project_bernoulli(X, prob, columns, fit_intercept: bool, **kwargs) -> Projection:
    """:func:`project_glm` of reference probabilities ``prob`` (S, n) (logistic regression)."""
    return project_glm(X, prob, columns, fit_intercept, "bernoulli", **kwargs)


def project_poisson(X, rate, columns, fit_intercept: bool, **kwargs) -> Projection:
    """:func:`project_glm` of reference rates ``rate`` (S, n) (Poisson regression, log link; ``offset=log(exposure)``)."""
    return project_glm(X, rate, columns, fit_intercept, "poisson", **kwargs)


def glm_divergence(X, target, columns, fit_intercept: bool, family: str, offset=None, weights=None,
                   draw_weights=None) -> float:
    """Summed (over draws and rows, weighted by ``draw_weights`` and the rows' ``weights``) divergence
    of the projection onto ``columns``, up to a constant (the cross-entropy; the reference's own
    entropy does not depend on the submodel)."""
    projection = project_glm(X, target, columns, fit_intercept, family, offset=offset, weights=weights)
    B = np.hstack([projection.intercept[:, None], projection.coef]) if fit_intercept else projection.coef
    loss = _loss(B, _design(X, projection.columns, fit_intercept), target, FAMILIES[family],
                 *_rows(len(X), offset, weights))
    return float(np.sum(loss) if draw_weights is None else loss @ draw_weights)


def bernoulli_divergence(X, prob, columns, fit_intercept: bool) -> float:
    return glm_divergence(X, prob, columns, fit_intercept, "bernoulli")


def forward_search_glm(X, target, fit_intercept: bool, max_terms: int, family: str, groups=None, offset=None,
                       weights=None, draw_weights=None, parents=None) -> list[int]:
    """Forward search by :func:`glm_divergence`: each step projects every remaining column
    (or group of columns, ``groups``: then group indices are returned). ``target``: the draws' (or
    the clusters') means, each counted ``draw_weights`` times (None: once)."""
    groups = [[j] for j in range(X.shape[1])] if groups is None else [list(g) for g in groups]
    chosen: list[int] = []
    for _ in range(min(max_terms, len(groups))):
        remaining = [g for g in range(len(groups)) if g not in chosen and eligible(g, chosen, parents)]
        columns = [j for g in chosen for j in groups[g]]
        costs = [glm_divergence(X, target, columns + groups[g], fit_intercept, family, offset, weights, draw_weights)
                 for g in remaining]
        chosen.append(remaining[int(np.argmin(costs))])
    return chosen
