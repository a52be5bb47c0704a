r"""Poisson counts with the log link: :math:`y_i \sim \mathrm{Poisson}(\mu_i)`, :math:`\mu_i = e^{\eta_i}`.

.. math::
    l_i = \mu_i - y_i\eta_i + \log\Gamma(y_i + 1),\qquad
    \partial_\eta l_i = \mu_i - y_i,\qquad \partial^2_\eta l_i = \mu_i .

Convex in ``eta``; an exposure enters as ``offset = log(exposure)``. No auxiliary parameter.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .base import Family, RowDerivatives, check_counts, log_mean_start


class Poisson(Family):
    name = "poisson"
    code = 3
    link = "log"

    def check_y(self, y):
        return check_counts(y, "Poisson")

    def nll_rows(self, eta, y, aux=()):
        return np.exp(eta) - y * eta + special.gammaln(y + 1)

    def derivatives(self, eta, y, aux=()):
        mu = np.exp(eta)
        empty = np.zeros((0, eta.size))
        return RowDerivatives(mu - y * eta + special.gammaln(y + 1), mu - y, mu, empty,
                              np.zeros((0, 0, eta.size)), empty)

    def nll_columns(self, eta, y, weights, aux=()):
        """As the base class, without an (n, S) ``gammaln``: ``sum s e^eta - (s y)' eta + sum s log y!``."""
        mu = np.exp(eta)
        return weights @ mu - (weights * y) @ eta + weights @ special.gammaln(y + 1)

    def start(self, y, weights, offset):
        return log_mean_start(y, weights, offset), ()

    def sample(self, eta, aux, rng):
        return rng.poisson(np.exp(eta)).astype(float)


POISSON = Poisson()
