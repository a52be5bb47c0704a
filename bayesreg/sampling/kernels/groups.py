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

A learned Normal scale per group (``Normal(H, groups=...)``, prior code 21), non-centred: the
prior block of the unconstrained vector is ``u_g = log tau_g`` for each of the ``G`` groups, then
``z`` (p), and

.. math:: w_j = z_j\,\tau_{g(j)}\,c_j,\qquad
          \log p = \sum_g \big[\log h(e^{u_g}) + u_g\big] + \sum_j \log\phi(z_j)

with ``h`` the half-t hyperprior (``nu = 1``: half-Cauchy; scalars ``S_HYPER_NU``/``S_HYPER_SCALE``),
``c_j`` the factor (``PTR_VEC1``) and the likelihood's gradient ``G_j`` chained as
``d/dz_j = G_j tau_{g(j)} c_j`` and ``d/du_g = sum_{j in g} G_j w_j``. One group of all columns is
the ``NORMAL_LEARNED`` density of :mod:`.noncentred`, term for term.

The group horseshoe (Xu, Schmidt, Makalic & Schmidt 2016; prior code 22): the horseshoe's block
``z`` (p), ``u_g = log lambda_g`` for each group, ``v = log(tau / tau_0)``, with

.. math:: w_j = z_j\,\lambda_{g(j)}\,\tau\,c_j,\qquad \lambda_g,\ \tau/\tau_0 \sim C^+(0, 1),

``tau_0`` the horseshoe's (:mod:`.noncentred` passes it in), ``d/du_g = d log h + sum_{j in g} G_j w_j``
and ``d/dv = d log h + sum_j G_j w_j`` (also ``d/d log sigma`` when ``tau_0 = sigma``). Groups of one
column each are the horseshoe, term for term.
"""

from __future__ import annotations

import math

import numpy as np

from .layout import (LOG_2PI, N_FEATURES, PTR_VEC1, S_HYPER_NU, S_HYPER_SCALE, array_at, jit, log_half_cauchy,
                     log_half_t)

# header entries 23-26 and prior codes 20-29 are this module's (layout.py reserves them for groups)
N_GROUPS, PTR_GROUP_OF, PTR_GROUP_RATE, PTR_GROUP_LOG_NORMALIZER = 23, 24, 25, 26
GROUP_LAPLACE, NORMAL_GROUP_SCALES, GROUP_HORSESHOE = 20, 21, 22


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


@jit
def group_scales_coefficients(theta, start, header, coef):
    """``w_j = z_j tau_{g(j)} c_j`` from the prior block ``(log tau (G), z (p))`` at ``start``."""
    p = header[N_FEATURES]
    n_groups = header[N_GROUPS]
    group_of = array_at(header[PTR_GROUP_OF], p)
    factor = array_at(header[PTR_VEC1], p)
    for j in range(p):
        coef[j] = theta[start + n_groups + j] * math.exp(theta[start + int(group_of[j])]) * factor[j]


@jit
def group_scales_log_density(theta, start, header, scalars, coef, G, grad):
    """``log p`` of the prior block (hyperpriors with their log Jacobians, standard normal ``z``);
    writes its gradient with the likelihood's ``G`` chained in (module docstring)."""
    p = header[N_FEATURES]
    n_groups = header[N_GROUPS]
    group_of = array_at(header[PTR_GROUP_OF], p)
    factor = array_at(header[PTR_VEC1], p)
    value = 0.0
    for g in range(n_groups):
        hyper, d_hyper = log_half_t(theta[start + g], scalars[S_HYPER_NU], scalars[S_HYPER_SCALE])
        value += hyper
        grad[start + g] = d_hyper
    for j in range(p):
        z = theta[start + n_groups + j]
        g = int(group_of[j])
        value += -0.5 * z * z - 0.5 * LOG_2PI
        grad[start + n_groups + j] = -z + G[j] * math.exp(theta[start + g]) * factor[j]
        grad[start + g] += G[j] * coef[j]
    return value


@jit
def group_scales_expand(theta, start, header, out, k):
    """The stored ``prior_scale``: ``tau_g`` for each group, from ``out[k]`` on."""
    for g in range(header[N_GROUPS]):
        out[k + g] = math.exp(theta[start + g])


@jit
def group_horseshoe_coefficients(theta, start, header, tau0, coef):
    """``w_j = z_j lambda_g(j) tau c_j`` from the block ``(z (p), log lambda (G), log(tau / tau0))``."""
    p = header[N_FEATURES]
    n_groups = header[N_GROUPS]
    group_of = array_at(header[PTR_GROUP_OF], p)
    factor = array_at(header[PTR_VEC1], p)
    tau = math.exp(theta[start + p + n_groups]) * tau0
    for j in range(p):
        coef[j] = theta[start + j] * math.exp(theta[start + p + int(group_of[j])]) * tau * factor[j]


@jit
def group_horseshoe_log_density(theta, start, header, tau0, coef, G, grad):
    """``log p`` of the group horseshoe's block and its gradient (module docstring); returns
    ``(log p, sum_j G_j w_j)``, the latter the chain into ``log tau0`` (and so ``log sigma``)."""
    p = header[N_FEATURES]
    n_groups = header[N_GROUPS]
    group_of = array_at(header[PTR_GROUP_OF], p)
    factor = array_at(header[PTR_VEC1], p)
    tau = math.exp(theta[start + p + n_groups]) * tau0
    value = 0.0
    for g in range(n_groups):
        local, d_local = log_half_cauchy(theta[start + p + g], 1.0)
        value += local
        grad[start + p + g] = d_local
    to_tau = 0.0
    for j in range(p):
        z = theta[start + j]
        g = int(group_of[j])
        value += -0.5 * z * z - 0.5 * LOG_2PI
        grad[start + j] = -z + G[j] * math.exp(theta[start + p + g]) * tau * factor[j]
        grad[start + p + g] += G[j] * coef[j]
        to_tau += G[j] * coef[j]
    global_, d_global = log_half_cauchy(theta[start + p + n_groups], 1.0)
    grad[start + p + n_groups] = d_global + to_tau
    return value + global_, to_tau


@jit
def group_horseshoe_expand(theta, start, header, tau0, out, k):
    """The stored ``global_scale`` (tau) at ``out[k]``, then ``local_scale`` (lambda_g) per group."""
    p = header[N_FEATURES]
    n_groups = header[N_GROUPS]
    out[k] = math.exp(theta[start + p + n_groups]) * tau0
    for g in range(n_groups):
        out[k + 1 + g] = math.exp(theta[start + p + g])
