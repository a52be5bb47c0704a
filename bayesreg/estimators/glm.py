r"""``PoissonRegression``, ``NegativeBinomialRegression``, ``StudentTRegression``: thin shells over a
family (:mod:`bayesreg.families`) and the general MAP solver (:mod:`bayesreg.solvers.glm`).

Each MAP is exactly a penalized GLM: with ``prior=Normal(s)`` the Poisson MAP is scikit-learn's
``PoissonRegressor(alpha = 1 / (n s^2))``; with Laplace / ElasticNet priors the Poisson and
negative-binomial MAPs are glum's L1 / elastic-net GLMs (tests/test_map_glm.py). ``method="nuts"``
samples the posterior with the compiled kernel (:mod:`bayesreg.sampling.kernels.likelihoods`), offsets
and weights included, with the pointwise log-likelihood for LOO and posterior predictive draws.
Poisson and negative binomial also take Dask input (the MAP in one pass per Newton step,
:mod:`bayesreg.data.family_passes`) and ``method="surrogate"`` (:mod:`bayesreg.sampling.surrogate_family`);
Student-t takes neither (its likelihood is not log-concave: no sound quadratic surrogate).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..data import (DaskFamilyData, dask_fit, family_data, family_draws_log_likelihood_of, family_likelihood_of,
                    family_size_of)
from ..data import validation as v
from .. import results
from ..families import NEGATIVE_BINOMIAL, POISSON, STUDENT_T, AuxPrior
from ..model import glm_inputs
from ..priors import Normal, Prior
from ..results import MAPEstimate
from ..solvers import NoMAPError, family_map
from ._base import _FIT_PARAMETERS, _BayesianRegression


@dataclass(frozen=True)
class FamilyMAPEstimate(MAPEstimate):
    """The mode, with the family's auxiliary parameters there (``phi``; ``sigma`` and ``nu``)."""

    aux: dict = field(default_factory=dict)


