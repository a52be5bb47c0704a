r"""Projection predictive variable selection (projpred's ``cv_varsel``: PSIS-LOO with
``validate_search=FALSE``, or K-fold with the search validated) for linear regression (closed-form projection, :mod:`.projection`), logistic and Poisson regression
(Newton's method per draw, :mod:`.projection_glm`), negative binomial and Student-t regression (the
dispersion projected with the coefficients, :mod:`.projection_dispersion`).

1. Reference: ``S`` draws (thinned evenly to at most ``ndraws``) of the fitted estimator's
   posterior, ``mu_s = b_s + X w_s`` and ``sigma_s``.
2. Search: forward selection of columns by the projection's divergence
   (:func:`~bayesreg.assessment.projection.forward_search`), up to ``max_terms``; for the
   logistic and Poisson families on ``search_draws`` k-means clusters of the draws, each counted
   once per draw it holds (projpred's ``nclusters``; :mod:`.draw_clusters`).
3. Validation by PSIS-LOO: the reference's log-likelihood gives Pareto-smoothed weights
   ``w_is`` (normalised over draws), and each submodel ``k`` (its first ``k`` columns, projected
   draw by draw) is scored with the same weights (projpred's LOO for projected draws):

   .. math:: \mathrm{elpd}_k = \sum_i \log \sum_s w_{is}\, N(y_i \mid \mu^\perp_{ksi}, (\sigma^\perp_{ks})^2),
             \qquad \hat y_{ki} = \sum_s w_{is}\,\mu^\perp_{ksi}.

   ``elpd_diff_k = elpd_k - elpd_ref`` with standard error ``sqrt(n var_i(d_i))`` of the pointwise
   differences; RMSE of the LOO predictions ``hat y`` with a bootstrap (over rows) standard error
   of its difference to the reference's.
4. ``suggest_size``: projpred's rule, by default the smallest ``k`` with ``elpd_diff_k + SE_k >= 0``
   (its upper one-SE bound reaches the reference); ``pct``, ``type``, ``alpha``, ``thres_elpd`` and
   ``stat="rmse"`` as projpred's arguments.

**Offsets and weights** (``offset``, ``sample_weight``: the training rows' as the fit had them; a fit
does not keep its own). Every linear predictor, the reference's and each submodel's, is ``offset +
b + X_S w``; each projection minimises the divergence summed over rows with row ``i`` counted
``v_i`` times (:mod:`.projection`, :mod:`.projection_glm`), and so does the search. In the
validation a row of weight ``v_i`` stands for ``v_i`` copies left out together (one convention for
``est.loo``, ``est.kfold`` and this, brms's; :mod:`.loo`): the PSIS weights come from ``v_i`` times the
reference's log-likelihood, and size ``k`` scores ``elpd_ki = log sum_s w_is p^perp_k(y_i | s)^{v_i}``
(K-fold: the log density of the held-out copies under the fold's projection); RMSE is that of the
copies; the standard errors are over rows, ``sqrt(n var_i(d_i))``, as ``est.loo``'s. A fit whose
stored log-likelihood disagrees with the one recomputed with the ``offset`` given (e.g. a Poisson
fit with ``log(exposure)`` selected without it) is refused, and so is a weighted fit (it records the
weights' sum) selected without ``sample_weight``.

With ``cv_method="kfold"`` (or ``"auto"`` when the reference's k-hat exceeds 0.7) step 3 is K-fold
cross-validation instead (:mod:`.selection_kfold`): the reference refitted without each fold, the
search repeated on each refit, each size scored on the held-out rows. Under LOO the search itself
is not cross-validated (projpred's ``validate_search=FALSE``): with many candidates and few rows
the chosen path's elpd is optimistic; K-fold removes that bias at the cost of K refits. Terms are columns,
or a formula fit's terms (``est.terms_``): a factor's dummies enter and leave together, and an
interaction enters only after its lower-order terms (:mod:`.term_hierarchy`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from .. import results
from ..data import is_dask_input
from ..data import validation as v
from .fitted import check_weights_given
from .kfold import outcome_of
from .loo import LOOWarning, psis_loo, relative_efficiency, rows_se
from .projection import Projection
from .term_hierarchy import parents_of
from .projection_dispersion import DISPERSION_FAMILIES
from .submodels import Reference, _thinned, log_density, mean_of, project, reference_draws, search

__all__ = ["ProjectedModel", "Selection", "select"]

ONE_SE_ALPHA = 2 * stats.norm.cdf(-1)  # projpred's default alpha: a +-1 SE interval


@dataclass(frozen=True)
class ProjectedModel:
    """A submodel's projected posterior: predicts and summarises like a fitted estimator."""

    projection: Projection
    feature_names: list
    fit_intercept: bool
    family: str = "gaussian"
    encode: object = field(default=None, repr=False, compare=False)  # the fit's X -> design (a formula fit's frame)

    @property
    def terms(self) -> list:
        return [self.feature_names[j] for j in self.projection.columns]

    @property
    def gaussian(self) -> bool:
        return self.family == "gaussian"

    def predict(self, X, offset=None) -> np.ndarray:
        """Mean over projected draws of ``eta = offset + b + X_S w`` (linear, Student-t),
        ``P(y = 1) = logit^-1(eta)`` (logistic) or ``exp(eta)`` (Poisson, negative binomial:
        ``offset = log(exposure)`` of the new rows); ``X`` with all the reference's columns (a
        ``formula=`` fit: a data frame, encoded as the fit's)."""
        X = np.asarray(X, dtype=float) if self.encode is None else self.encode(X)
        eta = self.projection.linear_predictor(X, v.check_offset(offset, X.shape[0]))
        return mean_of(eta, self.family).mean(axis=0)

    def summary(self, ci_prob: float = results.CI_PROB) -> pd.DataFrame:
        """Mean, sd and equal-tailed interval of each projected coefficient, the intercept and the projected
        dispersion (``sigma``; ``phi`` of the negative binomial; the Student-t's ``nu`` is the reference's)."""
        columns = {name: self.projection.coef[:, k] for k, name in enumerate(self.terms)}
        if self.fit_intercept:
            columns["intercept"] = self.projection.intercept
        if self.gaussian:
            columns["sigma"] = self.projection.sigma
        columns.update(getattr(self.projection, "dispersion", {}))  # projected phi (NB) or sigma (Student-t)
        percent = round(100 * ci_prob)
        rows = {name: [v.mean(), v.std(ddof=1), *np.quantile(v, [(1 - ci_prob) / 2, (1 + ci_prob) / 2])]
                for name, v in columns.items()}
        return pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "sd", f"eti{percent}_lb", f"eti{percent}_ub"])


