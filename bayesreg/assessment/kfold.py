r"""K-fold cross-validation: refit without each fold, score the fold's rows (ArviZ's ``loo_kfold``).

The rows are split into ``K`` folds (random, of equal size up to one row, or given). For row ``i``
in fold ``k`` the model is refitted on the other folds and

.. math:: \widehat{\mathrm{elpd}}_i = \log \frac{1}{S} \sum_{s=1}^{S} p(y_i \mid \theta^{(-k)}_s),

plain Monte Carlo over the refit's draws (no importance sampling, so no k-hat). As in
``arviz_stats.loo_kfold``: ``elpd = sum_i elpd_i``, ``se = sqrt(n var(elpd_i))`` (ddof 0),
``p_kfold_i = lppd_i - elpd_i`` with the full-data ``lppd_i``; the result is ArviZ's
``ELPDDataLOOKFold`` (``compare`` takes it beside LOO results).

**Closed form.** For ``y ~ N(b + Xw, sigma^2)`` with sigma known, a fixed Normal prior on ``w``
(precision ``P``) and a flat ``b``, the posterior from the training rows ``T`` is Gaussian with
precision ``A_T = Z_T'Z_T / sigma^2 + diag(0, P)`` and mean ``m_T = A_T^{-1} Z_T'y_T / sigma^2``,
so ``elpd_i = log N(y_i | z_i'm_T, z_i'A_T^{-1}z_i + sigma^2)`` exactly: one Cholesky factor per
fold, no refits, no Monte Carlo error. With ``sample_weight`` the training rows enter ``A_T`` and ``m_T`` weighted
(``Z_T'W_T Z_T``, ``Z_T'W_T y_T``) and a held-out row's ``w_i`` copies are scored together
(:func:`.loo.exact_gaussian_loo`'s density of copies).

**Refits** otherwise: a clone of the estimator with its resolved prior (``prior_``, as
:mod:`.reloo`), fitted by the full fit's method with its sampler settings (``refit_kwargs``
override them), one seed per fold spawned from ``random_seed``.

**Formula fits.** ``X`` is the user's data frame (``y`` may be left out when the formula names
the outcome: it is read from the frame). Every row is encoded once by the *full* fit's model spec
(``est._validated_X``, as for predictions), and each refit is a clone without ``formula=`` fitted on its training rows of
that design, with the full fit's resolved prior (its groups are the formula's terms already). So
the columns are the same in every fold: a factor level that no training row of a fold has keeps its
column (zero in those rows), its coefficient is the prior's, and the held-out rows of that level
are predicted from the prior: what the exact K-fold of the fixed design gives, and the honest
answer to "predict a level the training data never saw". Re-learning the spec from each fold's
rows instead would drop that column (formulaic learns the levels present), so the held-out rows
could not be encoded at all; refusing would make K-fold fail whenever a rare level sits in one
fold. Stateful transforms (``center()``, ``scale()``, spline knots) keep the full fit's constants:
they are learned from the covariates only, never from ``y``.

**Offsets and weights.** ``offset`` (the training rows') goes to each refit and into the held-out
rows' linear predictor. ``sample_weight``: a row of weight ``w_i`` counts as ``w_i`` copies of itself
(the meaning the fit gives it) that always sit in the same fold and are scored together: its
contribution is the log density of its ``w_i`` copies, ``log (1/S) sum_s p(y_i | theta^(-k)_s)^{w_i}``
(brms's: the Monte Carlo mean of the exponentiated weighted log-likelihood; ``lppd_i`` likewise);
each refit gets its training rows' weights. The same convention as ``est.loo`` and ``br.select`` (the copies of a row
are held out together, :mod:`.loo`), and the same SE: ``sqrt(n var_i(elpd_i))`` over the rows.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import linalg, special

from .loo import log_likelihood_blocks, rows_se

__all__ = ["fold_ids", "exact_gaussian_kfold", "refit_fold_log_density", "make_kfold_elpd", "fold_seeds",
           "outcome_of", "refit_clone"]


def outcome_of(est, X, y):
    """``y`` as given, or for a formula fit naming the outcome (``"y ~ ..."``) and ``y=None``, the
    outcome read from the data frame ``X`` (module docstring, formula fits)."""
    formula = getattr(est, "formula", None)
    if y is not None or formula is None or getattr(est, "model_spec_", None) is None:
        return y
    from ..data import formula as fm
    from ..data import is_dask_input

    if is_dask_input(X) and hasattr(X, "map_partitions"):  # a Dask frame: the column, lazily
        from ..data.formula_dask import outcome_of_rows

        y = outcome_of_rows(formula, X)
    else:
        y = fm.outcome_of(formula, X)
    if y is None:
        raise ValueError(f"formula {formula!r} names no outcome: pass y beside the data frame, "
                         "e.g. est.kfold(df, y), est.loo(df, y) or br.select(est, df, y)")
    return y


def refit_clone(est):
    """An unfitted copy of ``est`` with the full fit's resolved prior, fitted by the refits on rows of
    the full fit's design: a formula fit's clone drops ``formula=`` (its rows come encoded by the full
    fit's spec, so every fold has the same columns; module docstring)."""
    from sklearn.base import clone

    refit = clone(est).set_params(prior=est.prior_)
    if getattr(est, "formula", None) is not None:
        refit.set_params(formula=None)
    return refit


def fold_ids(n_rows: int, k: int = 10, folds=None, random_seed=None) -> np.ndarray:
    """Fold of each row as 0..K-1: ``folds`` (any labels, one per row) when given, else ``k`` random
    folds whose sizes differ by at most one row."""
    if folds is not None:
        labels = np.asarray(folds)
        if labels.ndim != 1 or labels.shape[0] != n_rows:
            raise ValueError(f"folds must hold one fold label per row ({n_rows} rows), got shape {labels.shape}")
        _, ids = np.unique(labels, return_inverse=True)
        if ids.max() < 1:
            raise ValueError("folds puts every row in one fold; K-fold needs at least 2 folds")
        return ids.reshape(-1)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= n_rows:
        raise ValueError(f"k (the number of folds) must be an integer from 2 to the number of rows ({n_rows}), got {k!r}")
    return np.random.default_rng(random_seed).permutation(np.arange(n_rows) % int(k))


def fold_seeds(random_seed, n_folds: int) -> list[int]:
    """One sampler seed per fold, independent streams spawned from ``random_seed``."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(random_seed).spawn(n_folds)]


def exact_gaussian_kfold(X, y, prior_precision, sigma: float, fit_intercept: bool, fold, weights=None) -> np.ndarray:
    """``log p(y_i | y_{-fold(i)})`` per row, exactly, for the conjugate Gaussian model (module docstring);
    with ``weights``, the training rows weighted and each held-out row's ``w_i`` copies scored together."""
    from .loo import _log_copies_density

    X, y = np.asarray(X, float), np.asarray(y, float)
    n, p = X.shape
    W = np.ones(n) if weights is None else np.asarray(weights, float)
    Z = np.hstack([np.ones((n, 1)), X]) if fit_intercept else X
    precision = np.diag(np.concatenate([[0.0] * fit_intercept, np.broadcast_to(prior_precision, (p,))]))
    out = np.empty(n)
    for k in np.unique(fold):
        test = fold == k
        Z_train, y_train, Z_test, W_train = Z[~test], y[~test], Z[test], W[~test]
        try:  # the training rows' own normal equations (not the full ones downdated: no cancellation)
            factor = linalg.cho_factor(Z_train.T @ (W_train[:, None] * Z_train) / sigma**2 + precision)
        except linalg.LinAlgError:
            raise ValueError(f"fold {k}: the posterior of the other folds is improper (the flat intercept with no "
                             "training rows, or collinear columns under a zero prior precision); use fewer folds") from None
        mean = Z_test @ linalg.cho_solve(factor, Z_train.T @ (W_train * y_train) / sigma**2)
        variance = np.einsum("ij,ji->i", Z_test, linalg.cho_solve(factor, Z_test.T))
        out[test] = _log_copies_density(y[test], mean, variance, sigma, None if weights is None else W[test])
    return out


def refit_fold_log_density(est, X_arr, y_raw, y_arr, fold, settings: dict, seeds, offset=None, sample_weight=None,
                           aux_fixed=None) -> np.ndarray:
    """``log (1/S) sum_s p(y_i | theta^(-k)_s)`` per row from one refit per fold (module docstring).
    ``y_raw``: ``y`` as the user gave it (labels), for the refits' ``fit``; ``y_arr``: as numbers."""
    y_raw = np.asarray(y_raw)
    out = np.empty(len(y_arr))
    for k, seed in zip(np.unique(fold), seeds):
        test = fold == k
        rows = {}
        if offset is not None:
            rows["offset"] = offset[~test]
        if sample_weight is not None:
            rows["sample_weight"] = sample_weight[~test]
        refit = refit_clone(est)
        refit.fit(X_arr[~test], y_raw[~test], **rows, **{**settings, "random_seed": seed})
        blocks = log_likelihood_blocks(refit.idata_, X_arr[test], y_arr[test], est._family, est.fit_intercept,
                                       est._known_sigma(), offset=None if offset is None else offset[test],
                                       aux_fixed=aux_fixed)
        positions = np.flatnonzero(test)
        for block_rows, loglik in blocks:
            if sample_weight is not None:  # the row's copies, held out together (module docstring)
                loglik = loglik * sample_weight[positions[block_rows]]
            draws = loglik.shape[0] * loglik.shape[1]
            out[positions[block_rows]] = special.logsumexp(loglik.reshape(draws, -1), axis=0) - np.log(draws)
    return out


def make_kfold_elpd(elpd_i, lppd_i, n_samples: int, n_folds: int):
    """ArviZ's ``ELPDDataLOOKFold`` from the pointwise values (module docstring)."""
    from arviz_stats.utils import ELPDDataLOOKFold

    elpd_i, p_i = np.asarray(elpd_i, float), np.asarray(lppd_i, float) - np.asarray(elpd_i, float)
    return ELPDDataLOOKFold(elpd=float(np.sum(elpd_i)), se=rows_se(elpd_i, ddof=0),
                            p=float(np.sum(p_i)), n_samples=int(n_samples), n_data_points=len(elpd_i), scale="log",
                            warning=False, good_k=None, elpd_i=xr.DataArray(elpd_i, dims="obs"), n_folds=int(n_folds),
                            p_kfold_i=xr.DataArray(p_i, dims="obs"))
