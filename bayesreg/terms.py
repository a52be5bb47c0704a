r"""Results per term: does a factor (all of its dummies together) matter?

For a term (or group) ``g`` with columns ``X_g`` and coefficients ``w_g``, per posterior draw ``s``:

- the group norm :math:`\|w_g^{(s)}\|_2`, summarised by its posterior mean, sd and equal-tailed
  interval (and its value at the MAP);
- with rows ``X`` given: the size of the term's contribution to the linear predictor, the
  population sd over those rows of :math:`X_g w_g^{(s)}` (units of the linear predictor: of ``y`` in
  linear regression, log-odds in logistic), its posterior mean, and with ``size`` given the
  posterior probability :math:`P(\mathrm{sd}_i(X_g w_g) > \text{size} \mid y)`, the share of draws
  above it.

A fit with a MAP only has no draws: the table then holds the MAP's norm (``norm_map``) and
contribution (``contribution_sd_map``); a NUTS fit with a MAP has both. ``summary()`` of a fit
with terms shows the table below the coefficients (``SummaryTable.terms``).

A norm is not invariant to a factor's coding (treatment contrasts against another reference level
give other coefficients); the contribution is, for a fixed design: it is what the term does to the
predictions. The terms are a formula's (``est.terms_``), else the groups of a group prior
(``prior_.groups``), else one term per column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def term_columns(estimator) -> dict:
    """``{term: [column names]}`` of a fitted estimator (see the module docstring)."""
    terms = getattr(estimator, "terms_", None)
    if terms is not None:
        return {term: list(columns) for term, columns in terms.items()}
    names = estimator.feature_names_
    groups = getattr(getattr(estimator, "prior_", None), "groups", None)
    if groups is None:
        return {name: [name] for name in names}
    found: dict = {}
    for label, name in zip(groups.tolist(), names):
        found.setdefault(str(label), []).append(name)
    return found


def term_table(coef_draws: np.ndarray | None, feature_names: list, terms: dict, ci_prob: float, map_coef=None,
               X=None, size=None, group_scales: dict | None = None) -> pd.DataFrame:
    """One row per term. ``coef_draws``: shape (draws, p), all chains together, or None for a fit with
    a MAP only (then the table holds ``norm_map`` and, with ``X``, ``contribution_sd_map``); ``X``:
    design rows (n, p); ``group_scales``: ``{term: draws}`` of a learned scale per group
    (``Normal(H, groups=...)``'s ``tau_g``, the group horseshoe's ``lambda_g``), summarised as
    ``scale_mean`` and its interval."""
    position = {name: j for j, name in enumerate(feature_names)}
    low, high = (1 - ci_prob) / 2, (1 + ci_prob) / 2
    label = f"{round(100 * ci_prob)}"
    rows = {}
    for term, columns in terms.items():
        index = [position[c] for c in columns]
        row = {"n_columns": len(index)}
        if coef_draws is not None:
            norms = np.linalg.norm(coef_draws[:, index], axis=1)
            row.update({"norm_mean": norms.mean(), "norm_sd": norms.std(ddof=1),
                        f"norm_eti{label}_lb": np.quantile(norms, low), f"norm_eti{label}_ub": np.quantile(norms, high)})
        if map_coef is not None:
            row["norm_map"] = float(np.linalg.norm(np.asarray(map_coef)[index]))
        if group_scales and term in group_scales:
            scale = group_scales[term]
            row.update({"scale_mean": scale.mean(), f"scale_eti{label}_lb": np.quantile(scale, low),
                        f"scale_eti{label}_ub": np.quantile(scale, high)})
        if X is not None:
            if coef_draws is not None:
                contribution = contribution_sd(X[:, index], coef_draws[:, index])
                row["contribution_sd_mean"] = contribution.mean()
                if size is not None:
                    row[probability_column(size)] = float(np.mean(contribution > size))
            if map_coef is not None:
                row["contribution_sd_map"] = float(contribution_sd(X[:, index], np.asarray(map_coef)[None, index])[0])
        row["columns"] = ", ".join(columns)  # last: the widest, so a narrow display cuts it off first
        rows[term] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "term"
    return table


def contribution_sd(X_term: np.ndarray, coef_draws: np.ndarray) -> np.ndarray:
    """Per draw, the population sd over the rows of the term's contribution ``X_g w_g``: shape (draws,)."""
    return (X_term @ coef_draws.T).std(axis=0)


def probability_column(size: float) -> str:
    """The name of the column ``P(contribution sd > size | y)``."""
    return f"p_contribution_sd_gt_{size:g}"


def term_draws(estimator, X=None) -> tuple[dict, dict]:
    """``({term: draws}, {term: value at the MAP})`` of the group norm ``||w_g||``, or with design rows
    ``X`` (already encoded) of the contribution sd over those rows; a fit without draws (MAP only)
    gives an empty first dict, a fit without a MAP an empty second one."""
    names = estimator.feature_names_
    position = {name: j for j, name in enumerate(names)}
    idata = getattr(estimator, "idata_", None)
    draws = None if idata is None else idata["posterior"]["coef"].stack(
        sample=("chain", "draw")).transpose("sample", ...).to_numpy()
    map_estimate = getattr(estimator, "map_", None)
    map_coef = estimator.coef_ if draws is None else (None if map_estimate is None else map_estimate.coef)

    def measure(coef_rows, index):
        if X is None:
            return np.linalg.norm(coef_rows[:, index], axis=1)
        return contribution_sd(X[:, index], coef_rows[:, index])

    per_draw, at_map = {}, {}
    for term, columns in term_columns(estimator).items():
        index = [position[c] for c in columns]
        if draws is not None:
            per_draw[term] = measure(draws, index)
        if map_coef is not None:
            at_map[term] = float(measure(np.asarray(map_coef)[None, :], index)[0])
    return per_draw, at_map
