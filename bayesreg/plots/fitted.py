"""Plots of one or several fitted estimators. Each returns a matplotlib ``Figure`` and never calls ``plt.show()``.

Built on arviz-plots where ArviZ has the plot, with what ArviZ does not know drawn on top: the
MAP (the penalized solution) and the prior's exact density. Matplotlib draws the rest.

``coefficients``             forest plot (arviz-plots) of one or several fits, MAP marked, rows grouped by term
``prior_posterior``          posterior histograms (arviz-plots) under the prior's exact density
``posterior_predictive``     linear: replicated vs observed density (arviz-plots ``plot_ppc_dist``);
                             logistic: PAV calibration curve (arviz-plots ``plot_ppc_pava``)
``predicted_probabilities``  logistic: each row's probability with its posterior interval
``horseshoe_density``        the (regularized) horseshoe's marginal density, by quadrature
"""

from __future__ import annotations

from collections.abc import Mapping

import arviz_plots as azp
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from arviz_plots.visuals import scatter_x
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy import special, stats

from .. import results
from ..data import validation as v
from ..estimators import LinearRegression, LogisticRegression
from ..priors import (BayesianLasso, ElasticNet, GroupLaplace, Horseshoe, HorseshoePlus, Laplace, Normal,
                      RegularizedHorseshoe)
from ..terms import term_columns

MAP_STYLE = dict(marker="D", size=60, facecolor="none", edgecolor="crimson", width=1.5, zorder=3)
MAP_LABEL = "MAP (penalized fit)"
BAND_COLOR = "0.93"  # every other multi-column term's rows, behind the intervals


def coefficients(fits, ci_prob: float | None = None, standardize: bool = False):
    """Forest plot: posterior mean, 50% and ``ci_prob`` intervals per coefficient, MAP marked.

    ``fits`` is a fitted estimator or a mapping ``{label: estimator}`` to compare several fits
    (say, priors) on one axis. The MAP is a hollow red diamond; horseshoe fits have none.
    ``ci_prob`` defaults to :data:`bayesreg.results.CI_PROB`.

    ``standardize=True`` shows effects per standard deviation, for columns in mixed units (where
    raw coefficients differ by orders of magnitude and most collapse onto 0): every draw, interval
    and MAP of coefficient ``j`` is multiplied by ``sd(x_j)`` (logistic: the change in log-odds per
    sd of ``x_j``) or ``sd(x_j) / sd(y)`` (linear: the change in y, in sds of y, per sd of ``x_j``),
    population sds of the training data (``x_sd_``, ``y_sd_``, as autoscale uses). It is a change
    of units: the same posterior, not a refit on standardized columns.

    A fit with terms of several columns (a formula's factor, a group prior's group) has the rows of
    each such term bracketed and named on the right, every other one on a grey band
    (:func:`bayesreg.plots.terms` shows each term's posterior as a whole).
    """
    ci_prob = _level(ci_prob)
    fits = _as_mapping(fits)
    features = _shared_features(fits)
    factors = {label: _per_sd_factors(est) if standardize else None for label, est in fits.items()}
    data = {label: _scaled_posterior(est, factors[label]) for label, est in fits.items()}
    several = len(fits) > 1
    n_rows = len(features) * len(fits)
    pc = azp.plot_forest(data if several else next(iter(data.values())), var_names=["coef"], combined=True,
                         ci_kind="eti", ci_probs=(0.5, ci_prob), point_estimate="mean", labels=["feature"],
                         visuals={"ticklabels": False}, backend="matplotlib",
                         figure_kwargs={"figsize": (8.0, 1.6 + 0.3 * n_rows), "figsize_units": "inches",
                                        "width_ratios": [1, 6], "layout": "constrained"})
    maps = _map_dataset(fits, features, factors)
    if maps is not None:
        pc.map(scatter_x, "map", data=maps if several else maps.squeeze("model", drop=True),
               coords={"column": "forest"}, **MAP_STYLE)
    ax = pc.get_target("coef", {"column": "forest"})
    ax.axvline(0.0, color="grey", lw=0.8, zorder=0)
    ax.set_xlabel(_per_sd_label(fits.values()) if standardize else "coefficient")
    handles = [Line2D([], [], color="grey", lw=2, label="50% interval"),
               Line2D([], [], color="grey", lw=0.7, label=f"{ci_prob:.0%} interval"),
               Line2D([], [], ls="none", marker="o", mfc="white", mec="grey", label="posterior mean")]
    if maps is not None:
        handles.append(Line2D([], [], ls="none", marker="D", mfc="none", mec="crimson", mew=1.5, label=MAP_LABEL))
    if several:
        colors = pc.get_aes_as_dataset("color")["mapping"].to_series()
        handles += [Line2D([], [], color=colors[label], lw=2, label=label) for label in fits]
    _text_only(pc.get_target("coef", {"column": "labels"}))
    _mark_terms(next(iter(fits.values())), pc.get_target("coef", {"column": "labels"}), ax)
    figure = _figure(pc)
    figure.legend(handles=handles, fontsize="small", loc="outside lower center", ncol=min(len(handles), 4),
                  frameon=False)
    first = next(iter(fits.values()))
    title = "posterior of each coefficient" if several else f"{type(first).__name__}, prior {_prior_label(first)}"
    figure.suptitle(f"{title}, per standard deviation" if standardize else title)
    return figure


