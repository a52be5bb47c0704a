"""``LinearRegression``: the Gaussian likelihood, exact at any n through sufficient statistics."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin

from .. import results
from ..data import GaussianStatistics, dask_statistics, is_dask_input
from ..data import validation as v
from ..model import linear_inputs, linear_inputs_from_statistics, sigma_prior_data, weighted_linear_inputs
from ..priors import GroupLaplace, Normal, Prior
from ..results import MAPEstimate
from ..families import GAUSSIAN, AuxPrior
from ..solvers import fit_glm_map, fit_linear_group_map, fit_linear_map, fit_linear_map_from_statistics
from ._base import _BayesianRegression, _check_interval


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
    sigma_prior : bayesreg.families prior or None, default None
        The prior on an estimated sigma: ``HalfT(nu, scale)``, ``Gamma(shape, rate)`` or
        ``Exponential(rate)`` from :mod:`bayesreg.families` (as the families' auxiliary priors), to
        reproduce another package's model; ``None`` is ``HalfT(4, sd(y))``. Used by ``map`` and
        ``nuts`` (every sampler); ``empirical_bayes`` maximises the evidence in sigma and takes none.
    fit_intercept : bool, default True
    method : {"nuts", "map", "empirical_bayes"}, default "nuts"
        What ``fit`` does unless told otherwise (``fit(X, y, method="map")``); set it to ``"map"`` to
        use the estimator as a plain penalized regression in pipelines and grid searches.
        ``"empirical_bayes"`` (Normal prior) chooses the prior scale, and sigma when ``sigma=None``,
        by maximising the exact marginal likelihood (:mod:`bayesreg.evidence`).

    formula : str or None, default None
        A Wilkinson formula such as ``"y ~ x1 + C(region) + x2:x3"``, encoded by formulaic: then
        ``fit(df)`` takes a data frame (y named by the formula, or ``fit(df, y)`` for ``"~ x1 + ..."``)
        and every prediction encodes new rows the same way (docs/formulas.md). Its intercept must
        agree with ``fit_intercept`` (``"y ~ 0 + x"`` with ``fit_intercept=False``).

    Attributes
    ----------
    model_spec_, terms_             after a formula fit: formulaic's model spec, and each term's
                                    columns (``{"C(region)": ["C(region)[T.b]", ...]}``).
    prior_ : Prior                  the prior as used: autoscale resolved into numbers, the
                                    empirical-Bayes scale filled in; a hyperprior stays one.
    coef_ : ndarray (n_features,)   MAP, or posterior mean after NUTS or empirical Bayes.
    intercept_ : float
    sigma_ : float                  the given sigma, its MAP, posterior mean or evidence maximiser.
    log_evidence_ : float           ``log p(y | prior_, sigma_)`` (empirical Bayes only).
    map_ : MAPEstimate or None      the posterior mode (None for horseshoe priors).
    idata_ : xarray.DataTree        the posterior (NUTS only).
    x_sd_, y_sd_ : ndarray, float   population sds of the training columns and of y (what
                                    autoscale and ``plots.coefficients(standardize=True)`` use).
    """

    def __init__(self, prior: Prior | None = None, sigma: float | None = None, fit_intercept: bool = True,
                 method: str = "nuts", formula: str | None = None, sigma_prior: AuxPrior | None = None):
        self.prior = prior
        self.sigma = sigma
        self.sigma_prior = sigma_prior
        self.fit_intercept = fit_intercept
        self.method = method
        self.formula = formula

    def _check_y(self, y, n_rows):
        v.check_sigma(self.sigma)
        self._sigma_prior()
        return v.check_y_continuous(y, n_rows), {}

    def _sigma_prior(self) -> AuxPrior | None:
        """The user's prior on an estimated sigma, checked (None: the default Half-t)."""
        if self.sigma_prior is None:
            return None
        if not isinstance(self.sigma_prior, AuxPrior):
            raise TypeError("sigma_prior must be a prior from bayesreg.families (HalfT, Gamma, Exponential), got "
                            f"{self.sigma_prior!r}")
        if self.sigma is not None:
            raise ValueError(f"sigma={self.sigma!r} is fixed, so sigma_prior would not be used: set sigma=None to "
                             "estimate sigma under sigma_prior, or leave sigma_prior out")
        return self.sigma_prior

    def _observed(self, y, n_rows):
        return v.check_y_continuous(y, n_rows)

    def _dask_data(self, X, y):
        v.check_sigma(self.sigma)
        self._sigma_prior()
        statistics = dask_statistics(X, y)
        return statistics, statistics.feature_names, statistics.n_features, {}

    def _fit_map(self, data, prior, offset=None, sample_weight=None) -> MAPEstimate:
        sigma = v.check_sigma(self.sigma)
        if offset is not None or sample_weight is not None:  # the general solver (bayesreg.solvers.glm)
            fit = fit_glm_map(*data, GAUSSIAN, prior, self.fit_intercept, offset=offset, sample_weight=sample_weight,
                              aux_fixed=None if sigma is None else {"sigma": sigma},
                              aux_priors={"sigma": self._sigma_prior()} if self.sigma_prior is not None else None)
            return MAPEstimate(fit.coef, fit.intercept, fit.aux["sigma"])
        if isinstance(prior, GroupLaplace):
            if isinstance(data, GaussianStatistics):
                raise ValueError("the GroupLaplace MAP needs X and y in memory (not Dask input): call fit on "
                                 "X.compute(), y.compute()")
            fit = fit_linear_group_map(*data, prior, sigma, self.fit_intercept, self._sigma_prior())
        elif isinstance(data, GaussianStatistics):
            fit = fit_linear_map_from_statistics(data, prior, sigma, self.fit_intercept, self._sigma_prior())
        else:
            fit = fit_linear_map(*data, prior, sigma, self.fit_intercept, self._sigma_prior())
        return MAPEstimate(fit.coef, fit.intercept, fit.sigma)

    _family = "gaussian"
    _methods = ("nuts", "map", "empirical_bayes")

    def _evidence_fit(self, X, y, base) -> dict:
        from ..evidence import fit_evidence

        if self._sigma_prior() is not None:
            raise ValueError("method='empirical_bayes' maximises the evidence in sigma (no prior on sigma), so "
                             "sigma_prior would not be used: use method='map' or 'nuts', or leave sigma_prior out")
        fit = fit_evidence(X, y, base, self._known_sigma(), self.fit_intercept)
        estimate = MAPEstimate(fit.coef, fit.intercept, fit.sigma)  # Gaussian posterior: mean = mode
        return {"prior_": Normal(fit.multiplier * base), "log_evidence_": fit.log_evidence, "map_": estimate,
                **self._point_attributes(estimate)}

    def _known_sigma(self):
        return v.check_sigma(self.sigma)

    def _model_inputs(self, data, prior, offset=None, sample_weight=None):
        if offset is not None or sample_weight is not None:  # in memory (checked by _row_arguments)
            spec, model_data = weighted_linear_inputs(*data, prior, sigma=self._known_sigma(),
                                                      fit_intercept=self.fit_intercept, offset=offset,
                                                      sample_weight=sample_weight)
        elif isinstance(data, GaussianStatistics):
            spec, model_data = linear_inputs_from_statistics(data, prior, sigma=self._known_sigma(),
                                                             fit_intercept=self.fit_intercept)
        else:
            spec, model_data = linear_inputs(*data, prior, sigma=self._known_sigma(), fit_intercept=self.fit_intercept)
        if self._sigma_prior() is not None:  # the kernels and the PyMC model read it from the data
            model_data.update(sigma_prior_data(self.sigma_prior))
        return spec, model_data

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

    def predict_interval(self, X, prob: float | None = None, random_seed=None, *,
                         kind: str = "observation") -> np.ndarray:
        r"""Equal-tailed posterior interval per row, shape (n, 2).

        ``kind="observation"``: for a new observation ``y = b + x'w + noise`` (rstanarm's
        ``predictive_interval`` of ``posterior_predict``), from simulated predictive draws.
        ``kind="mean"``: for the mean response ``E[y | x] = b + x'w``, the regression line's
        uncertainty without the noise (rstanarm's ``posterior_epred``); narrower by the noise.
        ``prob`` defaults to :data:`bayesreg.results.CI_PROB` (0.94), as the summary and plots.
        """
        prob = _check_interval(prob, kind, ("observation", "mean"))
        self._require_posterior("predict_interval")
        X_arr, quantiles = self._validated_X(X), [(1 - prob) / 2, (1 + prob) / 2]
        if kind == "mean":
            return results.mean_response_quantiles(self.idata_, X_arr, self.fit_intercept, quantiles, "gaussian").T
        return results.predictive_quantiles(self.idata_, X_arr, self.fit_intercept, quantiles,
                                            np.random.default_rng(random_seed), self._known_sigma()).T
