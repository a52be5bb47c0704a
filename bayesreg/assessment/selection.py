r"""Projection predictive variable selection (projpred's ``cv_varsel`` with ``validate_search=FALSE``)
for linear regression (closed-form projection, :mod:`.projection`) and logistic regression
(Newton's method per draw, :mod:`.projection_glm`).

1. Reference: ``S`` draws (thinned evenly to at most ``ndraws``) of the fitted estimator's
   posterior, ``mu_s = b_s + X w_s`` and ``sigma_s``.
2. Search: forward selection of columns by the projection's divergence
   (:func:`~bayesreg.assessment.projection.forward_search`), up to ``max_terms``.
3. Validation by PSIS-LOO: the reference's log-likelihood gives Pareto-smoothed weights
   ``w_is`` (normalised over draws), and each submodel ``k`` (its first ``k`` columns, projected
   draw by draw) is scored with the same weights (projpred's LOO for projected draws):

   .. math:: \mathrm{elpd}_k = \sum_i \log \sum_s w_{is}\, N(y_i \mid \mu^\perp_{ksi}, (\sigma^\perp_{ks})^2),
             \qquad \hat y_{ki} = \sum_s w_{is}\,\mu^\perp_{ksi}.

   ``elpd_diff_k = elpd_k - elpd_ref`` with standard error ``sqrt(n var_i(d_i))`` of the pointwise
   differences; RMSE of the LOO predictions ``hat y`` with a bootstrap (over rows) standard error
   of its difference to the reference's.
4. ``suggest_size``: projpred's rule, the smallest ``k`` with ``elpd_diff_k + SE_k >= 0``
   (its upper one-SE bound reaches the reference).

The search itself is not cross-validated (projpred's ``validate_search=TRUE`` repeats it per
fold): with many candidates and few rows the chosen path's elpd is optimistic. Terms are columns,
or a formula fit's terms (``est.terms_``): a factor's dummies enter and leave together.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from .. import results
from .loo import LOOWarning, psis_loo, relative_efficiency
from .projection import Projection, forward_search, project_gaussian
from .projection_glm import forward_search_bernoulli, project_bernoulli

__all__ = ["ProjectedModel", "Selection", "select"]


def _log_normal(y, mean, sd):
    return -0.5 * np.log(2 * np.pi) - np.log(sd) - (y - mean) ** 2 / (2 * sd**2)


@dataclass(frozen=True)
class ProjectedModel:
    """A submodel's projected posterior: predicts and summarises like a fitted estimator."""

    projection: Projection
    feature_names: list
    fit_intercept: bool

    @property
    def terms(self) -> list:
        return [self.feature_names[j] for j in self.projection.columns]

    @property
    def gaussian(self) -> bool:
        return not np.isnan(self.projection.sigma).all()  # a logistic projection has no sigma

    def predict(self, X) -> np.ndarray:
        """Mean over projected draws of ``b + X_S w`` (linear) or of ``P(y = 1) = logit^-1(b + X_S w)``
        (logistic); ``X`` with all the reference's columns."""
        eta = self.projection.linear_predictor(np.asarray(X, dtype=float))
        return (eta if self.gaussian else special.expit(eta)).mean(axis=0)

    def summary(self, ci_prob: float = results.CI_PROB) -> pd.DataFrame:
        """Mean, sd and equal-tailed interval of each projected coefficient, the intercept and sigma."""
        columns = {name: self.projection.coef[:, k] for k, name in enumerate(self.terms)}
        if self.fit_intercept:
            columns["intercept"] = self.projection.intercept
        if self.gaussian:
            columns["sigma"] = self.projection.sigma
        percent = round(100 * ci_prob)
        rows = {name: [v.mean(), v.std(ddof=1), *np.quantile(v, [(1 - ci_prob) / 2, (1 + ci_prob) / 2])]
                for name, v in columns.items()}
        return pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "sd", f"eti{percent}_lb", f"eti{percent}_ub"])


