r"""Group priors: coefficients shrunk together, a factor's dummies as one unit.

:class:`GroupLaplace` is the Bayesian group lasso (Kyung, Gill, Ghosh & Casella 2010). For a group
``g`` of ``m_g`` columns, with ``b = scale``,

.. math::
    p(w_g) = \frac{c_g^{m_g}\,\Gamma(m_g/2)}{2\pi^{m_g/2}\,\Gamma(m_g)}\,
             \exp\!\big(-c_g \|w_g\|_2\big),\qquad c_g = \frac{\sqrt{m_g}}{b},

(the normaliser is the surface of the unit sphere in ``m_g`` dimensions times
:math:`\int_0^\infty r^{m_g-1} e^{-c_g r}\,dr = \Gamma(m_g)/c_g^{m_g}`), so

.. math:: -\log p(w) = \sum_g \Big[c_g\|w_g\|_2 - m_g\log c_g + \log 2 + \tfrac{m_g}{2}\log\pi
          + \log\Gamma(m_g) - \log\Gamma(m_g/2)\Big]

and the MAP is exactly the group lasso with the usual ``sqrt(m_g)`` weights: penalty
``lam * sum_g sqrt(m_g) ||w_g||`` with ``lam = 1 / b``. A group of one column is the Laplace prior
with scale ``b``, exactly. A group's coefficients are zero or non-zero together (at the MAP).

Groups: one label per column (``groups=["a", "a", "b"]``), or ``None`` for a formula fit, where
each term of the formula is a group (a factor's ``k - 1`` contrasts together); the estimator fills
them in (``prior_.groups``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from .base import Prior, positive_number


def labels_array(groups, name: str) -> np.ndarray:
    """One label per column, as a read-only object array (numpy scalars as Python values)."""
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__len__"):
        raise TypeError(f"{name} must hold one label per column of X, got {groups!r}")
    labels = np.empty(len(groups), dtype=object)
    labels[:] = [label.item() if isinstance(label, np.generic) else label for label in groups]
    if labels.size == 0:
        raise ValueError(f"{name} is empty; give one label per column of X")
    labels.setflags(write=False)
    return labels


def group_indices(labels) -> list[np.ndarray]:
    """Column indices of each group of ``labels``, in order of the groups' first columns."""
    labels = list(labels)
    return [np.flatnonzero(np.asarray([g == label for g in labels])) for label in dict.fromkeys(labels)]


def group_number(labels) -> np.ndarray:
    """Per column, its group's number 0, 1, ... in order of the groups' first columns (as floats:
    the kernels' data are float64)."""
    number = np.empty(len(labels))
    for g, index in enumerate(group_indices(labels)):
        number[index] = g
    return number


def scale_groups(groups, learned: bool, name: str):
    """``groups`` of a prior with a learned scale per group: None (one global scale), ``"terms"``
    (the formula's terms, filled in by the estimator) or one label per column."""
    if groups is None:
        return None
    if not learned:  # (the horseshoe's local scales are always learned)
        raise TypeError(f"{name} groups= gives each group its own learned scale: pass a hyperprior as the scale, "
                        f"e.g. {name}(HalfCauchy(1.0), groups='terms'); for fixed scales per coefficient pass an "
                        "array as the scale, for the group lasso use GroupLaplace")
    if isinstance(groups, str):
        if groups != "terms":
            raise ValueError(f"{name} groups must be 'terms' (the formula's terms) or one label per column, "
                             f"got {groups!r}")
        return groups
    return labels_array(groups, f"{name} groups")


@dataclass(frozen=True, eq=False)
class GroupLaplace(Prior):
    r"""Bayesian group lasso: ``-log p(w_g) = sqrt(m_g) ||w_g||_2 / scale + const`` per group (module docstring).

    Parameters
    ----------
    scale : positive number
        ``b``: the MAP is the group lasso with penalty ``sum_g sqrt(m_g) ||w_g||_2 / b``. In linear
        regression with noise sd ``sigma`` on ``n`` rows it is skglm's ``GroupLasso(alpha, weights=
        sqrt(m_g))`` with ``alpha = sigma^2 / (n b)`` (as :class:`~bayesreg.Laplace` is ``Lasso``).
    groups : sequence of labels (one per column of X), or None
        ``None``: the formula's terms (``formula=`` on the estimator) are the groups.
    """

    scale: object = 1.0
    groups: object = None

    def __post_init__(self):
        object.__setattr__(self, "scale", positive_number("GroupLaplace scale", self.scale))
        if self.groups is not None:
            object.__setattr__(self, "groups", labels_array(self.groups, "GroupLaplace groups"))

    @property
    def l1(self):  # type: ignore[override]
        raise TypeError("GroupLaplace's penalty is on group norms, not per coefficient: its MAP is "
                        "bayesreg.solvers.groups (no l1/l2 weights)")

    l2 = l1

    def per_coefficient(self) -> dict:
        return {} if self.groups is None else {"groups": self.groups}

    def group_indices(self) -> list[np.ndarray]:
        """Column indices of each group, in order of the groups' first columns."""
        if self.groups is None:
            raise ValueError("GroupLaplace has no groups yet: pass groups=[one label per column], or fit with "
                             "formula= (each term is a group)")
        return group_indices(self.groups)

    def group_labels(self) -> list:
        return list(dict.fromkeys(self.groups.tolist()))

    def group_rates(self) -> np.ndarray:
        """``c_g = sqrt(m_g) / scale``, one per group: the penalty weight of ``||w_g||_2``."""
        return np.sqrt([len(index) for index in self.group_indices()]) / self.scale

    def marginal_density(self, x, j: int) -> np.ndarray:
        r"""The prior density of coefficient ``j`` alone, the others of its group integrated out: with
        ``nu = m_g / 2`` and ``c = c_g``,

        .. math:: p(x) = \frac{|x|^{\nu} K_{\nu}(c|x|)}{2^{\nu} c^{-\nu-1}\,\Gamma(\nu + 1/2)\sqrt\pi}

        (Bessel K; the normaliser is :math:`2\int_0^\infty x^\nu K_\nu(cx)\,dx`). ``m_g = 1`` is the
        Laplace density. For the plots of prior against posterior.
        """
        group = next(g for g, index in enumerate(self.group_indices()) if j in index)
        m, c = self.group_indices()[group].size, self.group_rates()[group]
        nu = m / 2
        x = np.abs(np.asarray(x, dtype=float))
        with np.errstate(invalid="ignore", over="ignore"):  # at x = 0 the product is 0 * inf: its limit below
            kernel = np.where(x > 0, x**nu * special.kv(nu, c * x), 2 ** (nu - 1) * special.gamma(nu) * c**-nu)
        return kernel / (2**nu * c ** (-nu - 1) * special.gamma(nu + 0.5) * math.sqrt(math.pi))

    def neg_log_density(self, w) -> float:
        w = np.asarray(w, dtype=float)
        total = 0.0
        for index, rate in zip(self.group_indices(), self.group_rates()):
            m = index.size
            total += (rate * float(np.linalg.norm(w[index])) - m * math.log(rate) + math.log(2)
                      + m / 2 * math.log(math.pi) + special.gammaln(m) - special.gammaln(m / 2))
        return total
