"""How much to regularize: the penalized path beside the posterior, and three answers on one axis.

``shrinkage``  the penalized (MAP) path over the prior scale beside the posterior over it: "penalty = prior".
``how_much``   the three answers to "how much to regularize?" for ``Normal(s, autoscale=True)`` in
               linear regression, on one axis of ``s``, the scale in standardized units
               (coefficient j's scale ``s sd(y) / sd(x_j)``):

1. leave-one-out MSE of the MAP (the MAP is ridge regression on the standardized columns, so this is
   scikit-learn's ``RidgeCV``, efficient LOO, on the standardized columns with
   ``alpha = sigma^2 / (s sd(y))^2``);
2. the evidence: ``log p(y | s, sigma)`` (:mod:`bayesreg.evidence`), its maximum being
   ``method="empirical_bayes"``;
3. given an estimator fitted with a learned scale, ``Normal(HalfCauchy(...), autoscale=True)``,
   the posterior of ``prior_scale`` (``tau``, in the same standardized units).

``sigma`` (the noise sd) enters 1 and 2; unless given it is the empirical-Bayes estimate.
"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np

from .. import results
from ..data import validation as v
from ..estimators import LinearRegression
from ..evidence import log_evidence_curve
from ..priors import Laplace, Normal, autoscale_factors
from ..sampling import SamplingWarning, collected_problems


def how_much(X, y, *, learned=None, sigma=None, scales=None, fit_intercept: bool = True):
    """Figure with three panels sharing the x axis (prior scale ``s`` in standardized units, log).

    The CV panel does not print the grid point of least error, which on a flat plateau is decided
    by noise: it shades the scales within one standard error of the best error (glmnet's
    ``lambda.1se`` rule, Hastie, Tibshirani & Friedman 2009, 7.10) and marks the strongest penalty
    among them, the one-standard-error choice, both printed to two significant digits.

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
    cv_errors = _loo_errors(X, y, scales, noise, fit_intercept)
    evidence = log_evidence_curve(X, y, factors, scales, noise, fit_intercept)

    n_panels = 3 if learned is not None else 2
    figure, axes = plt.subplots(n_panels, 1, sharex=True, figsize=(6.4, 2.3 * n_panels + 0.6), layout="constrained")
    _draw_cv_panel(axes[0], scales, cv_errors)
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


def _draw_cv_panel(ax, scales, errors) -> None:
    """Mean LOO error over ``scales``, the scales within one standard error of the best shaded."""
    within = _within_one_se(errors)
    low, high = scales[within].min(), scales[within].max()
    mean = errors.mean(axis=0)
    ax.plot(scales, mean, color="C0")
    to = f"{high:.2g}" if high < scales[-1] else "the grid's end"
    ax.axvspan(low, high, color="C0", alpha=0.12, lw=0, label=f"within 1 SE of the best: s from {low:.2g} to {to}")
    ax.axvline(low, color="C0", ls="--", lw=1, label=f"1-SE rule (strongest penalty): s = {low:.2g}")
    ax.axhline(mean.min() + _standard_error(errors[:, np.argmin(mean)]), color="C0", ls=":", lw=0.8,
               label="least error + 1 SE")
    ax.set_ylabel("leave-one-out MSE")


def _within_one_se(errors) -> np.ndarray:
    r"""The scales whose mean LOO error is within one standard error of the least one.

    ``errors[i, k]`` is row ``i``'s squared LOO error at scale ``k``. With ``\bar e_k`` its mean
    over the ``n`` rows and ``k*`` the least, the standard error of ``\bar e_{k*}`` is
    ``sd_i(errors[i, k*]) / sqrt(n)`` (rows as independent draws, as glmnet's ``cvsd`` treats its
    folds); the result is the contiguous run of scales around ``k*`` with
    ``\bar e_k <= \bar e_{k*} + SE``, a mask over the scales.
    """
    mean = errors.mean(axis=0)
    best = int(np.argmin(mean))
    inside = mean <= mean[best] + _standard_error(errors[:, best])
    low, high = best, best
    while low > 0 and inside[low - 1]:
        low -= 1
    while high < len(mean) - 1 and inside[high + 1]:
        high += 1
    index = np.arange(len(mean))
    return (index >= low) & (index <= high)


def _standard_error(values) -> float:
    return float(values.std(ddof=1) / np.sqrt(len(values)))


def _loo_errors(X, y, scales, sigma, fit_intercept) -> np.ndarray:
    """Exact leave-one-out squared error of the MAP, ``[row, scale]`` (the MAP is Ridge on
    standardized columns, so scikit-learn's efficient LOO gives it)."""
    from sklearn.linear_model import RidgeCV

    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    alphas = sigma**2 / (scales * y.std()) ** 2
    ridge = RidgeCV(alphas=alphas, fit_intercept=fit_intercept, store_cv_results=True).fit(Z, y)
    return ridge.cv_results_


