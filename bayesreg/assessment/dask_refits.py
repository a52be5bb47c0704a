r"""K-fold cross-validation and ``reloo`` on Dask ``X, y``: refits on the Dask training rows.

The same estimates as in memory (:mod:`.kfold`, :mod:`.reloo`), computed in passes:

1. one pass for the full posterior's ``lppd_i = log (1/S) sum_s p(y_i | theta_s)`` (K-fold) or
   PSIS-LOO (``reloo``, :mod:`.dask_passes`): it also checks every row before any refit and counts
   the rows of each row block, which places each row on the client;
2. the folds: :func:`.kfold.fold_ids` of the number of rows, so row ``i`` gets the fold it gets in
   memory for the same ``k``, ``folds`` and ``random_seed``, whatever the partitions;
3. one refit per fold (per flagged row for ``reloo``) on the other rows, lazily selected
   (:func:`bayesreg.data.dask_subsets.keep_rows`), by the refit's ``fit`` on Dask input: the full
   fit's method (``"nuts"``: linear regression on sufficient statistics; ``"surrogate"``: the count
   and logistic families in passes; a count family's or logistic ``"nuts"`` reads its rows into
   memory, as its ``fit`` does), its sampler settings and the seeds of the in-memory K-fold
   (:func:`.kfold.fold_seeds`);
4. one pass scoring each held-out row under its refit's draws,
   ``elpd_i = log (1/S) sum_s p(y_i | theta^(-k)_s)``, all refits' draws shipped once.

The refits' data agree with the in-memory refits' to rounding (the Dask passes sum in another
order), so their draws are the in-memory ones up to NUTS's amplification of rounding
(tests/test_dask_refits.py). ``reloo`` here refits with the full fit's method (in memory: always
exact NUTS), since exact NUTS of a count or logistic model needs its rows in memory.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy import special

from ..data.dask_rows import map_row_blocks
from ..data.dask_subsets import keep_rows
from .dask_passes import LikelihoodOf, design_rows, log_likelihood_posterior, numeric_y, piece_loo
from .kfold import fold_ids, fold_seeds, make_kfold_elpd, refit_clone
from .loo import relative_efficiency

__all__ = ["dask_kfold", "DaskRows"]


def _mean_density(blocks, out, positions, weights=None):
    """``out[positions[rows]] = log mean_s p`` of each ``(rows, log_lik (chain, draw, rows))`` block;
    with the piece's ``weights``, ``log mean_s p^w`` (a row's copies held out together, :mod:`.kfold`)."""
    for rows, loglik in blocks:
        if weights is not None:
            loglik = loglik * weights[positions[rows]]
        draws = loglik.shape[0] * loglik.shape[1]
        out[positions[rows]] = special.logsumexp(loglik.reshape(draws, -1), axis=0) - np.log(draws)


def _counted(function, piece, *shared):
    return len(piece.X), function(piece, *shared)


def _piece_lppd(piece, posterior, likelihood: LikelihoodOf):
    out = np.empty(len(piece.X))
    _mean_density(likelihood.blocks(posterior, piece), out, np.arange(len(out)), piece.weights)
    return out, piece.weights


def _piece_held_out(piece, posteriors, assignment_blocks, likelihood: LikelihoodOf):
    """Each row's density under the refit it was held out of (``assignment``: its refit, -1: none)."""
    which = assignment_blocks[piece.block][piece.start:piece.start + len(piece.X)]
    out = np.full(len(piece.X), np.nan)
    if not np.any(which >= 0):
        return out
    y = numeric_y(piece.y, likelihood.family, likelihood.classes)
    for j in np.unique(which[which >= 0]):
        rows = np.flatnonzero(which == j)
        _mean_density(likelihood.blocks(posteriors[j], piece, y, rows), out, rows, piece.weights)
    return out


def refit_method(est) -> str:
    """The refits' method: the full fit's sampler (``"nuts"`` or ``"surrogate"``), as the in-memory K-fold."""
    return est.method_ if est.method_ in ("nuts", "surrogate") else "nuts"


