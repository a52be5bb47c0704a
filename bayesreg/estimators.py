"""The public estimators: ``LinearRegression`` and ``LogisticRegression``.

Each follows the scikit-learn protocol (``fit``/``predict``, trailing-underscore fitted
attributes) and fits either the MAP (``method="map"``: the exact penalized solution) or the
full posterior by NUTS (``method="nuts"``, the default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import special
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from . import _validation as v
from . import results
from .data import GaussianStatistics, is_dask_input
from .data.dask_input import check_dask_X, dask_statistics, lazy_rows
from .model import linear_inputs, linear_inputs_from_statistics, logistic_inputs
from .priors import Normal, Prior
from .data.logistic_passes import binary_data, draws_log_likelihood_of, likelihood_of, size_of
from .solvers import NoMAPError, fit_linear_map, fit_linear_map_from_statistics
from .solvers.logistic import newton_map, split_theta
from .surrogate import surrogate_posterior, warn_on_exact_nuts_time

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_PRIOR = Normal(1.0)


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
        """Fit the MAP (``method="map"``) or sample the posterior with NUTS (``method="nuts"``).

        Convergence checks run after NUTS and warn (:class:`~bayesreg.sampling.SamplingWarning`)
        with advice on divergences, tree-depth saturation, R-hat > 1.01 and bulk ESS < 400.

        Parameters
        ----------
        X : array-like or DataFrame, shape (n_samples, n_features)
            Column names of a DataFrame become coefficient names. Dask arrays and DataFrames are
            reduced where they live, in passes over their partitions (docs/beyond-one-machine.md).
        y : array-like, shape (n_samples,)
        method : {"nuts", "map", "surrogate"} or None
            Overrides the estimator's ``method`` parameter for this fit. ``"surrogate"``
            (LogisticRegression): NUTS on a quadratic expansion of the log-likelihood, corrected by
            PSIS (:mod:`bayesreg.surrogate`).
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
        if method == "surrogate" and not isinstance(self, LogisticRegression):
            raise ValueError("method='surrogate' is for LogisticRegression; linear regression is exact at any n "
                             "(NUTS runs on sufficient statistics): use method='nuts'")
        if method == "map" and sampler_kwargs:
            raise TypeError(f"fit() got unexpected keyword arguments {sorted(sampler_kwargs)}: sampler "
                            "options apply to method='nuts' only, and bayesreg does not take sample_weight")
        prior = self._checked_prior()
        if is_dask_input(X, y):  # one distributed pass here; X and y stay on the workers
            if log_likelihood:
                raise ValueError("log_likelihood=True is not available for Dask input: pointwise values take "
                                 "n x draws numbers; compute them on a sample of rows instead")
            data, names, n_features, fitted = self._dask_data(X, y)
        else:
            X_arr, names = v.check_X(X)
            y_arr, fitted = self._check_y(y, X_arr.shape[0])
            data, n_features = (X_arr, y_arr), X_arr.shape[1]
        fitted.update(n_features_in_=n_features, method_=method, idata_=None)
        if names is not None:
            fitted["feature_names_in_"] = np.asarray(names, dtype=object)
        try:
            if not prior.has_map:
                raise NoMAPError(f"method='map' is not available: {prior.no_map_reason()}")
            fitted["map_"] = self._fit_map(data, prior)
        except NoMAPError:
            if method == "map":
                raise
            fitted["map_"] = None  # NUTS still works; the summary just has no MAP column
        if method == "map":
            fitted.update(self._point_attributes(fitted["map_"]))
        else:
            settings = dict(draws=draws, tune=tune, chains=chains, random_seed=random_seed,
                            progressbar=progressbar, **sampler_kwargs)
            idata = self._posterior(data, prior, method, names or _default_names(n_features), settings,
                                    log_likelihood, fitted["map_"])
            fitted["idata_"] = idata
            fitted.update(self._posterior_attributes(idata))
        if names is None and hasattr(self, "feature_names_in_"):
            del self.feature_names_in_  # left over from an earlier fit on a DataFrame
        for name, value in fitted.items():  # all or nothing: a failure above leaves self untouched
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

    def _rows(self, X, block_function, n_columns=None):
        """``block_function`` of the validated rows of ``X``; a lazy Dask array for Dask input."""
        if is_dask_input(X):
            check_is_fitted(self, "coef_")
            names = check_dask_X(X)
            self._check_columns(len(names) if names is not None else X.shape[1], names)
            return lazy_rows(X, block_function, n_columns)
        return block_function(self._validated_X(X))

    def _linear_predictor(self, X):
        check_is_fitted(self, "coef_")
        coef, intercept = self.coef_, self.intercept_  # not self: a lazy task must not carry the estimator
        return self._rows(X, lambda rows: intercept + rows @ coef)

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
    prior : Prior, default Normal(1.0)
    sigma : float or None, default None
        Known noise sd. ``None`` estimates it with a Half-t(4, sd(y)) prior; the MAP is then
        the joint mode over ``(coef, intercept, sigma)``, not a fixed-alpha penalized fit.
    fit_intercept : bool, default True
    method : {"nuts", "map"}, default "nuts"
        What ``fit`` does unless told otherwise (``fit(X, y, method="map")``); set it to ``"map"`` to
        use the estimator as a plain penalized regression in pipelines and grid searches.

    Attributes
    ----------
    coef_ : ndarray (n_features,)   MAP, or posterior mean after NUTS.
    intercept_ : float
    sigma_ : float                  the given sigma, its MAP, or its posterior mean.
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
        eta = results.linear_predictor_draws(self.idata_, self._validated_X(X), self.fit_intercept)
        sigma = self._known_sigma()
        noise_var = np.mean(results.stacked_draws(self.idata_, "sigma") ** 2) if sigma is None else sigma**2
        return mean, np.sqrt(eta.var(axis=0) + noise_var)

    def predict_interval(self, X, prob: float = 0.94, random_seed=None) -> np.ndarray:
        """Equal-tailed posterior predictive interval per row, shape (n, 2), from simulated draws."""
        if not 0 < prob < 1:
            raise ValueError(f"prob must be in (0, 1), got {prob}")
        self._require_posterior("predict_interval")
        draws = results.posterior_predictive(self.idata_, self._validated_X(X), self._family, self.fit_intercept,
                                             np.random.default_rng(random_seed), self._known_sigma())
        y = draws["y"].to_numpy().reshape(-1, draws.sizes["obs"])
        return np.quantile(y, [(1 - prob) / 2, (1 + prob) / 2], axis=0).T


