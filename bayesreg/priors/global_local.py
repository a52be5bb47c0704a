r"""Two more global-local priors: the horseshoe+ and the R2D2 prior. Both have no finite MAP.

Each is a scale mixture of Normals, ``w_j | d_j ~ N(0, d_j)``, so the samplers treat them as the
horseshoes: non-centred for every family, and in linear regression with the coefficients integrated
out where that pays (:mod:`bayesreg.sampling.kernels.global_local`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Prior, positive_number, positive_scale
from .coefficients import Horseshoe, _init_autoscale_and_factor

__all__ = ["HorseshoePlus", "R2D2"]


@dataclass(frozen=True, eq=False)
class HorseshoePlus(Horseshoe):
    r"""Horseshoe+ prior (Bhadra, Datta, Polson & Willard 2017; R bayesreg's ``hs+``, rstanarm's ``hs_plus``).

    .. math::
        w_j \mid \lambda_j, \tau \sim N(0, \lambda_j^2\tau^2),\quad \lambda_j = \eta_j\nu_j,\quad
        \eta_j, \nu_j \sim C^+(0, 1),\quad \tau \sim C^+(0, \tau_0)

    (``lambda_j ~ C+(0, eta_j)`` written as a product). The extra half-Cauchy layer puts more mass
    both at zero and in the tails than the horseshoe. ``scale`` (``tau_0``), ``autoscale`` and
    ``factor`` mean what they mean for :class:`~bayesreg.Horseshoe` (``tau_0 = sigma`` in linear and
    1 in logistic regression when ``None``). The posterior stores ``global_scale`` (tau),
    ``local_scale`` (nu) and ``local_scale_hyper`` (eta).
    """

    def no_map_reason(self) -> str:
        return ("the horseshoe+ prior has no finite MAP: its marginal density is unbounded at 0. "
                "Use method='nuts'.")


@dataclass(frozen=True, eq=False)
class R2D2(Prior):
    r"""R2D2 prior (Zhang, Naughton, Bondell & Reich 2022): a Beta prior on R^2 split by a Dirichlet.

    .. math::
        w_j \sim N\!\Big(0,\ \sigma^2\,W\,\phi_j\,f_j^2\Big),\quad W = \frac{R^2}{1 - R^2},\quad
        R^2 \sim \mathrm{Beta}(\mu\kappa, (1 - \mu)\kappa),\quad \phi \sim \mathrm{Dirichlet}(\alpha)

    with ``mu = mean_r2``, ``kappa = precision`` and ``alpha = concentration`` (``None``: 1/2 for
    every coefficient, brms's default; a number is used for every coefficient, or one per
    coefficient). For columns of variance ``v_j = 1 / f_j^2`` the prior variance of the linear
    predictor is ``sigma^2 W sum_j phi_j = sigma^2 W``, so the prior's
    :math:`R^2 = \mathrm{Var}(x^\top w) / (\mathrm{Var}(x^\top w) + \sigma^2)` is exactly the
    Beta-distributed ``R^2``: ``mean_r2`` is the share of the outcome's variance the analyst expects
    the predictors to explain, ``precision`` how sure they are (see ``docs/sampling.md``).

    ``autoscale=True`` (the default) makes the prior scale-aware: ``f_j = 1 / sd(x_j)`` (population
    sd of the training data), so coefficient j's variance is divided by ``var(x_j)`` and rescaling a
    column rescales its coefficient's prior exactly (brms's R2D2 is not scale-aware, brms #1655).
    ``autoscale=False`` takes ``f_j = factor_j`` (default 1: columns assumed standardized).

    Logistic regression has no ``sigma``: it takes the pseudo-variance of the outcome
    ``sigma^2 = 1 / (mu_y (1 - mu_y))`` (``mu_y`` the mean of y; Piironen & Vehtari 2017, sec. 3.2,
    the same pseudo-sigma :class:`~bayesreg.RegularizedHorseshoe` uses), so ``R^2`` is on the scale
    of the linearised (logit) outcome. The posterior stores ``r2`` and ``phi``.
    """

    mean_r2: float = 0.5
    precision: float = 2.0
    concentration: object = None
    autoscale: bool = True
    factor: object = 1.0

    has_map = False

    def __post_init__(self):
        mean_r2 = positive_number("R2D2 mean_r2", self.mean_r2)
        if not mean_r2 < 1:
            raise ValueError(f"R2D2 mean_r2 is the prior mean of R^2 and must be in (0, 1), got {mean_r2}")
        object.__setattr__(self, "mean_r2", mean_r2)
        object.__setattr__(self, "precision", positive_number("R2D2 precision", self.precision))
        if self.concentration is not None:
            object.__setattr__(self, "concentration", positive_scale("R2D2 concentration", self.concentration))
        _init_autoscale_and_factor(self)

    @property
    def r2_shape(self) -> tuple[float, float]:
        """``(a, b)`` of the Beta prior on R^2."""
        return self.mean_r2 * self.precision, (1.0 - self.mean_r2) * self.precision

    def concentrations(self, n_features: int) -> np.ndarray:
        value = 0.5 if self.concentration is None else self.concentration
        return np.broadcast_to(np.asarray(value, dtype=float), (n_features,)).copy()

    def per_coefficient(self) -> dict:
        values = {"factor": self.factor}
        if self.concentration is not None:
            values["concentration"] = self.concentration
        return values

    def no_map_reason(self) -> str:
        return ("the R2D2 prior has no finite MAP: its marginal density is unbounded at 0 (for a "
                "concentration below 1/2, and its joint density over the scales for any). Use method='nuts'.")
