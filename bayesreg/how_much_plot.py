"""The three answers to "how much to regularize?" on one axis of prior scale.

For ``Normal(s, autoscale=True)`` in linear regression, with ``s`` the scale in standardized
units (coefficient j's scale ``s sd(y) / sd(x_j)``):

XX
   ``RidgeCV``, efficient LOO, on the standardized columns with ``alpha = sigma^2 / (s sd(y))^2``);
2. the evidence: ``log p(y | s, sigma)`` (:mod:`bayesreg.evidence`), its maximum being
   ``method="empirical_bayes"``;
3. given an estimator fitted with a learned scale, ``Normal(HalfCauchy(...), autoscale=True)``,
   the posterior of ``prior_scale`` (``tau``, in the same standardized units).

``sigma`` (the noise sd) enters 1 and 2; unless given it is the empirical-Bayes estimate.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from . import _validation as v
from . import results
from .autoscale import autoscale_factors
from .estimators import LinearRegression
from .evidence import log_evidence_curve
from .priors import Normal


def how_much(X, y, *, learned=None, sigma=None, scales=None, fit_intercept: bool = True):
    """Figure with three panels sharing the x axis (prior scale ``s`` in standardized units, log).

    ``learned``: an optional LinearRegression fitted by NUTS with a learned, autoscaled Normal scale;
    its posterior draws of ``prior_scale`` fill the third panel. ``scales``: the grid of ``s``
    (default 60 values from 1e-3 to 1e2).
    """
    X, _ = v.check_X(X)
    y = v.check_y_continuous(y, X.shape[0])
    v.check_sigma(sigma)
    scales = np.geomspace(1e-3, 1e2, 60) if scales is None else np.asarray(scales, dtype=float)
    factors = autoscale_factors(X, y, "gaussian")
    eb = LinearRegression(Normal(1.0, autoscale=True), sigma=sigma, fit_intercept=fit_intercept).fit(
        X, y, method="empirical_bayes")
    noise = eb.sigma_
    best_evidence = float(eb.prior_.scale[0] / factors[0])  # the learned multiplier, in standardized units
    cv_error = _loo_error(X, y, scales, noise, fit_intercept)
    evidence = log_evidence_curve(X, y, factors, scales, noise, fit_intercept)

    n_panels = 3 if learned is not None else 2
    figure, axes = plt.subplots(n_panels, 1, sharex=True, figsize=(6.4, 2.3 * n_panels + 0.6), layout="constrained")
    best_cv = scales[np.argmin(cv_error)]
    axes[0].plot(scales, cv_error, color="C0")
    axes[0].axvline(best_cv, color="C0", ls="--", lw=1, label=f"CV best s = {best_cv:.3g}")
    axes[0].set_ylabel("leave-one-out MSE")
    axes[1].plot(scales, evidence, color="C1")
    axes[1].axvline(best_evidence, color="C1", ls="--", lw=1, label=f"max evidence s = {best_evidence:.3g}")
    axes[1].set_ylabel("log evidence")
    if learned is not None:
        tau = results.stacked_draws(learned.idata_, "prior_scale")
        bins = np.geomspace(tau.min(), tau.max(), 30)  # equal widths on the log axis
        axes[2].hist(tau, bins=bins, color="C2", alpha=0.7, density=True)
        axes[2].axvline(np.median(tau), color="C2", ls="--", lw=1, label=f"posterior median = {np.median(tau):.3g}")
        axes[2].set_ylabel("posterior density")
    for ax in axes:
        ax.set_xscale("log")
        ax.legend(fontsize="small", frameon=False)
    axes[-1].set_xlabel("prior scale s of Normal(s, autoscale=True)  (small = strong penalty)")
    figure.suptitle(f"How much to regularize? (noise sd {noise:.3g}{' given' if sigma is not None else ', by evidence'})")
    return figure


def _loo_error(X, y, scales, sigma, fit_intercept) -> np.ndarray:
    """Exact leave-one-out MSE of the MAP at each scale (the MAP is Ridge on standardized columns)."""
    from sklearn.linear_model import RidgeCV

    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    alphas = sigma**2 / (scales * y.std()) ** 2
    ridge = RidgeCV(alphas=alphas, fit_intercept=fit_intercept, store_cv_results=True).fit(Z, y)
    return ridge.cv_results_.mean(axis=0)