class _FamilyRegression(RegressorMixin, _BayesianRegression):
    """What the three share: y checked by the family, MAP by the general solver, ``predict`` the mean."""

    _family_object = None
    _methods = ("map", "nuts")
    _row_methods = ("map", "nuts")
    _aux_parameters: tuple[str, ...] = ()  # (fixed value name, prior name) pairs are "<aux>" and "<aux>_prior"

    def _check_y(self, y, n_rows):
        self._aux_settings()  # bad settings fail before any work
        y = self._family_object.check_y(v.check_y_continuous(y, n_rows))
        if self._family_object.link == "log" and self.fit_intercept and not np.any(y > 0):
            raise NoMAPError(f"every count in y is 0: with a flat intercept the {self._family} posterior is improper "
                             "(the intercept runs off to -infinity) and has no MAP. Check y, or fit_intercept=False")
        return y, {}

    def _observed(self, y, n_rows):
        return self._family_object.check_y(v.check_y_continuous(y, n_rows))

    def _dask_data(self, X, y, offset=None, sample_weight=None):
        if "surrogate" not in self._methods:
            raise ValueError(f"Dask input is not available for {type(self).__name__}: {self._no_surrogate_reason} "
                             "Call fit on X.compute(), y.compute()")
        self._aux_settings()  # bad settings fail before the pass
        # one pass: y checked as counts (offset and weights as in memory), the columns' moments
        data = family_data(X, y, self._family_object, offset, sample_weight)
        if self.fit_intercept and data.y_mean == 0:
            raise NoMAPError(f"every count in y is 0: with a flat intercept the {self._family} posterior is improper "
                             "(the intercept runs off to -infinity) and has no MAP. Check y, or fit_intercept=False")
        return data, data.feature_names, data.n_features, {}

    def _aux_settings(self) -> tuple[dict, dict]:
        """``(fixed values, user priors)`` of the auxiliary parameters, checked."""
        fixed, priors = {}, {}
        for name in self._aux_parameters:
            value, prior = getattr(self, name), getattr(self, f"{name}_prior")
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not (
                        np.isfinite(value) and value > 0):
                    raise ValueError(f"{name} must be a finite number > 0 (fixed), or None (learned), got {value!r}")
                fixed[name] = float(value)
            if prior is not None:
                if not isinstance(prior, AuxPrior):
                    raise TypeError(f"{name}_prior must be a prior from bayesreg.families (Exponential, Gamma, HalfT), "
                                    f"got {prior!r}")
                priors[name] = prior
        return fixed, priors

    def _fit_map(self, data, prior, offset=None, sample_weight=None) -> MAPEstimate:
        fixed, priors = self._aux_settings()
        fit = family_map(data, self._family_object, prior, self.fit_intercept, offset=offset, weights=sample_weight,
                         aux_fixed=fixed, aux_priors=priors)
        return FamilyMAPEstimate(fit.coef, fit.intercept, fit.aux.get("sigma"), dict(fit.aux))

    def fit(self, X, y=None, method: str | None = None, *, offset=None, sample_weight=None, **kwargs):
        if kwargs.get("posterior_predictive"):
            raise ValueError(f"posterior_predictive=True is not available for {type(self).__name__} yet; "
                             "draw from idata_ with the family's sampler")
        if kwargs.get("log_likelihood") and sample_weight is not None:
            raise ValueError("log_likelihood=True with sample_weight: a weighted row's pointwise log-likelihood has "
                             "no leave-one-out meaning; fit without weights (repeat rows instead) or without it")
        return super().fit(X, y, method, offset=offset, sample_weight=sample_weight, **kwargs)

    fit.__doc__ = _BayesianRegression.fit.__doc__

    def _posterior(self, data, prior, method, names, settings, log_likelihood, map_estimate, offset=None,
                   sample_weight=None):
        """NUTS on the compiled kernel (:mod:`bayesreg.sampling.kernels.likelihoods`), or the surrogate."""
        from ..sampling import check_sampler_options, columns_standardized, default_settings, sample_posterior, \
            warn_on_problems

        if method == "surrogate":
            return self._surrogate(data, prior, names, settings, log_likelihood, map_estimate, offset, sample_weight)
        data = dask_fit.in_memory_family(data)  # exact NUTS needs every row at every gradient
        fixed, priors = self._aux_settings()
        spec, model_data = glm_inputs(*data, prior, self._family, fit_intercept=self.fit_intercept, offset=offset,
                                      sample_weight=sample_weight, aux_fixed=fixed, aux_priors=priors)
        options = {k: value for k, value in settings.items() if k not in _FIT_PARAMETERS}
        check_sampler_options(options, _FIT_PARAMETERS, default_settings(spec)["adaptation"])
        idata = sample_posterior(spec, model_data, names, **settings)
        free = [name for name in self._family_object.aux_names if name not in fixed]
        warn_on_problems(idata, [*results.summary_var_names(idata), *free], columns_standardized(data[0]))
        return _with_observations(idata, *data, self._family, self.fit_intercept, offset, fixed,
                                  log_likelihood if sample_weight is None else False)

    def _surrogate(self, data, prior, names, settings, log_likelihood, map_estimate, offset, sample_weight):
        """The PSIS-corrected quadratic surrogate (:mod:`bayesreg.sampling.surrogate_family`), expanded at
        the MAP; for priors without one (horseshoes), at the mode under ``Normal(1e3)``, as the logistic's."""
        from ..sampling import family_surrogate_posterior

        family = self._family_object
        fixed, priors = self._aux_settings()
        if map_estimate is None:
            map_estimate = self._fit_map(data, Normal(1e3), offset, sample_weight)
        _, _, weight_sum, y_mean = family_size_of(data, sample_weight)
        free = {name: priors.get(name) or family.default_aux_prior(name, None, None)
                for name in family.aux_names if name not in fixed}
        idata = family_surrogate_posterior(
            family_likelihood_of(data, family, self.fit_intercept, None, offset, sample_weight),
            family_draws_log_likelihood_of(data, family, offset, sample_weight), prior, family=family,
            n=weight_sum, pseudo_sigma=1.0 / np.sqrt(max(y_mean, 1e-300)), fit_intercept=self.fit_intercept,
            coef=map_estimate.coef, intercept=map_estimate.intercept, aux={**map_estimate.aux, **fixed},
            aux_fixed=fixed, aux_priors=free, names=names, settings=settings)
        if isinstance(data, tuple):
            idata = _with_observations(idata, *data, self._family, self.fit_intercept, offset, fixed,
                                       log_likelihood if sample_weight is None else False)
        return idata

    def _evidence_fit(self, X, y, base, offset=None, sample_weight=None) -> dict:
        """``method="empirical_bayes"``: the Laplace-approximate evidence (:mod:`bayesreg.evidence_glm`),
        with the rows' ``offset`` (log exposure) and ``sample_weight``."""
        from ..evidence_glm import fit_family_evidence

        fixed, priors = self._aux_settings()
        t, log_evidence, fit = fit_family_evidence(X, y, self._family_object, base, self.fit_intercept, fixed, priors,
                                                   offset=offset, weights=sample_weight)
        estimate = FamilyMAPEstimate(fit.coef, fit.intercept, fit.aux.get("sigma"), dict(fit.aux))
        return {"prior_": Normal(t * base), "log_evidence_": log_evidence, "map_": estimate,
                **self._point_attributes(estimate)}

    def _posterior_attributes(self, idata):
        attributes = super()._posterior_attributes(idata)
        posterior = idata["posterior"]
        attributes.update({f"{name}_": float(posterior[name].mean()) for name in self._family_object.aux_names})
        return attributes

    def _model_inputs(self, data, prior):  # est.pymc_model(X, y): the model NUTS samples (without offset, weights)
        fixed, priors = self._aux_settings()
        return glm_inputs(*data, prior, self._family, fit_intercept=self.fit_intercept, aux_fixed=fixed,
                          aux_priors=priors)

    def sample_posterior_predictive(self, X, y=None, random_seed=None, *, offset=None):
        """Draws of replicated ``y`` for rows ``X`` (with their ``offset``, e.g. log exposure) from the
        posterior, shape (chain, draw, obs); stored in ``idata_["posterior_predictive"]`` and returned.
        ``y`` (to replace ``observed_data``) is not taken yet for these families."""
        if y is not None:
            raise ValueError(f"{type(self).__name__}.sample_posterior_predictive does not take y yet; pass X (and offset)")
        self._require_posterior("sample_posterior_predictive")
        X_arr = self._validated_X(X)
        offset = None if offset is None else v.check_offset(offset, X_arr.shape[0])
        group = results.family_posterior_predictive(self.idata_, X_arr, self._family_object, self.fit_intercept,
                                                    np.random.default_rng(random_seed), offset,
                                                    self._aux_settings()[0])
        self.idata_["posterior_predictive"] = group
        return group

    def _point_attributes(self, estimate):
        attributes = super()._point_attributes(estimate)
        attributes.update({f"{name}_": value for name, value in getattr(estimate, "aux", {}).items()})
        return attributes

    def predict(self, X, offset=None) -> np.ndarray:
        """The mean response at the MAP: ``exp(offset + intercept_ + X @ coef_)`` for the count
        families (``offset = log(exposure)`` of the new rows), ``offset + intercept_ + X @ coef_`` for
        Student-t."""
        check_is_fitted(self, "coef_")
        coef, intercept, family = self.coef_, self.intercept_, self._family_object  # a lazy task must not carry self
        if offset is None:  # Dask X gives a lazy Dask array
            return dask_fit.rows_of(self, X, lambda rows: family.inverse_link(intercept + rows @ coef))
        X_arr = self._validated_X(X)
        return family.inverse_link(intercept + X_arr @ coef + v.check_offset(offset, X_arr.shape[0]))


