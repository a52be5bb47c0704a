r"""Projection predictive selection for the families with a dispersion parameter: negative binomial
(``phi``, :mod:`.projection_nb`) and Student-t (``sigma``, with ``nu`` kept, :mod:`.projection_student_t`).

**Which projection, and why.** Each reference draw is projected by the definition of Piironen,
Paasiniemi & Vehtari (2020): the submodel's parameters, the dispersion included, minimise the
Kullback-Leibler divergence from the reference's predictive distribution of ``y`` to the
submodel's, summed over the training rows, i.e. the submodel's expected negative log-likelihood
under the reference. projpred's "traditional" projection solves this only for the Gaussian,
binomial and Poisson families; for the negative binomial and Student-t it offers the *latent*
projection (Catalina, Burkner & Vehtari 2021: a Gaussian projection of the linear predictor, the
response-scale dispersion not projected at all) or the augmented-data projection (finite support
only). kulprit projects the dispersion in closed form for the Gaussian family only. Here the exact
divergence is affordable: for the negative binomial the coefficients' part is linear in ``y`` and the
dispersion's part is a sum over the support computed once per reference (exact to a stated
truncation); for the Student-t it is a one-dimensional quadrature per row with nodes shared by
all rows. So the submodels' dispersion carries what the dropped columns explained, in the
reference's own family, and the elpd of a submodel is that of a genuine NB / Student-t model.

The forward search projects every remaining term at each step on ``search_draws`` evenly thinned
draws (as the logistic and Poisson search does) and adds the one of least summed divergence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import results
from ..families import NEGATIVE_BINOMIAL, STUDENT_T
from .projection import Projection, _design
from .projection_nb import nb_cross_entropy, nb_survival_table, project_nb
from .projection_student_t import project_student_t, t_cross_entropy, t_nodes
from .term_hierarchy import eligible

__all__ = ["DISPERSION_FAMILIES", "DispersionProjection", "dispersion_log_density", "dispersion_reference",
           "forward_search_dispersion", "project_dispersion"]

DISPERSION_FAMILIES = ("negative_binomial", "student_t")


@dataclass(frozen=True)
class DispersionProjection(Projection):
    """Projected draws with the family's projected dispersion (``dispersion``: ``{"phi": (S,)}`` or
    ``{"sigma": (S,)}``) and the reference's ``nu`` (Student-t; not projected). ``sigma`` is the
    Student-t scale, NaN for the negative binomial."""

    family: str = "negative_binomial"
    dispersion: dict = field(default_factory=dict)
    nu: np.ndarray | None = None

    def log_density(self, y, eta) -> np.ndarray:
        """``log p(y_i | projected draw s)``, shape (S, n), for the linear predictor ``eta`` (S, n)."""
        if self.family == "negative_binomial":
            return -NEGATIVE_BINOMIAL.nll_rows(eta, y, (self.dispersion["phi"][:, None],))
        return -STUDENT_T.nll_rows(eta, y, (self.sigma[:, None], self.nu[:, None]))

    def mean(self, eta) -> np.ndarray:
        """The mean response: the rate ``exp(eta)`` (negative binomial) or the location ``eta``
        (Student-t; its mean for ``nu > 1``)."""
        return np.exp(eta) if self.family == "negative_binomial" else eta


def dispersion_reference(est, idata, keep, mean) -> dict:
    """The reference's dispersion draws at ``keep`` (posterior draw indices), each (S,): ``phi``, or
    ``sigma`` and ``nu``; a value the fit held fixed is repeated. For the negative binomial also
    ``survival``, the table of :func:`.projection_nb.nb_survival_table` for the means ``mean``
    (S, n), built once for every projection of this reference (a row per draw, so thinning the
    draws thins it)."""
    fixed = est._aux_settings()[0]
    out = {}
    for name in est._family_object.aux_names:
        if name in idata["posterior"]:
            out[name] = np.asarray(results.stacked_draws(idata, name), dtype=float)[keep]
        else:
            out[name] = np.full(len(keep), float(fixed[name]))
    if est._family == "negative_binomial":
        out["survival"] = nb_survival_table(mean, out["phi"])
    return out


def reference_log_density(y, eta, aux: dict, family: str) -> np.ndarray:
    """The reference's pointwise log-likelihood (S, n), as ``est.loo`` computes it."""
    if family == "negative_binomial":
        return -NEGATIVE_BINOMIAL.nll_rows(eta, y, (aux["phi"][:, None],))
    return -STUDENT_T.nll_rows(eta, y, (aux["sigma"][:, None], aux["nu"][:, None]))


def _solve(Z, mu, aux: dict, family: str):
    if family == "negative_binomial":
        return project_nb(Z, mu, aux["phi"], table=aux.get("survival"))
    return project_student_t(Z, mu, aux["sigma"], aux["nu"])


def project_dispersion(X, mu, aux: dict, columns, fit_intercept: bool, family: str) -> DispersionProjection:
    """The projection of reference draws (``mu``: NB means or Student-t locations, (S, n); ``aux``
    from :func:`dispersion_reference`) onto ``columns``."""
    columns = tuple(int(j) for j in columns)
    Z = _design(X, columns, fit_intercept)
    B, dispersion = _solve(Z, mu, aux, family)
    S = len(mu)
    intercept = B[:, 0] if fit_intercept else np.zeros(S)
    coef = B[:, int(fit_intercept):].copy()
    if family == "negative_binomial":
        return DispersionProjection(columns, coef, intercept, np.full(S, np.nan), family, {"phi": dispersion})
    return DispersionProjection(columns, coef, intercept, dispersion, family, {"sigma": dispersion}, aux["nu"])


def dispersion_divergence(X, mu, aux: dict, columns, fit_intercept: bool, family: str) -> float:
    """Summed (over draws and rows) divergence of the projection onto ``columns``, up to a constant
    free of the submodel (the cross-entropy of :mod:`.projection_nb` / :mod:`.projection_student_t`)."""
    projection = project_dispersion(X, mu, aux, columns, fit_intercept, family)
    Z = _design(X, projection.columns, fit_intercept)
    B = np.hstack([projection.intercept[:, None], projection.coef]) if fit_intercept else projection.coef
    if family == "negative_binomial":
        table = aux["survival"] if "survival" in aux else nb_survival_table(mu, aux["phi"])
        return float(np.sum(nb_cross_entropy(B, np.log(projection.dispersion["phi"]), Z, mu, table)))
    nodes = t_nodes(aux["nu"])
    return float(np.sum(t_cross_entropy(B, np.log(projection.sigma), Z, mu, aux["sigma"], aux["nu"], nodes)))


def forward_search_dispersion(X, mu, aux: dict, fit_intercept: bool, max_terms: int, family: str,
                              groups=None, parents=None) -> list[int]:
    """Forward search by :func:`dispersion_divergence` (each step projects every remaining term;
    ``groups``: column-index lists, then group indices are returned). ``mu``, ``aux``: the draws
    the search runs on (the caller thins them)."""
    groups = [[j] for j in range(X.shape[1])] if groups is None else [list(g) for g in groups]
    if family == "negative_binomial" and "survival" not in aux:
        aux = {**aux, "survival": nb_survival_table(mu, aux["phi"])}
    chosen: list[int] = []
    for _ in range(min(max_terms, len(groups))):
        remaining = [g for g in range(len(groups)) if g not in chosen and eligible(g, chosen, parents)]
        columns = [j for g in chosen for j in groups[g]]
        costs = [dispersion_divergence(X, mu, aux, columns + groups[g], fit_intercept, family)
                 for g in remaining]
        chosen.append(remaining[int(np.argmin(costs))])
    return chosen
