"""The public estimators: ``LinearRegression`` and ``LogisticRegression``.

Each follows the scikit-learn protocol (``fit``/``predict``, trailing-underscore fitted
attributes) and fits either the MAP (``method="map"``: the exact penalized solution) or the
full posterior by NUTS (``method="nuts"``, the default).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from . import _fit_dask as dask_fit
from . import _validation as v
from . import results
from .data import GaussianStatistics, is_dask_input
from .data.dask_input import dask_statistics
from .data.logistic_passes import binary_data, draws_log_likelihood_of, likelihood_of, size_of
from .model_inputs import linear_inputs, linear_inputs_from_statistics, logistic_inputs
from .priors import Normal, Prior
from .solvers import NoMAPError, fit_linear_map, fit_linear_map_from_statistics, fit_logistic_map
from .surrogate import surrogate_posterior, warn_on_exact_nuts_time

if TYPE_CHECKING:
    import pandas as pd

# rstanarm's default: scale 2.5 in standardized units, so it means the same whatever the data's units
DEFAULT_PRIOR = Normal(2.5, autoscale=True)
_METHOD_ATTRIBUTES = ("log_evidence_",)  # set by one method only; removed when a later fit uses another


class MAPFailureWarning(UserWarning):
    """The MAP solver failed during a NUTS fit; the posterior was sampled without it."""


@dataclass(frozen=True)
class MAPEstimate:
    """The posterior mode: the penalized solution. ``sigma`` is the noise sd (linear models)."""

    coef: np.ndarray
    intercept: float
    sigma: float | None = None


class _BayesianRegression(BaseEstimator):
    """Shared fit/predict plumbing; subclasses supply the likelihood."""

    def fit(self, X, y, method: str | None = None, *, draws: int = 1000, tune: int = 1000, chains: int = 4,
            random_seed=None, progressbar: bool = True, log_likelihood: bool | None = None,
            **sampler_kwargs):
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
        y : array-like, shape (n_samples,)
        method : {"nuts", "map", "empirical_bayes", "surrogate"} or None
            Overrides the estimator's ``method`` parameter for this fit. ``"empirical_bayes"``
            (Normal prior) maximises the evidence: exactly for LinearRegression
            (:mod:`bayesreg.evidence`), by the Laplace approximation for LogisticRegression
            (:mod:`bayesreg.evidence_laplace`). ``"surrogate"`` (LogisticRegression): NUTS on a
            quadratic expansion of the log-likelihood, corrected by PSIS (:mod:`bayesreg.surrogate`).
        draws, tune, chains, random_seed, progressbar, **sampler_kwargs
            Passed to the NUTS sampler (nutpie; low-rank mass matrix, or for horseshoe priors a
            diagonal one with ``target_accept=0.99``); ignored by ``method="map"``.
            ``sampler_kwargs`` may hold ``target_accept``, ``maxdepth``, ``adaptation="diag"``, ...
        log_likelihood : bool or None
            Store pointwise log-likelihoods (for ArviZ LOO). ``None``: only when they take at most
            200 MiB (4000 draws x 6500 rows); at n = 10^6 they would take 32 GB.

        Returns
        -------
        self
        """
        method = v.check_method(self.method if method is None else method)
        if method == "surrogate" and method not in self._methods:
            raise ValueError("method='surrogate' is for LogisticRegression; linear regression is exact at any n "
                             "(NUTS runs on sufficient statistics): use method='nuts'")
        if method not in self._methods:
            raise ValueError(f"method={method!r} is not available for {type(self).__name__}; use one of {self._methods}")
        if method not in ("nuts", "surrogate") and sampler_kwargs:
            raise TypeError(f"fit() got unexpected keyword arguments {sorted(sampler_kwargs)}: sampler "
                            "options apply to method='nuts' only, and bayesreg does not take sample_weight")
        stated = self._checked_prior()
        if is_dask_input(X, y):  # one distributed pass here; X and y stay on the workers
            dask_fit.check_dask_fit(log_likelihood)
            data, names, n_features, fitted = self._dask_data(X, y)
        else:
            X_arr, names = v.check_X(X)
            y_arr, fitted = self._check_y(y, X_arr.shape[0])
            data, n_features = (X_arr, y_arr), X_arr.shape[1]
        prior = dask_fit.resolved_prior(stated, data, self._family, names)
        fitted.update(n_features_in_=n_features, method_=method, idata_=None, prior_=prior)
        if names is not None:
            fitted["feature_names_in_"] = np.asarray(names, dtype=object)
        if method == "empirical_bayes":
            if not isinstance(data, tuple):
                raise ValueError("method='empirical_bayes' needs X and y in memory (not Dask input): call fit on "
                                 "X.compute(), y.compute(), or use method='map' or 'nuts'")
            fitted.update(self._fit_empirical_bayes(*data, prior))
            return self._set_fitted(fitted, names)
        try:
            if not prior.has_map:
                raise NoMAPError(f"method='map' is not available: {prior.no_map_reason()}")
            fitted["map_"] = self._fit_map(data, prior)
        except NoMAPError:
            if method == "map":
                raise
            fitted["map_"] = None  # NUTS still works; the summary just has no MAP column
        except Exception as exc:  # a MAP failure must never stop a NUTS fit
            if method == "map":
                raise
            warnings.warn(f"the MAP (penalized fit) failed, so map_ is None and the summary has no MAP "
                          f"column; sampling the posterior anyway. The MAP solver said: "
                          f"{type(exc).__name__}: {exc}", MAPFailureWarning, stacklevel=2)
            fitted["map_"] = None
        if method == "map":
            fitted.update(self._point_attributes(fitted["map_"]))
        else:
            settings = dict(draws=draws, tune=tune, chains=chains, random_seed=random_seed,
                            progressbar=progressbar, **sampler_kwargs)
            idata = self._posterior(data, prior, method, names or _default_names(n_features), settings,
                                    log_likelihood, fitted["map_"])
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

    def _posterior(self, data, prior, method, names, settings, log_likelihood, map_estimate):
        """Exact NUTS: the posterior as a DataTree, convergence checked."""
        from .sampling import sample_posterior, warn_on_problems

        spec, model_data = self._model_inputs(data, prior)
        idata = sample_posterior(spec, model_data, names, **settings)
        if isinstance(data, tuple):  # in memory: observed y, and log-likelihoods when small enough
            results.add_observation_groups(idata, *data, spec.family, self.fit_intercept, self._known_sigma(),
                                           log_likelihood)
        warn_on_problems(idata, results.summary_var_names(idata))
        return idata

    def _fit_empirical_bayes(self, X, y, prior) -> dict:
        if not isinstance(prior, Normal) or prior.learned:
            raise ValueError(
                f"method='empirical_bayes' chooses the scale of a fixed Normal prior (its value sets the "
                f"relative scales and units; one multiplier is learned), got {prior}. Use e.g. "
                "br.Normal(1.0, autoscale=True), or method='nuts' for other learned priors."
            )
        return self._evidence_fit(X, y, prior.effective_scale())

    def summary(self, ci_prob: float = 0.94) -> "pd.DataFrame":
        """Posterior summary per coefficient (mean, sd, equal-tailed interval, ESS, R-hat, MCSE).

        Indexed by coefficient name, then ``intercept``, ``sigma`` and any hierarchical scales;
        the ``map`` column holds the posterior mode (the penalized fit) where it exists.
        """
        self._require_posterior("summary")
        return results.summary_table(self.idata_, ci_prob, self.map_)

    def sample_posterior_predictive(self, X, random_seed=None):
        """Draw replicated ``y`` for rows ``X`` from the posterior; stored in ``idata_`` and returned."""
        self._require_posterior("sample_posterior_predictive")
        X_arr = self._validated_X(X)
        group = results.posterior_predictive(self.idata_, X_arr, self._family, self.fit_intercept,
                                             np.random.default_rng(random_seed), self._known_sigma())
        self.idata_["posterior_predictive"] = group
        return group

    def pymc_model(self, X, y):
        """The PyMC model this estimator samples, for data ``X``, ``y``: the specification.

        Extend it or sample it with ``pm.sample`` (a few seconds of compile per process); ``fit``
        samples the same density from code compiled once per machine
        (:mod:`bayesreg.logdensity`, cross-checked against this model by the tests).
        """
        from .model import build_model

        X_arr, names = v.check_X(X)
        y_arr, _ = self._check_y(y, X_arr.shape[0])
        spec, data = self._model_inputs((X_arr, y_arr), self._checked_prior())
        return build_model(spec, data, names or _default_names(X_arr.shape[1]))

    def save(self, path) -> None:
        """Write the fitted estimator (parameters, point estimates, posterior) to one zip file.

        ``bayesreg.load(path)`` gives it back with identical draws, summary and predictions.
        """
        from .persistence import save

        save(self, path)

    def _require_posterior(self, what: str) -> None:
        check_is_fitted(self, "coef_")
        if self.idata_ is None:
            raise ValueError(f"{what} needs a posterior: fit with method='nuts' (this fit was method='map')")

    def _known_sigma(self):
        return None

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
        X_arr, names = v.check_X(X)
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


