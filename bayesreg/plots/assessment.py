"""Which variables matter, and how good is the model (issue 23). Each returns a matplotlib ``Figure``.

``shrinkage_factors``  each coefficient's posterior shrinkage factor ``kappa_j``, and the prior's
                       against the posterior's effective number of non-zero coefficients ``m_eff``
``ranks``              the posterior probability of each variable's rank by |standardized effect|
``selection``          projection predictive selection: elpd and RMSE of the submodels against
                       their size, relative to the reference model, the suggested size marked
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["ranks", "selection", "shrinkage_factors"]


def shrinkage_factors(fit, random_seed=None):
    """Left: box plots of the posterior draws of ``kappa_j`` (0 = kept, 1 = shrunk to zero) per
    coefficient; right: histograms of ``m_eff`` under the prior and the posterior.
    ``fit``: a fitted estimator (``fit.shrinkage(random_seed=...)`` is computed) or its result."""
    result = fit if hasattr(fit, "kappa") else fit.shrinkage(random_seed=random_seed)
    p = result.kappa.shape[1]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, max(3.0, 0.25 * p + 1.5)), layout="constrained")
    left.boxplot(result.kappa[:, ::-1], orientation="horizontal", showfliers=False, widths=0.6)
    left.set_yticks(range(1, p + 1), result.feature_names[::-1])
    left.set_xlim(0, 1)
    left.set_xlabel(r"shrinkage factor $\kappa_j$ (0: kept, 1: shrunk to 0)")
    bins = np.arange(-0.5, p + 1.5, max(1, p // 40))
    right.hist(result.prior_m_eff, bins=bins, density=True, alpha=0.5, color="grey", label="prior")
    right.hist(result.m_eff, bins=bins, density=True, alpha=0.6, color="C0", label="posterior")
    right.set_xlabel(r"effective number of non-zero coefficients $m_\mathrm{eff}$")
    right.set_ylabel("density")
    right.legend(frameon=False)
    return figure


def ranks(fit):
    """Heat map of ``P(rank_j = k)``: variables in rows (by mean rank), ranks in columns.
    ``fit``: a fitted estimator (``fit.rank()``) or its :class:`~bayesreg.assessment.RankDistribution`."""
    distribution = fit if hasattr(fit, "probabilities") else fit.rank()
    table = distribution.probabilities()
    p = table.shape[1]
    figure, axis = plt.subplots(figsize=(max(4.0, 0.3 * p + 2), max(3.0, 0.25 * p + 1.2)), layout="constrained")
    image = axis.imshow(table.to_numpy(), aspect="auto", cmap="Blues", vmin=0, vmax=1,
                        extent=(0.5, p + 0.5, p - 0.5, -0.5))
    axis.set_yticks(range(p), table.index)
    axis.set_xticks(range(1, p + 1) if p <= 20 else np.linspace(1, p, 10).round().astype(int))
    axis.set_xlabel("rank by |standardized effect| (1 = largest)")
    figure.colorbar(image, ax=axis, label="posterior probability")
    return figure


def selection(result, stat: str = "elpd"):
    """Projection predictive selection: ``stat`` ("elpd" or "rmse") of each submodel size relative
    to the reference model, with +- 1 standard error, the suggested size marked (projpred's plot).
    ``result``: :func:`bayesreg.select`'s :class:`~bayesreg.assessment.Selection`."""
    table = result.table()
    column, error = {"elpd": ("elpd_diff", "elpd_diff_se"), "rmse": ("rmse_diff", "rmse_diff_se")}[stat]
    figure, axis = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
    axis.errorbar(table["size"], table[column], yerr=table[error], marker="o", capsize=3)
    axis.axhline(0.0, color="crimson", linestyle="--", label="reference model")
    suggested = result.suggest_size()
    if suggested is not None:
        axis.axvline(suggested, color="grey", linestyle=":", label=f"suggested size {suggested}")
    axis.set_ylabel(f"{stat} difference to the reference")
    # the term each step adds, under its size: on the axis, not beside the points, where the
    # labels of the flat end of the path ran into the reference line and out of the frame
    few = len(table) <= 12
    added = ["(none)"] + [f"+{name}" for name in table["added"].iloc[1:]]
    axis.set_xticks(table["size"], [f"{k}{chr(10) if few else ' '}{name}" for k, name in zip(table["size"], added)],
                    rotation=0 if few else 90, fontsize=8)
    axis.set_xlabel("submodel size and the term added (forward search order)")
    axis.legend(frameon=False)
    return figure
