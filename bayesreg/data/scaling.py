r"""The exact power-of-two rescaling of a design that the logistic MAP's Newton iteration runs in.

Dividing a column ``x_j`` by ``2^{e_j}`` and multiplying its coefficient by the same factor leaves
``X w`` unchanged, and powers of two change only the floating-point exponent, so the rescaled
problem has the same solution to the last bit (barring under- or overflow). The scaling is a
property of the data (column means and largest deviations), computed from arrays or from a
distributed pass's moments alike; :mod:`bayesreg.solvers._scaling` carries the penalty over.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def binary_exponent(values, axis=None) -> np.ndarray:
    """``e`` with ``max |values| / 2^e`` in ``[0.5, 1)`` (along ``axis``); 0 where all are 0."""
    largest = np.max(np.abs(values), axis=axis, initial=0.0)
    return np.frexp(largest)[1]



@dataclass(frozen=True)
class Scaling:
    """The exact reparametrisation the Newton iteration runs in (the module docstring).

    Columns centred and scaled by powers of two, ``Z = (X - mean) / 2^e``. With the intercept
    unpenalized, ``b + Xw = (b + mean'w) + Z v`` with ``v = 2^e w``: the MAP is unchanged, but the
    Newton system no longer couples a large intercept to large column means, which made the L1
    subproblem fail on uncentred features (a column with mean 2000).
    """

    x_mean: np.ndarray
    exponent: np.ndarray

    @classmethod
    def of_array(cls, X, fit_intercept: bool) -> "Scaling":
        x_mean = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
        return cls(x_mean, binary_exponent(X - x_mean, axis=0))

    @classmethod
    def identity(cls, n_features: int) -> "Scaling":
        return cls(np.zeros(n_features), np.zeros(n_features, dtype=int))

    def design(self, X) -> np.ndarray:
        """``Z`` of a block of rows of ``X``."""
        return np.ldexp(X - self.x_mean, -self.exponent)

    def coef_intercept(self, theta, fit_intercept: bool):
        """``(coef, intercept)`` in the data's units from the scaled ``theta = (b_c, v)``."""
        k = int(fit_intercept)
        coef = np.ldexp(theta[k:], -self.exponent)
        return coef, (float(theta[0] - self.x_mean @ coef) if k else 0.0)
