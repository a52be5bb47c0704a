r"""Priors on a family's auxiliary parameter ``x > 0`` (dispersion, noise sd, degrees of freedom).

Each gives the exact ``-log p(x)`` (normalising constant included) and its first two derivatives
in ``x`` itself: the MAP is the mode in the natural parameter (no Jacobian), as the joint
``(coef, sigma)`` MAP of linear regression is.

======================  ===========================================================================
``Exponential(rate)``   :math:`-\log p(x) = -\log\lambda + \lambda x`  (rstanarm's ``prior_aux``)
``Gamma(shape, rate)``  :math:`-\log p(x) = \log\Gamma(a) - a\log b - (a - 1)\log x + b x`
``HalfT(nu, scale)``    :math:`-\log p(x) = -\log\frac{2\Gamma(\frac{\nu+1}2)}{\Gamma(\frac\nu2)\sqrt{\nu\pi}s}
                        + \frac{\nu+1}2\log\big(1 + \frac{x^2}{\nu s^2}\big)`
======================  ===========================================================================
No PyMC here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return value


class AuxPrior:
    """``-log p(x)`` and its derivatives ``(value, d/dx, d^2/dx^2)`` at ``x > 0``."""

    def neg_log_density(self, x: float) -> tuple[float, float, float]:
        raise NotImplementedError


@dataclass(frozen=True)
class Exponential(AuxPrior):
    rate: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "rate", _positive("Exponential rate", self.rate))

    def neg_log_density(self, x):
        return -math.log(self.rate) + self.rate * x, self.rate, 0.0


@dataclass(frozen=True)
class Gamma(AuxPrior):
    """Shape ``shape``, rate ``rate`` (mean ``shape / rate``)."""

    shape: float = 2.0
    rate: float = 0.1

    def __post_init__(self):
        object.__setattr__(self, "shape", _positive("Gamma shape", self.shape))
        object.__setattr__(self, "rate", _positive("Gamma rate", self.rate))

    def neg_log_density(self, x):
        a, b = self.shape, self.rate
        value = special.gammaln(a) - a * math.log(b) - (a - 1) * math.log(x) + b * x
        return float(value), -(a - 1) / x + b, (a - 1) / x**2


@dataclass(frozen=True)
class HalfT(AuxPrior):
    """Half-Student-t with ``nu`` degrees of freedom and scale ``scale`` (``nu = 1``: half-Cauchy)."""

    nu: float = 4.0
    scale: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "nu", _positive("HalfT nu", self.nu))
        object.__setattr__(self, "scale", _positive("HalfT scale", self.scale))

    def neg_log_density(self, x):
        # In z = x / s throughout: s**2 overflows for targets in units of 1e160 (sd(y) is the scale).
        nu, s = self.nu, self.scale
        z = x / s
        log_norm = (math.log(2.0) + special.gammaln((nu + 1) / 2) - special.gammaln(nu / 2)
                    - 0.5 * math.log(nu * math.pi) - math.log(s))
        big = abs(z) > 1e150  # z * z would overflow: log1p(z^2 / nu) = 2 log|z| - log nu there
        tail = 2 * math.log(abs(z)) - math.log(nu) if big else math.log1p(z * z / nu)
        value = -log_norm + (nu + 1) / 2 * tail
        ratio = 1.0 / z if big else z / (nu + z * z)  # z / (nu + z^2)
        curvature = -1.0 / (z * z) if big else (nu - z * z) / (nu + z * z) ** 2
        return float(value), (nu + 1) * ratio / s, (nu + 1) * curvature / s / s
