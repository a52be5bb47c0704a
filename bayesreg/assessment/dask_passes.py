"""``est.loo`` and ``est.bayes_r2`` on Dask ``X, y``: one pass over the partitions each.

Both reduce over draws row by row (PSIS smooths each observation's importance ratios on its own;
R^2 needs per-draw means and sums of squares over rows, which merge exactly), so each partition is
reduced where it lives (:func:`bayesreg.data.dask_rows.map_row_pieces`): a worker holds one piece of
rows and its draws x rows block (``results.row_blocks``' budget), and only per-row numbers (elpd_i,
p_loo_i, k-hat: 24 bytes a row) or per-draw moments come back. The same numbers as in memory, to
floating-point rounding (tests/test_dask_assessment.py).

The posterior sent to the workers is a DataTree of the variables the log-likelihood reads, once.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..data.dask_input import check_dask_X
from ..data.dask_rows import map_row_pieces
from .loo import log_likelihood_blocks, make_elpd, psis_loo, relative_efficiency, warn_on_khat
from .r2 import RowMoments, draws_of, r2_draws, row_moments

__all__ = ["dask_loo", "dask_bayes_r2"]


def _design(est, X):
    """``X`` encoded as the fit's design (a formula fit, lazily) and its columns checked against the fit."""
    X = est._design_of(X)
    names = check_dask_X(X)
    est._check_columns(len(names) if names is not None else X.shape[1], names)
    return X


def _posterior(idata) -> xr.DataTree:
    posterior = idata["posterior"].to_dataset()
    kept = [name for name in ("coef", "intercept", "sigma") if name in posterior]
    return xr.DataTree.from_dict({"posterior": posterior[kept]})


def _numeric_y(labels, family: str, classes):
    """``y`` as the log-likelihood reads it: the Gaussian's numbers, or 1 for ``classes[1]`` (logistic)."""
    if family == "bernoulli":
        unknown = ~np.isin(labels, classes)
        if unknown.any():
            raise ValueError(f"y has labels {np.unique(labels[unknown])[:5].tolist()} that the fit did not see "
                             f"(its classes are {list(classes)})")
        return (labels == classes[1]).astype(float)
    y = np.asarray(labels, dtype=float)
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains missing values (NaN) or infinity; drop or impute them first")
    return y


def _piece_loo(X, labels, posterior, family, fit_intercept, sigma, reff, classes):
    y = _numeric_y(labels, family, classes)
    elpd_i, p_i, khat, _, n_samples = psis_loo(log_likelihood_blocks(posterior, X, y, family, fit_intercept, sigma),
                                               len(y), reff)
    return elpd_i, p_i, khat, n_samples


def dask_loo(est, X, y, max_refits: int = 10):
    """PSIS-LOO of a fit on Dask ``X, y`` (any fit: the rows are read in passes), as ``est.loo``."""
    if est._family not in ("gaussian", "bernoulli"):
        raise ValueError(f"LOO on Dask rows is available for LinearRegression and LogisticRegression, not the "
                         f"{est._family} family: pass X.compute(), y.compute()")
    X = _design(est, X)
    parts = map_row_pieces(X, y, _piece_loo, _posterior(est.idata_), est._family, est.fit_intercept,
                           est._known_sigma(), relative_efficiency(est.idata_), getattr(est, "classes_", None))
    elpd_i, p_i, khat = (np.concatenate([part[j] for part in parts]) for j in range(3))
    elpd = make_elpd(elpd_i, p_i, parts[0][3], khat)
    warn_on_khat(elpd, len(elpd_i), max_refits)
    return elpd


def _piece_moments(X, _, draws, family) -> RowMoments:
    return row_moments(draws, X, family)


def dask_bayes_r2(est, X, offset=None) -> np.ndarray:
    """Bayesian R^2 draws on Dask rows ``X``: the per-draw moments of each piece, merged in row order."""
    if offset is not None:
        raise ValueError("bayes_r2 with an offset on Dask rows is not available yet; pass X.compute() and the offset")
    X = _design(est, X)
    draws = draws_of(est.idata_, est._family, est.fit_intercept)
    moments = map_row_pieces(X, None, _piece_moments, draws, est._family)
    total = moments[0]
    for part in moments[1:]:
        total = total.merge(part)
    return r2_draws(total, est.idata_, draws, est._family, est._known_sigma())
