r"""Negative binomial (NB2) counts with the log link: mean :math:`\mu = e^\eta`, variance
:math:`\mu + \mu^2/\phi`; :math:`\phi > 0` is the reciprocal dispersion (``phi -> inf``: Poisson).

.. math::
    l_i = -\log\Gamma(y_i + \phi) + \log\Gamma(\phi) + \log\Gamma(y_i + 1)
          - \phi\log\frac{\phi}{\phi + \mu_i} - y_i\log\frac{\mu_i}{\phi + \mu_i}

Derivatives (``u = log phi``):

.. math::
    \partial_\eta l = \frac{\phi(\mu - y)}{\phi + \mu},\quad
    \partial^2_\eta l = \frac{\phi\mu(\phi + y)}{(\phi + \mu)^2},\quad
    \partial_\eta\partial_u l = -\frac{\phi\mu(y - \mu)}{(\phi + \mu)^2},

    \partial_u l = -\phi s,\quad \partial^2_u l = -\phi s - \phi^2 s',\quad
    s = \psi(y + \phi) - \psi(\phi) + \log\frac{\phi}{\phi + \mu} + \frac{\mu - y}{\phi + \mu},

    s' = \psi_1(y + \phi) - \psi_1(\phi) + \frac1\phi - \frac1{\phi + \mu} - \frac{\mu - y}{(\phi + \mu)^2}.

Default prior ``phi ~ Exponential(1)`` (rstanarm's ``prior_aux`` for ``neg_binomial_2``).
Convex in ``eta`` for fixed ``phi`` (glum's ``NegativeBinomialDistribution(theta = 1 / phi)``).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .auxiliary import Exponential
from .base import Family, RowDerivatives, check_counts, log_mean_start


class NegativeBinomial(Family):
    name = "negative_binomial"
    code = 4
    link = "log"
    aux_names = ("phi",)

    def check_y(self, y):
        return check_counts(y, "negative binomial")

    def default_aux_prior(self, name, y, weights):
        return Exponential(1.0)

    def nll_rows(self, eta, y, aux):
        (phi,) = aux
        mu = np.exp(eta)
        log_total = np.logaddexp(np.log(phi), eta)  # log(phi + mu)
        return (-special.gammaln(y + phi) + special.gammaln(phi) + special.gammaln(y + 1)
                - phi * (np.log(phi) - log_total) - y * (eta - log_total))

    def derivatives(self, eta, y, aux):
        (phi,) = aux
        mu = np.exp(eta)
        total = phi + mu
        s = (special.digamma(y + phi) - special.digamma(phi) + np.log(phi) - np.logaddexp(np.log(phi), eta)
             + (mu - y) / total)
        s_prime = (special.polygamma(1, y + phi) - special.polygamma(1, phi) + 1 / phi - 1 / total
                   - (mu - y) / total**2)
        return RowDerivatives(
            value=self.nll_rows(eta, y, aux),
            d_eta=phi * (mu - y) / total,
            d_eta2=phi * mu * (phi + y) / total**2,
            d_aux=(-phi * s)[None, :],
            d_aux2=(-phi * s - phi**2 * s_prime)[None, None, :],
            d_eta_aux=(-phi * mu * (y - mu) / total**2)[None, :],
        )

    def start(self, y, weights, offset):
        mean = float(weights @ y / weights.sum())
        excess = float(weights @ (y - mean) ** 2 / weights.sum()) - mean
        phi = mean**2 / excess if excess > 0 else 100.0
        return log_mean_start(y, weights, offset), (float(np.clip(phi, 0.05, 100.0)),)

    def sample(self, eta, aux, rng):
        (phi,) = aux
        return rng.poisson(rng.gamma(phi, np.exp(eta) / phi)).astype(float)


NEGATIVE_BINOMIAL = NegativeBinomial()