@dataclass(frozen=True, repr=False)
class Selection:
    """The result of :func:`select`: the search path, its LOO validation, and projections."""

    order: list  # term indices in the order the search added them
    feature_names: list
    elpd_i: np.ndarray  # (max_terms + 1, n): LOO (or K-fold, cv_method) elpd per row of sizes 0..max_terms
    reference_elpd_i: np.ndarray
    loo_predictions: np.ndarray  # (max_terms + 1, n): the held-out predictions (LOO or K-fold)
    reference_predictions: np.ndarray
    y: np.ndarray
    pareto_k: np.ndarray
    _reference: Reference = field(repr=False)  # the draws the projections start from
    random_seed: object = None
    term_names: list = None  # a formula's terms (a factor's dummies are one term); default the columns
    term_columns: list = None  # each term's column indices
    cv_method: str = "loo"  # how elpd_i and the predictions were validated: "loo" or "kfold"
    fold_orders: list = None  # K-fold: each fold's search path (term indices), for the path's stability
    weights: np.ndarray = None  # sample_weight of the rows (elpd_i already scaled by it), None: all 1
    encode: object = field(default=None, repr=False, compare=False)  # the fit's X -> design, for project().predict

    def __post_init__(self):
        if self.term_names is None:
            object.__setattr__(self, "term_names", list(self.feature_names))
            object.__setattr__(self, "term_columns", [[j] for j in range(len(self.feature_names))])

    def __repr__(self) -> str:  # the path and its validation, not the arrays behind them (n x draws)
        table = self.table()[["added", "elpd_diff", "elpd_diff_se", "rmse"]].round(2)
        try:
            size = self.suggest_size()
        except ValueError:  # no size reached the reference: say so rather than fail to print
            size = None
        return (f"Selection of {len(self.term_names)} terms validated by {self.cv_method} "
                f"(suggest_size() = {size}):\n{table.to_string()}")

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
        weights = np.ones(n) if self.weights is None else self.weights

        def rmse_of(error):  # the copies': sqrt(sum_i v_i e_i / sum_i v_i)
            return np.sqrt(np.sum(weights * error) / np.sum(weights))

        ref_error = (self.y - self.reference_predictions) ** 2
        ref_rmse = rmse_of(ref_error)
        errors = (self.y - self.loo_predictions) ** 2
        boot_diffs = _bootstrap_rmse_diffs(errors, ref_error, weights, np.random.default_rng(self.random_seed))
        rows = []
        for k, (elpd_i, error, boot_diff) in enumerate(zip(self.elpd_i, errors, boot_diffs)):
            rmse = rmse_of(error)
            rows.append({"size": k, "added": self.terms[k - 1] if k else "", "elpd": elpd_i.sum(),
                         "elpd_diff": np.sum(elpd_i - self.reference_elpd_i), "elpd_diff_se": rows_se(elpd_i - self.reference_elpd_i),
                         "rmse": rmse, "rmse_diff": rmse - ref_rmse, "rmse_diff_se": boot_diff.std(ddof=1)})
        return pd.DataFrame(rows).set_index("size", drop=False)

    def suggest_size(self, stat: str = "elpd", pct: float = 0.0, type: str = "upper",
                     alpha: float = ONE_SE_ALPHA, thres_elpd: float | None = None) -> int | None:
        """projpred's ``suggest_size``: the smallest size ``j`` whose ``type`` ("upper" or "lower") bound of
        the normal ``1 - alpha`` interval for ``U_j - U_ref`` (``diff_j -/+ z SE_j``) is at least
        ``pct (u_0 - u_ref)``, the share ``pct`` of the null model's shortfall one accepts to lose
        (``u_0``: size 0); with ``thres_elpd`` (``stat="elpd"``), also any ``j`` with
        ``elpd_j - elpd_ref > thres_elpd``. ``stat``: ``"elpd"`` or ``"rmse"`` (as a utility, ``-RMSE``).
        The defaults (``alpha = 2 Phi(-1)``: one SE) are projpred's: the smallest size whose elpd is
        within one SE of the reference's. None if no size up to ``max_terms`` qualifies."""
        if stat not in ("elpd", "rmse") or type not in ("upper", "lower"):
            raise ValueError(f"stat must be 'elpd' or 'rmse' and type 'upper' or 'lower', got {stat!r}, {type!r}")
        if not 0 < alpha < 1 or not 0 <= pct <= 1:
            raise ValueError(f"alpha must be in (0, 1) and pct in [0, 1], got alpha={alpha}, pct={pct}")
        table = self.table()
        sign = 1.0 if stat == "elpd" else -1.0  # RMSE is a loss: its utility is -RMSE
        diff, se = sign * table[f"{stat}_diff"].to_numpy(), table[f"{stat}_diff_se"].to_numpy()
        z = stats.norm.ppf(1 - alpha / 2)
        bound = diff + z * se if type == "upper" else diff - z * se
        good = bound >= pct * diff[0]  # diff[0] = u_0 - u_ref
        if thres_elpd is not None and stat == "elpd":
            good |= diff > thres_elpd
        return int(table["size"].iloc[np.argmax(good)]) if good.any() else None

    def project(self, terms=None) -> ProjectedModel:
        """The projection onto ``terms`` (names or column indices; default: the suggested size's
        first terms of the search), drawn for every reference draw."""
        columns, reference = self._columns_for(terms), self._reference
        if isinstance(reference, Reference):  # the rows in memory
            return ProjectedModel(project(reference, columns), self.feature_names, reference.fit_intercept,
                                  reference.family, self.encode)
        # Dask rows: a selection_dask.DaskReference projects in passes
        return ProjectedModel(reference.project(columns), self.feature_names, reference.fit_intercept, reference.family,
                              self.encode)

    def _columns_for(self, terms) -> list[int]:
        """The columns of ``terms`` (names or term indices), or of the suggested size's first terms."""
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
        return columns


