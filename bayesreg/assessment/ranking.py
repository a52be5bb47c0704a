r"""The posterior distribution of each variable's rank by the size of its standardized effect.

In draw ``s`` the standardized effect of column ``j`` is ``w_{sj} sd(x_j)`` (the change of the
linear predictor per sd of the column; the common factor ``1 / sd(y)`` changes no rank), and its
rank is its position in the draw's ordering by ``|w_{sj} sd(x_j)|``, 1 the largest (ties share
their average rank). The ranks' distribution over draws answers "which variables matter most, and
how sure is that order?" (R ``bayesreg`` reports one rank per variable, ``var.ranks``; here each
has a distribution).

A fit with ``formula=`` ranks its terms: a term of several columns (a factor's dummies, a spline's
basis) has the effect size ``||(w_{sj} sd(x_j))_{j in term}||_2``, which is ``|w_{sj} sd(x_j)|`` for
a term of one column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .. import results

__all__ = ["RankDistribution", "rank_draws"]


@dataclass(frozen=True)
class RankDistribution:
    """``draws``: ranks (n_draws, p), 1 = largest |standardized effect|; ``feature_names``."""

    draws: np.ndarray
    feature_names: list

    def summary(self, ci_prob: float = results.CI_PROB) -> pd.DataFrame:
        """Per variable, ordered by posterior mean rank: mean and median rank, an equal-tailed
        interval, and the probability of being among the top ``k`` for ``k`` = its median rank."""
        low, median, high = np.quantile(self.draws, [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2], axis=0)
        in_top = (self.draws <= np.ceil(median)).mean(axis=0)
        percent = round(100 * ci_prob)
        table = pd.DataFrame({"mean_rank": self.draws.mean(axis=0), "median_rank": median,
                              f"eti{percent}_lb": low, f"eti{percent}_ub": high, "p_within_median": in_top},
                             index=self.feature_names)
        return table.sort_values("mean_rank")

    def probabilities(self) -> pd.DataFrame:
        """``P(rank_j = k)``: variables in rows (ordered by mean rank), ranks ``1..p`` in columns."""
        p = self.draws.shape[1]
        rounded = np.clip(np.rint(self.draws).astype(int), 1, p)
        table = np.stack([(rounded == k).mean(axis=0) for k in range(1, p + 1)], axis=1)
        frame = pd.DataFrame(table, index=self.feature_names, columns=range(1, p + 1))
        return frame.loc[self.summary().index]


def rank_draws(idata, x_sd, groups=None) -> np.ndarray:
    """Ranks (n_draws, p) of ``|w_sj sd(x_j)|`` within each draw, 1 the largest; with ``groups``
    (column-index lists) ranks (n_draws, n_groups) of each group's norm of them (module docstring)."""
    effect = np.abs(results.stacked_draws(idata, "coef") * np.asarray(x_sd))
    if groups is not None:
        effect = np.stack([np.linalg.norm(effect[:, list(g)], axis=1) for g in groups], axis=1)
    return stats.rankdata(-effect, axis=1)
