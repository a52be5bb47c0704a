"""Priors on regression coefficients: the Bayesian reading of a penalty.

Each prior is a small immutable specification with its density written out.
Nothing here knows about PyMC; :mod:`bayesreg.model` turns a specification
into PyMC random variables, and :mod:`bayesreg.solvers` uses the penalty form.

For a prior with density ``p(w)``, the MAP estimate minimises
``NLL(w) - log p(w)``; the ``-log p(w)`` term *is* the penalty:

========================  ======================================  ==================
prior                     ``-log p(w_j)`` (up to a constant)      penalty
========================  ======================================  ==================
``Normal(s)``             ``w_j**2 / (2 s**2)``                   ridge, lam = 1/(2s^2)
``Laplace(b)``            ``|w_j| / b``                           lasso, lam = 1/b
``ElasticNet(b, s)``      ``|w_j| / b + w_j**2 / (2 s**2)``       elastic net
``Horseshoe``             unbounded at ``w_j = 0``                none: no finite MAP
``RegularizedHorseshoe``  unbounded at ``w_j = 0``                none: no finite MAP
========================  ======================================  ==================
"""

from __future__ import annotations

import math
import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = [
    "Prior",
    "Normal",
    "Laplace",
    "ElasticNet",
    "Horseshoe",
    "RegularizedHorseshoe",
]


def _positive(name: str, value) -> float:
    """Return ``value`` as a float, or raise if it is not finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return value


class Prior:
    """Base class of coefficient priors: the same prior on every coefficient.

    Coefficients are independent a priori under ``Normal``, ``Laplace`` and ``ElasticNet``, and
    independent given the shared global scale (and slab) under the horseshoes.

    Subclasses with a finite MAP expose the penalty weights ``l1`` and ``l2``
    of ``-log p(w) = l1 * ||w||_1 + l2 / 2 * ||w||_2^2 + const``.
    """

    has_map: bool = True
    l1: float = 0.0
    l2: float = 0.0

    @property
    def l2_sqrt(self) -> float:
        """``sqrt(l2)``, the inverse of the Gaussian factor's scale, without squaring first (the
        solvers rescale it by powers of two; ``l2`` itself under- or overflows at scales ~1e160)."""
        return math.sqrt(self.l2)

    def neg_log_density(self, w) -> float:
        """Exact ``-log p(w)`` summed over coefficients, normalising constant included."""
        raise NotImplementedError

    def no_map_reason(self) -> str:
        return ""

    def __str__(self) -> str:
        """For people: ``Laplace(scale=11.31)``, parameters to 4 significant digits (``repr`` is exact)."""
        values = (f"{f.name}={getattr(self, f.name):.4g}" if isinstance(getattr(self, f.name), float)
                  else f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))
        return f"{type(self).__name__}({', '.join(values)})"


@dataclass(frozen=True)
class Normal(Prior):
    r"""Gaussian prior ``w_j ~ N(0, scale**2)``: ridge regression.

    .. math:: -\log p(w) = \frac{\|w\|_2^2}{2\,\mathrm{scale}^2} + p\log(\mathrm{scale}\sqrt{2\pi})

    so the MAP minimises ``NLL(w) + lam * ||w||_2^2`` with ``lam = 1 / (2 scale**2)``.
    """

    scale: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "scale", _positive("Normal scale", self.scale))

    @property
    def l2(self) -> float:
        return self.l2_sqrt**2

    @property
    def l2_sqrt(self) -> float:
        return 1.0 / self.scale

    def neg_log_density(self, w) -> float:
        w = np.asarray(w, dtype=float)
        return float(np.sum(w**2) / (2 * self.scale**2) + w.size * math.log(self.scale * math.sqrt(2 * math.pi)))


@dataclass(frozen=True)
class Laplace(Prior):
    r"""Laplace (double-exponential) prior ``w_j ~ Laplace(0, scale)``: the lasso.

    .. math:: -\log p(w) = \frac{\|w\|_1}{\mathrm{scale}} + p\log(2\,\mathrm{scale})

    so the MAP minimises ``NLL(w) + lam * ||w||_1`` with ``lam = 1 / scale``. The MAP has
    exact zeros; posterior draws (with probability 1) and, in general, the posterior mean do not.
    """

    scale: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "scale", _positive("Laplace scale", self.scale))

    @property
    def l1(self) -> float:
        return 1.0 / self.scale

    def neg_log_density(self, w) -> float:
        w = np.asarray(w, dtype=float)
        return float(np.sum(np.abs(w)) / self.scale + w.size * math.log(2 * self.scale))


@dataclass(frozen=True)
class ElasticNet(Prior):
    r"""Product of a Laplace and a Gaussian factor on each coefficient: the elastic net.

    .. math::
        p(w_j) = \frac{1}{Z}\exp\!\Big(-\frac{|w_j|}{b} - \frac{w_j^2}{2s^2}\Big),\qquad
        Z = s\sqrt{2\pi}\;\mathrm{erfcx}\!\Big(\frac{s}{\sqrt2\,b}\Big)

    with ``b = laplace_scale`` and ``s = normal_scale``. The MAP minimises
    ``NLL(w) + ||w||_1 / b + ||w||_2^2 / (2 s^2)``.
    """

    laplace_scale: float = 1.0
    normal_scale: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "laplace_scale", _positive("ElasticNet laplace_scale", self.laplace_scale))
        object.__setattr__(self, "normal_scale", _positive("ElasticNet normal_scale", self.normal_scale))

    @property
    def l1(self) -> float:
        return 1.0 / self.laplace_scale

    @property
    def l2(self) -> float:
        return self.l2_sqrt**2

    @property
    def l2_sqrt(self) -> float:
        return 1.0 / self.normal_scale

    def log_normalizer(self) -> float:
        """``log Z`` of one coefficient's density (see the class docstring)."""
        s, b = self.normal_scale, self.laplace_scale
        return math.log(s * math.sqrt(2 * math.pi)) + math.log(special.erfcx(s / (math.sqrt(2) * b)))

    def neg_log_density(self, w) -> float:
        w = np.asarray(w, dtype=float)
        kernel = np.sum(np.abs(w)) * self.l1 + np.sum(w**2) * self.l2 / 2
        return float(kernel + w.size * self.log_normalizer())