def _mark_terms(est, label_ax, forest_ax) -> bool:
    """Group a forest plot's rows by term: a grey band behind every other term of several columns
    and, right of the axis, a bracket over its rows with the term's name. The rows are found from
    the labels arviz-plots wrote (one text per coefficient, at its row's height). Does nothing, and
    returns False, when every term is one column."""
    terms = term_columns(est)
    if all(len(columns) == 1 for columns in terms.values()):
        return False
    height = {text.get_text(): text.get_position()[1] for text in label_ax.texts}
    if not all(name in height for columns in terms.values() for name in columns):
        return False
    levels = sorted(set(height.values()))
    half = 0.5 * (min(np.diff(levels)) if len(levels) > 1 else 1.0)
    banded = 0
    for term, columns in terms.items():
        if len(columns) == 1:
            continue
        rows = [height[name] for name in columns]
        low, high = min(rows) - half, max(rows) + half
        if banded % 2 == 0:
            forest_ax.axhspan(low, high, color=BAND_COLOR, zorder=0, lw=0)
        banded += 1
        transform = forest_ax.get_yaxis_transform()  # x in axes fraction, y in data
        forest_ax.plot([1.01, 1.02, 1.02, 1.01], [low + 0.15, low + 0.15, high - 0.15, high - 0.15], color="0.3",
                       lw=1.0, transform=transform, clip_on=False)
        forest_ax.text(1.03, 0.5 * (low + high), term, transform=transform, va="center", ha="left",
                       fontsize="small", clip_on=False)
    return True


def _text_only(ax) -> None:
    """The labels column of a forest plot: names only. arviz-plots leaves its bottom spine, a
    stray line under the last label."""
    ax.set_xticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _per_sd_factors(est) -> np.ndarray:
    """``sd(x_j)`` (logistic) or ``sd(x_j) / sd(y)`` (linear) of the training data."""
    if not hasattr(est, "x_sd_"):
        raise ValueError("standardize=True needs the training data's sds (x_sd_), which this estimator does not "
                         "have (it was fitted or saved by an older bayesreg): refit it")
    x_sd = np.asarray(est.x_sd_, dtype=float)
    return x_sd / est.y_sd_ if isinstance(est, LinearRegression) else x_sd


def _per_sd_label(fits) -> str:
    kinds = {isinstance(est, LinearRegression) for est in fits}
    if kinds == {True}:
        return "coefficient × sd(x_j) / sd(y): change in y, in sd(y), per sd of x_j"
    if kinds == {False}:
        return "coefficient × sd(x_j): change in log-odds per sd of x_j"
    return "effect per sd of x_j (linear: in sd(y); logistic: in log-odds)"


