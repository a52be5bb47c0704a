"""What the estimators' ``loo``, ``bayes_r2`` and :func:`compare` do with a fitted estimator.

The estimator is used through its fitted attributes only (``idata_``, ``prior_``,
``fit_intercept``, and its checks of ``X`` and ``y``), so this package never imports the
estimators (which call it).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import special

from ..data import is_dask_input
from ..data import validation as v
from ..priors import Normal
from .loo import (LOOWarning, exact_gaussian_loo, fixed_auxiliary, log_likelihood_blocks, make_elpd,
                  posterior_predictive_log_density, psis_loo, relative_efficiency, warn_on_khat,
                  weighted_blocks)
from .kfold import (exact_gaussian_kfold, fold_ids, fold_seeds, make_kfold_elpd, outcome_of,
                    refit_fold_log_density)
from .r2 import bayes_r2_draws
from .reloo import refit_elpd, refit_settings

__all__ = ["estimator_loo", "estimator_kfold", "estimator_bayes_r2", "compare", "bayes_r2_draws"]

_METHODS = ("auto", "exact", "psis")


def exact_available(est) -> str:
    """Why the closed-form LOO does not apply to ``est`` ('' when it does)."""
    if getattr(est, "_family", None) != "gaussian":
        return "exact LOO needs a Gaussian likelihood (LinearRegression)"
    if est._known_sigma() is None:
        return "exact LOO needs a known noise sd (LinearRegression(sigma=...)); sigma was estimated"
    prior = est.prior_
    if not isinstance(prior, Normal) or prior.learned:
        return f"exact LOO needs a fixed Normal prior, got {prior}"
    return ""


def estimator_loo(est, X=None, y=None, method: str = "auto", reloo: bool = False, max_refits: int = 10,
                  k_threshold=None, refit_kwargs=None, random_seed=None, offset=None, kfold: int | None = 10,
                  sample_weight=None):
    """``est.loo``: see :meth:`bayesreg.estimators._base._BayesianRegression.loo`. ``sample_weight``:
    the fit's; a row's copies are left out together (:mod:`.loo`, weighted rows)."""
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    y = None if X is None else outcome_of(est, X, y)  # a formula fit's outcome from the frame
    if (X is None) != (y is None):
        raise ValueError("pass both the training X and y (or neither, to use the log-likelihood stored at fit)")
    if reloo and X is None:
        raise ValueError("reloo=True refits the model without each poorly estimated row: pass the training data, "
                         "est.loo(X, y, reloo=True)")
    if offset is not None and X is None:
        raise ValueError("offset is that of the training rows: pass them too, est.loo(X, y, offset=offset)")
    if sample_weight is not None and X is None:
        raise ValueError("sample_weight is that of the training rows: pass them too, "
                         "est.loo(X, y, sample_weight=sample_weight)")
    check_weights_given(est, sample_weight, "est.loo(X, y, sample_weight=...)")
    if X is not None and is_dask_input(X, y, offset, sample_weight):  # in passes (dask_passes, dask_refits)
        why_not = exact_available(est) or ("exact LOO is derived without an offset" if offset is not None else
                                           "exact LOO on Dask rows takes no sample_weight yet"
                                           if sample_weight is not None else "")
        if method == "exact" and why_not:
            raise ValueError(f"method='exact': {why_not}. Use method='psis'.")
        if method != "psis" and not why_not:
            from .dask_exact import dask_exact_loo

            return dask_exact_loo(est, X, y)
        est._require_posterior("loo (PSIS)")
        from .dask_refits import DaskRows

        dask_rows = DaskRows(est, X, y, offset, sample_weight)
        elpd_i, p_i, khat, n_samples = dask_rows.psis()
        n_rows, refit_rows = len(elpd_i), dask_rows.reloo_elpd
    else:
        in_memory = _in_memory_psis(est, X, y, method, offset, sample_weight)
        if not isinstance(in_memory, tuple):  # the exact LOO
            return in_memory
        elpd_i, p_i, khat, n_samples, n_rows, refit_rows = in_memory
    if reloo:
        threshold = make_elpd(elpd_i, p_i, n_samples, khat).good_k if k_threshold is None else k_threshold
        bad = np.flatnonzero(khat > threshold)
        if 0 < bad.size <= max_refits:  # exact refits (reloo module docstring)
            lppd_i = p_i[bad] + elpd_i[bad]
            elpd_i[bad] = refit_rows(bad, refit_settings(est.idata_, refit_kwargs, random_seed))
            p_i[bad], khat[bad] = lppd_i - elpd_i[bad], 0.0
        elif bad.size and kfold:  # too many for one refit each: K refits cover every row
            return estimator_kfold(est, X, y, k=kfold, random_seed=random_seed, refit_kwargs=refit_kwargs,
                                   offset=offset, sample_weight=sample_weight, method="refit")
        elif bad.size:
            warnings.warn(f"reloo: {bad.size} rows have k-hat > {threshold:.2f}, more than max_refits={max_refits}; "
                          "none was refitted (kfold=None). Use K-fold cross-validation, est.kfold(X, y), or raise "
                          "max_refits if the refits are affordable.", LOOWarning, stacklevel=3)
    elpd = make_elpd(elpd_i, p_i, n_samples, khat)
    warn_on_khat(elpd, n_rows, max_refits)
    return elpd


def check_weights_given(est, sample_weight, call: str) -> None:
    """A fit with ``sample_weight`` records it (``idata_.attrs["sample_weight_sum"]``); assessing it
    without the weights would score another model (each row once), so that is refused."""
    idata = getattr(est, "idata_", None)
    if sample_weight is None and idata is not None and "sample_weight_sum" in idata.attrs:
        raise ValueError(f"this fit had sample_weight (summing to {float(idata.attrs['sample_weight_sum']):g}): pass "
                         f"the same weights, {call}; without them each row would count once")


def _in_memory_psis(est, X, y, method, offset, sample_weight=None):
    """PSIS-LOO of in-memory rows (or of the log-likelihood stored at fit): ``(elpd_i, p_i, k-hat,
    draws, rows, reloo's refits of some rows)``, or the exact LOO's ``ELPDData``."""
    why_not = exact_available(est) or ("exact LOO is derived without an offset" if offset is not None else "")
    if method == "exact" and why_not:
        raise ValueError(f"method='exact': {why_not}. Use method='psis'.")
    if method == "exact" or (method == "auto" and not why_not and X is not None):
        if X is None:
            raise ValueError("method='exact' needs the training data: est.loo(X, y)")
        X_arr = est._validated_X(X)
        y_arr = est._observed(y, X_arr.shape[0])
        weights = v.check_sample_weight(sample_weight, len(y_arr))
        elpd_i = exact_gaussian_loo(X_arr, y_arr, est.prior_.l2, est._known_sigma(), est.fit_intercept, weights)
        draws = 1 if est.idata_ is None else est.idata_["posterior"].sizes["chain"] * est.idata_["posterior"].sizes["draw"]
        return make_elpd(elpd_i, _exact_p(elpd_i, est, X_arr, y_arr, weights), draws)
    est._require_posterior("loo (PSIS)")
    idata = est.idata_
    if X is None:
        if "log_likelihood" not in idata.children:
            raise ValueError("this fit did not store the pointwise log-likelihood (large n, or log_likelihood=False): "
                             "pass the training data, est.loo(X, y), and it is computed in row blocks")
        values = idata["log_likelihood"]["y"].transpose("chain", "draw", "obs").to_numpy()
        blocks, n_rows = [(slice(0, values.shape[-1]), values)], values.shape[-1]
        refit_rows = None
    else:
        X_arr = est._validated_X(X)
        y_arr = est._observed(y, X_arr.shape[0])
        offset_arr = None if offset is None else v.check_offset(offset, len(y_arr))
        weights = v.check_sample_weight(sample_weight, len(y_arr))
        aux = fixed_auxiliary(est)
        blocks = weighted_blocks(log_likelihood_blocks(idata, X_arr, y_arr, est._family, est.fit_intercept,
                                                       est._known_sigma(), offset=offset_arr, aux_fixed=aux), weights)
        n_rows = len(y_arr)

        def refit_rows(rows, settings):
            return refit_elpd(est, X_arr, y, y_arr, rows, settings, offset_arr, aux, weights)
    elpd_i, p_i, khat, _, n_samples = psis_loo(blocks, n_rows, relative_efficiency(idata))
    return elpd_i, p_i, khat, n_samples, n_rows, refit_rows


_KFOLD_METHODS = ("auto", "exact", "refit")


def estimator_kfold(est, X, y, k: int = 10, folds=None, random_seed=None, refit_kwargs=None, offset=None,
                    sample_weight=None, method: str = "auto"):
    """``est.kfold``: see :meth:`bayesreg.estimators._base._BayesianRegression.kfold` and :mod:`.kfold`."""
    if method not in _KFOLD_METHODS:
        raise ValueError(f"method must be one of {_KFOLD_METHODS}, got {method!r}")
    y = None if X is None else outcome_of(est, X, y)  # a formula fit's outcome from the frame
    if X is None or y is None:
        raise ValueError("K-fold refits the model on part of the training data: pass it, est.kfold(X, y)")
    check_weights_given(est, sample_weight, "est.kfold(X, y, sample_weight=...)")
    if is_dask_input(X, y, offset, sample_weight):  # in passes (dask_exact) or refits on the Dask rows (dask_refits)
        why_not = exact_available(est) or ("the closed form is derived without offset or sample_weight"
                                           if offset is not None or sample_weight is not None else "")
        if method == "exact" and why_not:
            raise ValueError(f"method='exact': {why_not}. Use method='refit'.")
        if method != "refit" and not why_not:
            from .dask_exact import dask_exact_kfold

            return dask_exact_kfold(est, X, y, k, folds, random_seed)
        est._require_posterior("kfold (refits; the exact K-fold needs a fixed Normal prior and known sigma)")
        from .dask_refits import dask_kfold

        return dask_kfold(est, X, y, k, folds, random_seed, _kfold_settings(est, refit_kwargs), offset, sample_weight)
    X_arr = est._validated_X(X)
    y_arr = est._observed(y, X_arr.shape[0])
    n = len(y_arr)
    offset_arr, weights = v.check_offset(offset, n), v.check_sample_weight(sample_weight, n)
    why_not = exact_available(est) or ("the closed form is derived without an offset" if offset_arr is not None else "")
    if method == "exact" and why_not:
        raise ValueError(f"method='exact': {why_not}. Use method='refit'.")
    fold = fold_ids(n, k, folds, random_seed)
    n_folds = int(fold.max()) + 1
    if method != "refit" and not why_not:
        elpd_i = exact_gaussian_kfold(X_arr, y_arr, est.prior_.l2, est._known_sigma(), est.fit_intercept, fold, weights)
        lppd_i = posterior_predictive_log_density(X_arr, y_arr, est.prior_.l2, est._known_sigma(), est.fit_intercept,
                                                  weights)
        draws = 1 if est.idata_ is None else est.idata_["posterior"].sizes["chain"] * est.idata_["posterior"].sizes["draw"]
        return make_kfold_elpd(elpd_i, lppd_i, draws, n_folds)
    est._require_posterior("kfold (refits; the exact K-fold needs a fixed Normal prior and known sigma)")
    aux = fixed_auxiliary(est)
    lppd_i = np.empty(n)
    for rows, loglik in weighted_blocks(log_likelihood_blocks(est.idata_, X_arr, y_arr, est._family, est.fit_intercept,
                                                              est._known_sigma(), offset=offset_arr, aux_fixed=aux),
                                        weights):
        draws = loglik.shape[0] * loglik.shape[1]
        lppd_i[rows] = special.logsumexp(loglik.reshape(draws, -1), axis=0) - np.log(draws)
    settings = _kfold_settings(est, refit_kwargs)
    elpd_i = refit_fold_log_density(est, X_arr, y, y_arr, fold, settings, fold_seeds(random_seed, n_folds),
                                    offset_arr, weights, aux)
    return make_kfold_elpd(elpd_i, lppd_i, settings["draws"] * settings["chains"], n_folds)


def _kfold_settings(est, refit_kwargs) -> dict:
    """The refits' ``fit`` settings: the full fit's sampler and its settings, no seed (one per fold)."""
    settings = {"method": est.method_ if est.method_ in ("nuts", "surrogate") else "nuts",
                **refit_settings(est.idata_, refit_kwargs)}
    settings.pop("random_seed", None)  # one per fold (fold_seeds)
    return settings


def _exact_p(elpd_i, est, X, y, weights=None) -> np.ndarray:
    """``p_loo_i = lppd_i - elpd_i`` with the exact posterior predictive log density ``lppd_i``
    (``log N(y_i | mu_i, h_i + sigma^2)``, from the same closed form; weighted: of the row's copies)."""
    return posterior_predictive_log_density(X, y, est.prior_.l2, est._known_sigma(), est.fit_intercept,
                                            weights) - elpd_i


def compare(fits: dict, method: str = "stacking", round_to="none", **loo_kwargs):
    """Rank fits by elpd (ArviZ's ``compare``, stacking weights by default): ``fits`` maps a name
    to a fitted estimator, an ``ELPDData`` (e.g. from ``est.loo(X, y)``) or a DataTree with a
    log-likelihood group. ``loo_kwargs`` (e.g. ``X=X, y=y``) go to each estimator's ``loo``.
    ``round_to="none"`` keeps full precision (ArviZ's ``"auto"`` rounds the numbers themselves)."""
    from arviz_stats import compare as arviz_compare
    from arviz_stats.utils import ELPDData

    if not isinstance(fits, dict) or len(fits) < 2:
        raise ValueError("compare takes a dict of at least two fits, e.g. {'ridge': est1, 'horseshoe': est2}")
    elpds = {}
    for name, fit in fits.items():
        if isinstance(fit, ELPDData) or hasattr(fit, "children"):
            elpds[name] = fit
        elif hasattr(fit, "loo"):
            elpds[name] = fit.loo(**loo_kwargs)
        else:
            raise TypeError(f"compare: {name!r} is {type(fit).__name__}, not a fitted estimator or an ELPDData")
    return arviz_compare(elpds, method=method, round_to=round_to)


def estimator_bayes_r2(est, X, offset=None) -> np.ndarray:
    """``est.bayes_r2``: the rows ``X`` checked against the fit (Dask ``X``: :mod:`.dask_passes`)."""
    est._require_posterior("bayes_r2")
    if is_dask_input(X):
        from .dask_passes import dask_bayes_r2

        return dask_bayes_r2(est, X, offset)
    X_arr = est._validated_X(X)
    offset = None if offset is None else v.check_offset(offset, X_arr.shape[0])
    return bayes_r2_draws(est.idata_, X_arr, est._family, est.fit_intercept, est._known_sigma(),
                          offset=offset, aux_fixed=fixed_auxiliary(est))