def _default_names(p: int) -> list[str]:
    return [f"x{j}" for j in range(p)]


class LinearRegression(RegressorMixin, _BayesianRegression):
    r"""Bayesian linear regression: ``y ~ N(intercept + X coef, sigma^2)``, ``coef ~ prior``.

    The MAP solves, with ``-log p(coef)`` the prior's penalty (see :mod:`bayesreg.priors`),

    .. math:: \min_{b, w}\ \frac{\|y - b - Xw\|^2}{2\sigma^2} - \log p(w)

    e.g. ``prior=Normal(s)`` is ``Ridge(alpha = sigma^2 / s^2)`` and ``prior=Laplace(b)`` is
    ``Lasso(alpha = sigma^2 / (n b))``. The intercept has a flat prior (not penalized).

    Parameters
    ----------
    prior : Prior, default None
        ``None`` means ``Normal(2.5, autoscale=True)`` (rstanarm's default): scale 2.5 in
        standardized units, i.e. coefficient j gets ``2.5 * sd(y) / sd(x_j)``.
    sigma : float or None, default None
        Known noise sd. ``None`` estimates it with a Half-t(4, sd(y)) prior; the MAP is then
        the joint mode over ``(coef, intercept, sigma)``, not a fixed-alpha penalized fit.
    fit_intercept : bool, default True
    method : {"nuts", "map", "empirical_bayes"}, default "nuts"
        What ``fit`` does unless told otherwise (``fit(X, y, method="map")``); set it to ``"map"`` to
        use the estimator as a plain penalized regression in pipelines and grid searches.
        ``"empirical_bayes"`` (Normal prior) chooses the prior scale, and sigma when ``sigma=None``,
        by maximising the exact marginal likelihood (:mod:`bayesreg.evidence`).

    Attributes
    ----------
    prior_ : Prior                  the prior as used: autoscale resolved into numbers, the
                                    empirical-Bayes scale filled in; a hyperprior stays one.
    coef_ : ndarray (n_features,)   MAP, or posterior mean after NUTS or empirical Bayes.
    intercept_ : float
    sigma_ : float                  the given sigma, its MAP, posterior mean or evidence maximiser.
    log_evidence_ : float           ``log p(y | prior_, sigma_)`` (empirical Bayes only).
    map_ : MAPEstimate or None      the posterior mode (None for horseshoe priors).
    idata_ : xarray.DataTree        the posterior (NUTS only).
    """

    def __init__(self, prior: Prior | None = None, sigma: float | None = None, fit_intercept: bool = True,
                 method: str = "nuts"):
        self.prior = prior
        self.sigma = sigma
        self.fit_intercept = fit_intercept
        self.method = method

    def _check_y(self, y, n_rows):
        v.check_sigma(self.sigma)
        return v.check_y_continuous(y, n_rows), {}

    def _dask_data(self, X, y):
        v.check_sigma(self.sigma)
        statistics = dask_statistics(X, y)
        return statistics, statistics.feature_names, statistics.n_features, {}

    def _fit_map(self, data, prior) -> MAPEstimate:
        sigma = v.check_sigma(self.sigma)
        if isinstance(data, GaussianStatistics):
            fit = fit_linear_map_from_statistics(data, prior, sigma, self.fit_intercept)
        else:
            fit = fit_linear_map(*data, prior, sigma, self.fit_intercept)
        return MAPEstimate(fit.coef, fit.intercept, fit.sigma)

    _family = "gaussian"
    _methods = ("nuts", "map", "empirical_bayes")

    def _evidence_fit(self, X, y, base) -> dict:
        from .evidence import fit_evidence

        fit = fit_evidence(X, y, base, self._known_sigma(), self.fit_intercept)
        estimate = MAPEstimate(fit.coef, fit.intercept, fit.sigma)  # Gaussian posterior: mean = mode
        return {"prior_": Normal(fit.multiplier * base), "log_evidence_": fit.log_evidence, "map_": estimate,
                **self._point_attributes(estimate)}

    def _known_sigma(self):
        return v.check_sigma(self.sigma)

    def _model_inputs(self, data, prior):
        if isinstance(data, GaussianStatistics):
            return linear_inputs_from_statistics(data, prior, sigma=self._known_sigma(),
                                                 fit_intercept=self.fit_intercept)
        return linear_inputs(*data, prior, sigma=self._known_sigma(), fit_intercept=self.fit_intercept)

    def _point_attributes(self, estimate):
        return {**super()._point_attributes(estimate), "sigma_": estimate.sigma}

    def _posterior_attributes(self, idata):
        attributes = super()._posterior_attributes(idata)
        posterior = idata["posterior"]
        attributes["sigma_"] = float(posterior["sigma"].mean()) if "sigma" in posterior else self.sigma
        return attributes

    def predict(self, X, return_std: bool = False):
        """Posterior-mean (or MAP) prediction ``intercept_ + X @ coef_``.

        With ``return_std=True`` (NUTS fits only) also the sd of the posterior predictive
        distribution of a new observation, ``sqrt(Var[x'w + b] + E[sigma^2])``, as scikit-learn's
        ``BayesianRidge.predict(X, return_std=True)``.
        """
        if return_std and is_dask_input(X):
            raise ValueError("predict(return_std=True) needs X in memory (n x draws numbers); "
                             "call it on X.compute() or on a sample of rows")
        mean = self._linear_predictor(X)
        if not return_std:
            return mean
        self._require_posterior("predict(return_std=True)")
        return mean, results.predictive_sd(self.idata_, self._validated_X(X), self.fit_intercept, self._known_sigma())

    def predict_interval(self, X, prob: float = 0.94, random_seed=None) -> np.ndarray:
        """Equal-tailed posterior predictive interval per row, shape (n, 2), from simulated draws."""
        if not 0 < prob < 1:
            raise ValueError(f"prob must be in (0, 1), got {prob}")
        self._require_posterior("predict_interval")
        return results.predictive_quantiles(self.idata_, self._validated_X(X), self.fit_intercept,
                                            [(1 - prob) / 2, (1 + prob) / 2], np.random.default_rng(random_seed),
                                            self._known_sigma()).T