class PoissonRegression(_FamilyRegression):
    r"""Bayesian Poisson regression: ``y ~ Poisson(exp(offset + intercept + X coef))``, ``coef ~ prior``.

    Parameters
    ----------
    prior : Prior, default None
        ``None`` means ``Normal(2.5, autoscale=True)``: coefficient j gets scale ``2.5 / sd(x_j)``
        on the log scale (rstanarm's default). ``Normal(s)`` is ``PoissonRegressor(alpha=1/(n s^2))``.
    fit_intercept : bool, default True
    method : {"nuts", "map", "surrogate", "empirical_bayes"}, default "nuts"
        ``"empirical_bayes"`` (a Normal prior): its scale multiplier chosen by the Laplace-approximate
        evidence (:mod:`bayesreg.evidence_glm`), ``log_evidence_`` set, ``coef_`` the MAP there.
        ``"surrogate"`` for large n (and Dask input): NUTS on a quadratic expansion of the
        log-likelihood at the MAP, corrected by PSIS, Pareto k-hat in ``idata_.attrs["pareto_k"]``
        (:mod:`bayesreg.sampling.surrogate_family`).
    formula : str or None, default None
        As in ``LinearRegression``: ``"y ~ x1 + C(region)"`` with ``fit(df)`` (docs/formulas.md).

    Attributes: ``coef_``, ``intercept_``, ``map_``, ``prior_``, ``x_sd_`` as in ``LinearRegression``.
    """

    _family = "poisson"
    _family_object = POISSON
    _methods = ("map", "nuts", "surrogate", "empirical_bayes")
    _row_methods = ("map", "nuts", "surrogate", "empirical_bayes")
    _dask_row_methods = ("map", "surrogate")

    def __init__(self, prior: Prior | None = None, fit_intercept: bool = True, method: str = "nuts",
                 formula: str | None = None):
        self.prior = prior
        self.fit_intercept = fit_intercept
        self.method = method
        self.formula = formula


