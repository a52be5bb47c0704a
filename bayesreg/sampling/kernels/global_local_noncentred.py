r"""The horseshoe+ and R2D2 priors' block of the non-centred density (every family).

:mod:`bayesreg.sampling.kernels.noncentred` calls these for the prior codes ``HORSESHOE_PLUS`` and
``R2D2``, as it calls its own prior blocks: :func:`coefficients` fills ``coef`` from the prior block
of ``theta``; :func:`prior_log_density` adds the block's log prior (with Jacobians) and writes its
gradient, chaining the likelihood's gradient ``G`` (in ``coef``) through the transform.

Horseshoe+ block: ``z`` (p), ``log nu`` (p), ``log g``, ``log eta`` (p);
:math:`w_j = z_j\,\tau\,\nu_j\eta_j\,c_j`, ``tau = g tau_0``, ``z ~ N(0, 1)``, ``g, nu_j, eta_j ~ C+(0, 1)``.
``tau_0`` is ``sigma`` where the header says so (Gaussian, no scale given), else the given scale
(1 when none in logistic regression).

R2D2 block: ``z`` (p), ``u = logit R^2``, ``log gamma`` (p); with :math:`W = R^2/(1 - R^2) = e^u`,
:math:`\phi = \gamma / \sum_k\gamma_k` (``gamma_k ~ Gamma(alpha_k, 1)``, so ``phi`` is
Dirichlet(alpha); the sum is a nuisance the likelihood never sees) and ``s`` the noise sd (the
pseudo-sigma outside the Gaussian family): :math:`w_j = z_j\,s\sqrt{W\phi_j}\,c_j`. Derivatives of
:math:`\log|w_j|`: ``1/2`` in ``u``, :math:`(\delta_{jk} - \phi_k)/2` in :math:`\log\gamma_k`, 1 in
``log sigma``. ``R^2 ~ Beta(a, b)`` on ``u``: :math:`a\log R^2 + b\log(1 - R^2) - \log B(a, b)`.
"""

from __future__ import annotations

import math

import numpy as np

from .layout import (FAMILY, GAUSSIAN, HORSESHOE_PLUS, LOG_2PI, N_FEATURES, PRIOR, PTR_VEC1, PTR_VEC3,
                    S_PSEUDO_SIGMA, S_R2_A, S_R2_B, S_TAU0, TAU0_FROM_NOISE, array_at, jit, log_half_cauchy)


@jit
def noise_scale(header, scalars, sigma):
    return sigma if header[FAMILY] == GAUSSIAN else scalars[S_PSEUDO_SIGMA]


@jit
def horseshoe_plus_tau0(header, scalars, sigma):
    """``(tau_0, whether it is proportional to sigma)``."""
    if header[TAU0_FROM_NOISE]:
        return sigma, True
    return scalars[S_TAU0], False


@jit
def log_beta_on_logit(u, a, b):
    """``log p(u)`` for ``u = logit R^2``, ``R^2 ~ Beta(a, b)``, and its derivative."""
    log_r = -math.log1p(math.exp(-u)) if u > 0 else u - math.log1p(math.exp(u))
    log_not_r = log_r - u
    r = math.exp(log_r)
    value = a * log_r + b * log_not_r - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
    return value, a * (1.0 - r) - b * r


@jit
def split(log_gamma, phi):
    """``phi = gamma / sum(gamma)`` into ``phi`` from ``log gamma`` (shifted by its max: no underflow)."""
    top = log_gamma.max()
    total = 0.0
    for j in range(log_gamma.size):
        phi[j] = math.exp(log_gamma[j] - top)
        total += phi[j]
    phi /= total


