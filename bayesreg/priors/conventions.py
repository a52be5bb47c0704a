r"""Exact conversions between penalties and priors, in every convention users meet.

Textbook form (``loss`` is the negative log-likelihood, ``NLL``)
    ``NLL(w) + lam * ||w||_2^2``   is the MAP under ``Normal(scale = sqrt(1 / (2 lam)))``;
    ``NLL(w) + lam * ||w||_1``     is the MAP under ``Laplace(scale = 1 / lam)``.

scikit-learn, linear models (``sigma`` is the noise sd, ``n`` the number of rows)
    ``Ridge``:       ``||y - Xw||^2 + alpha ||w||^2``.
    Dividing by ``2 sigma^2`` gives ``NLL + alpha / (2 sigma^2) ||w||^2``, so
    ``Normal(scale = sigma / sqrt(alpha))``.

    ``Lasso``:       ``1/(2n) ||y - Xw||^2 + alpha ||w||_1``.
    Multiplying by ``n / sigma^2`` gives ``NLL + n alpha / sigma^2 ||w||_1``, so
    ``Laplace(scale = sigma^2 / (n alpha))``.

    ``ElasticNet``:  ``1/(2n) ||y - Xw||^2 + alpha r ||w||_1 + alpha (1 - r) / 2 ||w||^2``
    (``r = l1_ratio``), so
    ``ElasticNet(laplace_scale = sigma^2 / (n alpha r), normal_scale = sigma / sqrt(n alpha (1 - r)))``.

scikit-learn, ``LogisticRegression`` (its NLL is the summed log-loss; no sigma, no n)
    ``C * sum(logloss) + (1 - r)/2 ||w||^2 + r ||w||_1``; dividing by ``C``:
    ``r = 0``: ``Normal(scale = sqrt(C))``;  ``r = 1``: ``Laplace(scale = C)``;
    otherwise ``ElasticNet(laplace_scale = C / r, normal_scale = sqrt(C / (1 - r)))``.

scikit-learn, ``PoissonRegressor`` (the mean deviance is ``2 NLL / n`` up to a constant)
    ``1/(2n) sum(deviance) + alpha / 2 ||w||^2``; times ``n``: ``NLL + n alpha / 2 ||w||^2``, so
    ``Normal(scale = 1 / sqrt(n alpha))`` (weighted: ``n`` is the sum of the weights).

A conversion that needs ``sigma`` or ``n_samples`` and is not given it raises; it never guesses.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from .base import Prior, positive_number, positive_scale
from .coefficients import ElasticNet, Laplace, Normal

__all__ = ["Penalty", "prior_from_penalty", "prior_from_sklearn", "penalty_from_prior"]

SKLEARN_ESTIMATORS = ("Ridge", "Lasso", "ElasticNet", "LogisticRegression", "PoissonRegressor")
# fitted cross-validated variants convert through the penalty they selected
_CV_ESTIMATORS = {"RidgeCV": "Ridge", "LassoCV": "Lasso", "ElasticNetCV": "ElasticNet",
                  "LogisticRegressionCV": "LogisticRegression"}


class Penalty(NamedTuple):
    """A textbook penalty: ``kind`` is ``"l2"``, ``"l1"`` or ``"elasticnet"``.

    ``lam`` is a float, or for ``"elasticnet"`` the pair ``(lam1, lam2)`` of
    ``NLL + lam1 ||w||_1 + lam2 ||w||_2^2``. Per-coefficient priors give arrays: ``lam_j``.
    """

    kind: str
    lam: float | tuple[float, float]


def prior_from_penalty(kind: str, lam) -> Prior:
    """The prior whose MAP is ``NLL(w) + penalty(w)`` (textbook convention).

    ``"l2"``: ``NLL + lam ||w||^2`` -> ``Normal(sqrt(1 / (2 lam)))``.
    ``"l1"``: ``NLL + lam ||w||_1`` -> ``Laplace(1 / lam)``.
    ``"elasticnet"``: ``NLL + lam1 ||w||_1 + lam2 ||w||^2`` with ``lam = (lam1, lam2)``.
    Each ``lam`` may be an array with one entry per coefficient (a per-coefficient prior).
    """
    if kind == "l2":
        return Normal(np.sqrt(1.0 / (2.0 * positive_scale("penalty lam", lam))))
    if kind == "l1":
        return Laplace(1.0 / positive_scale("penalty lam", lam))
    if kind == "elasticnet":
        if not (isinstance(lam, (tuple, list)) and len(lam) == 2):
            raise TypeError(f"an elasticnet penalty takes lam = (lam1, lam2), got {lam!r}")
        lam1, lam2 = (positive_scale(f"elasticnet {name}", v) for name, v in zip(("lam1", "lam2"), lam))
        return ElasticNet(laplace_scale=1.0 / lam1, normal_scale=np.sqrt(1.0 / (2.0 * lam2)))
    raise ValueError(f"unknown penalty kind {kind!r}; expected 'l2', 'l1' or 'elasticnet'")


def _require(name: str, value, estimator: str) -> float:
    if value is None:
        raise ValueError(
            f"converting scikit-learn {estimator} needs {name}: its penalty is on a scale that "
            f"depends on {name}, and bayesreg does not guess it"
        )
    return positive_number(name, value)


def _logistic_l1_ratio(params: dict) -> float:
    penalty = params.get("penalty", "deprecated")
    l1_ratio = params.get("l1_ratio")
    if penalty in ("deprecated", "elasticnet"):
        ratio = 0.0 if l1_ratio is None else float(l1_ratio)
    elif penalty == "l2":
        ratio = 0.0
    elif penalty == "l1":
        ratio = 1.0
    else:
        raise ValueError(f"LogisticRegression penalty={penalty!r} has no proper prior; use a finite C")
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"l1_ratio must be in [0, 1], got {ratio}")
    return ratio


def _from_logistic(params: dict) -> Prior:
    C = _number("LogisticRegression C", params["C"])
    if params.get("fit_intercept", True) and params.get("solver") == "liblinear":
        raise ValueError(
            "LogisticRegression(solver='liblinear') penalizes the intercept; bayesreg keeps it "
            "unpenalized (flat prior) like the other solvers. Use solver='lbfgs' or 'saga'."
        )
    ratio = _logistic_l1_ratio(params)
    if ratio == 0.0:
        return Normal(math.sqrt(C))
    if ratio == 1.0:
        return Laplace(C)
    return ElasticNet(laplace_scale=C / ratio, normal_scale=math.sqrt(C / (1.0 - ratio)))


def _from_elasticnet(alpha: float, ratio: float, n: float, sigma: float) -> Prior:
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"l1_ratio must be in [0, 1], got {ratio}")
    if ratio == 1.0:
        return Laplace(sigma**2 / (n * alpha))
    if ratio == 0.0:
        return Normal(sigma / math.sqrt(n * alpha))
    return ElasticNet(
        laplace_scale=sigma**2 / (n * alpha * ratio),
        normal_scale=sigma / math.sqrt(n * alpha * (1.0 - ratio)),
    )


def _refuse_other_objectives(name: str, params: dict, fit_intercept: bool, sample_weight) -> None:
    """Settings that change the objective minimised, so that no prior reproduces the solution."""
    if params.get("positive", False):
        raise ValueError(f"{name}(positive=True) constrains the coefficients to be >= 0; bayesreg's priors put "
                         "mass on both signs, so no prior here has that solution as its MAP. Use positive=False.")
    if params.get("class_weight") is not None:
        raise ValueError(f"{name}(class_weight={params['class_weight']!r}) reweights the log-loss per class; "
                         "bayesreg's likelihood weights every row equally. Use class_weight=None.")
    if bool(params.get("fit_intercept", True)) != bool(fit_intercept):
        raise ValueError(f"{name}(fit_intercept={params.get('fit_intercept')}) differs from fit_intercept="
                         f"{fit_intercept} of the bayesreg model the prior is for; the solutions differ. "
                         "Use the same fit_intercept in both (pass fit_intercept= here to say yours).")
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=float)
        if weights.size and not np.all(weights == 1.0):
            raise ValueError(f"{name} fitted with sample_weight weights rows unequally; bayesreg's likelihood "
                             "weights every row equally, so no prior reproduces that solution. Refit without it.")


def _number(name: str, value) -> float:
    """A single real number (Python or numpy scalar, e.g. ``np.float32``, ``np.int64``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a single number, got {value!r}")
    return positive_number(name, float(value))


def prior_from_sklearn(estimator, *, n_samples=None, sigma=None, fit_intercept: bool = True,
                       sample_weight=None) -> Prior:
    """The prior whose MAP equals a scikit-learn penalized estimator's solution.

    See the module docstring for the derivations. Settings that change the objective are refused
    with a message naming them: ``positive=True``, ``class_weight``, a ``fit_intercept`` other than
    the bayesreg model's, non-uniform ``sample_weight`` (scikit-learn does not record it: pass
    the weights the estimator was fitted with to have them checked).

    Parameters
    ----------
    estimator : Ridge, Lasso, ElasticNet or LogisticRegression (instance, fitted or not),
        or a *fitted* RidgeCV, LassoCV, ElasticNetCV or binary LogisticRegressionCV, whose
        selected ``alpha_`` (``C_``) and ``l1_ratio_`` are used
    n_samples : int, optional
        Rows of the training data; needed for Lasso and ElasticNet (their ``1/(2n)``).
    sigma : float, optional
        Noise standard deviation; needed for the linear models.
    fit_intercept : bool, default True
        ``fit_intercept`` of the bayesreg estimator the prior is for; must match the estimator's.
    sample_weight : array-like, optional
        The weights ``estimator`` was fitted with, if any; anything but all ones is refused.
    """
    name = _sklearn_name(estimator)
    params = _selected_params(estimator) if type(estimator).__name__ in _CV_ESTIMATORS else estimator.get_params()
    if name == "PoissonRegressor":  # bayesreg takes the same sample_weight: n is their sum
        _refuse_other_objectives(name, params, fit_intercept, None)
        n = _require("n_samples", n_samples if sample_weight is None else float(np.sum(sample_weight)), name)
        return Normal(1.0 / math.sqrt(n * _number(f"{name} alpha", params["alpha"])))
    _refuse_other_objectives(type(estimator).__name__, params, fit_intercept, sample_weight)
    if name == "LogisticRegression":
        return _from_logistic(params)
    alpha = _number(f"{name} alpha", params["alpha"])
    sigma = _require("sigma", sigma, name)
    if name == "Ridge":
        return Normal(sigma / math.sqrt(alpha))
    n = _require("n_samples", n_samples, name)
    ratio = 1.0 if name == "Lasso" else float(params["l1_ratio"])
    return _from_elasticnet(alpha, ratio, n, sigma)


def _selected_params(estimator) -> dict:
    """The penalty a fitted ``*CV`` estimator chose, as the plain estimator's parameters."""
    chosen = "C_" if hasattr(type(estimator), "Cs") or "Cs" in estimator.get_params() else "alpha_"
    if not hasattr(estimator, chosen):
        raise ValueError(f"{type(estimator).__name__} must be fitted first: its penalty is chosen by fitting")
    params = dict(estimator.get_params())
    if chosen == "C_":
        params["C"] = float(np.ravel(estimator.C_)[0])
        params["l1_ratio"] = float(np.ravel(getattr(estimator, "l1_ratio_", [0.0]))[0] or 0.0)
    else:
        params["alpha"] = float(estimator.alpha_)
        if hasattr(estimator, "l1_ratio_"):
            params["l1_ratio"] = float(estimator.l1_ratio_)
    return params


def _sklearn_name(estimator) -> str:
    for klass in type(estimator).__mro__:
        if not klass.__module__.startswith("sklearn."):
            continue
        if klass.__name__ in SKLEARN_ESTIMATORS:
            return klass.__name__
        if klass.__name__ in _CV_ESTIMATORS:
            return _CV_ESTIMATORS[klass.__name__]
    raise TypeError(
        f"cannot convert {type(estimator).__name__}: expected scikit-learn "
        f"{', '.join(SKLEARN_ESTIMATORS)}"
    )


def penalty_from_prior(prior: Prior, sklearn: str | None = None, *, n_samples=None, sigma=None):
    """The penalty whose solution is the MAP under ``prior``: the inverse of the above.

    With ``sklearn=None`` returns the textbook :class:`Penalty`. With ``sklearn`` one of
    ``"Ridge"``, ``"Lasso"``, ``"ElasticNet"``, ``"LogisticRegression"`` returns the keyword
    arguments for that estimator, e.g. ``Ridge(**penalty_from_prior(p, "Ridge", sigma=1))``.
    """
    if not isinstance(prior, (Normal, Laplace, ElasticNet)) or not prior.has_map:
        raise ValueError(
            f"{type(prior).__name__} {'with a learned scale ' if prior.has_map is False and isinstance(prior, (Normal, Laplace)) else ''}"
            "has no penalty equivalent: only Normal, Laplace and ElasticNet priors with fixed scales have "
            "a finite MAP that is a penalized fit"
        )
    if prior.autoscale:
        raise ValueError(f"{prior} is autoscaled: its penalty depends on the data. Convert the fitted "
                         "estimator's prior_ (the resolved numbers) instead")
    l1, l2 = prior.l1, prior.l2  # -log p = sum_j l1_j |w_j| + l2_j/2 w_j^2 (numbers or per-coefficient arrays)
    if sklearn is not None and (np.ndim(l1) or np.ndim(l2)):
        raise ValueError(
            f"{prior} has per-coefficient scales; scikit-learn's {sklearn} takes one penalty for all "
            "coefficients. Rescale column j by its scale s_j (x_j * s_j) and use a scale of 1, or ask for "
            "the textbook Penalty (sklearn=None), whose lam is then an array"
        )
    if sklearn is None:
        if isinstance(prior, Normal):
            return Penalty("l2", l2 / 2)
        if isinstance(prior, Laplace):
            return Penalty("l1", l1)
        return Penalty("elasticnet", (l1, l2 / 2))
    if sklearn == "LogisticRegression":
        # C * sum(logloss) + (1-r)/2 ||w||^2 + r ||w||_1  =  C * [NLL + l1 ||w||_1 + l2/2 ||w||^2]
        C = 1.0 / (l1 + l2)
        return {"C": C, "l1_ratio": l1 * C}
    if sklearn not in SKLEARN_ESTIMATORS:
        raise ValueError(f"unknown scikit-learn estimator {sklearn!r}; expected one of {SKLEARN_ESTIMATORS}")
    sigma = _require("sigma", sigma, sklearn)
    if sklearn == "Ridge":
        if l1:
            raise ValueError(f"{type(prior).__name__} has an L1 part; Ridge cannot express it")
        return {"alpha": sigma**2 * l2}
    n = _require("n_samples", n_samples, sklearn)
    # (1/(2n))||r||^2 + a r ||w||_1 + a (1-r)/2 ||w||^2  =  (sigma^2/n) [NLL + l1 ||w||_1 + l2/2 ||w||^2]
    alpha = sigma**2 * (l1 + l2) / n
    ratio = l1 / (l1 + l2)
    if sklearn == "Lasso":
        if l2:
            raise ValueError(f"{type(prior).__name__} has an L2 part; Lasso cannot express it")
        return {"alpha": alpha}
    return {"alpha": alpha, "l1_ratio": ratio}