@dataclass(frozen=True)
class Selection:
    """The result of :func:`select`: the search path, its LOO validation, and projections."""

    order: list  # term indices in the order the search added them
    feature_names: list
    elpd_i: np.ndarray  # (max_terms + 1, n): LOO elpd per row of sizes 0..max_terms
    reference_elpd_i: np.ndarray
    loo_predictions: np.ndarray  # (max_terms + 1, n)
    reference_predictions: np.ndarray
    y: np.ndarray
    pareto_k: np.ndarray
    _reference: tuple = field(repr=False)  # (X, mu or probabilities, sigma or None, fit_intercept)
    random_seed: object = None
    term_names: list = None  # a formula's terms (a factor's dummies are one term); default the columns
    term_columns: list = None  # each term's column indices

    def __post_init__(self):
        if self.term_names is None:
            object.__setattr__(self, "term_names", list(self.feature_names))
            object.__setattr__(self, "term_columns", [[j] for j in range(len(self.feature_names))])

    @property
    def terms(self) -> list:
        """Names in the search order."""
        return [self.term_names[t] for t in self.order]

    def columns_of(self, terms) -> list[int]:
        """The columns of the given term indices, in order."""
        return [j for t in terms for j in self.term_columns[t]]

    def table(self) -> pd.DataFrame:
        """One row per size 0..max_terms: the term added, elpd and RMSE, their differences to the
        reference and standard errors (module docstring)."""
        n = len(self.y)
        rng = np.random.default_rng(self.random_seed)
        boot = rng.integers(0, n, size=(1000, n))
        ref_error = (self.y - self.reference_predictions) ** 2
        ref_rmse = np.sqrt(ref_error.mean())
        rows = []
        for k, (elpd_i, prediction) in enumerate(zip(self.elpd_i, self.loo_predictions)):
            d = elpd_i - self.reference_elpd_i
            error = (self.y - prediction) ** 2
            rmse = np.sqrt(error.mean())
            boot_diff = np.sqrt(error[boot].mean(axis=1)) - np.sqrt(ref_error[boot].mean(axis=1))
            rows.append({"size": k, "added": self.terms[k - 1] if k else "", "elpd": elpd_i.sum(),
                         "elpd_diff": d.sum(), "elpd_diff_se": np.sqrt(n * d.var(ddof=1)), "rmse": rmse,
                         "rmse_diff": rmse - ref_rmse, "rmse_diff_se": boot_diff.std(ddof=1)})
        return pd.DataFrame(rows).set_index("size", drop=False)

    def suggest_size(self) -> int | None:
        """projpred's rule: the smallest size whose elpd is within one SE of the reference's
        (``elpd_diff + elpd_diff_se >= 0``); None if no size up to ``max_terms`` reaches it."""
        table = self.table()
        reached = table[table["elpd_diff"] + table["elpd_diff_se"] >= 0]
        return int(reached["size"].iloc[0]) if len(reached) else None

    def project(self, terms=None) -> ProjectedModel:
        """The projection onto ``terms`` (names or column indices; default: the suggested size's
        first terms of the search), drawn for every reference draw."""
        if terms is None:
            size = self.suggest_size()
            if size is None:
                raise ValueError("no submodel size reached the reference's elpd within one SE; pass terms explicitly")
            columns = self.columns_of(self.order[:size])
        else:
            unknown = [t for t in terms if isinstance(t, str) and t not in self.term_names]
            if unknown:
                raise ValueError(f"unknown terms {unknown}; the fit's terms are {self.term_names}")
            columns = self.columns_of(self.term_names.index(t) if isinstance(t, str) else int(t) for t in terms)
        return ProjectedModel(_project(self._reference, columns), self.feature_names, self._reference[3])


def _thinned(idata, ndraws: int) -> np.ndarray:
    total = idata["posterior"].sizes["chain"] * idata["posterior"].sizes["draw"]
    return np.unique(np.linspace(0, total - 1, min(ndraws, total)).round().astype(int))


def _project(reference, columns) -> Projection:
    X, mu, sigma, fit_intercept = reference
    if sigma is None:
        return project_bernoulli(X, mu, columns, fit_intercept)
    return project_gaussian(X, mu, sigma, columns, fit_intercept)


def _log_density(y, eta, projection: Projection, gaussian: bool):
    if gaussian:
        return _log_normal(y, eta, projection.sigma[:, None])
    return y * eta - np.logaddexp(0.0, eta)