class NegativeBinomialRegression(_FamilyRegression):
    r"""Bayesian negative binomial (NB2) regression: mean ``mu = exp(offset + intercept + X coef)``,
    variance ``mu + mu^2 / phi``.

    Parameters
    ----------
    prior : Prior, default None  (as :class:`PoissonRegression`)
    phi : float or None, default None
        The reciprocal dispersion; ``None`` learns it (jointly with the coefficients at the MAP).
    phi_prior : bayesreg.families prior or None
        ``None``: ``Exponential(1)`` (rstanarm's ``prior_aux`` for ``neg_binomial_2``).
    fit_intercept : bool, default True
    method : {"nuts", "map", "surrogate", "empirical_bayes"}, default "nuts"  (as :class:`PoissonRegression`;
        empirical Bayes integrates phi out with the coefficients in the Laplace approximation)

    Attributes: as :class:`PoissonRegression`, and ``phi_``.
    """

    _family = "negative_binomial"
    _family_object = NEGATIVE_BINOMIAL
    _aux_parameters = ("phi",)
    _methods = ("map", "nuts", "surrogate", "empirical_bayes")
    _row_methods = ("map", "nuts", "surrogate", "empirical_bayes")
    _dask_row_methods = ("map", "surrogate")

    def __init__(self, prior: Prior | None = None, phi: float | None = None, phi_prior: AuxPrior | None = None,
                 fit_intercept: bool = True, method: str = "nuts", formula: str | None = None):
        self.prior = prior
        self.phi = phi
        self.phi_prior = phi_prior
        self.fit_intercept = fit_intercept
        self.method = method
        self.formula = formula


class StudentTRegression(_FamilyRegression):
    r"""Robust linear regression: ``y = offset + intercept + X coef + sigma * t_nu`` noise.

    Parameters
    ----------
    prior : Prior, default None
        ``None`` means ``Normal(2.5, autoscale=True)``: scale ``2.5 sd(y) / sd(x_j)`` (as ``LinearRegression``).
    sigma, nu : float or None, default None
        Fixed values, or ``None`` to learn them.
    sigma_prior, nu_prior : bayesreg.families prior or None
        ``None``: ``sigma ~ HalfT(4, sd(y))`` (as ``LinearRegression``), ``nu ~ Gamma(2, 0.1)``
        (Juarez & Steel; brms's default).
    fit_intercept : bool, default True
    method : {"nuts", "map"}, default "nuts"

    Attributes: ``coef_``, ``intercept_``, ``sigma_``, ``nu_``, ``map_``, ``prior_``.
    """

    _family = "student_t"
    _family_object = STUDENT_T
    _aux_parameters = ("sigma", "nu")
    _no_surrogate_reason = ("the Student-t likelihood is not log-concave (rows with r^2 > nu sigma^2 curve the wrong "
                            "way) and its (sigma, nu) posterior is far from Gaussian, so no quadratic surrogate or "
                            "distributed pass serves it; use method='nuts' or 'map' on data in memory.")

    def __init__(self, prior: Prior | None = None, sigma: float | None = None, nu: float | None = None,
                 sigma_prior: AuxPrior | None = None, nu_prior: AuxPrior | None = None, fit_intercept: bool = True,
                 method: str = "nuts", formula: str | None = None):
        self.prior = prior
        self.sigma = sigma
        self.nu = nu
        self.sigma_prior = sigma_prior
        self.nu_prior = nu_prior
        self.fit_intercept = fit_intercept
        self.method = method
        self.formula = formula


def _with_observations(idata, X, y, family: str, fit_intercept: bool, offset, fixed: dict, log_likelihood):
    """``observed_data``, and ``log_likelihood`` (pointwise, the offset included) on request or, by
    default, when it is small (``results.LOG_LIKELIHOOD_MAX_BYTES``), as the other estimators store them."""
    import xarray as xr

    from ..assessment.loo import log_likelihood_blocks

    idata["observed_data"] = xr.Dataset({"y": ("obs", y)})
    if log_likelihood is None:
        n_draws = idata["posterior"].sizes["chain"] * idata["posterior"].sizes["draw"]
        log_likelihood = n_draws * len(y) * 8 <= results.LOG_LIKELIHOOD_MAX_BYTES
    if log_likelihood:
        blocks = [values for _, values in log_likelihood_blocks(idata, X, y, family, fit_intercept, offset=offset,
                                                                  aux_fixed=fixed)]
        idata["log_likelihood"] = xr.Dataset({"y": (("chain", "draw", "obs"), np.concatenate(blocks, axis=-1))},
                                             coords={"chain": idata["posterior"]["chain"].values,
                                                     "draw": idata["posterior"]["draw"].values})
    return idata