def _bootstrap_rmse_diffs(errors, ref_error, weights, rng, replicates: int = 1000) -> np.ndarray:
    """``(sizes, replicates)`` bootstrap draws (over rows) of each size's RMSE minus the reference's,
    each row's squared error counted ``weights`` times. The resampled rows are drawn a few
    replicates at a time (at most ~2^24 indices; the same numbers as all at once): 1000 x n
    indices would be 8 GB at n = 1e6 (Dask selections)."""
    n = len(ref_error)
    out = np.empty((len(errors), replicates))
    step = max(1, 2**24 // n)
    for start in range(0, replicates, step):
        boot = rng.integers(0, n, size=(min(step, replicates - start), n))
        w = weights[boot]
        total = w.sum(axis=1)
        ref = np.sqrt(np.sum(w * ref_error[boot], axis=1) / total)
        for k, error in enumerate(errors):
            out[k, start:start + len(boot)] = np.sqrt(np.sum(w * error[boot], axis=1) / total) - ref
    return out


CV_METHODS = ("loo", "kfold", "auto")


def select(est, X, y=None, max_terms: int | None = None, ndraws: int = 1000, search_draws: int = 20,
           random_seed=None, cv_method: str = "loo", k: int = 10, folds=None, refit_kwargs=None, offset=None,
           sample_weight=None, search_rows: int | None = None) -> Selection:
    """Projection predictive forward selection for a fitted estimator (module docstring).

    ``X, y``: the training data (a ``formula=`` fit: its data frame, ``y`` read from the formula's
    outcome when left out). ``max_terms``: the longest path searched (default ``min(p, 20)``).
    ``ndraws``: reference draws used (evenly thinned). ``search_draws``: for LogisticRegression and
    PoissonRegression, the number of clusters of those draws the search projects (projpred's
    ``nclusters``, 20 as its default for the search; :mod:`.draw_clusters`): each step projects every
    candidate by Newton's method, once per cluster; ``search_draws >= ndraws`` projects every draw.
    The Gaussian search is in closed form over every draw. ``random_seed``: the clustering's, the
    RMSE bootstrap's, and with ``cv_method="kfold"`` the folds' and refits'.
    For LogisticRegression "RMSE" is that of the LOO predicted probability against the 0/1 outcome
    (the root of the Brier score), for PoissonRegression that of the predicted rate against the count.

    ``offset``, ``sample_weight``: the training rows' offset (e.g. ``log(exposure)`` of a Poisson fit)
    and weights, as passed to ``fit`` (module docstring: each projection, the search and the
    validation use them; the K-fold refits get their training rows'). A fit whose stored
    log-likelihood shows an offset other than the one given is refused.

    ``cv_method``: ``"loo"`` validates the one search path by PSIS-LOO; ``"kfold"`` refits the
    reference without each of ``k`` folds (or the given ``folds``), repeats the search on each
    fold's refit and scores its path on the held-out rows (:mod:`.selection_kfold`; the search is
    validated too); ``"auto"``: K-fold when the reference's PSIS-LOO has rows with k-hat > 0.7,
    else LOO. ``refit_kwargs`` override the refits' ``fit`` settings (default: the full fit's).

    Dask ``X, y``: the same selection in a few passes over the row blocks (:mod:`.selection_dask`;
    LOO only); a GLM's search runs on a uniform sample of ``search_rows`` rows (default 20,000).
    """
    if cv_method not in CV_METHODS:
        raise ValueError(f"cv_method must be one of {CV_METHODS}, got {cv_method!r}")
    family = getattr(est, "_family", None)
    if family not in ("gaussian", "bernoulli", "poisson", "negative_binomial", "student_t"):
        raise ValueError(f"br.select projects LinearRegression, LogisticRegression, PoissonRegression, "
                         f"NegativeBinomialRegression and StudentTRegression fits; the {family} family has no projection")
    est._require_posterior("select")
    if family in DISPERSION_FAMILIES and (offset is not None or sample_weight is not None):
        raise ValueError(f"br.select does not take offset or sample_weight for the {family} family yet (its "
                         "dispersion projection has neither): select a fit without them, e.g. log(exposure) as a "
                         "column of X")
    y = outcome_of(est, X, y)  # a formula fit's outcome from the frame when y is None
    if is_dask_input(X, y):
        if family in DISPERSION_FAMILIES:
            raise ValueError(f"br.select on Dask rows projects linear, logistic and Poisson fits, not the {family} "
                             "family: pass X.compute(), y.compute()")
        if offset is not None or sample_weight is not None:
            raise ValueError("br.select on Dask rows does not take offset or sample_weight yet: pass X.compute(), "
                             "y.compute() with them (in memory), or select on a fit without them")
        from .selection_dask import dask_select

        names, groups = _terms(est)
        order, arrays, reference = dask_select(est, X, y, groups, max_terms, ndraws, search_draws, random_seed,
                                               cv_method, search_rows, parents_of(names))
        return Selection(order, est.feature_names_, *arrays, reference, random_seed, names, groups,
                         encode=est._validated_X)
    X_arr = est._validated_X(X)
    y_arr = est._observed(y, X_arr.shape[0])
    n = X_arr.shape[0]
    offset, weights = v.check_offset(offset, n), v.check_sample_weight(sample_weight, n)
    names, groups = _terms(est)
    n_terms = len(groups)
    max_terms = min(n_terms, 20) if max_terms is None else int(max_terms)
    if not 1 <= max_terms <= n_terms:
        raise ValueError(f"max_terms must be between 1 and the number of terms ({n_terms}), got {max_terms}")
    mu, sigma, reference_loglik = reference_draws(est, est.idata_, X_arr, y_arr, ndraws, offset)
    _check_offset(est, reference_loglik, ndraws, offset)
    check_weights_given(est, weights, "br.select(est, X, y, sample_weight=...)")
    reff = relative_efficiency(est.idata_)
    copies = 1.0 if weights is None else weights  # a row of weight v: v copies, left out together
    ref_elpd_i, _, khat, log_weights, _ = psis_loo([(slice(0, n), copies * reference_loglik[None])], n, reff,
                                                   keep_log_weights=True)
    reference = Reference(X_arr, mu, sigma, est.fit_intercept, family, offset, weights)
    parents = parents_of(names)  # an interaction enters after its main effects (term_hierarchy)
    order = search(reference, max_terms, groups, search_draws, random_seed, parents)
    if cv_method == "kfold" or (cv_method == "auto" and np.any(khat > 0.7)):
        from .selection_kfold import kfold_validation

        validated = kfold_validation(est, X_arr, y, y_arr, len(order), groups, ndraws, search_draws, k, folds,
                                     random_seed, refit_kwargs, offset, weights, parents)
        return Selection(order, est.feature_names_, *validated.pop("arrays"), y_arr, khat, reference, random_seed,
                         names, groups, **validated, weights=weights, encode=est._validated_X)
    if np.any(khat > 0.7):
        warnings.warn(f"PSIS-LOO of the reference model is unreliable for {int(np.sum(khat > 0.7))} rows "
                      "(k-hat > 0.7): the elpd of the submodels is too; more draws help, else "
                      "br.select(..., cv_method='kfold') (or 'auto')", LOOWarning, stacklevel=2)
    draw_weights = np.exp(log_weights)
    elpd_i, predictions = [], []
    for size in range(len(order) + 1):
        projection = project(reference, [j for t in order[:size] for j in groups[t]])
        eta_k = projection.linear_predictor(X_arr, offset)
        elpd_i.append(special.logsumexp(log_weights + copies * log_density(y_arr, eta_k, projection, family), axis=0))
        predictions.append(np.sum(draw_weights * mean_of(eta_k, family), axis=0))
    return Selection(order, est.feature_names_, np.array(elpd_i), ref_elpd_i, np.array(predictions),
                     np.sum(draw_weights * mu, axis=0), y_arr, khat, reference, random_seed, names, groups,
                     weights=weights, encode=est._validated_X)


def _check_offset(est, reference_loglik, ndraws: int, offset) -> None:
    """A fit does not keep its offset, and a forgotten one would project and validate another model:
    a fit whose stored log-likelihood (computed with its offset) differs from the one recomputed
    with ``offset`` had another. (A fit with sample_weight stores none: nothing to compare.)"""
    if "log_likelihood" not in est.idata_.children:
        return
    stored = np.asarray(est.idata_["log_likelihood"]["y"].values)
    stored = stored.reshape(-1, stored.shape[-1])[_thinned(est.idata_, ndraws)]
    if stored.shape == reference_loglik.shape and not np.allclose(stored, reference_loglik, rtol=1e-8, atol=1e-8):
        if offset is None:
            raise ValueError("this fit had an offset: pass it, br.select(est, X, y, offset=...) (its stored "
                             "log-likelihood differs from the one without an offset; or X, y are not its training rows)")
        raise ValueError("the offset given is not this fit's: its stored log-likelihood differs from the one "
                         "recomputed with it (or X, y are not its training rows); pass the offset given to fit")


def _terms(est) -> tuple[list, list]:
    """``(names, column indices)`` of the terms searched over: a formula fit's terms (a factor's
    dummies, a spline's basis: one term each), else one per column."""
    features = list(est.feature_names_)
    terms = getattr(est, "terms_", None)
    if not terms:
        return features, [[j] for j in range(len(features))]
    return list(terms), [[features.index(column) for column in columns] for columns in terms.values()]