def shrinkage(X, y, kind: str = "ridge", scales=None, sigma=None, draws: int = 1000, chains: int = 4, random_seed=0,
              ci_prob: float | None = None, path_points: int = 200):
    """"Penalty = prior" in one picture.

    Left: the penalized solution path (the MAP) over the prior scale, exact on ``path_points``
    scales (it costs milliseconds a point), so the lasso's kinks are where a coefficient really
    leaves zero. Right: the posterior mean and ``ci_prob`` interval (default
    :data:`bayesreg.results.CI_PROB`), sampled by NUTS at
    ``scales`` (marked on both panels). ``kind`` is ``"ridge"`` (Normal prior) or ``"lasso"``
    (Laplace prior); ``sigma`` is the known noise sd (default: the residual sd of least squares).
    One compiled model serves every scale; ``draws`` (after as many tuning steps) and ``chains``
    go to each fit, and the sampling problems of all of them are reported in one
    :class:`~bayesreg.sampling.SamplingWarning`.
    """
    ci_prob = results.CI_PROB if ci_prob is None else ci_prob
    priors = {"ridge": Normal, "lasso": Laplace}
    if kind not in priors:
        raise ValueError(f"kind must be 'ridge' or 'lasso', got {kind!r}")
    base = LinearRegression(Normal(1.0), sigma=1.0).fit(X, y, method="map")  # validates X, y once
    names = base.feature_names_
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    sigma = _residual_sd(X, y) if sigma is None else sigma
    scales = _default_scales(X, y, sigma, kind) if scales is None else np.asarray(scales, dtype=float)
    path_scales = np.union1d(np.geomspace(scales.min(), scales.max(), path_points), scales)
    path = np.array([LinearRegression(priors[kind](float(scale)), sigma=sigma).fit(X, y, method="map").coef_
                     for scale in path_scales])
    sampled = np.isin(path_scales, scales)
    mean, low, high = _posterior_path(X, y, priors[kind], scales, sigma, ci_prob, draws=draws, tune=draws,
                                      chains=chains, random_seed=random_seed)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True, layout="constrained")
    colors = plt.cm.tab10(np.arange(len(names)) % 10)
    for j, name in enumerate(names):
        left.plot(path_scales, path[:, j], color=colors[j], lw=1.5, label=name)
        left.plot(path_scales[sampled], path[sampled, j], "o", ms=3, color=colors[j])
        right.plot(scales, mean[:, j], "-o", ms=3, color=colors[j])
        right.fill_between(scales, low[:, j], high[:, j], color=colors[j], alpha=0.12)
    prior_name = priors[kind].__name__
    for ax, title in ((left, f"{kind} solution = MAP"), (right, f"posterior mean, {ci_prob:.0%} interval (NUTS)")):
        ax.set_xscale("log")
        ax.axhline(0.0, color="grey", lw=0.8)
        ax.set_xlabel(f"{prior_name} prior scale (small = strong penalty)")
        ax.set_title(title)
    left.set_ylabel("coefficient")
    # outside both axes, right of the posterior panel: inside, the legend covered the curves
    fig.legend(*left.get_legend_handles_labels(), loc="outside right upper", fontsize="small", frameon=False,
               ncol=-(-len(names) // 20), title="feature")
    return fig


def _posterior_path(X, y, prior_type, scales, sigma, ci_prob, **sampler):
    """Posterior mean and equal-tailed ``ci_prob`` interval of each coefficient, a row per scale."""
    means, lows, highs, problems = [], [], [], []
    for scale in scales:
        est = LinearRegression(prior_type(float(scale)), sigma=sigma)
        with collected_problems() as found:
            est.fit(X, y, progressbar=False, log_likelihood=False, **sampler)
        problems += [f"scale {scale:.3g}: {problem}" for problem in found]
        coef = results.stacked_draws(est.idata_, "coef")
        means.append(coef.mean(axis=0))
        lows.append(np.quantile(coef, (1 - ci_prob) / 2, axis=0))
        highs.append(np.quantile(coef, (1 + ci_prob) / 2, axis=0))
    if problems:
        warnings.warn(f"shrinkage: the posterior failed a convergence check at some scales, so those bands are "
                      f"approximate ({'; '.join(problems)})", SamplingWarning, stacklevel=3)
    return np.array(means), np.array(lows), np.array(highs)


def _residual_sd(X, y) -> float:
    A = np.column_stack([np.ones(len(X)), X])
    residual = y - A @ np.linalg.lstsq(A, y, rcond=None)[0]
    dof = max(len(y) - A.shape[1], 1)
    return float(np.sqrt(residual @ residual / dof))


def _default_scales(X, y, sigma, kind, count: int = 9) -> np.ndarray:
    """From a strong penalty (the lasso MAP all zero; ridge shrunk ~100x) to a weak one."""
    Xc, yc = X - X.mean(0), y - y.mean()
    if kind == "lasso":
        all_zero = sigma**2 / np.abs(Xc.T @ yc).max()  # Laplace scale at which the MAP is 0
        return np.geomspace(all_zero / 2, all_zero * 1e4, count)
    largest = np.linalg.eigvalsh(Xc.T @ Xc).max()
    return np.geomspace(0.1, 1e3, count) * sigma / np.sqrt(largest)
