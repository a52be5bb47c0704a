r"""Sufficient statistics of the Gaussian likelihood, and their numerically stable merge.

For rows :math:`z_i = (x_i, y_i)` the statistics are the count :math:`n`, the column means
:math:`\bar z` and the centred co-moment matrix :math:`M = \sum_i (z_i - \bar z)(z_i - \bar z)^\top`,
whose blocks are the centred :math:`X_c^\top X_c`, :math:`X_c^\top y_c` and :math:`y_c^\top y_c`.

Chunks are merged pairwise (Chan, Golub & LeVeque, 1979): with :math:`\delta = \bar z_b - \bar z_a`,

.. math::
    n = n_a + n_b,\quad \bar z = \bar z_a + \delta\, n_b / n,\quad
    M = M_a + M_b + \delta\delta^\top n_a n_b / n .

Each chunk is centred on its own mean before its products are formed, and only differences of
means enter the merge, so a column with mean :math:`10^6` and sd 1 keeps its digits: the naive
:math:`X^\top X - n\bar x\bar x^\top` would cancel 12 of the 16.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Moments:
    """Count, column means and centred co-moment matrix of the columns of ``[X, y]``."""

    n: int
    mean: np.ndarray  # (p + 1,)
    comoment: np.ndarray  # (p + 1, p + 1)

    @classmethod
    def of_chunk(cls, Z: np.ndarray) -> "Moments":
        """Two-pass moments of one in-memory chunk (centred on its own mean).

        The mean is refined by the mean of the centred values: NumPy sums a C-ordered array's
        columns row by row, not pairwise, so ``Z.mean(axis=0)`` of a column with mean 1e6 and sd 1
        is off by ~1e-9 at 4,096 rows, an error the merge's ``delta`` would carry into M (3e-12
        relative, issue 20); the correction is a sum of numbers of the size of the sd.
        """
        mean = Z.mean(axis=0)
        centred = Z - mean
        shift = centred.mean(axis=0)
        centred -= shift
        return cls(Z.shape[0], mean + shift, centred.T @ centred)

    def merge(self, other: "Moments") -> "Moments":
        """The moments of both chunks together (Chan et al.'s pairwise update)."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n / n)
        comoment = self.comoment + other.comoment + np.outer(delta, delta) * (self.n * other.n / n)
        return Moments(n, mean, comoment)


@dataclass(frozen=True)
class GaussianStatistics:
    """What the Gaussian likelihood needs from ``(X, y)``: O(p^2) numbers whatever ``n`` is.

    ``xx``, ``xy``, ``yy`` are centred on the column means (``X_c'X_c``, ``X_c'y_c``, ``y_c'y_c``).
    """

    n: int
    x_mean: np.ndarray
    y_mean: float
    xx: np.ndarray
    xy: np.ndarray
    yy: float
    feature_names: list[str] | None = None

    @classmethod
    def of_moments(cls, moments: Moments, feature_names=None) -> "GaussianStatistics":
        M = moments.comoment
        return cls(moments.n, moments.mean[:-1].copy(), float(moments.mean[-1]), M[:-1, :-1].copy(),
                   M[:-1, -1].copy(), float(M[-1, -1]), feature_names)

    @property
    def n_features(self) -> int:
        return self.x_mean.shape[0]

    @property
    def y_sd(self) -> float:
        """``np.std(y)`` (the default noise prior's scale), from the centred ``y'y``."""
        return float(np.sqrt(max(self.yy, 0.0) / self.n))

    def about(self, fit_intercept: bool) -> "GaussianStatistics":
        """The statistics about the means (``fit_intercept``) or about the origin (no intercept).

        About the origin: ``X'X = X_c'X_c + n xbar xbar'`` and alike; the means become zero.
        """
        if fit_intercept:
            return self
        n, xm, ym = self.n, self.x_mean, self.y_mean
        return GaussianStatistics(n, np.zeros_like(xm), 0.0, self.xx + n * np.outer(xm, xm), self.xy + n * xm * ym,
                                  self.yy + n * ym**2, self.feature_names)

    def least_squares(self) -> "LeastSquares":
        r"""Minimum-norm least squares from the statistics, by eigendecomposition of ``xx``.

        Eigenvalues below ``lambda_max p eps`` count as zero (rank deficiency), and
        :math:`\mathrm{RSS}_{\min} = y'y - \sum_k (v_k^\top X'y)^2 / \lambda_k`, clipped at 0: from
        statistics alone it carries an absolute error of order ``eps y'y``.
        """
        p = self.n_features
        eigval, eigvec = np.linalg.eigh(self.xx)
        eigval = np.where(eigval > eigval.max(initial=0.0) * p * np.finfo(float).eps, eigval, 0.0)
        inverse = np.divide(1.0, eigval, out=np.zeros_like(eigval), where=eigval > 0)
        projected = eigvec.T @ self.xy
        coef = eigvec @ (inverse * projected)
        rss = max(self.yy - float(projected @ (inverse * projected)), 0.0)
        return LeastSquares(eigval, eigvec, coef, rss)


@dataclass(frozen=True)
class LeastSquares:
    eigval: np.ndarray
    eigvec: np.ndarray
    coef: np.ndarray
    rss: float


def array_statistics(X: np.ndarray, y: np.ndarray, feature_names=None) -> GaussianStatistics:
    """Statistics of in-memory, already validated arrays (one chunk)."""
    return GaussianStatistics.of_moments(Moments.of_chunk(np.column_stack([X, y])), feature_names)
