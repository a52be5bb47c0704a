r"""Leave-one-out predictive accuracy: exact in closed form where it exists, else PSIS-LOO.

The expected log pointwise predictive density of a model on its training rows is

.. math:: \mathrm{elpd}_\mathrm{loo} = \sum_i \log p(y_i \mid y_{-i}),

the log density of each observation under the posterior predictive of the fit without it.

**Exact (closed form).** For ``y ~ N(b + Xw, sigma^2)`` with sigma known, a fixed Normal prior on
``w`` (prior precision ``P``) and a flat prior on ``b``, the posterior of ``theta = (b, w)`` is
Gaussian with precision ``A = Z'Z / sigma^2 + diag(0, P)`` (``Z = [1, X]``) and mean
``m = A^{-1} Z'y / sigma^2``. The fitted value ``f_i = z_i' theta`` has posterior
``N(mu_i, h_i)`` with ``mu_i = z_i' m`` and ``h_i = z_i' A^{-1} z_i``; removing observation ``i``
divides its likelihood factor out (the "cavity"):

.. math::
    \frac{1}{v_{-i}} = \frac{1}{h_i} - \frac{1}{\sigma^2},\qquad
    m_{-i} = v_{-i}\Big(\frac{\mu_i}{h_i} - \frac{y_i}{\sigma^2}\Big),\qquad
    \log p(y_i \mid y_{-i}) = \log N(y_i \mid m_{-i},\ v_{-i} + \sigma^2).

No sampling error; O(n p^2) for all rows at once.

**Weighted rows** (``sample_weight``, a row of weight ``w_i`` counting as ``w_i`` copies of itself):
the copies of a row are left out *together* (brms's and rstanarm's convention, and K-fold's: the
copies sit in one fold), so ``elpd_i = log p(y_i^{(w_i copies)} | y_{-i}) = log E_{-i}[p(y_i |
theta)^{w_i}]``. PSIS-LOO takes the pointwise log-likelihood ``w_i log p(y_i | theta_s)`` (importance
ratios ``p(y_i | theta_s)^{-w_i}``). In closed form the posterior has precision ``Z'WZ / sigma^2 +
diag(0, P)``, the cavity divides out the ``w_i`` copies at once (a rank-1 downdate of weight ``w_i``),
``1/v_{-i} = 1/h_i - w_i/sigma^2``, ``m_{-i} = v_{-i}(mu_i/h_i - w_i y_i/sigma^2)``, and since
``N(y | f, sigma^2)^w = (2 pi sigma^2)^{(1-w)/2} w^{-1/2} N(y | f, sigma^2/w)``,

.. math:: \mathrm{elpd}_i = \tfrac{1-w_i}{2}\log(2\pi\sigma^2) - \tfrac12\log w_i
          + \log N(y_i \mid m_{-i},\ v_{-i} + \sigma^2/w_i)

(0 for a row of weight 0). The standard error is ``sqrt(n var_i(elpd_i))`` over the ``n`` rows, each
row's ``elpd_i`` whole: the row is the unit that is left out, so the ``elpd_i`` are the exchangeable
terms of the sum (as in K-fold, and as ArviZ computes it from a weighted log-likelihood); counting
copies instead would treat ``w_i`` copies as independent draws of data, which they are not. A row
of weight 0 has ``elpd_i = 0`` and still counts in ``n``: drop such rows to leave them out.

**PSIS-LOO** (Vehtari, Gelman & Gabry 2017) otherwise, through ArviZ (``arviz_stats``): the
pointwise log-likelihood, when the fit did not store it, is computed from the posterior draws
in row blocks (``results.row_blocks``), and each block is Pareto-smoothed on its own (the
smoothing is per observation), so memory stays bounded at any n. Pareto ``k-hat`` per row is
reported; above ArviZ's threshold ``min(1 - 1/log10(S), 0.7)`` the estimate for that row is
unreliable.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from scipy import linalg, special

from .. import results
from ..families import get_family

__all__ = ["LOOWarning", "exact_gaussian_loo", "psis_loo", "make_elpd", "log_likelihood_blocks", "fixed_auxiliary",
           "weighted_blocks", "rows_se"]


class LOOWarning(UserWarning):
    """PSIS-LOO is unreliable for some rows (Pareto k-hat above the threshold)."""


def _fitted_value_posterior(X, y, prior_precision, sigma: float, fit_intercept: bool, weights=None):
    """``(mu_i, h_i)``: posterior mean and variance of each row's fitted value (module docstring)."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    n, p = X.shape
    Z = np.hstack([np.ones((n, 1)), X]) if fit_intercept else X
    W = np.ones(n) if weights is None else np.asarray(weights, float)
    precision = np.concatenate([[0.0] * fit_intercept, np.broadcast_to(prior_precision, (p,))])
    factor = linalg.cho_factor(Z.T @ (W[:, None] * Z) / sigma**2 + np.diag(precision))
    mean = linalg.cho_solve(factor, Z.T @ (W * y) / sigma**2)
    return Z @ mean, np.einsum("ij,ji->i", Z, linalg.cho_solve(factor, Z.T))


