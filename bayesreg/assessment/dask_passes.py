"""``est.loo`` and ``est.bayes_r2`` on Dask ``X, y``: one pass over the partitions each (the refits
of K-fold and ``reloo``: :mod:`.dask_refits`).

Both reduce over draws row by row (PSIS smooths each observation's importance ratios on its own;
R^2 needs per-draw means and sums of squares over rows, which merge exactly), so each partition is
reduced where it lives (:func:`bayesreg.data.dask_rows.map_row_blocks`): a worker holds one piece of
rows and its draws x rows block (``results.row_blocks``' budget), and only per-row numbers (elpd_i,
p_loo_i, k-hat: 24 bytes a row) or per-draw moments come back. The same numbers as in memory, to
floating-point rounding (tests/test_dask_assessment.py), for every family whose log-likelihood
the in-memory path computes (:func:`.loo.log_likelihood_blocks`: Gaussian, Bernoulli, Poisson,
negative binomial, Student-t), with the rows' ``offset`` carried with them as in ``fit``
(:mod:`bayesreg.data.dask_row_arguments`: a Dask Series aligned with a Dask DataFrame ``X``, a
Dask or NumPy array with a Dask array ``X``).

The posterior sent to the workers is a DataTree of the variables the log-likelihood reads, once.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..data.dask_input import check_dask_X
from ..data.dask_rows import map_row_blocks, map_row_pieces
from ..families import get_family
from .loo import fixed_auxiliary, log_likelihood_blocks, psis_loo, weighted_blocks
from .r2 import RowMoments, draws_of, r2_draws, row_moments

__all__ = ["piece_loo", "dask_bayes_r2", "design_rows", "numeric_y", "log_likelihood_posterior", "LikelihoodOf"]


def design_rows(est, X):
    """``X`` encoded as the fit's design (a formula fit, lazily) and its columns checked against the fit."""
    X = est._design_of(X)
    names = check_dask_X(X)
    est._check_columns(len(names) if names is not None else X.shape[1], names)
    return X


def log_likelihood_posterior(idata, family: str) -> xr.DataTree:
    """The posterior variables the log-likelihood reads (coefficients, intercept, the family's
    auxiliary parameters), as a small DataTree to ship to the workers."""
    posterior = idata["posterior"].to_dataset()
    names = ("coef", "intercept", "sigma", *get_family(family).aux_names)
    return xr.DataTree.from_dict({"posterior": posterior[[name for name in dict.fromkeys(names) if name in posterior]]})


def numeric_y(labels, family: str, classes):
    """``y`` as the log-likelihood reads it: 1 for ``classes[1]`` (logistic), else numbers checked
    as the fit checks them (counts for Poisson and negative binomial)."""
    if family == "bernoulli":
        unknown = ~np.isin(labels, classes)
        if unknown.any():
            raise ValueError(f"y has labels {np.unique(labels[unknown])[:5].tolist()} that the fit did not see "
                             f"(its classes are {list(classes)})")
        return (labels == classes[1]).astype(float)
    try:
        y = np.asarray(labels, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"y must be numeric for the {family} family, got dtype {np.asarray(labels).dtype}") from None
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains missing values (NaN) or infinity; drop or impute them first")
    return get_family(family).check_y(y)


class LikelihoodOf:
    """What the workers need to compute a fit's pointwise log-likelihood (no estimator: a task must
    not carry it): the family, intercept, known sigma, fixed auxiliary values and classes."""

    def __init__(self, est):
        self.family, self.fit_intercept, self.sigma = est._family, est.fit_intercept, est._known_sigma()
        self.aux_fixed, self.classes = fixed_auxiliary(est), getattr(est, "classes_", None)

    def blocks(self, posterior, piece, y=None, rows=slice(None)):
        """:func:`.loo.log_likelihood_blocks` of ``piece``'s ``rows`` (``y``: its outcomes as numbers)."""
        y = numeric_y(piece.y, self.family, self.classes) if y is None else y
        return log_likelihood_blocks(posterior, piece.X[rows], y[rows], self.family, self.fit_intercept, self.sigma,
                                     offset=None if piece.offset is None else piece.offset[rows],
                                     aux_fixed=self.aux_fixed)


def piece_loo(piece, posterior, likelihood: LikelihoodOf, reff):
    """PSIS-LOO of one piece of rows: ``(elpd_i, p_loo_i, k-hat, number of draws)``; a weighted row's
    copies left out together (its log-likelihood times its weight, :mod:`.loo`)."""
    weights = getattr(piece, "weights", None)
    elpd_i, p_i, khat, _, n_samples = psis_loo(weighted_blocks(likelihood.blocks(posterior, piece), weights),
                                               len(piece.X), reff)
    return elpd_i, p_i, khat, n_samples


def _piece_moments(X, _, draws, family) -> RowMoments:
    return row_moments(draws, X, family)


def _piece_moments_offset(piece, draws, family) -> RowMoments:
    from ..data.validation import check_offset

    return row_moments(draws, piece.X, family, offset=check_offset(piece.y, len(piece.X)))


def dask_bayes_r2(est, X, offset=None) -> np.ndarray:
    """Bayesian R^2 draws on Dask rows ``X`` (with their ``offset``: Dask, aligned with ``X`` as in
    ``fit``, or NumPy): the per-draw moments of each piece, merged in row order."""
    X = design_rows(est, X)
    draws = draws_of(est.idata_, est._family, est.fit_intercept, fixed_auxiliary(est))
    if offset is None:
        moments = map_row_pieces(X, None, _piece_moments, draws, est._family)
    else:  # the offset travels as the rows' y would (aligned with X's partitions, or split like X)
        moments = [part for block in map_row_blocks(X, offset, _piece_moments_offset, draws, est._family)
                   for part in block]
    if not moments:
        raise ValueError("X has no rows")
    total = moments[0]
    for part in moments[1:]:
        total = total.merge(part)
    return r2_draws(total, est.idata_, draws, est._family, est._known_sigma())