class LogisticRegression(ClassifierMixin, _BayesianRegression):
    r"""Bayesian logistic regression: ``y ~ Bernoulli(logit^-1(intercept + X coef))``.

    The MAP solves ``min sum(logloss) - log p(coef)``; ``prior=Normal(sqrt(C))`` is scikit-learn's
    ``LogisticRegression(C=C)`` and ``prior=Laplace(C)`` its ``l1_ratio=1`` form. Any two labels
    are accepted; ``classes_[1]`` is the positive class.

    Parameters
    ----------
    prior : Prior, default Normal(1.0)
    fit_intercept : bool, default True
    method : {"nuts", "map", "surrogate"}, default "nuts"
        As in :class:`LinearRegression`; ``"surrogate"`` for large n: the PSIS-corrected quadratic
        surrogate, its Pareto k-hat in ``idata_.attrs["pareto_k"]`` (see :mod:`bayesreg.surrogate`).

    Attributes
    ----------
    classes_ : ndarray (2,)
    coef_, intercept_, map_, idata_ : as in :class:`LinearRegression`.
    """

    def __init__(self, prior: Prior | None = None, fit_intercept: bool = True, method: str = "nuts"):
        self.prior = prior
        self.fit_intercept = fit_intercept
        self.method = method

    def _check_y(self, y, n_rows):
        y01, classes = v.check_y_binary(y, n_rows)
        return y01, {"classes_": classes}

    def _dask_data(self, X, y):
        data = binary_data(X, y)  # one pass over y: the classes
        return data, data.feature_names, data.n_features, {"classes_": data.classes}

    def _fit_map(self, data, prior) -> MAPEstimate:
        theta, _ = newton_map(likelihood_of(data, self.fit_intercept), size_of(data)[1], prior, self.fit_intercept)
        return MAPEstimate(*split_theta(theta, self.fit_intercept))

    def _posterior(self, data, prior, method, names, settings, log_likelihood, map_estimate):
        n, p, positive_share = size_of(data)
        in_memory = isinstance(data, tuple)
        if method == "surrogate":
            theta = None if map_estimate is None else np.r_[[map_estimate.intercept] * self.fit_intercept,
                                                             map_estimate.coef]
            idata = surrogate_posterior(likelihood_of(data, self.fit_intercept), draws_log_likelihood_of(data),
                                        prior, n_features=p, n=n, positive_share=positive_share,
                                        fit_intercept=self.fit_intercept, map_theta=theta, names=names,
                                        settings=settings)
            if in_memory:
                results.add_observation_groups(idata, *data, "bernoulli", self.fit_intercept, None, log_likelihood)
            return idata
        warn_on_exact_nuts_time(n, p, settings["draws"], settings["tune"], settings["chains"])
        if not in_memory:  # exact NUTS needs every row at every gradient: bring the data into memory
            X_arr, _ = v.check_X(data.X.compute())
            y = data.y.compute() if is_dask_input(data.y) else data.y
            data = (X_arr, v.check_y_fitted_labels(y, X_arr.shape[0], data.classes).astype(float))
        return super()._posterior(data, prior, method, names, settings, log_likelihood, map_estimate)

    def _model_inputs(self, data, prior):
        return logistic_inputs(*data, prior, fit_intercept=self.fit_intercept)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def decision_function(self, X) -> np.ndarray:
        """The linear predictor (log-odds of ``classes_[1]``) at ``coef_``, ``intercept_``."""
        return self._linear_predictor(X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n, 2). After NUTS: averaged over posterior draws."""
        check_is_fitted(self, "coef_")
        if getattr(self, "idata_", None) is not None:
            coef = results.stacked_draws(self.idata_, "coef")
            intercept = results.stacked_draws(self.idata_, "intercept") if self.fit_intercept else 0.0

            def probability(rows):
                return special.expit(coef @ rows.T + np.reshape(intercept, (-1, 1))).mean(axis=0)
        else:
            coef, intercept = self.coef_, self.intercept_

            def probability(rows):
                return special.expit(intercept + rows @ coef)

        def both(rows):
            p1 = probability(rows)
            return np.column_stack([1 - p1, p1])

        return self._rows(X, both, n_columns=2)

    def predict(self, X) -> np.ndarray:
        positive = self.predict_proba(X)[:, 1] > 0.5
        classes = self.classes_
        if is_dask_input(positive):
            return positive.map_blocks(lambda block: classes[block.astype(int)], dtype=classes.dtype)
        return classes[positive.astype(int)]