def _log_normal(y, mean, variance):
    return -0.5 * np.log(2 * np.pi * variance) - (y - mean) ** 2 / (2 * variance)


def _log_copies_density(y, mean, variance, sigma: float, weights):
    """``log E[N(y | f, sigma^2)^w]`` for ``f ~ N(mean, variance)``: the density of ``w`` copies of
    ``y`` (module docstring; ``w = 1``: ``log N(y | mean, variance + sigma^2)``; ``w = 0``: 0)."""
    if weights is None:
        return _log_normal(y, mean, variance + sigma**2)
    w = np.asarray(weights, float)
    safe = np.where(w > 0, w, 1.0)
    value = (0.5 * (1 - safe) * np.log(2 * np.pi * sigma**2) - 0.5 * np.log(safe)
             + _log_normal(y, mean, variance + sigma**2 / safe))
    return np.where(w > 0, value, 0.0)


def exact_gaussian_loo(X, y, prior_precision, sigma: float, fit_intercept: bool, weights=None) -> np.ndarray:
    """``log p(y_i | y_{-i})`` per row, exactly, for the conjugate Gaussian model (module docstring).

    ``prior_precision``: ``1 / s_j^2`` per coefficient (a number or an array). ``weights``: the fit's
    ``sample_weight``; the ``w_i`` copies of row ``i`` are left out together (module docstring)."""
    y = np.asarray(y, float)
    mu, h = _fitted_value_posterior(X, y, prior_precision, sigma, fit_intercept, weights)
    w = 1.0 if weights is None else np.asarray(weights, float)
    cavity_var = 1.0 / (1.0 / h - w / sigma**2)
    cavity_mean = cavity_var * (mu / h - w * y / sigma**2)
    return _log_copies_density(y, cavity_mean, cavity_var, sigma, weights)


def posterior_predictive_log_density(X, y, prior_precision, sigma: float, fit_intercept: bool,
                                     weights=None) -> np.ndarray:
    """``log p(y_i | y)`` = ``log N(y_i | mu_i, h_i + sigma^2)``: the in-sample ``lppd_i`` whose
    excess over ``elpd_loo_i`` is ``p_loo_i`` (the effective number of parameters); with
    ``weights``, that of the row's ``w_i`` copies, ``log E[p(y_i | theta)^{w_i}]``."""
    mu, h = _fitted_value_posterior(X, y, prior_precision, sigma, fit_intercept, weights)
    return _log_copies_density(np.asarray(y, float), mu, h, sigma, weights)


def weighted_blocks(blocks, weights):
    """``blocks`` of ``(rows, log p(y_rows | draw))`` times each row's weight: the log-likelihood
    of its ``w_i`` copies, on which PSIS leaves them out together (module docstring)."""
    for rows, values in blocks:
        yield rows, values if weights is None else values * weights[rows]


