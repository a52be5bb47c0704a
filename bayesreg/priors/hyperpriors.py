r"""Learned prior scales: hyperpriors on the global scale, and the Bayesian lasso.

Pass a hyperprior as the ``scale`` of :class:`~bayesreg.Normal` or :class:`~bayesreg.Laplace`
to learn how much to regularize: the global scale ``tau`` gets the hyperprior and is sampled
with the coefficients (non-centred, ``coef_j = z_j * tau * c_j``; see those classes), or, in
linear regression, with the coefficients integrated out: alone for a Normal prior
(:mod:`bayesreg.sampling.kernels.spectral`), with the Laplace's exponential mixture variances for a
Laplace prior and the Bayesian lasso (:mod:`bayesreg.sampling.kernels.mixture`).

===========================  ==============================================================
``HalfCauchy(s)``            :math:`p(\tau) = \frac{2}{\pi s\,(1 + (\tau/s)^2)}`, ``tau > 0``
``HalfStudentT(nu, s)``      :math:`p(\tau) = \frac{2\,\Gamma(\frac{\nu+1}{2})}{\Gamma(\frac\nu2)\sqrt{\nu\pi}\,s}
                             \big(1 + \frac{(\tau/s)^2}{\nu}\big)^{-\frac{\nu+1}{2}}`
===========================  ==============================================================

The joint MAP over ``(coef, tau)`` does not exist: at ``coef = 0`` the density grows without
bound as ``tau -> 0`` (the prior's ``-p log tau`` term), so these priors have ``has_map = False``
and ``method="map"`` raises :class:`~bayesreg.NoMAPError`. Nothing here imports PyMC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from .base import Hyperprior, Prior, positive_number

__all__ = ["HalfCauchy", "HalfStudentT", "BayesianLasso"]


@dataclass(frozen=True, eq=False)
class HalfCauchy(Hyperprior):
    r"""Half-Cauchy ``tau ~ C+(0, scale)``: :math:`-\log p(\tau) = \log\frac{\pi s}{2} + \log(1 + (\tau/s)^2)`.

    Gelman (2006) and R's ``bayesreg`` put it on a global scale: it is flat near 0 (so it
    allows strong shrinkage) and heavy-tailed (so the data can overrule it).
    """

    scale: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "scale", positive_number("HalfCauchy scale", self.scale))

    def neg_log_density(self, tau):
        tau = np.asarray(tau, dtype=float)
        value = math.log(math.pi * self.scale / 2) + np.log1p((tau / self.scale) ** 2)
        return float(value) if value.ndim == 0 else value


@dataclass(frozen=True, eq=False)
class HalfStudentT(Hyperprior):
    r"""Half-Student-t ``tau ~ t+_nu(0, scale)``; ``nu = 1`` is the half-Cauchy.

    .. math::
        -\log p(\tau) = -\log 2 - \log\Gamma\big(\tfrac{\nu+1}{2}\big) + \log\Gamma\big(\tfrac\nu2\big)
        + \tfrac12\log(\nu\pi) + \log s + \tfrac{\nu+1}{2}\log\big(1 + \tfrac{(\tau/s)^2}{\nu}\big)
    """

    nu: float = 3.0
    scale: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "nu", positive_number("HalfStudentT nu", self.nu))
        object.__setattr__(self, "scale", positive_number("HalfStudentT scale", self.scale))

    def neg_log_density(self, tau):
        nu, s = self.nu, self.scale
        tau = np.asarray(tau, dtype=float)
        log_norm = (math.log(2.0) + special.gammaln((nu + 1) / 2) - special.gammaln(nu / 2)
                    - 0.5 * math.log(nu * math.pi) - math.log(s))
        value = -log_norm + (nu + 1) / 2 * np.log1p((tau / s) ** 2 / nu)
        return float(value) if value.ndim == 0 else value


@dataclass(frozen=True, eq=False)
class BayesianLasso(Prior):
    r"""The Bayesian lasso of Park & Casella (2008): Laplace given the noise sd, Gamma on lambda^2.

    .. math::
        w_j \mid \sigma, \lambda \sim \mathrm{Laplace}\big(0,\ \sigma/\lambda\big),\qquad
        \lambda^2 \sim \mathrm{Gamma}(r, \delta)\ \text{(shape } r\text{, rate } \delta),

    i.e. :math:`p(w \mid \sigma, \lambda) = \prod_j \frac{\lambda}{2\sigma} e^{-\lambda|w_j|/\sigma}`
    and :math:`p(\lambda^2) = \frac{\delta^r}{\Gamma(r)} (\lambda^2)^{r-1} e^{-\delta\lambda^2}`.
    Conditioning on ``sigma`` keeps the posterior unimodal (their section 2). For the sampler, non-centred:
    ``w_j = z_j * sigma / lambda`` with ``z_j ~ Laplace(0, 1)``, or (p >= n, and small problems;
    :func:`bayesreg.model.spec.mixture_pays`) as a scale mixture with the coefficients integrated
    out (:mod:`bayesreg.sampling.kernels.mixture`); the Laplace scale ``sigma / lambda`` is stored in the
    posterior as ``prior_scale`` (and ``lambda`` as ``prior_lambda``).

    Park & Casella ask of the Gamma prior on lambda^2 that its density "approach 0 sufficiently
    fast as lambda^2 -> infinity" (to avoid mixing problems) while being relatively flat and putting
    high probability near the maximum-likelihood value of lambda. The defaults ``r = 1``,
    ``delta = 1.78`` are the values they used for the diabetes data of the ``lars`` package, whose
    columns are scaled to unit Euclidean norm (not unit variance), so that its coefficients are in
    the hundreds; public reimplementations of their sampler default to the same pair, while R's
    ``monomvn::blasso`` defaults to ``r = 2, delta = 0.1``. With other data or units, choose
    ``delta`` so that ``r / delta`` (the prior mean of lambda^2) is near the lambda^2 you expect.
    Linear regression only: the model needs the noise sd ``sigma``.

    Unlike a half-Cauchy scale, the Gamma tail keeps the joint density bounded, but its mode over
    ``(w, lambda, sigma)`` is not a fixed-penalty lasso and bayesreg does not compute it: fit with NUTS.
    """

    r: float = 1.0
    delta: float = 1.78

    def __post_init__(self):
        object.__setattr__(self, "r", positive_number("BayesianLasso r", self.r))
        object.__setattr__(self, "delta", positive_number("BayesianLasso delta", self.delta))

    has_map = False

    def no_map_reason(self) -> str:
        return ("the Bayesian lasso learns its penalty lambda; its joint mode over (coef, lambda, sigma) is "
                "not a fixed-penalty lasso and is not computed. Use method='nuts', or a fixed Laplace "
                "prior for a lasso MAP.")

    def lambda_sq_neg_log_density(self, lambda_sq):
        """Exact ``-log p(lambda^2)`` of the Gamma(r, delta) hyperprior (shape r, rate delta)."""
        lambda_sq = np.asarray(lambda_sq, dtype=float)
        r, d = self.r, self.delta
        value = -(r * math.log(d) - special.gammaln(r) + (r - 1) * np.log(lambda_sq) - d * lambda_sq)
        return float(value) if value.ndim == 0 else value