@jit
def coefficients(theta, start, header, scalars, sigma, coef):
    p = header[N_FEATURES]
    factor = array_at(header[PTR_VEC1], p)
    if header[PRIOR] == HORSESHOE_PLUS:
        tau0, _ = horseshoe_plus_tau0(header, scalars, sigma)
        tau = math.exp(theta[start + 2 * p]) * tau0
        for j in range(p):
            local = math.exp(theta[start + p + j] + theta[start + 2 * p + 1 + j])
            coef[j] = theta[start + j] * tau * local * factor[j]
        return
    phi = np.empty(p)
    split(theta[start + p + 1:start + 2 * p + 1], phi)
    scale = noise_scale(header, scalars, sigma) * math.exp(0.5 * theta[start + p])
    for j in range(p):
        coef[j] = theta[start + j] * scale * math.sqrt(phi[j]) * factor[j]


@jit
def prior_log_density(theta, start, header, scalars, sigma, coef, G, grad):
    """The block's log prior and gradient (see the module docstring); returns ``(log p, extra d/d log sigma)``."""
    p = header[N_FEATURES]
    factor = array_at(header[PTR_VEC1], p)
    value = 0.0
    chained_sum = 0.0
    for j in range(p):
        z = theta[start + j]
        value += -0.5 * z * z - 0.5 * LOG_2PI
        chained_sum += G[j] * coef[j]
    if header[PRIOR] == HORSESHOE_PLUS:
        tau0, proportional = horseshoe_plus_tau0(header, scalars, sigma)
        tau = math.exp(theta[start + 2 * p]) * tau0
        for j in range(p):
            u_nu = theta[start + p + j]
            u_eta = theta[start + 2 * p + 1 + j]
            grad[start + j] = -theta[start + j] + G[j] * tau * math.exp(u_nu + u_eta) * factor[j]
            local, d_local = log_half_cauchy(u_nu, 1.0)
            hyper, d_hyper = log_half_cauchy(u_eta, 1.0)
            value += local + hyper
            grad[start + p + j] = d_local + G[j] * coef[j]
            grad[start + 2 * p + 1 + j] = d_hyper + G[j] * coef[j]
        global_, d_global = log_half_cauchy(theta[start + 2 * p], 1.0)
        value += global_
        grad[start + 2 * p] = d_global + chained_sum
        return value, chained_sum if proportional else 0.0
    u = theta[start + p]
    log_gamma = theta[start + p + 1:start + 2 * p + 1]
    phi = np.empty(p)
    split(log_gamma, phi)
    scale = noise_scale(header, scalars, sigma) * math.exp(0.5 * u)
    concentration = array_at(header[PTR_VEC3], p)
    for j in range(p):
        grad[start + j] = -theta[start + j] + G[j] * scale * math.sqrt(phi[j]) * factor[j]
        alpha = concentration[j]
        value += alpha * log_gamma[j] - math.exp(log_gamma[j]) - math.lgamma(alpha)
        grad[start + p + 1 + j] = alpha - math.exp(log_gamma[j]) + 0.5 * (G[j] * coef[j] - phi[j] * chained_sum)
    r2, d_r2 = log_beta_on_logit(u, scalars[S_R2_A], scalars[S_R2_B])
    value += r2
    grad[start + p] = d_r2 + 0.5 * chained_sum
    return value, chained_sum if header[FAMILY] == GAUSSIAN else 0.0


@jit
def expand_scales(theta, start, header, scalars, sigma, out):
    """The stored scales after coef, intercept and sigma: horseshoe+ ``global_scale``, ``local_scale``
    (nu, p), ``local_scale_hyper`` (eta, p); R2D2 ``r2``, ``phi`` (p)."""
    p = header[N_FEATURES]
    if header[PRIOR] == HORSESHOE_PLUS:
        tau0, _ = horseshoe_plus_tau0(header, scalars, sigma)
        out[0] = math.exp(theta[start + 2 * p]) * tau0
        for j in range(p):
            out[1 + j] = math.exp(theta[start + p + j])
            out[1 + p + j] = math.exp(theta[start + 2 * p + 1 + j])
        return
    u = theta[start + p]
    out[0] = 1.0 / (1.0 + math.exp(-u))
    split(theta[start + p + 1:start + 2 * p + 1], out[1:1 + p])
