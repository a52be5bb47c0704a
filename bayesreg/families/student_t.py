r"""Student-t errors (robust linear regression), identity link:
:math:`y_i = \eta_i + \sigma\varepsilon_i`, :math:`\varepsilon_i \sim t_\nu`.

With :math:`r = y - \eta`, :math:`D = \nu\sigma^2 + r^2`,

.. math::
    l_i = \log\Gamma(\tfrac\nu2) - \log\Gamma(\tfrac{\nu+1}2) + \tfrac12\log(\nu\pi) + \log\sigma
          + \tfrac{\nu+1}2\log\big(1 + \tfrac{r^2}{\nu\sigma^2}\big),

    \partial_\eta l = -\frac{(\nu+1) r}{D},\quad \partial^2_\eta l = \frac{(\nu+1)(\nu\sigma^2 - r^2)}{D^2}
    \ \text{(negative for } r^2 > \nu\sigma^2\text{: not convex)},

and in ``u = log sigma``: :math:`\partial_u l = 1 - (\nu+1) r^2/D`,
:math:`\partial^2_u l = 2(\nu+1)\nu\sigma^2 r^2/D^2`, :math:`\partial_\eta\partial_u l = 2(\nu+1)\nu\sigma^2 r/D^2`;
in ``nu`` (then ``v = log nu`` by the chain rule), with :math:`c = r^2/\sigma^2`, :math:`g = \log(1 + c/\nu)`:
:math:`\partial_\nu l = \tfrac12[\psi(\tfrac\nu2) - \psi(\tfrac{\nu+1}2) + \tfrac1\nu + g] - \tfrac{(\nu+1)c}{2\nu(\nu+c)}`,
:math:`\partial_\eta\partial_\nu l = -r(r^2 - \sigma^2)/D^2`, :math:`\partial_u\partial_\nu l = -r^2(r^2 - \sigma^2)/D^2`.

Defaults: ``sigma ~ Half-t_4(0, sd(y))`` (as :mod:`.gaussian`), ``nu ~ Gamma(2, 0.1)`` (Juarez & Steel
2010; brms's default). ``nu`` may be fixed (then only ``sigma`` is auxiliary).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .auxiliary import Gamma, HalfT
from .base import Family, RowDerivatives
from .gaussian import SIGMA_PRIOR_NU, weighted_sigma_prior_scale


class StudentT(Family):
    name = "student_t"
    code = 5
    link = "identity"
    aux_names = ("sigma", "nu")

    def default_aux_prior(self, name, y, weights):
        return HalfT(SIGMA_PRIOR_NU, weighted_sigma_prior_scale(y, weights)) if name == "sigma" else Gamma(2.0, 0.1)

    def check_y(self, y):
        y = np.asarray(y, dtype=float)
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinity; drop those rows before fitting")
        return y

    def nll_rows(self, eta, y, aux):
        sigma, nu = aux
        r = y - eta
        constant = (special.gammaln(nu / 2) - special.gammaln((nu + 1) / 2) + 0.5 * np.log(nu * np.pi)
                    + np.log(sigma))
        return constant + (nu + 1) / 2 * np.log1p(r**2 / (nu * sigma**2))

    def derivatives(self, eta, y, aux):
        sigma, nu = aux
        r = y - eta
        s2 = sigma**2
        D = nu * s2 + r**2
        c = r**2 / s2
        g = np.log1p(c / nu)
        d_nu = 0.5 * (special.digamma(nu / 2) - special.digamma((nu + 1) / 2) + 1 / nu + g) \
            - (nu + 1) * c / (2 * nu * (nu + c))
        d_nu2 = (0.25 * (special.polygamma(1, nu / 2) - special.polygamma(1, (nu + 1) / 2)) - 1 / (2 * nu**2)
                 - c / (nu * (nu + c)) + (nu + 1) / 2 * c * (2 * nu + c) / (nu * (nu + c)) ** 2)
        d_u = 1 - (nu + 1) * r**2 / D
        d_u2 = 2 * (nu + 1) * nu * s2 * r**2 / D**2
        d_u_nu = -(r**2) * (r**2 - s2) / D**2
        d_aux = np.stack([d_u, nu * d_nu])
        d_aux2 = np.array([[d_u2, nu * d_u_nu], [nu * d_u_nu, nu**2 * d_nu2 + nu * d_nu]])
        return RowDerivatives(
            value=self.nll_rows(eta, y, aux),
            d_eta=-(nu + 1) * r / D,
            d_eta2=(nu + 1) * (nu * s2 - r**2) / D**2,
            d_aux=d_aux,
            d_aux2=d_aux2,
            d_eta_aux=np.stack([2 * (nu + 1) * nu * s2 * r / D**2, nu * (-r * (r**2 - s2) / D**2)]),
        )

    def start(self, y, weights, offset):
        centre = np.median(y - offset)
        spread = 1.4826 * np.median(np.abs(y - offset - centre))
        return float(centre), (float(spread if spread > 0 else np.std(y) or 1.0), 10.0)

    def sample(self, eta, aux, rng):
        sigma, nu = aux
        return eta + sigma * rng.standard_t(nu, size=np.shape(eta))


STUDENT_T = StudentT()
