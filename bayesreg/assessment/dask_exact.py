r"""The closed-form LOO and K-fold of the conjugate Gaussian model on Dask ``X, y``, in passes.

For ``y ~ N(b + Xw, sigma^2)`` with sigma known, a fixed Normal prior on ``w`` (precision ``P``) and
a flat ``b``, everything the closed forms of :mod:`.loo` and :mod:`.kfold` need from the rows is the
Gram matrix ``Z'Z`` and ``Z'y`` (``Z = [1, X]``) of the training rows, then one row at a time:

- pass 1 (K-fold only): the rows of each row block, so that :func:`.kfold.fold_ids` gives row ``i``
  the fold it gets in memory;
- pass 2: ``Z_k'Z_k`` and ``Z_k'y_k`` of each fold ``k`` (of all rows, for LOO): K p x p sums;
- on the client: one Cholesky factor per fold of ``A_k = sum_{j != k} Z_j'Z_j / sigma^2 + diag(0, P)``
  (the training rows' own sums, never the full ones downdated: no cancellation, as in memory) and
  of the full ``A``;
- pass 3: each row's ``elpd_i`` (held out of its fold's posterior; LOO: the cavity of the full
  posterior, :mod:`.loo`'s docstring) and ``lppd_i = log N(y_i | z_i'm, z_i'A^{-1}z_i + sigma^2)``.

No draws and no Monte Carlo error: the numbers of the in-memory closed forms, to rounding (the
sums are added in another order; tests/test_dask_exact.py).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from .dask_passes import numeric_y
from .dask_refits import DaskRows
from .kfold import fold_ids, make_kfold_elpd
from .loo import make_elpd

__all__ = ["dask_exact_loo", "dask_exact_kfold"]


def _design(X, fit_intercept: bool) -> np.ndarray:
    return np.hstack([np.ones((len(X), 1)), X]) if fit_intercept else X


def _piece_rows(piece):
    return None


def _piece_grams(piece, fold_blocks, n_folds: int, fit_intercept: bool):
    """``(Z_k'Z_k, Z_k'y_k)`` of this piece's rows of each fold (one fold without ``fold_blocks``)."""
    Z, y = _design(piece.X, fit_intercept), numeric_y(piece.y, "gaussian", None)
    grams, moments = np.zeros((n_folds, Z.shape[1], Z.shape[1])), np.zeros((n_folds, Z.shape[1]))
    which = (np.zeros(len(y), int) if fold_blocks is None
             else fold_blocks[piece.block][piece.start:piece.start + len(y)])
    for k in np.unique(which):
        rows = which == k
        grams[k], moments[k] = Z[rows].T @ Z[rows], Z[rows].T @ y[rows]
    return grams, moments


def _log_normal(y, mean, variance):
    return -0.5 * np.log(2 * np.pi * variance) - (y - mean) ** 2 / (2 * variance)


def _mean_variance(Z, posterior):
    """Each row's fitted-value mean and variance under ``posterior = (Cholesky factor, mean)``."""
    factor, mean = posterior
    return Z @ mean, np.einsum("ij,ji->i", Z, linalg.cho_solve(factor, Z.T))


def _piece_kfold(piece, fold_blocks, folds: list, full, sigma: float, fit_intercept: bool):
    Z, y = _design(piece.X, fit_intercept), numeric_y(piece.y, "gaussian", None)
    which = fold_blocks[piece.block][piece.start:piece.start + len(y)]
    elpd_i = np.empty(len(y))
    for k in np.unique(which):
        rows = which == k
        mean, variance = _mean_variance(Z[rows], folds[k])
        elpd_i[rows] = _log_normal(y[rows], mean, variance + sigma**2)
    mean, variance = _mean_variance(Z, full)
    return elpd_i, _log_normal(y, mean, variance + sigma**2)


def _piece_loo(piece, full, sigma: float, fit_intercept: bool):
    Z, y = _design(piece.X, fit_intercept), numeric_y(piece.y, "gaussian", None)
    mu, h = _mean_variance(Z, full)
    cavity_var = 1.0 / (1.0 / h - 1.0 / sigma**2)
    cavity_mean = cavity_var * (mu / h - y / sigma**2)
    return _log_normal(y, cavity_mean, cavity_var + sigma**2), _log_normal(y, mu, h + sigma**2)


def _posterior(gram, moment, precision, sigma: float, what: str):
    try:
        factor = linalg.cho_factor(gram / sigma**2 + np.diag(precision))
    except linalg.LinAlgError:
        raise ValueError(f"{what}: the posterior is improper (the flat intercept with no rows, or collinear columns "
                         "under a zero prior precision); use fewer folds") from None
    return factor, linalg.cho_solve(factor, moment / sigma**2)


def _precision(est, p: int) -> np.ndarray:
    return np.concatenate([[0.0] * est.fit_intercept, np.broadcast_to(est.prior_.l2, (p,))])


def _draws(est) -> int:
    idata = est.idata_
    return 1 if idata is None else idata["posterior"].sizes["chain"] * idata["posterior"].sizes["draw"]


def _sums(parts):
    if not parts:
        raise ValueError("X has no rows")
    return sum(part[0] for part in parts), sum(part[1] for part in parts)


def dask_exact_loo(est, X, y):
    """The exact LOO of :func:`.loo.exact_gaussian_loo` on Dask rows (module docstring)."""
    rows, sigma = DaskRows(est, X, y), est._known_sigma()
    gram, moment = _sums(rows.map(_piece_grams, None, 1, est.fit_intercept))
    full = _posterior(gram[0], moment[0], _precision(est, est.n_features_in_), sigma, "exact LOO")
    parts = rows.map(_piece_loo, full, sigma, est.fit_intercept)
    elpd_i, lppd_i = (np.concatenate([part[j] for part in parts]) for j in range(2))
    return make_elpd(elpd_i, lppd_i - elpd_i, _draws(est))


def dask_exact_kfold(est, X, y, k, folds, random_seed):
    """The exact K-fold of :func:`.kfold.exact_gaussian_kfold` on Dask rows (module docstring)."""
    rows, sigma = DaskRows(est, X, y), est._known_sigma()
    rows.map(_piece_rows)  # pass 1: the rows of each row block
    n = sum(rows.lengths)
    if not n:
        raise ValueError("X has no rows")
    if folds is not None and hasattr(folds, "compute"):
        folds = folds.compute()
    fold = fold_ids(n, k, folds, random_seed)
    n_folds, fold_blocks = int(fold.max()) + 1, rows.split(fold)
    gram, moment = _sums(rows.map(_piece_grams, fold_blocks, n_folds, est.fit_intercept))
    precision = _precision(est, est.n_features_in_)
    others = [[i for i in range(n_folds) if i != j] for j in range(n_folds)]  # summed, not downdated
    posteriors = [_posterior(gram[rest].sum(0), moment[rest].sum(0), precision, sigma, f"fold {j}")
                  for j, rest in enumerate(others)]
    full = _posterior(gram.sum(0), moment.sum(0), precision, sigma, "K-fold")
    parts = rows.map(_piece_kfold, fold_blocks, posteriors, full, sigma, est.fit_intercept)
    elpd_i, lppd_i = (np.concatenate([part[j] for part in parts]) for j in range(2))
    return make_kfold_elpd(elpd_i, lppd_i, _draws(est), n_folds)
