"""Plots of fitted estimators. Each returns a matplotlib ``Figure`` and never calls ``plt.show()``.

They are drawn with matplotlib directly rather than arviz-plots because each overlays something
ArviZ does not know about: the MAP (the penalized solution) on the posterior intervals, a
penalized solution path, or the prior's exact density.

``coefficients``         posterior intervals per coefficient with the MAP marked
``shrinkage``            penalized (MAP) path over the prior scale beside the posterior over it
``prior_posterior``      prior density against the posterior for chosen coefficients
``posterior_predictive`` replicated vs observed data; for logistic models, calibration
"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy import special, stats

from . import results
from .estimators import LinearRegression, LogisticRegression
from .priors import ElasticNet, Horseshoe, Laplace, Normal, RegularizedHorseshoe
from .sampling import SamplingWarning

MAP_STYLE = dict(marker="D", color="crimson", zorder=3)


def _interval_columns(table):
    return (next(c for c in table.columns if c.endswith("_lb")), next(c for c in table.columns if c.endswith("_ub")))


def coefficients(est, ci_prob: float = 0.94, ax=None):
    """Forest plot: posterior mean and ``ci_prob`` interval per coefficient, MAP as a red diamond."""
    table = est.summary(ci_prob=ci_prob).loc[est.feature_names_]
    lower, upper = _interval_columns(table)
    fig, ax = _axes(ax, figsize=(6, 0.35 * len(table) + 1.2))
    rows = np.arange(len(table))[::-1]
    ax.hlines(rows, table[lower], table[upper], color="steelblue", lw=2, label=f"{ci_prob:.0%} interval")
    ax.plot(table["mean"], rows, "o", color="steelblue", label="posterior mean")
    if "map" in table:
        ax.plot(table["map"], rows, ls="none", label="MAP (penalized fit)", **MAP_STYLE)
    ax.axvline(0.0, color="grey", lw=0.8)
    ax.set_yticks(rows, table.index)
    ax.set_xlabel("coefficient")
    ax.set_title(f"{type(est).__name__}, prior {_prior_label(est.prior)}")
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return fig


def shrinkage(X, y, kind: str = "ridge", scales=None, sigma=None, draws: int = 300, random_seed=0, ci_prob=0.9):
    """"Penalty = prior" in one picture.

    Left: the penalized solution path (the MAP) over the prior scale. Right: the posterior mean
    and ``ci_prob`` interval over the same scales. ``kind`` is ``"ridge"`` (Normal prior) or
    ``"lasso"`` (Laplace prior); ``sigma`` is the known noise sd (default: the residual sd of
    least squares). One compiled model serves every scale.
    """
    priors = {"ridge": Normal, "lasso": Laplace}
    if kind not in priors:
        raise ValueError(f"kind must be 'ridge' or 'lasso', got {kind!r}")
    base = LinearRegression(sigma=1.0).fit(X, y, method="map")  # validates X, y once
    names = base.feature_names_
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    sigma = _residual_sd(X, y) if sigma is None else sigma
    scales = _default_scales(X, y, sigma, kind) if scales is None else np.asarray(scales, dtype=float)
    maps, means, lows, highs = [], [], [], []
    for scale in scales:
        est = LinearRegression(priors[kind](float(scale)), sigma=sigma)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplingWarning)
            est.fit(X, y, draws=draws, tune=draws, chains=2, random_seed=random_seed, progressbar=False,
                    log_likelihood=False)
        coef = results.stacked_draws(est.idata_, "coef")
        maps.append(est.map_.coef)
        means.append(coef.mean(axis=0))
        lows.append(np.quantile(coef, (1 - ci_prob) / 2, axis=0))
        highs.append(np.quantile(coef, (1 + ci_prob) / 2, axis=0))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    colors = plt.cm.tab10(np.arange(len(names)) % 10)
    for j, name in enumerate(names):
        left.plot(scales, [m[j] for m in maps], "-o", ms=3, color=colors[j], label=name)
        right.plot(scales, [m[j] for m in means], "-o", ms=3, color=colors[j])
        right.fill_between(scales, [lo[j] for lo in lows], [hi[j] for hi in highs], color=colors[j], alpha=0.12)
    prior_name = "Normal" if kind == "ridge" else "Laplace"
    for ax, title in ((left, f"{kind} solution = MAP"), (right, f"posterior mean, {ci_prob:.0%} interval")):
        ax.set_xscale("log")
        ax.axhline(0.0, color="grey", lw=0.8)
        ax.set_xlabel(f"{prior_name} prior scale (small = strong penalty)")
        ax.set_title(title)
    left.set_ylabel("coefficient")
    left.legend(fontsize="x-small", ncol=2)
    fig.tight_layout()
    return fig


def prior_posterior(est, features=None, bins: int = 60):
    """Prior density (line) against the posterior (histogram) for each chosen coefficient."""
    names = est.feature_names_ if features is None else list(features)
    draws = results.stacked_draws(est.idata_, "coef")
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3), squeeze=False)
    for ax, name in zip(axes[0], names):
        values = draws[:, est.feature_names_.index(name)]
        span = np.quantile(np.abs(values), 0.995) * 1.3 + 1e-12
        grid = np.linspace(-span, span, 400)
        ax.hist(values, bins=bins, range=(-span, span), density=True, color="steelblue", alpha=0.6,
                label="posterior")
        density = _prior_density(est, grid)
        if density is not None:
            ax.plot(grid, density, color="black", lw=1.2, label="prior")
        if est.map_ is not None:
            ax.axvline(est.map_.coef[est.feature_names_.index(name)], color="crimson", lw=1.2, label="MAP")
        ax.set_title(name)
        ax.set_yticks([])
    axes[0][0].legend(fontsize="x-small")
    fig.suptitle(f"prior {_prior_label(est.prior)} against the posterior")
    fig.tight_layout()
    return fig


def posterior_predictive(est, X, y, random_seed=0, n_replicates: int = 50):
    """Linear: observed vs replicated data densities. Logistic: predicted probabilities with
    their posterior uncertainty, and a calibration curve (observed frequency per bin)."""
    if isinstance(est, LogisticRegression):
        return _logistic_check(est, X, y)
    replicated = est.sample_posterior_predictive(X, random_seed=random_seed)["y"].to_numpy()
    replicated = replicated.reshape(-1, replicated.shape[-1])
    rng = np.random.default_rng(random_seed)
    y = np.asarray(y, dtype=float)
    grid = np.linspace(*np.quantile(np.concatenate([y, replicated[0]]), [0.001, 0.999]), 300)
    fig, ax = _axes(None, figsize=(6, 4))
    for k, row in enumerate(rng.choice(len(replicated), n_replicates, replace=False)):
        ax.plot(grid, stats.gaussian_kde(replicated[row])(grid), color="steelblue", alpha=0.15, lw=1,
                label="replicated y" if k == 0 else None)
    ax.plot(grid, stats.gaussian_kde(y)(grid), color="black", lw=2, label="observed y")
    ax.set_xlabel("y")
    ax.set_yticks([])
    ax.set_title("posterior predictive check")
    ax.legend()
    fig.tight_layout()
    return fig


def _logistic_check(est, X, y, bins: int = 10):
    X_arr = est._validated_X(X)
    eta = results.linear_predictor_draws(est.idata_, X_arr, est.fit_intercept)
    probability = special.expit(eta)
    mean = probability.mean(axis=0)
    low, high = np.quantile(probability, [0.05, 0.95], axis=0)
    positive = (np.asarray(y) == est.classes_[1]).astype(float)
    order = np.argsort(mean)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    rank = np.arange(len(order))
    left.fill_between(rank, low[order], high[order], color="steelblue", alpha=0.3, label="90% interval")
    left.plot(rank, mean[order], color="steelblue", label="posterior mean")
    left.plot(rank, positive[order], "|", color="black", ms=6, alpha=0.5, label="observed y")
    left.set_xlabel("rows sorted by predicted probability")
    left.set_ylabel(f"P(y = {est.classes_[1]})")
    left.legend(fontsize="small")
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(mean, edges) - 1, 0, bins - 1)
    filled = [b for b in range(bins) if np.any(which == b)]
    predicted = [mean[which == b].mean() for b in filled]
    observed = [positive[which == b].mean() for b in filled]
    counts = np.array([np.sum(which == b) for b in filled])
    spread = np.sqrt(np.clip(np.array(observed) * (1 - np.array(observed)), 1e-12, None) / counts)
    right.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--", label="perfect calibration")
    right.errorbar(predicted, observed, yerr=2 * spread, fmt="o", color="steelblue", label="observed frequency ± 2 se")
    right.set_xlabel("predicted probability (bin mean)")
    right.set_ylabel("observed frequency")
    right.set_title("calibration")
    right.legend(fontsize="small")
    fig.tight_layout()
    return fig


def _prior_density(est, grid):
    prior = est.prior
    if isinstance(prior, Normal):
        return stats.norm(0, prior.scale).pdf(grid)
    if isinstance(prior, Laplace):
        return stats.laplace(0, prior.scale).pdf(grid)
    if isinstance(prior, ElasticNet):
        return np.exp(-prior.l1 * np.abs(grid) - prior.l2 / 2 * grid**2 - prior.log_normalizer())
    if isinstance(prior, (Horseshoe, RegularizedHorseshoe)):
        return _marginal_density_by_simulation(est, grid)
    return None


def _marginal_density_by_simulation(est, grid, n: int = 200_000):
    """The horseshoe's marginal prior has no closed form: histogram prior draws of one coefficient.

    The global scale is taken at its posterior median, so the curve shows the shape (spike at 0,
    heavy tails) at the scale the data chose.
    """
    rng = np.random.default_rng(0)
    tau = float(np.median(results.stacked_draws(est.idata_, "global_scale")))
    local = np.abs(rng.standard_cauchy(n))
    if isinstance(est.prior, RegularizedHorseshoe):
        c2 = est.prior.slab_scale**2 * stats.invgamma(est.prior.slab_df / 2, scale=est.prior.slab_df / 2).rvs(
            n, random_state=rng)
        local = np.sqrt(c2 * local**2 / (c2 + tau**2 * local**2))
    draws = rng.normal(size=n) * local * tau
    width = grid[1] - grid[0]
    counts, _ = np.histogram(draws, bins=np.append(grid - width / 2, grid[-1] + width / 2))
    return counts / (n * width)


def _prior_label(prior) -> str:
    return repr(prior) if prior is not None else "Normal(scale=1.0)"


def _axes(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


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
