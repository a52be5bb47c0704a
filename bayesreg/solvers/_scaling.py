r"""Exact rescaling of a penalized problem by powers of two.

Dividing a column ``x_j`` by ``2^{e_j}`` and multiplying its coefficient by the same factor leaves
``X w`` unchanged; the penalty ``l1 |w_j| + l2/2 w_j^2`` becomes
``l1 2^{-e_j} |v_j| + l2 2^{-2 e_j} / 2 v_j^2`` in the new coefficient ``v_j = 2^{e_j} w_j``.
Powers of two change only the floating-point exponent, so the rescaled problem has the same
solution to the last bit (barring under- or overflow); the solvers then work with entries of
order one whatever the units of ``X`` and ``y`` (1e-160 or 1e160), where Gram matrices
would otherwise overflow.
"""

from __future__ import annotations

import numpy as np


def scaled_weights(weight: float, exponent) -> np.ndarray:
    """``weight * 2^exponent`` elementwise, overflowing to ``inf`` without a warning."""
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(np.float64(weight), np.asarray(exponent, dtype=np.int64).astype(np.int32))


def require_finite_penalty(weights, what: str) -> None:
    """Refuse a problem whose penalty weights leave float64 after rescaling to unit data scale."""
    weights = np.asarray(weights, dtype=float)
    if not np.all(np.isfinite(weights)):
        raise ValueError(
            f"{what}: relative to the scale of the data, the prior's penalty weight exceeds float64 "
            f"(~1e308), so the MAP coefficients would all round to 0. Rescale X or y (e.g. standardize) "
            f"or widen the prior so that its scale is within ~1e150 of the coefficients' scale."
        )


def scaled_penalty(prior, exponent) -> tuple[np.ndarray, np.ndarray]:
    """The prior's ``(l1_j, l2_j)`` for coefficients ``v_j = 2^{e_j} w_j``: ``l1 2^{-e_j}`` and
    ``l2 2^{-2 e_j}``, the latter squared after scaling so that it keeps full precision."""
    exponent = -np.asarray(exponent)
    with np.errstate(over="ignore"):
        return scaled_weights(prior.l1, exponent), scaled_weights(prior.l2_sqrt, exponent) ** 2
