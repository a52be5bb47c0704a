"""What both estimators share: ``fit`` (validation, MAP, NUTS, empirical Bayes), the summary,
persistence and the fitted-attribute bookkeeping. The likelihood-specific parts are in
:mod:`.linear` and :mod:`.logistic`.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .. import persistence, results
from ..data import dask_fit, is_dask_input
from ..data import validation as v
from ..priors import Normal, Prior, population_sd, resolve_prior
from ..results import MAPEstimate
from ..sampling import PACKAGE_FILES
from ..solvers import NoMAPError
from ._assessment import AssessmentMixin
from ._formula import FormulaMixin

if TYPE_CHECKING:
    import pandas as pd

# rstanarm's default: scale 2.5 in standardized units, so it means the same whatever the data's units
DEFAULT_PRIOR = Normal(2.5, autoscale=True)
_FIT_PARAMETERS = ("method", "draws", "tune", "chains", "random_seed", "progressbar", "log_likelihood",
                   "posterior_predictive")
# set by some fits only (one method, a formula); removed when a later fit does not set them
_METHOD_ATTRIBUTES = ("log_evidence_", "model_spec_", "terms_")


class MAPFailureWarning(UserWarning):
    """The MAP solver failed during a NUTS fit; the posterior was sampled without it."""


class _BayesianRegression(AssessmentMixin, FormulaMixin, BaseEstimator):
    """Shared fit/predict plumbing; subclasses supply the likelihood."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):  # shared bases such as _FamilyRegression are never fitted
            persistence.register(cls)  # so that bayesreg.load can rebuild it from a file

    def fit(self, X, y=None, method: str | None = None, *, offset=None, sample_weight=None, draws: int = 1000,
            tune: int = 1000, chains: int = 4,
            random_seed=None, progressbar: bool = True, log_likelihood: bool | None = None,
            posterior_predictive: bool = False, **sampler_kwargs):
        """Fit the MAP (``method="map"``), sample the posterior with NUTS (``method="nuts"``), or for
        ``LinearRegression`` choose the prior scale by the evidence (``method="empirical_bayes"``).

        The prior is resolved first (``autoscale`` into numbers, per-coefficient lengths checked);
        the prior as used is ``prior_`` after any fit.

        Convergence checks run after NUTS and warn (:class:`~bayesreg.sampling.SamplingWarning`)
        with advice on divergences, tree-depth saturation, R-hat > 1.01 and bulk ESS < 400.

        Parameters
        ----------
        X : array-like or DataFrame, shape (n_samples, n_features)
            Column names of a DataFrame become coefficient names. Dask arrays and DataFrames are
            reduced where they live, in passes over their partitions (docs/beyond-one-machine.md).
            With ``formula=`` set: a DataFrame holding the formula's columns (docs/formulas.md).
        y : array-like, shape (n_samples,), or None
            ``None`` only when the estimator's ``formula`` names the outcome (``"y ~ ..."``).
        offset : array-like, shape (n_samples,), optional
            Added to the linear predictor with coefficient 1: ``eta = offset + intercept + X coef``.
            For the log-link families (Poisson, negative binomial) ``offset = log(exposure)``.
        sample_weight : array-like, shape (n_samples,), optional
            Multiplies each row's log-likelihood; an integer weight is that many copies of the row.
            ``offset`` and ``sample_weight`` work with ``method="map"`` and ``"nuts"`` (not yet with
            ``log_likelihood`` or ``posterior_predictive``); the count families' ``"surrogate"`` and
            ``"empirical_bayes"`` take both, and with Dask input their ``"map"`` and ``"surrogate"`` do
            (Dask Series aligned with a Dask DataFrame X; Dask or NumPy arrays with a Dask array X).
        method : {"nuts", "map", "empirical_bayes", "surrogate"} or None
            Overrides the estimator's ``method`` parameter for this fit. ``"empirical_bayes"``
            (Normal prior) maximises the evidence: exactly for LinearRegression
            (:mod:`bayesreg.evidence`), by the Laplace approximation for LogisticRegression
            (:mod:`bayesreg.evidence`). ``"surrogate"`` (logistic, Poisson, negative binomial): NUTS on a
            quadratic expansion of the log-likelihood, corrected by PSIS (:mod:`bayesreg.sampling.surrogate`,
            :mod:`bayesreg.sampling.surrogate_family`).
        draws, tune, chains, random_seed, progressbar, **sampler_kwargs
            Passed to the NUTS sampler (nutpie; low-rank mass matrix, or for horseshoe priors a
            diagonal one with ``target_accept=0.99``); ignored by ``method="map"``.
            ``sampler_kwargs`` may hold ``target_accept``, ``maxdepth``, ``adaptation="diag"``, ...;
            each is checked against the installed nutpie first (:mod:`bayesreg.sampling.options`):
            an unknown name is a ``TypeError`` that names the likely intended one.
        log_likelihood : bool or None
            Store pointwise log-likelihoods (for ArviZ LOO). ``None``: only when they take at most
            200 MiB (4000 draws x 6500 rows); at n = 10^6 they would take 32 GB.
        posterior_predictive : bool, default False
            Also draw replicated ``y`` for the training rows into ``idata_["posterior_predictive"]``
            (beside ``observed_data``), for ArviZ's ``plot_ppc_dist`` and ``loo_pit``; as PyMC's
            ``sample_posterior_predictive(..., extend_inferencedata=True)``. Draws x rows numbers;
            :meth:`sample_posterior_predictive` adds them later, for any rows.

        Returns
        -------
        self
        """
        method = v.check_method(self.method if method is None else method)
        if method == "surrogate" and method not in self._methods:
            raise ValueError(f"method='surrogate' is for LogisticRegression, PoissonRegression and "
                             f"NegativeBinomialRegression, not {type(self).__name__}: {self._no_surrogate_reason}")
        if method not in self._methods:
            raise ValueError(f"method={method!r} is not available for {type(self).__name__}; use one of {self._methods}")
        if sampler_kwargs:  # a typo fails here, as Python's own "unexpected keyword argument", not mid-sampling
            from ..sampling import check_sampler_options

            misplaced = sorted(set(sampler_kwargs) & set(self.get_params(deep=False)))
            if misplaced:  # fit(df, formula=...): the estimator's argument, as in bambi's Model(formula, data)
                raise TypeError(f"fit() got {misplaced[0]!r}, an argument of the estimator itself: "
                                f"{type(self).__name__}(..., {misplaced[0]}=...).fit(X, y)")

            check_sampler_options(sampler_kwargs, _FIT_PARAMETERS)
        if method not in ("nuts", "surrogate") and sampler_kwargs:
            raise TypeError(f"fit() got unexpected keyword arguments {sorted(sampler_kwargs)}: sampler "
                            "options apply to method='nuts' only")
        if posterior_predictive and method not in ("nuts", "surrogate"):
            raise ValueError(f"posterior_predictive=True needs a posterior: method={method!r} gives point estimates")
        stated = self._checked_prior()
        X, y, from_formula = self._formula_input(X, y)
        stated = self._grouped(stated, from_formula)
        if is_dask_input(X, y):  # one distributed pass here; X and y stay on the workers
            dask_fit.check_dask_fit(log_likelihood)
            if posterior_predictive:
                raise ValueError("posterior_predictive=True is not available for Dask input (draws x rows numbers): "
                                 "call sample_posterior_predictive on a sample of rows")
            in_pass = (offset is not None or sample_weight is not None) and method in self._dask_row_methods
            data, names, n_features, fitted = (self._dask_data(X, y, offset, sample_weight) if in_pass
                                               else self._dask_data(X, y))
        else:
            X_arr, names = v.check_X(X)
            y_arr, fitted = self._check_y(y, X_arr.shape[0])
            data, n_features = (X_arr, y_arr), X_arr.shape[1]
        rows = _row_arguments(offset, sample_weight, data, method, self._row_methods, self._dask_row_methods)
        if rows and (log_likelihood or posterior_predictive):
            raise ValueError("log_likelihood=True and posterior_predictive=True are not available with offset or "
                             "sample_weight yet (pointwise values would need the offsets and weights of new rows)")
        prior = resolve_prior(stated, family=self._family, feature_names=names, **dask_fit.autoscale_data(data))
        fitted.update(n_features_in_=n_features, method_=method, idata_=None, prior_=prior, **from_formula)
        fitted.update(_training_sds(data, self._family))  # for effects per sd: plots.coefficients(standardize=True)
        if names is not None:
            fitted["feature_names_in_"] = np.asarray(names, dtype=object)
        if method == "empirical_bayes":
            if not isinstance(data, tuple):
                raise ValueError("method='empirical_bayes' needs X and y in memory (not Dask input): call fit on "
                                 "X.compute(), y.compute(), or use method='map' or 'nuts'")
            fitted.update(self._fit_empirical_bayes(*data, prior, **rows))
            return self._set_fitted(fitted, names)
        try:
            if not prior.has_map:
                raise NoMAPError(f"method='map' is not available: {prior.no_map_reason()}")
            fitted["map_"] = self._fit_map(data, prior, **rows)
        except NoMAPError:
            if method == "map":
                raise
            fitted["map_"] = None  # NUTS still works; the summary just has no MAP column
        except Exception as exc:  # a MAP failure must never stop a NUTS fit
            if method == "map":
                raise
            warnings.warn(f"the MAP (penalized fit) failed, so map_ is None and the summary has no MAP "
                          f"column; sampling the posterior anyway. The MAP solver said: "
                          f"{type(exc).__name__}: {exc}", MAPFailureWarning,
                          skip_file_prefixes=PACKAGE_FILES)
            fitted["map_"] = None
        if method == "map":
            fitted.update(self._point_attributes(fitted["map_"]))
        else:
            settings = dict(draws=draws, tune=tune, chains=chains, random_seed=random_seed,
                            progressbar=progressbar, **sampler_kwargs)
            idata = self._posterior(data, prior, method, names or _default_names(n_features), settings,
                                    log_likelihood, fitted["map_"], **rows)
            if posterior_predictive:
                X_arr, y_arr = data  # in memory: checked above
                idata["posterior_predictive"] = results.posterior_predictive(
                    idata, X_arr, self._family, self.fit_intercept, _replicate_rng(random_seed), self._known_sigma())
            fitted["idata_"] = idata
            fitted.update(self._posterior_attributes(idata))
        return self._set_fitted(fitted, names)

    def _set_fitted(self, fitted: dict, names):
        """All or nothing: called last, so a failure in ``fit`` leaves the previous fit untouched."""
        stale = [a for a in _METHOD_ATTRIBUTES if a not in fitted and hasattr(self, a)]
        if names is None and hasattr(self, "feature_names_in_"):
            stale.append("feature_names_in_")  # left over from an earlier fit on a DataFrame
        for name in stale:
            delattr(self, name)
        for name, value in fitted.items():
            setattr(self, name, value)
        return self

    def _posterior(self, data, prior, method, names, settings, log_likelihood, map_estimate, **rows):
        """Exact NUTS: the posterior as a DataTree, convergence checked. ``rows``: ``offset`` and
        ``sample_weight`` when given (:mod:`bayesreg.model.row_weights`)."""
        from ..sampling import (check_sampler_options, columns_standardized, default_settings, sample_posterior,
                                warn_on_problems)

        spec, model_data = self._model_inputs(data, prior, **rows)
        options = {k: v for k, v in settings.items() if k not in _FIT_PARAMETERS}
        check_sampler_options(options, _FIT_PARAMETERS, default_settings(spec)["adaptation"])  # e.g. gamma with diag
        idata = sample_posterior(spec, model_data, names, **settings)
        if isinstance(data, tuple):  # in memory: observed y, and log-likelihoods when small enough
            results.add_observation_groups(idata, *data, spec.family, self.fit_intercept, self._known_sigma(),
                                           False if rows else log_likelihood)
        if rows.get("sample_weight") is not None and isinstance(data, tuple):  # est.loo/select refuse it forgotten
            idata.attrs["sample_weight_sum"] = float(np.sum(rows["sample_weight"]))
        standardized = columns_standardized(data[0]) if isinstance(data, tuple) else None  # unknown for Dask
        warn_on_problems(idata, results.summary_var_names(idata), standardized)
        return idata

    def _fit_empirical_bayes(self, X, y, prior, **rows) -> dict:
        if not isinstance(prior, Normal) or prior.learned:
            raise ValueError(
                f"method='empirical_bayes' chooses the scale of a fixed Normal prior (its value sets the "
                f"relative scales and units; one multiplier is learned), got {prior}. Use e.g. "
                "br.Normal(1.0, autoscale=True), or method='nuts' for other learned priors."
            )
        return self._evidence_fit(X, y, prior.effective_scale(), **rows)  # rows: only where _row_methods allow

    def summary(self, ci_prob: float | None = None, round_to: str = "auto", X=None, size=None) -> "pd.DataFrame":
        """Posterior summary per coefficient: mean, sd, the equal-tailed ``ci_prob`` interval
        (``eti94_lb``, ``eti94_ub``), the MAP, then R-hat, bulk and tail ESS and MCSE.

        Indexed by coefficient name, then ``intercept``, ``sigma`` and any hierarchical scales;
        the ``map`` column holds the posterior mode (the penalized fit) where it exists.

        Parameters
        ----------
        ci_prob : float, default :data:`bayesreg.results.CI_PROB` (0.94, as plots and the CLI)
        round_to : {"auto", "none"}
            ``"auto"``: the numbers are kept in full precision (compute with them; ``to_csv``
            writes them) but shown rounded to what their Monte Carlo error supports, ESS as
            integers (:class:`~bayesreg.results.SummaryTable`). ``"none"``: a plain DataFrame.
        X, size
            A fit with terms (a formula, a group prior) adds its term table, ``table.terms``, shown
            below the coefficients: :meth:`term_summary` ``(X, size, ci_prob)``.
        """
        self._require_posterior("summary")
        table = results.summary_table(self.idata_, _interval_level(ci_prob), self.map_, round_to)
        return self._with_term_table(table, X, size, ci_prob)

    def sample_posterior_predictive(self, X, y=None, random_seed=None):
        """Draw replicated ``y`` for rows ``X`` from the posterior, shape (chain, draw, obs); stored
        in ``idata_["posterior_predictive"]`` and returned.

        With ``y`` (the observed outcomes of those rows) the rest of ``idata_`` is made to describe
        the same rows: ``observed_data`` becomes ``y`` and ``log_likelihood``, if the fit stored one,
        is recomputed for ``(X, y)``, so that ``az.plot_ppc_dist`` and ``az.loo_pit`` compare like
        with like. Without ``y`` only the draws are stored (``observed_data`` keeps the training
        rows; for the training ``X`` that is what ArviZ needs).
        """
        self._require_posterior("sample_posterior_predictive")
        X_arr = self._validated_X(X)
        group = results.posterior_predictive(self.idata_, X_arr, self._family, self.fit_intercept,
                                             np.random.default_rng(random_seed), self._known_sigma())
        if y is not None:
            observed = self._observed(y, X_arr.shape[0])
            results.add_observation_groups(self.idata_, X_arr, observed, self._family, self.fit_intercept,
                                           self._known_sigma(), "log_likelihood" in self.idata_.children)
        self.idata_["posterior_predictive"] = group
        return group

    def pymc_model(self, X, y=None):
        """The PyMC model this estimator samples, for data ``X``, ``y``: the specification.

        Extend it or sample it with ``pm.sample`` (a few seconds of compile per process); ``fit``
        samples the same density from code compiled once per machine
        (:mod:`bayesreg.sampling.kernels.noncentred`, cross-checked against this model by the tests).
        """
        from ..model import build_model

        X, y, from_formula = self._formula_input(X, y)
        X_arr, names = v.check_X(X)
        y_arr, _ = self._check_y(y, X_arr.shape[0])
        spec, data = self._model_inputs((X_arr, y_arr), self._grouped(self._checked_prior(), from_formula))
        return build_model(spec, data, names or _default_names(X_arr.shape[1]))

    def save(self, path, log_likelihood: bool = False) -> None:
        """Write the fitted estimator (parameters, point estimates, posterior) to one ``.zip`` file.

        ``bayesreg.load(path)`` gives it back with identical draws, summary and predictions. The
        pointwise log-likelihood (draws x rows, most of the file) is kept only with
        ``log_likelihood=True``; ``bayesreg.persistence.add_log_likelihood(est, X, y)`` recomputes it.
        Another extension than ``.zip`` is refused (the file is a zip archive of zarr arrays).
        """
        persistence.save(self, path, log_likelihood=log_likelihood)

    def _require_posterior(self, what: str) -> None:
        check_is_fitted(self, "coef_")
        if self.idata_ is None:
            used = getattr(self, "method_", "map")  # files saved before method_ existed held MAP fits
            raise ValueError(f"{what} needs a posterior: fit with method='nuts' (this fit was method={used!r}, "
                             "which gives point estimates only)")

    def _known_sigma(self):
        return None

    _row_methods = ("map", "nuts")  # the methods that take offset and sample_weight
    _dask_row_methods: tuple[str, ...] = ()  # those that take them with Dask input (in the distributed passes)
    # linear regression (and each estimator without a surrogate says why in its own class)
    _no_surrogate_reason = "linear regression is exact at any n (NUTS runs on sufficient statistics): use method='nuts'"

    # -- pieces the subclasses share -------------------------------------------------------
    def _checked_prior(self) -> Prior:
        prior = DEFAULT_PRIOR if self.prior is None else self.prior
        if not isinstance(prior, Prior):
            raise TypeError(f"prior must be a bayesreg prior such as br.Normal(1.0), got {prior!r}")
        return prior

    def _point_attributes(self, estimate: MAPEstimate) -> dict:
        return {"coef_": estimate.coef, "intercept_": estimate.intercept}

    def _posterior_attributes(self, idata) -> dict:
        posterior = idata["posterior"]
        coef = posterior["coef"].mean(dim=("chain", "draw")).to_numpy()
        intercept = float(posterior["intercept"].mean()) if self.fit_intercept else 0.0
        return {"coef_": coef, "intercept_": intercept}

    def _validated_X(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        X_arr, names = v.check_X(self._design_of(X))
        self._check_columns(X_arr.shape[1], names)
        return X_arr

    def _check_columns(self, width: int, names) -> None:
        if width != self.n_features_in_:
            raise ValueError(f"X has {width} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input")
        fitted_names = getattr(self, "feature_names_in_", None)
        if names is not None and fitted_names is not None and list(names) != list(fitted_names):
            raise ValueError(f"X has columns {names}, but the model was fitted with {list(fitted_names)}")

    def _linear_predictor(self, X):
        """``intercept_ + X @ coef_``; a lazy Dask array for Dask input."""
        check_is_fitted(self, "coef_")
        coef, intercept = self.coef_, self.intercept_  # not self: a lazy task must not carry the estimator
        return dask_fit.rows_of(self, X, lambda rows: intercept + rows @ coef)

    @property
    def feature_names_(self) -> list[str]:
        """Coefficient names: the DataFrame's columns, else ``x0, x1, ...``."""
        check_is_fitted(self, "coef_")
        names = getattr(self, "feature_names_in_", None)
        return list(names) if names is not None else _default_names(self.n_features_in_)


def _row_arguments(offset, sample_weight, data, method: str, row_methods: tuple, dask_row_methods: tuple = ()) -> dict:
    """``offset`` and ``sample_weight`` checked against the rows of ``X`` (keyword arguments of
    ``_fit_map``; empty when neither is given, so every estimator's plain path stays as it was).
    Dask input that took them into its pass (``dask_row_methods``) carries them itself: empty too."""
    if offset is None and sample_weight is None:
        return {}
    given = " and ".join(name for name, value in (("offset", offset), ("sample_weight", sample_weight))
                         if value is not None)
    if not isinstance(data, tuple):
        if method in dask_row_methods:
            return {}
        where = (f"; with Dask input they work with method in {dask_row_methods}" if dask_row_methods
                 else " for this estimator")
        raise ValueError(f"{given} with Dask input is not available with method={method!r}{where}; call fit on "
                         "X.compute(), y.compute()")
    if method not in row_methods:
        raise ValueError(f"{given} is available with method in {row_methods} (not yet with method={method!r}); "
                         f"fit with method='map', or leave out {given}")
    n = data[0].shape[0]
    return {"offset": v.check_offset(offset, n), "sample_weight": v.check_sample_weight(sample_weight, n)}


def _replicate_rng(random_seed) -> np.random.Generator:
    """A stream for fit's replicated ``y``, independent of the sampler's (seeded by the same number)."""
    return np.random.default_rng(np.random.SeedSequence(random_seed).spawn(1)[0])


def _interval_level(prob: float | None) -> float:
    """``prob``, or the package's one default level; checked, since ArviZ takes 94 as readily as 0.94."""
    prob = results.CI_PROB if prob is None else prob
    if not 0 < prob < 1:
        raise ValueError(f"the interval probability must be in (0, 1), got {prob}")
    return prob


def _check_interval(prob: float | None, kind: str, kinds: tuple[str, ...]) -> float:
    if kind not in kinds:
        raise ValueError(f"kind must be one of {kinds}, got {kind!r}")
    return _interval_level(prob)


def _default_names(p: int) -> list[str]:
    return [f"x{j}" for j in range(p)]


def _training_sds(data, family: str) -> dict:
    """``x_sd_``: population sds of the training columns; ``y_sd_`` (linear): of y. Autoscale's sds,
    computed as autoscale computes them (overflow-safe in memory; from one pass's moments for Dask)."""
    scales = dask_fit.autoscale_data(data)
    x_sd, y_sd = (scales["sds"][:2] if "sds" in scales
                  else (population_sd(scales["X"]), population_sd(scales["y"])))
    return {"x_sd_": np.asarray(x_sd, dtype=float), **({"y_sd_": float(y_sd)} if family == "gaussian" else {})}
