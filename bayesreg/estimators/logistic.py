"""``LogisticRegression``: the Bernoulli likelihood; exact NUTS, or the PSIS-corrected surrogate at large n."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from .. import results
from ..data import binary_data, dask_fit, draws_log_likelihood_of, likelihood_of, size_of
from ..data import validation as v
from ..model import logistic_inputs, weighted_logistic_inputs
from ..priors import GroupLaplace, Normal, Prior
from ..results import MAPEstimate
from ..sampling import surrogate_posterior, warn_on_exact_nuts_time
from ..families import BERNOULLI
from ..solvers import fit_glm_map, fit_logistic_group_map, logistic_map
from ._base import _BayesianRegression, _check_interval


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
        evidence (:mod:`bayesreg.evidence`), and ``coef_`` is then the MAP at that scale.
        ``"surrogate"`` for large n: the PSIS-corrected quadratic surrogate, its Pareto k-hat in
        ``idata_.attrs["pareto_k"]`` (see :mod:`bayesreg.sampling.surrogate`).

    formula : str or None, default None
        A Wilkinson formula such as ``"y ~ x1 + C(region) + x2:x3"``, encoded by formulaic: then
        ``fit(df)`` takes a data frame (y named by the formula, or ``fit(df, y)`` for ``"~ x1 + ..."``)
        and every prediction encodes new rows the same way (docs/formulas.md). Its intercept must
        agree with ``fit_intercept`` (``"y ~ 0 + x"`` with ``fit_intercept=False``).

    Attributes
    ----------
    classes_ : ndarray (2,)
    coef_, intercept_, map_, idata_, prior_, x_sd_ : as in :class:`LinearRegression`.
    log_evidence_ : float  the Laplace-approximate log evidence (empirical Bayes only).
    model_spec_, terms_ : as in :class:`LinearRegression` (formula fits).
    """

    def __init__(self, prior: Prior | None = None, fit_intercept: bool = True, method: str = "nuts",
                 formula: str | None = None):
        self.prior = prior
        self.fit_intercept = fit_intercept
        self.method = method
        self.formula = formula

    def _check_y(self, y, n_rows):
        y01, classes = v.check_y_binary(y, n_rows)
        return y01, {"classes_": classes}

    def _observed(self, y, n_rows):
        return v.check_y_fitted_labels(y, n_rows, self.classes_).astype(float)

    def _dask_data(self, X, y):
        data = binary_data(X, y)  # one pass: the classes, and the columns' moments and ranges
        return data, data.feature_names, data.n_features, {"classes_": data.classes}

    def _fit_map(self, data, prior, offset=None, sample_weight=None) -> MAPEstimate:
        if offset is not None or sample_weight is not None:  # the general solver (bayesreg.solvers.glm)
            fit = fit_glm_map(*data, BERNOULLI, prior, self.fit_intercept, offset=offset, sample_weight=sample_weight)
            return MAPEstimate(fit.coef, fit.intercept)
        if isinstance(prior, GroupLaplace):
            return MAPEstimate(*fit_logistic_group_map(*dask_fit.in_memory_binary(data), prior, self.fit_intercept))
        return MAPEstimate(*logistic_map(data, prior, self.fit_intercept))

    def _evidence_fit(self, X, y01, base) -> dict:
        from ..evidence import fit_laplace_evidence

        t, log_evidence, coef, intercept = fit_laplace_evidence(X, y01, base, self.fit_intercept)
        estimate = MAPEstimate(coef, intercept)  # the Laplace approximation's centre
        return {"prior_": Normal(t * base), "log_evidence_": log_evidence, "map_": estimate,
                **self._point_attributes(estimate)}

    _family = "bernoulli"
    _methods = ("nuts", "map", "empirical_bayes", "surrogate")

    def _posterior(self, data, prior, method, names, settings, log_likelihood, map_estimate, **rows):
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
        return super()._posterior(data, prior, method, names, settings, log_likelihood, map_estimate, **rows)

    def _model_inputs(self, data, prior, offset=None, sample_weight=None):
        if offset is not None or sample_weight is not None:
            return weighted_logistic_inputs(*data, prior, fit_intercept=self.fit_intercept, offset=offset,
                                            sample_weight=sample_weight)
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

    def predict_interval(self, X, prob: float | None = None, *, kind: str = "mean") -> np.ndarray:
        """Equal-tailed posterior interval of ``P(y = classes_[1] | x)`` per row, shape (n, 2): the
        mean response, ``logit^-1(b + x'w)`` over posterior draws (rstanarm's ``posterior_epred``).

        A new 0/1 observation has no useful interval (it is {0}, {1} or [0, 1]): its distribution
        is :meth:`predict_proba`, so ``kind`` takes only ``"mean"`` (named as in
        :meth:`LinearRegression.predict_interval`). ``prob`` defaults to
        :data:`bayesreg.results.CI_PROB` (0.94).
        """
        if kind == "observation":
            raise ValueError("a new 0/1 observation has no useful interval; its distribution is predict_proba(X). "
                             "Use kind='mean' for the interval of the probability")
        prob = _check_interval(prob, kind, ("mean",))
        self._require_posterior("predict_interval")
        return results.mean_response_quantiles(self.idata_, self._validated_X(X), self.fit_intercept,
                                               [(1 - prob) / 2, (1 + prob) / 2], "bernoulli").T

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