class LogisticRegression(ClassifierMixin, _BayesianRegression):
    r"""Bayesian logistic regression: ``y ~ Bernoulli(logit^-1(intercept + X coef))``.

    The MAP solves ``min sum(logloss) - log p(coef)``; ``prior=Normal(sqrt(C))`` is scikit-learn's
    ``LogisticRegression(C=C)`` and ``prior=Laplace(C)`` its ``l1_ratio=1`` form. Any two labels
    are accepted; ``classes_[1]`` is the positive class.

    Parameters
    ----------
    prior : Prior, default None
        ``None`` means ``Normal(2.5, autoscale=True)`` (rstanarm's default): coefficient j gets
        scale ``2.5 / sd(x_j)``, i.e. 2.5 on the log-odds per sd of ``x_j``.
    fit_intercept : bool, default True
    method : {"nuts", "map", "empirical_bayes", "surrogate"}, default "nuts"
        As in :class:`LinearRegression`; ``"empirical_bayes"`` maximises the *Laplace-approximate*
        evidence (:mod:`bayesreg.evidence_laplace`), and ``coef_`` is then the MAP at that scale.
        ``"surrogate"`` for large n: the PSIS-corrected quadratic surrogate, its Pareto k-hat in
        ``idata_.attrs["pareto_k"]`` (see :mod:`bayesreg.surrogate`).

    Attributes
    ----------
    classes_ : ndarray (2,)
    coef_, intercept_, map_, idata_, prior_ : as in :class:`LinearRegression`.
    log_evidence_ : float  the Laplace-approximate log evidence (empirical Bayes only).
    """

    def __init__(self, prior: Prior | None = None, fit_intercept: bool = True, method: str = "nuts"):
        self.prior = prior
        self.fit_intercept = fit_intercept
        self.method = method

    def _check_y(self, y, n_rows):
        y01, classes = v.check_y_binary(y, n_rows)
        return y01, {"classes_": classes}

    def _dask_data(self, X, y):
        data = binary_data(X, y)  # one pass: the classes, and the columns' moments and ranges
        return data, data.feature_names, data.n_features, {"classes_": data.classes}

    def _fit_map(self, data, prior) -> MAPEstimate:
        if isinstance(data, tuple):
            return MAPEstimate(*fit_logistic_map(*data, prior, self.fit_intercept))
        return MAPEstimate(*dask_fit.logistic_map(data, prior, self.fit_intercept))

    def _evidence_fit(self, X, y01, base) -> dict:
        from .evidence_laplace import fit_laplace_evidence

        t, log_evidence, coef, intercept = fit_laplace_evidence(X, y01, base, self.fit_intercept)
        estimate = MAPEstimate(coef, intercept)  # the Laplace approximation's centre
        return {"prior_": Normal(t * base), "log_evidence_": log_evidence, "map_": estimate,
                **self._point_attributes(estimate)}

    _family = "bernoulli"
    _methods = ("nuts", "map", "empirical_bayes", "surrogate")

    def _posterior(self, data, prior, method, names, settings, log_likelihood, map_estimate):
        n, p, positive_share = size_of(data)
        if method == "surrogate":
            theta = None if map_estimate is None else np.r_[[map_estimate.intercept] * self.fit_intercept,
                                                             map_estimate.coef]
            idata = surrogate_posterior(likelihood_of(data, self.fit_intercept), draws_log_likelihood_of(data),
                                        prior, n_features=p, n=n, positive_share=positive_share,
                                        fit_intercept=self.fit_intercept, map_theta=theta, names=names,
                                        settings=settings)
            if isinstance(data, tuple):
                results.add_observation_groups(idata, *data, "bernoulli", self.fit_intercept, None, log_likelihood)
            return idata
        warn_on_exact_nuts_time(n, p, settings["draws"], settings["tune"], settings["chains"])
        data = dask_fit.in_memory_binary(data)
        return super()._posterior(data, prior, method, names, settings, log_likelihood, map_estimate)

    def _model_inputs(self, data, prior):
        return logistic_inputs(*data, prior, fit_intercept=self.fit_intercept)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of ``classes_[1]``: ``log P(y = 1) - log P(y = 0)`` with ``P`` as in :meth:`predict_proba`.

        After MAP this is the linear predictor ``intercept_ + X @ coef_``. After NUTS it is the
        log-odds of the posterior predictive probability ``E[logit^-1(eta)]``, which is *not*
        ``intercept_ + X @ coef_`` (the linear predictor at the posterior mean coefficients; the
        two differ where the posterior is wide). So ``decision_function(X) > 0`` exactly where
        ``predict`` gives ``classes_[1]``, and ``predict_proba`` is its logistic transform.
        """
        log_p = self._log_probabilities(X)
        return log_p[:, 1] - log_p[:, 0]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n, 2). After MAP: at the mode. After NUTS: the posterior
        predictive probability, averaged over posterior draws (not at the mean coefficients)."""
        return np.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X) -> np.ndarray:
        """``log`` of :meth:`predict_proba`, computed in log space (finite where a probability rounds to 0)."""
        return self._log_probabilities(X)

    def predict(self, X) -> np.ndarray:
        """``classes_[1]`` where :meth:`predict_proba` gives it more than 1/2 (``decision_function > 0``)."""
        positive = self.decision_function(X) > 0  # first: it raises NotFittedError before a fit
        return dask_fit.labels_of(positive, self.classes_)

    def _log_probabilities(self, X):
        """``(log P(y = 0), log P(y = 1))`` per row, shape (n, 2); lazy for Dask input."""
        check_is_fitted(self, "coef_")
        # the block functions hold arrays, not self: a lazy task must not carry the estimator
        if getattr(self, "idata_", None) is not None:
            idata, fit_intercept = self.idata_, self.fit_intercept

            def block(rows):
                return results.bernoulli_log_probabilities(idata, rows, fit_intercept).T
        else:
            coef, intercept = self.coef_, self.intercept_

            def block(rows):
                eta = intercept + rows @ coef
                return np.column_stack([-np.logaddexp(0.0, eta), -np.logaddexp(0.0, -eta)])

        return dask_fit.rows_of(self, X, block, n_columns=2)
