r"""The group priors' log density in the compiled kernels (the prior block of :mod:`.noncentred`).

GroupLaplace (the Bayesian group lasso, :mod:`bayesreg.priors.groups`): the coefficients are the
unconstrained block itself, and

.. math:: \log p(w) = \sum_g \big[-c_g\|w_g\|_2\big] - \sum_j \ell_j,\qquad
          \frac{\partial \log p}{\partial w_j} = -c_{g(j)}\,\frac{w_j}{\|w_{g(j)}\|_2}

with ``c_g = sqrt(m_g) / scale`` and ``l_j`` the group's log normaliser shared out over its ``m_g``
coefficients (``log Z_g / m_g``, so the sum over ``j`` is the sum over groups). At ``w_g = 0`` the
gradient is taken as 0 (a point of probability zero under the posterior).

The group structure is data, read through the header entries reserved for groups (23-26):
``N_GROUPS``, then per coefficient its group index (as a float), ``c_{g(j)}`` and ``l_j``.
"""

from __future__ import annotations

import math

import numpy as np

from .layout import N_FEATURES, array_at, jit

# header entries 23-26 and prior codes 20-29 are this module's (layout.py reserves them for groups)
N_GROUPS, PTR_GROUP_OF, PTR_GROUP_RATE, PTR_GROUP_LOG_NORMALIZER = 23, 24, 25, 26
GROUP_LAPLACE = 20


@jit
def group_laplace_log_density(start, header, coef, G, grad):
    """``log p(w)`` of the GroupLaplace prior; writes ``G_j + d log p / d w_j`` into ``grad[start + j]``."""
    p = header[N_FEATURES]
    group_of = array_at(header[PTR_GROUP_OF], p)
    rate = array_at(header[PTR_GROUP_RATE], p)
    log_normalizer = array_at(header[PTR_GROUP_LOG_NORMALIZER], p)
    squares = np.zeros(header[N_GROUPS])
    rate_of_group = np.zeros(header[N_GROUPS])
    value = 0.0
    for j in range(p):
        g = int(group_of[j])
        squares[g] += coef[j] * coef[j]
        rate_of_group[g] = rate[j]
        value -= log_normalizer[j]
    for g in range(squares.size):
        value -= rate_of_group[g] * math.sqrt(squares[g])
    for j in range(p):
        norm = math.sqrt(squares[int(group_of[j])])
        grad[start + j] = G[j] - (rate[j] * coef[j] / norm if norm > 0 else 0.0)
    return value