def _scaled_posterior(est, factor):
    """The fit's coefficient draws times ``factor`` (per feature); the posterior itself if none."""
    if factor is None:
        return est.idata_
    coef = est.idata_["posterior"]["coef"]
    scaled = coef * xr.DataArray(factor, coords={"feature": coef["feature"]}, dims="feature")
    return xr.DataTree.from_dict({"posterior": xr.Dataset({"coef": scaled})})


def _shared_features(fits) -> list[str]:
    """The fits' common feature names, in order; one forest axis needs the same rows for each."""
    features = None
    for label, est in fits.items():
        est._require_posterior("plots.coefficients")
        if features is None:
            first, features = label, est.feature_names_
        elif est.feature_names_ != features:
            raise ValueError(f"fits to compare must have the same features in the same order: {first!r} has "
                             f"{features}, {label!r} has {est.feature_names_}")
    return features


def _map_dataset(fits, features, factors):
    """MAP coefficients (times ``factors[label]`` if any) as a (model, feature) Dataset shaped like
    the posterior; NaN where none."""
    if all(est.map_ is None for est in fits.values()):
        return None
    values = [np.full(len(features), np.nan) if est.map_ is None
              else est.map_.coef * (1.0 if factors[label] is None else factors[label]) for label, est in fits.items()]
    return xr.Dataset({"coef": (("model", "feature"), np.asarray(values))},
                      coords={"model": list(fits), "feature": features})