def select(est, X, y, max_terms: int | None = None, ndraws: int = 1000, search_draws: int = 20,
           random_seed=None) -> Selection:
    """Projection predictive forward selection for a fitted estimator (module docstring).

    ``X, y``: the training data. ``max_terms``: the longest path searched (default ``min(p, 20)``).
    ``ndraws``: reference draws used (evenly thinned). ``search_draws``: draws of the logistic
    search (each step projects every candidate by Newton's method; projpred clusters them into 20).
    ``random_seed``: the RMSE bootstrap's. For LogisticRegression "RMSE" is that of the LOO
    predicted probability against the 0/1 outcome (the root of the Brier score).
    """
    family = getattr(est, "_family", None)
    if family not in ("gaussian", "bernoulli"):
        raise ValueError(f"br.select projects LinearRegression and LogisticRegression fits; the {family} family "
                         "has no projection yet (its submodels would need an IRLS projection per draw)")
    gaussian = family == "gaussian"
    est._require_posterior("select")
    X_arr = est._validated_X(X)
    y_arr = est._observed(y, X_arr.shape[0])
    n = X_arr.shape[0]
    names, groups = _terms(est)
    n_terms = len(groups)
    max_terms = min(n_terms, 20) if max_terms is None else int(max_terms)
    if not 1 <= max_terms <= n_terms:
        raise ValueError(f"max_terms must be between 1 and the number of terms ({n_terms}), got {max_terms}")
    keep = _thinned(est.idata_, ndraws)
    coef = results.stacked_draws(est.idata_, "coef")[keep]
    intercept = results.stacked_draws(est.idata_, "intercept")[keep] if est.fit_intercept else np.zeros(len(keep))
    eta = coef @ X_arr.T + intercept[:, None]
    if gaussian:
        known = est._known_sigma()
        sigma = np.full(len(keep), known) if known is not None else results.stacked_draws(est.idata_, "sigma")[keep]
        mu, reference_loglik = eta, _log_normal(y_arr, eta, sigma[:, None])
    else:
        sigma, mu = None, special.expit(eta)
        reference_loglik = y_arr * eta - np.logaddexp(0.0, eta)
    reff = relative_efficiency(est.idata_)
    ref_elpd_i, _, khat, log_weights, _ = psis_loo([(slice(0, n), reference_loglik[None])], n, reff,
                                                   keep_log_weights=True)
    if np.any(khat > 0.7):
        warnings.warn(f"PSIS-LOO of the reference model is unreliable for {int(np.sum(khat > 0.7))} rows "
                      "(k-hat > 0.7): the elpd of the submodels is too; more draws help, else K-fold validation",
                      LOOWarning, stacklevel=2)
    weights = np.exp(log_weights)
    if gaussian:
        order = forward_search(X_arr, mu, sigma, est.fit_intercept, max_terms, groups=groups)
    else:
        order = forward_search_bernoulli(X_arr, mu[_thinned_rows(len(keep), search_draws)], est.fit_intercept,
                                         max_terms, groups=groups)
    reference = (X_arr, mu, sigma, est.fit_intercept)
    elpd_i, predictions = [], []
    for k in range(len(order) + 1):
        projection = _project(reference, [j for t in order[:k] for j in groups[t]])
        eta_k = projection.linear_predictor(X_arr)
        elpd_i.append(special.logsumexp(log_weights + _log_density(y_arr, eta_k, projection, gaussian), axis=0))
        predictions.append(np.sum(weights * (eta_k if gaussian else special.expit(eta_k)), axis=0))
    return Selection(order, est.feature_names_, np.array(elpd_i), ref_elpd_i, np.array(predictions),
                     np.sum(weights * mu, axis=0), y_arr, khat, reference, random_seed, names, groups)


def _terms(est) -> tuple[list, list]:
    """``(names, column indices)`` of the terms searched over: a formula fit's terms (a factor's
    dummies, a spline's basis: one term each), else one per column."""
    features = list(est.feature_names_)
    terms = getattr(est, "terms_", None)
    if not terms:
        return features, [[j] for j in range(len(features))]
    return list(terms), [[features.index(column) for column in columns] for columns in terms.values()]


def _thinned_rows(total: int, count: int) -> np.ndarray:
    return np.unique(np.linspace(0, total - 1, min(count, total)).round().astype(int))