@dataclass(frozen=True)
class Horseshoe(Prior):
    r"""Horseshoe prior (Carvalho, Polson & Scott, 2010).

    .. math::
        w_j \mid \lambda_j, \tau \sim N(0, \lambda_j^2 \tau^2), \quad
        \lambda_j \sim C^+(0, 1), \quad \tau \sim C^+(0, \tau_0)

    ``scale`` is the global scale ``tau_0``. ``None`` (the default) follows Carvalho et al.:
    ``tau_0 = sigma`` (the noise sd) in linear regression and ``tau_0 = 1`` in logistic
    regression. By Piironen & Vehtari's (2017) calculation that default expects *most*
    coefficients to be non-zero: at ``tau = sigma`` a fraction ``sqrt(n) / (1 + sqrt(n))`` of
    them, 91% at n = 100. For a sparse signal pass ``scale = p0 / (D - p0) * sigma / sqrt(n)``
    (``p0`` non-zero of ``D``), or use :class:`RegularizedHorseshoe` with ``expected_nonzero=p0``.

    The marginal density of ``w_j`` is unbounded at 0, so there is no finite MAP:
    fit it with NUTS.
    """

    scale: float | None = None

    has_map = False

    def __post_init__(self):
        if self.scale is not None:
            object.__setattr__(self, "scale", _positive("Horseshoe scale", self.scale))

    def no_map_reason(self) -> str:
        return (
            "the horseshoe prior has no finite MAP: its marginal density is unbounded at 0, "
            "so the posterior mode sits at w = 0 with infinite density. Use method='nuts'."
        )


@dataclass(frozen=True)
class RegularizedHorseshoe(Prior):
    r"""Regularized ("Finnish") horseshoe of Piironen & Vehtari (2017).

    .. math::
        w_j = z_j\,\tau\,\tilde\lambda_j,\quad
        \tilde\lambda_j^2 = \frac{c^2\lambda_j^2}{c^2 + \tau^2\lambda_j^2},\quad
        \lambda_j \sim C^+(0,1),\quad
        c^2 \sim \mathrm{Inv\text{-}Gamma}(\nu/2,\ \nu s^2/2),\quad
        \tau \sim C^+(0, \tau_0),\quad
        \tau_0 = \frac{p_0}{D - p_0}\frac{\sigma}{\sqrt n}

    with ``p_0 = expected_nonzero`` (checked against the number of coefficients ``D`` at
    fit time: ``0 < p_0 < D``), ``s = slab_scale`` and ``nu = slab_df``. For logistic
    regression ``sigma`` is their pseudo-sigma ``1 / sqrt(mu (1 - mu))``.

    Like the horseshoe, it has no finite MAP.
    """

    expected_nonzero: float = 1.0
    slab_scale: float = 2.0
    slab_df: float = 4.0

    has_map = False

    def __post_init__(self):
        for name in ("expected_nonzero", "slab_scale", "slab_df"):
            value = _positive(f"RegularizedHorseshoe {name}", getattr(self, name))
            object.__setattr__(self, name, value)

    def no_map_reason(self) -> str:
        return (
            "the regularized horseshoe prior has no finite MAP: its marginal density is "
            "unbounded at 0. Use method='nuts'."
        )

    def check_dimension(self, n_features: int) -> None:
        if not self.expected_nonzero < n_features:
            raise ValueError(
                f"RegularizedHorseshoe expected_nonzero must be < the number of coefficients "
                f"({n_features}), got {self.expected_nonzero}"
            )