def prior_posterior(est, features=None, ci_prob: float | None = None):
    """Posterior histogram (arviz-plots) of each chosen coefficient under its prior's density,
    with the posterior mean and equal-tailed ``ci_prob`` interval beneath it and the MAP marked.

    The prior density is exact for Normal, Laplace and elastic net. The horseshoes' marginal
    density has no closed form; it is computed by quadrature (:func:`horseshoe_density`) at the
    posterior median of the global scale. A learned scale (hyperprior, Bayesian lasso) is drawn
    the same way: the Normal or Laplace density at the posterior median of ``prior_scale``. Its spike at zero is unbounded, so the axis is cut at
    1.15 times the posterior's height. ``ci_prob`` defaults to :data:`bayesreg.results.CI_PROB`.
    """
    ci_prob = _level(ci_prob)
    est._require_posterior("plots.prior_posterior")
    names = est.feature_names_ if features is None else list(features)
    unknown = sorted(set(names) - set(est.feature_names_))
    if unknown:
        raise ValueError(f"unknown features {unknown}; the fit has {est.feature_names_}")
    n_cols = 2 if len(names) == 4 else min(len(names), 3)  # 2 x 2 rather than 3 + 1
    n_rows = -(-len(names) // n_cols)
    pc = azp.plot_dist(est.idata_, var_names=["coef"], coords={"feature": names}, kind="hist",
                       point_estimate="mean", ci_kind="eti", ci_prob=ci_prob,
                       visuals={"point_estimate_text": False}, backend="matplotlib", col_wrap=n_cols,
                       figure_kwargs={"figsize": (3.6 * n_cols, 0.4 + 3.0 * n_rows), "figsize_units": "inches",
                                      "layout": "constrained"})
    for name in names:
        ax = pc.get_target("coef", {"feature": name})
        low, high = ax.get_xlim()
        pad = 0.05 * (high - low)
        low, high = min(low, -pad), max(high, pad)  # keep 0, the prior's centre, in view
        grid = np.linspace(low, high, 801)
        top = ax.get_ylim()[1]
        j = est.feature_names_.index(name)
        ax.plot(grid, _prior_density(est, grid, j), color="black", lw=1.2, label=_prior_curve_label(est))
        if est.map_ is not None:
            ax.axvline(est.map_.coef[j], color="crimson", lw=1.2, label=MAP_LABEL)
        ax.set_xlim(low, high)
        ax.set_ylim(top=top * 1.15)
        ax.set_title(name)
    handles = [Line2D([], [], color="C0", label="posterior"),
               Line2D([], [], color="dimgrey", marker="o", label=f"posterior mean, {ci_prob:.0%} interval"),
               *pc.get_target("coef", {"feature": names[0]}).get_legend_handles_labels()[0]]
    figure = _figure(pc)
    figure.legend(handles=handles, fontsize="small", loc="outside lower center", ncol=len(handles), frameon=False)
    figure.suptitle(f"prior {_prior_label(est)} against the posterior")
    return figure


def posterior_predictive(est, X, y, random_seed=0, n_replicates: int = 100, ci_prob: float | None = None):
    """Does the model reproduce the data?

    Linear: the density of observed ``y`` against ``n_replicates`` replicated data sets
    (arviz-plots ``plot_ppc_dist``). Logistic: the calibration curve (arviz-plots ``plot_ppc_pava``;
    Dimitriadis, Gneiting & Jordan 2021): x is each row's predicted probability (posterior
    predictive mean), y the observed frequency of the event among rows predicted alike (the PAV,
    i.e. isotonic, fit of the observed outcomes on x). The band holds ``ci_prob`` (default
    :data:`bayesreg.results.CI_PROB`) of the same curves fitted to replicated outcomes: where the
    curve of a calibrated model falls. ``X, y`` may be the training data or new data.
    """
    tree = _predictive_tree(est, X, y, random_seed)
    if isinstance(est, LogisticRegression):
        return _calibration_figure(tree, est.classes_[1], _level(ci_prob))
    pc = azp.plot_ppc_dist(tree, num_samples=n_replicates, backend="matplotlib",
                           figure_kwargs={"figsize": (7.0, 4.5), "figsize_units": "inches", "layout": "constrained"})
    ax = pc.get_target("y", {})
    ax.set_xlabel("y")
    ax.set_title(f"posterior predictive check: observed y (black), {n_replicates} replicated data sets")
    return _figure(pc)


def _calibration_figure(tree, positive, ci_prob: float):
    """arviz-plots' PAV calibration plot, square, with its axes and its three elements named."""
    pc = azp.plot_ppc_pava(tree, ci_prob=ci_prob, backend="matplotlib",
                           figure_kwargs={"figsize": (5.6, 6.0), "figsize_units": "inches", "layout": "constrained"})
    ax = pc.get_target("y", {})
    ax.set_xlabel(f"predicted probability of y = {positive} (posterior predictive mean)")
    ax.set_ylabel(f"observed frequency of y = {positive} (PAV fit)")
    ax.set_title("calibration")
    ax.set_aspect("equal")
    band = next(c for c in ax.collections if c.get_alpha() is not None)  # the only filled artist
    handles = [Line2D([], [], color="C0", label="observed outcomes: PAV calibration curve"),
               Patch(facecolor=band.get_facecolor()[0], label=f"{ci_prob:.0%} of curves on replicated outcomes "
                                                                "(a calibrated model's range)"),
               Line2D([], [], color="dimgrey", ls="--", label="perfect calibration")]
    figure = _figure(pc)
    figure.legend(handles=handles, fontsize="small", loc="outside lower center", ncol=1, frameon=False)
    return figure


def predicted_probabilities(est, X, y, ci_prob: float | None = None):
    """Logistic: each row's posterior mean probability and ``ci_prob`` interval (default
    :data:`bayesreg.results.CI_PROB`), sorted, with the observed outcomes."""
    if not isinstance(est, LogisticRegression):
        raise TypeError("predicted_probabilities is for LogisticRegression fits")
    est._require_posterior("plots.predicted_probabilities")
    ci_prob = _level(ci_prob)
    positive = _observed(est, X, y)
    mean, low, high = results.probability_summary(est.idata_, est._validated_X(X), est.fit_intercept,
                                                  [(1 - ci_prob) / 2, (1 + ci_prob) / 2])
    order = np.argsort(mean)
    rank = np.arange(len(order))
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.fill_between(rank, low[order], high[order], color="steelblue", alpha=0.3, label=f"{ci_prob:.0%} interval")
    ax.plot(rank, mean[order], color="steelblue", label="posterior mean")
    ax.plot(rank, positive[order], "|", color="black", ms=6, alpha=0.5, label="observed y")
    ax.set_xlabel("rows sorted by predicted probability")
    ax.set_ylabel(f"P(y = {est.classes_[1]})")
    ax.set_title("predicted probabilities with their uncertainty")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def _predictive_tree(est, X, y, random_seed) -> xr.DataTree:
    """Replicated and observed ``y`` for rows ``X`` as a DataTree for arviz-plots (``est`` unchanged)."""
    est._require_posterior("plots.posterior_predictive")
    observed = _observed(est, X, y)
    X_arr = est._validated_X(X)
    # arviz keeps a few draws x rows arrays (the PAV band refits every replicate): thin the draws so
    # that they stay within the prediction memory budget (20 of 4000 draws at n = 2e5)
    posterior = est.idata_["posterior"].to_dataset()
    keep = max(1, results.MEMORY_BUDGET_BYTES // (8 * results.LIVE_BLOCKS * max(len(X_arr), 1)))
    step = -(-posterior.sizes["chain"] * posterior.sizes["draw"] // keep)  # ceil
    source = xr.DataTree.from_dict({"posterior": posterior.isel(draw=slice(None, None, step))})
    replicated = results.posterior_predictive(source, X_arr, est._family, est.fit_intercept,
                                              np.random.default_rng(random_seed), est._known_sigma())
    return xr.DataTree.from_dict({"posterior_predictive": replicated,
                                  "observed_data": xr.Dataset({"y": ("obs", observed)})})


def _observed(est, X, y) -> np.ndarray:
    n_rows = len(X)
    if isinstance(est, LogisticRegression):
        return v.check_y_fitted_labels(y, n_rows, est.classes_).astype(float)
    return v.check_y_continuous(y, n_rows)


def _as_mapping(fits) -> dict:
    if isinstance(fits, Mapping):
        if not fits:
            raise ValueError("no fits to plot")
        return dict(fits)
    return {type(fits).__name__: fits}


def _level(ci_prob):
    """The interval level: the package's one default (read at call time) unless given."""
    return results.CI_PROB if ci_prob is None else ci_prob


def _figure(pc):
    return pc.viz["figure"].item()


def _prior_density(est, grid, j: int):
    """Coefficient ``j``'s prior density, with the prior as the fit used it (``est.prior_``)."""
    prior = est.prior_

    def at_j(value):  # a per-coefficient hyperparameter's entry j; a number is everyone's
        return float(np.broadcast_to(value, (est.n_features_in_,))[j])

    if isinstance(prior, BayesianLasso) or (isinstance(prior, (Normal, Laplace)) and prior.learned):
        # a learned scale: the prior given the posterior median of the scale, as for the horseshoes
        tau = float(np.median(results.stacked_draws(est.idata_, "prior_scale")))
        scale = tau * (1.0 if isinstance(prior, BayesianLasso) else at_j(prior.factor))
        return (stats.norm if isinstance(prior, Normal) else stats.laplace)(0, scale).pdf(grid)
    if isinstance(prior, Normal):
        return stats.norm(0, at_j(prior.effective_scale())).pdf(grid)
    if isinstance(prior, Laplace):
        return stats.laplace(0, at_j(prior.effective_scale())).pdf(grid)
    if isinstance(prior, ElasticNet):
        return np.exp(-at_j(prior.l1) * np.abs(grid) - at_j(prior.l2) / 2 * grid**2 - at_j(prior.log_normalizer()))
    if isinstance(prior, GroupLaplace):  # coefficient j's marginal, the rest of its group integrated out
        return prior.marginal_density(grid, j)
    if isinstance(prior, (Horseshoe, RegularizedHorseshoe)):  # coef_j = factor_j x a horseshoe draw
        factor = at_j(prior.factor)
        return horseshoe_density(prior, _median_global_scale(est), np.asarray(grid) / factor) / factor
    raise TypeError(f"no prior density for {type(prior).__name__}")


def _median_global_scale(est) -> float:
    return float(np.median(results.stacked_draws(est.idata_, "global_scale")))


def _prior_curve_label(est) -> str:
    """The horseshoes' and learned scales' curve is the prior *given* the scale at its posterior
    median: the figure says so."""
    prior = est.prior_
    if isinstance(prior, (Horseshoe, RegularizedHorseshoe)):
        return f"prior given τ = {_median_global_scale(est):.3g} (posterior median)"
    if isinstance(prior, BayesianLasso) or (isinstance(prior, (Normal, Laplace)) and prior.learned):
        tau = float(np.median(results.stacked_draws(est.idata_, "prior_scale")))
        return f"prior given its scale τ = {tau:.3g} (posterior median)"
    return "prior"


def horseshoe_density(prior, tau: float, grid, n_local: int = 400, n_slab: int = 64) -> np.ndarray:
    """The horseshoe's marginal prior density of one coefficient, given the global scale ``tau``.

    No closed form: ``p(w | tau) = E_lambda[N(w | 0, (tau * lambda)^2)]`` with ``lambda ~ C+(0, 1)``;
    for the regularized horseshoe ``lambda`` becomes ``c lambda / sqrt(c^2 + tau^2 lambda^2)`` and
    the expectation also runs over ``c^2 ~ s^2 Inv-Gamma(nu/2, nu/2)``; for the horseshoe+
    ``lambda = eta nu``, both C+(0, 1) (the weights of ``log lambda`` convolved). Each expectation is a
    trapezoid rule in ``log lambda`` (``log c^2``), where the integrand is smooth: agreement with
    ``scipy.integrate.quad`` is about 1e-8 (tests/test_plots.py). ``prior_posterior`` takes
    ``tau`` at its posterior median, so the curve has the shape (spike at 0, heavy tails) at the
    data's scale. The density is unbounded at 0; the rule gives a large finite value there.
    """
    local, local_weight = _log_nodes(stats.halfcauchy(), n_local)
    if isinstance(prior, HorseshoePlus):  # log lambda = log eta + log nu: the weights convolved on the log grid
        step = np.log(local[1] / local[0])
        local_weight = np.convolve(local_weight, local_weight)
        local = np.exp(2 * np.log(local[0]) + step * np.arange(local_weight.size))
    if isinstance(prior, RegularizedHorseshoe):
        nu = prior.slab_df
        slab_sq, slab_weight = _log_nodes(stats.invgamma(nu / 2, scale=nu / 2), n_slab)
        slab_sq = prior.slab_scale**2 * slab_sq
    else:
        slab_sq, slab_weight = np.array([np.inf]), np.array([1.0])
    w = np.asarray(grid, dtype=float)[:, None]
    density = np.zeros(len(w))
    for c2, weight in zip(slab_sq, slab_weight):
        scale = local if np.isinf(c2) else np.sqrt(c2 * local**2 / (c2 + tau**2 * local**2))
        density += weight * (stats.norm.pdf(w, 0.0, tau * scale) @ local_weight)
    return density


def _log_nodes(dist, n: int, tail: float = 1e-12):
    """Nodes ``x`` and weights for ``E[f(x)]``, ``x ~ dist``: a trapezoid rule in ``log x``."""
    log_x = np.linspace(np.log(dist.ppf(tail)), np.log(dist.isf(tail)), n)
    x = np.exp(log_x)
    weight = dist.pdf(x) * x  # the density of log x
    weight[[0, -1]] /= 2
    return x, weight / weight.sum()


def _prior_label(est) -> str:
    return str(est._checked_prior())  # as the user stated it; est.prior_ holds the resolved numbers