def log_likelihood_blocks(idata, X, y, family: str, fit_intercept: bool, sigma=None, budget=None, *, offset=None,
                          aux_fixed=None):
    """Yield ``(rows, log p(y_rows | draw))`` with the block shaped (chain, draw, rows): the
    pointwise log-likelihood in pieces of bounded size (``results.row_blocks``). ``offset`` is added
    to the linear predictor; the count and robust families read their auxiliary parameters (``phi``;
    ``sigma``, ``nu``) from the posterior, or from ``aux_fixed`` where the fit held them fixed."""
    coef = results.stacked_draws(idata, "coef")
    intercept = results.stacked_draws(idata, "intercept")[:, None] if fit_intercept else 0.0
    noise = (results.stacked_draws(idata, "sigma")[:, None] if sigma is None else sigma) if family == "gaussian" else None
    other = None if family in ("gaussian", "bernoulli") else get_family(family)
    aux = () if other is None else auxiliary_draws(idata, other.aux_names, aux_fixed)
    shape = (idata["posterior"].sizes["chain"], idata["posterior"].sizes["draw"])
    for rows in results.row_blocks(len(y), len(coef), budget):
        eta = X[rows] @ coef.T
        eta = eta.T + intercept
        if offset is not None:
            eta = eta + offset[rows]
        if family == "gaussian":
            values = -0.5 * np.log(2 * np.pi) - np.log(noise) - (y[rows] - eta) ** 2 / (2 * noise**2)
        elif family == "bernoulli":
            values = y[rows] * eta - np.logaddexp(0.0, eta)
        else:  # the family's full log density (normalising constants included, so families compare)
            values = -other.nll_rows(eta, y[rows], aux)
        yield rows, values.reshape(*shape, -1)


def fixed_auxiliary(est) -> dict:
    """The auxiliary parameters a fitted estimator held fixed (``NegativeBinomialRegression(phi=2.0)``)."""
    settings = getattr(est, "_aux_settings", None)
    return settings()[0] if settings is not None else {}


def auxiliary_draws(idata, names, fixed=None) -> tuple:
    """One column of draws (draws x 1) per auxiliary parameter, or its fixed value."""
    fixed = fixed or {}
    posterior = idata["posterior"]
    out = []
    for name in names:
        if name in posterior:
            out.append(results.stacked_draws(idata, name)[:, None])
        elif fixed.get(name) is not None:
            out.append(float(fixed[name]))
        else:
            raise ValueError(f"the posterior has no draws of {name!r} and no fixed value was given")
    return tuple(out)


def relative_efficiency(idata) -> float:
    """ArviZ's ``r_eff``: mean ESS of the posterior's variables over the number of draws."""
    from arviz_stats.loo.loo_helper import _get_r_eff

    posterior = idata["posterior"]
    kept = [name for name in ("coef", "intercept", "sigma") if name in posterior]
    return float(_get_r_eff(xr.DataTree.from_dict({"posterior": posterior.to_dataset()[kept]}),
                            posterior.sizes["chain"] * posterior.sizes["draw"]))


