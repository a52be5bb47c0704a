"""Plots per term (a formula's terms, a group prior's groups): does a factor, all of its columns
together, matter? Each returns a matplotlib ``Figure`` and never calls ``plt.show()``.

``terms``       the posterior of each term's contribution to the linear predictor (its sd over rows
                ``X``) or, without rows, of its group norm ``||w_g||``; with ``size``, the
                probability that the contribution exceeds it (:meth:`term_summary`'s numbers)

``plots.coefficients`` groups its rows by term the same way (bands and brackets, ``fitted._mark_terms``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from .. import results
from ..terms import term_draws
from .fitted import MAP_LABEL, MAP_STYLE, _prior_label


def terms(est, X=None, size: float | None = None, ci_prob: float | None = None):
    """One row per term: the posterior of the term's contribution sd over the rows ``X`` (units of
    the linear predictor: y for linear regression, log-odds for logistic), or without ``X`` of the
    group norm ``||w_g||``, as a violin with the posterior mean, the 50% and ``ci_prob`` equal-tailed
    intervals and the MAP (hollow red diamond) where there is one. With ``size`` (needs ``X``) a
    dashed line marks it and each row is labelled ``P(> size)``, the share of draws above it, as
    ``est.term_summary(X, size)``'s column. A fit with a MAP only shows the MAP's values.
    """
    ci_prob = results.CI_PROB if ci_prob is None else ci_prob
    table = est.term_summary(X, size, ci_prob)  # checks X, size and ci_prob, with the messages of the table
    design = None if X is None else est._validated_X(X)
    per_draw, at_map = term_draws(est, design)
    names = list(table.index)
    rows = np.arange(len(names))[::-1]  # the first term on top, as in the forest plot
    figure, ax = plt.subplots(figsize=(8.0, 1.4 + 0.45 * len(names)), layout="constrained")
    if per_draw:
        violins = ax.violinplot([per_draw[name] for name in names], positions=rows, orientation="horizontal",
                                widths=0.8, showextrema=False)
        for body in violins["bodies"]:
            body.set(facecolor="C0", edgecolor="none", alpha=0.35)
        for row, name in zip(rows, names):
            values = per_draw[name]
            for prob, width in ((ci_prob, 1.0), (0.5, 3.0)):
                low, high = np.quantile(values, [(1 - prob) / 2, (1 + prob) / 2])
                ax.plot([low, high], [row, row], color="C0", lw=width, solid_capstyle="butt")
            ax.scatter([values.mean()], [row], marker="o", s=30, facecolor="white", edgecolor="C0", zorder=3)
    if at_map:
        style = {k: v for k, v in MAP_STYLE.items() if k != "width"}
        ax.scatter([at_map[name] for name in names], rows, s=style.pop("size"), linewidths=MAP_STYLE["width"],
                   **style)
    if size is not None:
        ax.axvline(size, color="black", ls="--", lw=1.0)
        column = table.filter(like="p_contribution_sd_gt_").columns
        for row, name in zip(rows, names):
            if len(column):
                ax.annotate(f"P(> {size:g}) = {table.loc[name, column[0]]:.2f}", (1.0, row),
                            xycoords=("axes fraction", "data"), xytext=(6, 0), textcoords="offset points",
                            va="center", fontsize="small")
    ax.set_yticks(rows, [f"{name} ({table.loc[name, 'n_columns']})" if table.loc[name, "n_columns"] > 1 else name
                         for name in names])
    ax.set_ylim(rows.min() - 0.6, rows.max() + 0.6)
    ax.set_xlim(left=0.0)
    what = ("sd over the rows of the term's contribution to the linear predictor" if X is not None
            else "group norm ||w_g|| of the term's coefficients")
    ax.set_xlabel(what)
    handles = []
    if per_draw:
        handles += [Line2D([], [], color="C0", lw=3, label="50% interval"),
                    Line2D([], [], color="C0", lw=1, label=f"{ci_prob:.0%} interval"),
                    Line2D([], [], ls="none", marker="o", mfc="white", mec="C0", label="posterior mean")]
    if at_map:
        handles.append(Line2D([], [], ls="none", marker="D", mfc="none", mec="crimson", mew=1.5, label=MAP_LABEL))
    if size is not None:
        handles.append(Line2D([], [], color="black", ls="--", lw=1.0, label=f"size {size:g}"))
    figure.legend(handles=handles, fontsize="small", loc="outside lower center", ncol=len(handles), frameon=False)
    figure.suptitle(f"{type(est).__name__}, prior {_prior_label(est)}: per term (its number of columns in brackets)")
    return figure
