r"""Passes of any family's likelihood (Poisson, negative binomial, ...), in memory or over Dask row blocks.

The logistic passes (:mod:`.logistic_passes`) generalised: everything the MAP, the surrogate and
the evidence need from the rows is a sum over rows of the family's per-row negative log-likelihood
``l_i(eta_i, a)`` and its derivatives (:meth:`bayesreg.families.base.Family.derivatives`), with
``eta = offset + b + x'w`` and row weights ``s_i``:

.. math::
    \sum_i s_i l_i,\quad \sum_i s_i \partial_\eta l_i\, a_i,\quad \sum_i s_i \partial^2_\eta l_i\, a_i a_i^\top,
    \quad \sum_i s_i \partial_{u_k} l_i,\quad \sum_i s_i \partial_{u_k}\partial_{u_m} l_i,
    \quad \sum_i s_i \partial_\eta\partial_{u_k} l_i\, a_i,

``a_i = (1, z_i)`` the (scaled) design row and ``u = log a`` (:class:`LikelihoodSums`). One block
function computes them for a block of rows; in memory it runs on one block, for Dask input once per
row block (one task each, a binary tree of sums), so the two agree to rounding. Offsets and weights
are taken either way: for Dask input they travel with their rows' block
(:mod:`.dask_row_arguments`), checked there as in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..families.bernoulli import bernoulli_hessian
from .dask_input import RowBlocks, as_float, check_dask_X, require_dask, tree_reduce
from .dask_row_arguments import row_blocks_with, row_pieces
from .logistic_passes import DRAW_BLOCK_ENTRIES
from .scaling import Scaling, binary_exponent
from .statistics import Moments


@dataclass(frozen=True)
class LikelihoodSums:
    """The weighted sums over rows (module docstring): ``value`` (NLL), ``gradient`` and ``hessian`` in
    ``theta = (b, w)`` (``w`` alone without an intercept), ``d_aux`` (K,) and ``d_aux2`` (K, K) in the
    log auxiliary parameters (all of the family's, in its order), ``cross`` (K, len(theta))."""

    value: float
    gradient: np.ndarray
    hessian: np.ndarray
    d_aux: np.ndarray
    d_aux2: np.ndarray
    cross: np.ndarray

    def __add__(self, other: "LikelihoodSums") -> "LikelihoodSums":
        return LikelihoodSums(*(a + b for a, b in zip(self.astuple(), other.astuple())))

    def astuple(self) -> tuple:
        return self.value, self.gradient, self.hessian, self.d_aux, self.d_aux2, self.cross

    def joint(self, index: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian in ``(theta, u)``, ``u`` the log auxiliary parameters at ``index`` (the
        free ones, in the family's order): what the surrogate and the Laplace evidence expand."""
        gradient = np.concatenate([self.gradient, self.d_aux[index]])
        hessian = np.block([[self.hessian, self.cross[index].T],
                            [self.cross[index], self.d_aux2[np.ix_(index, index)]]])
        return gradient, hessian


def likelihood_sums(Z, y, eta, weights, family, aux: tuple, fit_intercept: bool) -> LikelihoodSums:
    """:class:`LikelihoodSums` of one block of rows at the linear predictor ``eta``."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        rows = family.derivatives(eta, y, aux)
    k = int(fit_intercept)
    value = float(weights @ rows.value)
    g_eta, h_eta = weights * rows.d_eta, weights * rows.d_eta2
    gradient = np.concatenate([[g_eta.sum()] * k, Z.T @ g_eta])
    hessian = bernoulli_hessian(Z, h_eta, fit_intercept)
    cross = np.array([np.concatenate([[c.sum()] * k, Z.T @ c]) for c in weights * rows.d_eta_aux])
    return LikelihoodSums(value, gradient, hessian, rows.d_aux @ weights, rows.d_aux2 @ weights,
                          cross.reshape(len(rows.d_aux), len(gradient)))


def _linear_predictor(Z, theta, offset, fit_intercept: bool):
    """``offset + Z v + b`` (the general MAP solver's order of operations)."""
    return offset + Z @ theta[int(fit_intercept):] + (theta[0] if fit_intercept else 0.0)


def draws_log_likelihood(X, y, family, coef, intercept, aux_draws: tuple, offset=None, weights=None) -> np.ndarray:
    """``sum_i s_i log p(y_i | eta_is, a_s)`` for each draw ``s`` (``aux_draws``: one array of draws per
    auxiliary parameter of the family, in its order), in blocks of draws (bounded memory)."""
    n = len(y)
    weights = np.ones(n) if weights is None else weights
    per_block = max(1, DRAW_BLOCK_ENTRIES // max(n, 1))
    total = np.empty(len(intercept))
    for start in range(0, len(intercept), per_block):
        stop = start + per_block
        eta = X @ coef[start:stop].T
        eta += intercept[start:stop]
        if offset is not None:
            eta += offset[:, None]
        aux = tuple(np.asarray(a, dtype=float)[start:stop] for a in aux_draws)
        with np.errstate(over="ignore"):  # a draw far out (an infinite NLL) gets weight 0, as it should
            total[start:stop] = -family.nll_columns(eta, y, weights, aux)
    return total


# -- what one pass over Dask X, y learns: the outcomes' moments, the columns' moments and ranges --------
@dataclass(frozen=True)
class DaskFamilyData:
    """Dask ``X`` and ``y`` with what one outcomes pass learned (the counts checked by the family)."""

    X: object
    y: object
    family: object
    n: int
    y_moments: Moments  # of y alone: its mean and centred sum of squares
    feature_names: list[str] | None
    n_features: int
    x_moments: Moments
    x_min: np.ndarray
    x_max: np.ndarray
    blocks: RowBlocks
    # (sum s, sum s y, sum s y^2, sum s e^offset) when offset or weights came with the rows, else None
    row_sums: tuple | None = None

    @property
    def x_sd(self) -> np.ndarray:
        """Population sd of each column of X (for ``autoscale``)."""
        return np.sqrt(np.maximum(np.diag(self.x_moments.comoment), 0.0) / self.n)

    @property
    def y_mean(self) -> float:
        return float(self.y_moments.mean[0])


def _block_outcomes(X_block, y_block, family, names, index: int):
    """The outcomes' and the columns' moments of one row block, the columns' ranges, and the
    weighted sums of :attr:`DaskFamilyData.row_sums`."""
    empty = Moments(0, np.zeros(0), np.zeros((0, 0)))
    y_moments, x_moments, x_min, x_max = empty, empty, np.inf, -np.inf
    row_sums = np.zeros(4)
    for X, y, offset, weights in _block_pieces(X_block, y_block, family, names, index):
        if not X.shape[0]:
            continue
        with np.errstate(over="ignore"):  # an overflowing exposure fails in the MAP's start, as in memory
            row_sums += [weights.sum(), weights @ y, weights @ y**2, weights @ np.exp(offset)]
        y_moments = y_moments.merge(Moments.of_chunk(y[:, None]))
        x_moments = x_moments.merge(Moments.of_chunk(X))
        x_min = np.minimum(x_min, X.min(axis=0))
        x_max = np.maximum(x_max, X.max(axis=0))
    return y_moments, x_moments, x_min, x_max, row_sums


def _merge_outcomes(a: tuple, b: tuple) -> tuple:
    return a[0].merge(b[0]), a[1].merge(b[1]), np.minimum(a[2], b[2]), np.maximum(a[3], b[3]), a[4] + b[4]


def _block_pieces(X_block, y_block, family, names, index: int):
    """``(X, y, offset, weights)`` as checked float arrays, piece by piece (zeros and ones when not given)."""
    from .validation import check_offset, check_sample_weight

    for X_piece, y_piece, offset, weights in row_pieces(X_block, y_block, index):
        X, y = _arrays(X_piece, y_piece, family, names, index)
        n = len(y)
        try:
            offset = np.zeros(n) if offset is None else check_offset(_numbers(offset), n)
            weights = np.ones(n) if weights is None else check_sample_weight(_numbers(weights), n, all_rows=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{exc} (row block {index}; rows counted within the block). Nothing was fitted.") from None
        yield X, y, offset, weights


def _numbers(values):
    return values.to_numpy(dtype=float, na_value=np.nan) if hasattr(values, "to_numpy") else values


def _arrays(X_piece, y_piece, family, names, index: int):
    X = as_float(X_piece, "X", names, index)
    y = as_float(np.ravel(y_piece.to_numpy() if hasattr(y_piece, "to_numpy") else np.asarray(y_piece)), "y",
                 None, index)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y have different numbers of rows in row block {index}")
    try:
        return X, family.check_y(y)
    except ValueError as exc:
        raise ValueError(f"{exc} (row block {index}; rows counted within the block). Nothing was fitted.") from None


def family_data(X, y, family, offset=None, weights=None) -> DaskFamilyData:
    """Validate Dask ``X``/``y`` (and ``offset``, ``weights``: Dask, row-aligned with X, or NumPy) for
    ``family`` in one pass (its check of y in every block)."""
    dask = require_dask()
    names = check_dask_X(X)
    p = len(names) if names is not None else X.shape[1]
    blocks = row_blocks_with(X, y, offset, weights)
    ((y_moments, x_moments, x_min, x_max, row_sums),) = dask.compute(
        tree_reduce(blocks.map(_block_outcomes, family, names), _merge_outcomes))
    if y_moments.n == 0:
        raise ValueError("X has no rows")
    if x_moments.mean.shape[0] != p:
        raise ValueError(f"X blocks have {x_moments.mean.shape[0]} columns, expected {p}")
    if offset is None and weights is None:
        row_sums = None
    elif not row_sums[0] > 0:
        raise ValueError("sample_weight is zero in every row, so there are no data to fit; give some rows a weight > 0")
    return DaskFamilyData(X, y, family, y_moments.n, y_moments, names, p, x_moments, x_min, x_max, blocks,
                          None if row_sums is None else tuple(float(s) for s in row_sums))


def _block_sums(X_block, y_block, theta, aux, family, names, fit_intercept, scaling, index):
    total = None
    for X, y, offset, weights in _block_pieces(X_block, y_block, family, names, index):
        Z = X if scaling is None else scaling.design(X)
        piece = likelihood_sums(Z, y, _linear_predictor(Z, theta, offset, fit_intercept), weights, family,
                                aux, fit_intercept)
        total = piece if total is None else total + piece
    return total


def _block_draws(X_block, y_block, coef, intercept, aux_draws, family, names, index):
    total = np.zeros(len(intercept))
    for X, y, offset, weights in _block_pieces(X_block, y_block, family, names, index):
        total += draws_log_likelihood(X, y, family, coef, intercept, aux_draws, offset, weights)
    return total


def _add(a, b):
    return a + b


# -- the same questions of in-memory (X, y) or DaskFamilyData ----------------------------------------
def family_likelihood_of(data, family, fit_intercept: bool, scaling: Scaling | None = None, offset=None,
                         weights=None):
    """``(theta, aux) -> LikelihoodSums`` of the design ``scaling.design(X)``: in memory (with
    ``offset`` and row ``weights``), or one distributed pass per call."""
    if isinstance(data, DaskFamilyData):
        dask = require_dask()

        def evaluate(theta, aux):
            parts = data.blocks.map(_block_sums, theta, tuple(aux), family, data.feature_names, fit_intercept,
                                    scaling)
            (total,) = dask.compute(tree_reduce(parts, _add))
            return total

        return evaluate
    X, y = data
    Z = X if scaling is None else scaling.design(X)
    offset = np.zeros(len(y)) if offset is None else offset
    weights = np.ones(len(y)) if weights is None else weights

    def evaluate(theta, aux):
        return likelihood_sums(Z, y, _linear_predictor(Z, theta, offset, fit_intercept), weights, family,
                               tuple(aux), fit_intercept)

    return evaluate


def family_draws_log_likelihood_of(data, family, offset=None, weights=None):
    """``(coef, intercept, aux_draws) -> log-likelihood per draw`` (one pass over Dask data)."""
    if isinstance(data, DaskFamilyData):
        dask = require_dask()

        def evaluate(coef, intercept, aux_draws):
            shipped = [dask.delayed(a) for a in (coef, intercept, tuple(aux_draws))]  # once, not per task
            parts = data.blocks.map(_block_draws, *shipped, family, data.feature_names)
            (total,) = dask.compute(tree_reduce(parts, np.add))
            return total

        return evaluate
    X, y = data
    return lambda coef, intercept, aux_draws: draws_log_likelihood(X, y, family, coef, intercept, aux_draws,
                                                                   offset, weights)


def family_scaling_of(data, fit_intercept: bool) -> Scaling:
    """The general MAP solver's exact rescaling; for Dask input from the pass's means and ranges."""
    if isinstance(data, DaskFamilyData):
        x_mean = data.x_moments.mean if fit_intercept else np.zeros(data.n_features)
        largest = np.maximum(np.abs(data.x_max - x_mean), np.abs(x_mean - data.x_min))
        return Scaling(x_mean, binary_exponent(largest[None, :], axis=0))
    return Scaling.of_array(data[0], fit_intercept)


def outcome_stand_in(data, offset=None, weights=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y, weights, offset)`` for the family's starting values and default auxiliary priors.

    In memory: the rows themselves. Dask input: two rows of weight ``n / 2`` at ``mean -+ sd`` of
    y, which have the data's weighted mean and population variance exactly; the families' starts
    and default priors read no more of y than these two moments (the count families; the Gaussian
    and Student-t families are not fitted from Dask input through here).
    """
    if isinstance(data, DaskFamilyData) and data.row_sums is not None:
        # weighted: the same two moments, and one offset giving the same sum s e^offset (the start's)
        total, sy, syy, exposure = data.row_sums
        mean = sy / total
        sd = float(np.sqrt(max(syy / total - mean**2, 0.0)))
        return np.array([mean - sd, mean + sd]), np.full(2, total / 2), np.full(2, np.log(exposure / total))
    if isinstance(data, DaskFamilyData):
        mean, sd = data.y_mean, float(np.sqrt(max(data.y_moments.comoment[0, 0], 0.0) / data.n))
        return np.array([mean - sd, mean + sd]), np.full(2, data.n / 2), np.zeros(2)
    n = len(data[1])
    return (data[1], np.ones(n) if weights is None else weights, np.zeros(n) if offset is None else offset)


def family_size_of(data, weights=None) -> tuple[int, int, float, float]:
    """``(n, p, sum of weights, weighted mean of y)``."""
    if isinstance(data, DaskFamilyData) and data.row_sums is not None:
        return data.n, data.n_features, data.row_sums[0], data.row_sums[1] / data.row_sums[0]
    if isinstance(data, DaskFamilyData):
        return data.n, data.n_features, float(data.n), data.y_mean
    X, y = data
    weights = np.ones(len(y)) if weights is None else weights
    return X.shape[0], X.shape[1], float(weights.sum()), float(weights @ y / weights.sum())