def psis_loo(blocks, n_rows: int, reff: float, keep_log_weights: bool = False):
    """PSIS-LOO over ``blocks`` of ``(rows, log_lik (chain, draw, rows))``, each block through
    ArviZ's array-level ``loo`` (the same per-observation smoothing as ``arviz_stats.loo``).
    Returns ``(elpd_i, p_i, pareto_k, log_weights or None, n_samples)``.

    Plain arrays, not a DataTree per block: a DataTree's parent/child links are a reference cycle,
    so each block it wraps lives until the cyclic garbage collector happens to run (its trigger
    counts objects, not bytes). At 1e5 rows x 4000 draws that kept ~1.5 GB of finished blocks
    alive; here each block is freed as soon as the next replaces it."""
    from arviz_stats.base import array_stats

    elpd_i, p_i, khat = np.empty(n_rows), np.empty(n_rows), np.empty(n_rows)
    log_weights, n_samples = None, 0
    for rows, block in blocks:
        n_samples = block.shape[0] * block.shape[1]
        rows = np.arange(n_rows)[rows]
        # a row whose log-likelihood is the same in every draw (weight 0: no copies) leaves the
        # posterior unchanged: elpd_i is that value, p_i = 0, uniform weights (PSIS cannot fit its tail)
        flat = block.reshape(n_samples, -1)
        constant = np.all(flat == flat[:1], axis=0)
        elpd_i[rows[constant]], p_i[rows[constant]], khat[rows[constant]] = flat[0, constant], 0.0, 0.0
        varying = block[..., ~constant]
        if varying.shape[-1]:
            elpd_i[rows[~constant]], khat[rows[~constant]], p_i[rows[~constant]] = array_stats.loo(
                varying, chain_axis=0, draw_axis=1, r_eff=reff)
        if keep_log_weights:
            if log_weights is None:
                log_weights = np.empty((n_samples, n_rows))
            log_weights[:, rows[constant]] = -np.log(n_samples)
            if varying.shape[-1]:
                lw, _ = array_stats.psislw(varying, r_eff=reff, axis=(0, 1))  # (rows, chain, draw)
                lw = lw.reshape(lw.shape[0], n_samples).T
                log_weights[:, rows[~constant]] = lw - special.logsumexp(lw, axis=0)
        del block, flat, varying
    return elpd_i, p_i, khat, log_weights, n_samples


def make_elpd(elpd_i, p_i, n_samples: int, pareto_k=None):
    """An ArviZ ``ELPDDataLOO`` (what ``arviz_stats.loo`` returns, so that ``compare`` and the plots
    take it): ``elpd = sum elpd_i``, ``se = sqrt(n var(elpd_i))`` (ddof=1, as ArviZ), ``p = sum p_i``.
    ``pareto_k=None`` marks the exact computation (all k-hat set to 0: no importance sampling)."""
    from arviz_stats.utils import ELPDDataLOO

    n = len(elpd_i)
    good_k = min(1 - 1 / np.log10(n_samples), 0.7) if n_samples > 1 else 0.7
    khat = np.zeros(n) if pareto_k is None else np.asarray(pareto_k)
    return ELPDDataLOO(elpd=float(np.sum(elpd_i)), se=rows_se(elpd_i, ddof=1),
                       p=float(np.sum(p_i)), n_samples=n_samples, n_data_points=n, scale="log",
                       warning=bool(np.any(khat > good_k)), good_k=good_k,
                       elpd_i=xr.DataArray(np.asarray(elpd_i, float), dims="obs"),
                       pareto_k=xr.DataArray(khat, dims="obs"))


def rows_se(elpd_i, ddof: int = 1) -> float:
    """``sqrt(n var_i(elpd_i))`` over the ``n`` rows: the SE of a sum of ``n`` exchangeable per-row
    terms, a weighted row's term whole (module docstring). ``ddof``: 1 as ArviZ's ``loo``, 0 as its
    ``loo_kfold``."""
    values = np.asarray(elpd_i, float)
    n = len(values)
    return float(np.sqrt(n * np.var(values, ddof=ddof))) if n > ddof else 0.0


def warn_on_khat(elpd, n_rows: int, max_refits: int = 10) -> None:
    """One warning naming the rows with k-hat above ArviZ's threshold, and what to do; it points at
    the line that called ``est.loo`` (past this, ``estimator_loo`` and the method)."""
    bad = np.flatnonzero(elpd.pareto_k.to_numpy() > elpd.good_k)
    if bad.size:
        advice = ("refit without each of them: est.loo(X, y, reloo=True)" if bad.size <= max_refits
                  else "use K-fold cross-validation: est.kfold(X, y), or est.loo(X, y, reloo=True), which runs it "
                  f"when more than max_refits={max_refits} rows are flagged")
        warnings.warn(f"PSIS-LOO is unreliable for {bad.size} of {n_rows} rows (Pareto k-hat > {elpd.good_k:.2f}; "
                      f"rows {bad[:10].tolist()}{'...' if bad.size > 10 else ''}): their posterior changes much "
                      f"when they are left out. Look at them (outliers?), and {advice}.", LOOWarning, stacklevel=4)
