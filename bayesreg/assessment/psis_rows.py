r"""Pareto-smoothed importance weights of many rows at once: ArviZ's ``psislw`` vectorised.

``arviz_stats``' ``psislw`` smooths one observation at a time in Python (about 1 ms per row of
1000 draws), which made it most of :func:`br.select <bayesreg.assessment.select>`'s time on 1e6
Dask rows. This is the same computation (``arviz_stats.base.diagnostics``' ``_psislw``,
``_ps_tail`` and ``_gpdfit``, Vehtari et al. 2024) on a (draws, rows) block, row by row in
array operations:

1. the log ratios ``r_s = -log p(y_i | draw s)``, minus their maximum, sorted; the ``M`` largest
   (``M = floor(3 sqrt(S / r_eff))`` when ``S r_eff > 225``, else ``floor(S / 5)``) form the tail,
   the next below it the cutoff ``c``;
2. Zhang & Stephens' empirical Bayes fit of a generalized Pareto distribution to ``exp(tail) -
   exp(c)``, with ArviZ's prior on ``k`` (``k <- (M k + 5) / (M + 10)``): ``k-hat`` and ``sigma``;
   ``k-hat`` is NaN when the tail's first quartile is not above its minimum, infinite when the
   fit fails;
3. where ``k-hat`` is finite, the tail replaced by the log of the fitted distribution's quantiles
   at ``(j - 1/2) / M``, capped at the largest raw value;
4. normalised: ``log w_s = r_s - log sum_s exp(r_s)``.

Equal to ArviZ's to rounding (tests/test_select_dask.py checks 1e-10 on light and heavy tails).
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["psis_log_weights"]

PRIOR_BS, PRIOR_K = 3, 10  # ArviZ's _gpdfit constants
ROWS_AT_ONCE = 256  # the fit's (rows, candidates, tail) work array: 256 x 39 x 94 doubles at 1000 draws


def psis_log_weights(loglik, r_eff: float) -> tuple[np.ndarray, np.ndarray]:
    """``(log w (S, rows), k-hat (rows,))`` for the pointwise log-likelihood ``loglik`` (S draws x
    rows): each row's Pareto-smoothed leave-one-out log weights, normalised over draws (module
    docstring)."""
    loglik = np.asarray(loglik, dtype=float)
    S, n = loglik.shape
    M = int(np.floor(3 * (S / r_eff) ** 0.5) if S * r_eff > 225 else np.floor(S / 5))
    if M < 5:
        raise ValueError(f"PSIS needs at least 5 tail draws; {S} draws give {M}")
    log_weights, khat = np.empty((S, n)), np.empty(n)
    for start in range(0, n, ROWS_AT_ONCE):
        rows = slice(start, start + ROWS_AT_ONCE)
        log_weights[:, rows], khat[rows] = _smooth(-loglik[:, rows].T, M)
    return log_weights, khat


def _smooth(ratios, M: int):
    """Steps 1-4 on ``ratios`` (rows, S); returns ``(log w (S, rows), k-hat (rows,))``."""
    rows, S = ratios.shape
    ratios = ratios - ratios.max(axis=1, keepdims=True)
    order = np.argsort(ratios, axis=1)
    tail_index = order[:, S - M:]
    tail = np.take_along_axis(ratios, tail_index, axis=1)
    cutoff = np.take_along_axis(ratios, order[:, S - M - 1:S - M], axis=1)[:, 0]
    max_tail, min_tail = tail.max(axis=1), tail.min(axis=1)
    if np.any(np.abs(max_tail - min_tail) < np.finfo(float).tiny):
        raise ValueError("All tail values are the same")
    khat, sigma = _gpd_fit(np.exp(tail) - np.exp(cutoff)[:, None])
    smooth = np.isfinite(khat)
    if smooth.any():
        probs = np.arange(0.5, M) / M
        k, s, mu = khat[smooth, None], sigma[smooth, None], np.exp(cutoff[smooth])[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            quantile = np.where(k == 0, mu - s * np.log1p(-probs),
                                mu + s * np.expm1(-k * np.log1p(-probs)) / np.where(k == 0, 1.0, k))
            quantile = np.where(s <= 0, np.nan, quantile)
            smoothed = np.log(quantile)
        cap = max_tail[smooth, None]
        smoothed = np.where(smoothed > cap, cap, smoothed)
        smoothed_rows = np.flatnonzero(smooth)
        ratios[smoothed_rows[:, None], tail_index[smooth]] = smoothed
    ratios -= special.logsumexp(ratios, axis=1, keepdims=True)
    return ratios.T, khat


def _gpd_fit(x):
    """ArviZ's ``_gpdfit`` on each row of the sorted exceedances ``x`` (rows, M): ``(k, sigma)``."""
    rows, n = x.shape
    m_est = 30 + int(n**0.5)
    khat, sigma = np.full(rows, np.nan), np.full(rows, np.nan)
    xstar = x[:, int((n / 4 + 0.5) - 1)]
    fit = xstar > x[:, 0]  # else far from a generalized Pareto distribution: NaN
    x, xstar = x[fit], xstar[fit]
    b = 1 - np.sqrt(m_est / (np.arange(1, m_est + 1, dtype=float) - 0.5))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # degenerate tails: as ArviZ's NaNs
        b = b[None, :] / (PRIOR_BS * xstar[:, None]) + 1 / x[:, -1:]
        k = np.mean(np.log1p(-b[:, :, None] * x[:, None, :]), axis=2)
        scale = n * (np.log(-b / k) - k - 1)
        w = np.exp(scale - special.logsumexp(scale, axis=1, keepdims=True))
        kept = w >= 10 * np.finfo(float).eps  # negligible (or NaN) weights removed, as ArviZ does
        total = np.where(kept, w, 0.0).sum(axis=1)
        b_post = np.where(kept, b * w, 0.0).sum(axis=1) / np.where(total > 0, total, 1.0)  # none kept: 0
        kappa = np.mean(np.log1p(-b_post[:, None] * x), axis=1)
        s = -kappa / b_post
    kappa = (n * kappa + PRIOR_K * 0.5) / (n + PRIOR_K)
    khat[fit] = np.where(np.isnan(kappa), np.inf, kappa)
    sigma[fit] = np.where(np.isnan(kappa), np.nan, s)
    return khat, sigma