class DaskRows:
    """The Dask rows of one assessment (the fit's design, ``y``, ``offset``, ``sample_weight``) and
    the rows of each row block, learned by the first pass (module docstring)."""

    def __init__(self, est, X, y, offset=None, sample_weight=None):
        self.est, self.X, self.y, self.offset, self.weights = est, design_rows(est, X), y, offset, sample_weight
        self.likelihood = LikelihoodOf(est)
        self.lengths: list[int] | None = None

    def map(self, function, *shared) -> list:
        """``function(piece, *shared)`` of every piece, in row order (and the rows of each block learned)."""
        blocks = map_row_blocks(self.X, self.y, partial(_counted, function), *shared, offset=self.offset,
                                weights=self.weights)
        self.lengths = [sum(n for n, _ in block) for block in blocks]
        return [part for block in blocks for _, part in block]

    def psis(self) -> tuple:
        """PSIS-LOO in one pass (:func:`.dask_passes.piece_loo`): ``(elpd_i, p_loo_i, k-hat, draws)``."""
        idata = self.est.idata_
        parts = self.map(piece_loo, log_likelihood_posterior(idata, self.est._family), self.likelihood,
                         relative_efficiency(idata))
        if not parts:
            raise ValueError("X has no rows")
        return (*(np.concatenate([part[j] for part in parts]) for j in range(3)), parts[0][3])

    def split(self, values: np.ndarray) -> list[np.ndarray]:
        """``values`` (one per row) cut into the row blocks."""
        return np.split(values, np.cumsum(self.lengths)[:-1])

    def check_row_arguments(self, method: str, what: str) -> None:
        given = [name for name, value in (("offset", self.offset), ("sample_weight", self.weights))
                 if value is not None]
        if given and method not in self.est._dask_row_methods:
            raise ValueError(f"{what} on Dask rows refits {type(self.est).__name__} with method={method!r}, which "
                             f"takes {' and '.join(given)} with Dask input only with method in "
                             f"{self.est._dask_row_methods or '()'}: pass X.compute(), y.compute()")

    def refit_without(self, held_out: list[np.ndarray], settings: dict, seeds) -> list:
        """One refit per boolean row mask in ``held_out`` (True: left out), each on the other rows;
        their posteriors (what the log-likelihood reads)."""
        posteriors = []
        for mask, seed in zip(held_out, seeds):
            X, y, offset, weights = keep_rows(self.X, (self.y, self.offset, self.weights), self.split(~mask))
            rows = {name: value for name, value in (("offset", offset), ("sample_weight", weights))
                    if value is not None}
            refit = refit_clone(self.est).fit(X, y, **rows, **{**settings, "random_seed": seed})
            posteriors.append(log_likelihood_posterior(refit.idata_, self.est._family))
        return posteriors

    def held_out_density(self, posteriors: list, assignment: np.ndarray) -> np.ndarray:
        """``log (1/S) sum_s p(y_i | theta^(j)_s)`` with ``j = assignment[i]`` (NaN where it is -1)."""
        return np.concatenate(self.map(_piece_held_out, posteriors, self.split(assignment), self.likelihood))

    def reloo_elpd(self, rows: np.ndarray, settings: dict) -> np.ndarray:
        """``reloo``'s exact leave-one-out density of each row in ``rows``, one refit without each."""
        method = refit_method(self.est)
        self.check_row_arguments(method, "reloo")
        n = sum(self.lengths)
        held_out = [np.arange(n) == i for i in rows]
        seed = settings.get("random_seed")
        posteriors = self.refit_without(held_out, {**settings, "method": method}, [seed] * len(rows))
        assignment = np.full(n, -1)
        assignment[rows] = np.arange(len(rows))
        return self.held_out_density(posteriors, assignment)[rows]


def dask_kfold(est, X, y, k, folds, random_seed, settings: dict, offset=None, sample_weight=None):
    """``est.kfold`` on Dask rows by refits (module docstring); ``settings``: the refits' ``fit``
    settings (the full fit's, updated by ``refit_kwargs``) without the seed."""
    rows = DaskRows(est, X, y, offset, sample_weight)
    method = settings["method"]
    rows.check_row_arguments(method, "K-fold")
    parts = rows.map(_piece_lppd, log_likelihood_posterior(est.idata_, est._family), rows.likelihood)
    if not parts:
        raise ValueError("X has no rows")
    lppd_i = np.concatenate([part[0] for part in parts])
    weights = None if sample_weight is None else np.concatenate([part[1] for part in parts])
    if weights is not None and not weights.sum() > 0:
        raise ValueError("sample_weight is zero in every row, so there are no data to fit; give some rows a weight > 0")
    if folds is not None and hasattr(folds, "compute"):
        folds = folds.compute()
    fold = fold_ids(len(lppd_i), k, folds, random_seed)
    n_folds = int(fold.max()) + 1
    posteriors = rows.refit_without([fold == j for j in range(n_folds)], settings, fold_seeds(random_seed, n_folds))
    elpd_i = rows.held_out_density(posteriors, fold)
    return make_kfold_elpd(elpd_i, lppd_i, settings["draws"] * settings["chains"], n_folds)
