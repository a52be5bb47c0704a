r"""Global-local priors in linear regression with the coefficients integrated out: NUTS on the scales.

Every global-local prior is a scale mixture of Normals, :math:`w_j \mid d_j \sim N(0, d_j)`, and
only the rule that turns the sampled scales into the variances ``d_j`` differs per prior:

=========================  ====================================================================
Horseshoe                  :math:`d_j = c_j^2\tau^2\lambda_j^2`
RegularizedHorseshoe       :math:`d_j = c_j^2\tau^2\tilde\lambda_j^2`,
                           :math:`\tilde\lambda_j^2 = \kappa^2\lambda_j^2 / (\kappa^2 + \tau^2\lambda_j^2)`
                           (``kappa^2`` the slab's ``c^2`` of Piironen & Vehtari)
HorseshoePlus              :math:`d_j = c_j^2\tau^2\nu_j^2\eta_j^2`
R2D2                       :math:`d_j = c_j^2\sigma^2 W\phi_j`, :math:`W = e^u = R^2/(1 - R^2)`,
                           :math:`\phi = \gamma/\sum_k\gamma_k`
=========================  ====================================================================

(``c_j`` the prior's per-coefficient factor, ``tau = g tau_0`` with ``g`` the sampled global
scale). Given ``d`` and ``sigma`` the coefficients and the flat intercept integrate out exactly
(:func:`gaussian_marginal`, the evidence of :mod:`bayesreg.sampling.kernels.mixture` in the
likelihood's rank-``r`` factor), so NUTS samples only ``log sigma``, ``log g``, ``log lambda``
(and the slab's ``log c^2_raw``): no funnel between a coefficient and its local scale, which is
what made the non-centred horseshoe diverge. :func:`bayesreg.sampling.conditional.mixture_coefficients`
draws the coefficients exactly afterwards from the stored variances.

Chain rule: with :math:`\gamma_j = \partial\log p(y\mid d,\sigma)/\partial\log d_j` and the
regularized horseshoe's :math:`s_j = \tau^2\lambda_j^2/(\kappa^2 + \tau^2\lambda_j^2)` (0 for the
horseshoe):

.. math::
    \frac{\partial}{\partial\log\lambda_j} = 2(1 - s_j)\gamma_j,\quad
    \frac{\partial}{\partial\log g} = \sum_j 2(1 - s_j)\gamma_j,\quad
    \frac{\partial}{\partial\log\kappa^2} = \sum_j s_j\gamma_j,

and ``tau_0`` proportional to ``sigma`` (the horseshoe's default ``tau_0 = sigma``, the regularized
horseshoe's ``p_0/(D - p_0) sigma / sqrt(n)``) adds :math:`\sum_j 2(1 - s_j)\gamma_j` to
``d/d log sigma``.

The horseshoe+ has :math:`\partial/\partial\log\nu_j = \partial/\partial\log\eta_j = 2\gamma_j`;
R2D2 has :math:`\partial/\partial u = \Gamma`, :math:`\partial/\partial\log\gamma_k = \gamma_k - \phi_k\Gamma`
and :math:`2\Gamma` more in ``d/d log sigma`` (:math:`\Gamma = \sum_j\gamma_j`).

Unconstrained vector: ``log sigma`` (when estimated), ``log g``, ``log lambda`` (p), then the
regularized horseshoe's ``log c^2_raw`` (``c^2 = c^2_raw s^2``, ``c^2_raw ~ Inv-Gamma(nu/2, nu/2)``)
or the horseshoe+'s ``log eta`` (p). R2D2: ``log sigma``, ``u = logit R^2``, ``log gamma`` (p),
with the priors of :mod:`bayesreg.sampling.kernels.global_local_noncentred`.
Priors on it: half-Cauchy(1) on ``g`` and each ``lambda_j`` with their log-Jacobians, as the
PyMC model (:mod:`bayesreg.model.pymc`) writes them.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .global_local_noncentred import horseshoe_plus_tau0, log_beta_on_logit, split
from .layout import (EXPAND_SIGNATURE, FIT_INTERCEPT, HEADER_LEN, HORSESHOE_PLUS_INTEGRATED, LOGP_SIGNATURE, LOG_2PI,
                    N_DIM, N_FEATURES, N_SCALARS, PRIOR, PTR_FACTOR, PTR_SCALARS, PTR_VEC1, PTR_VEC2, PTR_VEC3,
                    R2D2_INTEGRATED, RANK, REG_HORSESHOE_INTEGRATED, S_R2_A, S_R2_B,
                    SIGMA_KNOWN, S_EXPECTED_NONZERO, S_N, S_RSS_MIN, S_SIGMA,
                    S_SLAB_DF, S_SLAB_SCALE, S_TAU0, TAU0_FROM_NOISE, array_at, jit,
                    log_half_cauchy, report)
from .likelihoods import log_sigma_prior
from .mixture import gaussian_marginal


@jit
def _tau0(header, scalars, sigma):
    """The horseshoes' ``tau_0``; the second value says whether it is proportional to ``sigma``."""
    if header[PRIOR] == REG_HORSESHOE_INTEGRATED:
        p0 = scalars[S_EXPECTED_NONZERO]
        return p0 / (header[N_FEATURES] - p0) * sigma / math.sqrt(scalars[S_N]), True
    if header[TAU0_FROM_NOISE]:
        return sigma, True
    return scalars[S_TAU0], False


@jit
def _horseshoe_variances(theta, start, header, scalars, sigma, d, keep):
    """The variances ``d`` and ``1 - s_j`` (``keep``; ones for the horseshoe) at ``theta``'s scale block (from ``start``); returns the scales' log prior and
    ``(tau, kappa^2)``."""
    p = header[N_FEATURES]
    factor = array_at(header[PTR_VEC2], p)
    u_g = theta[start]
    tau0, _ = _tau0(header, scalars, sigma)
    tau = math.exp(u_g) * tau0
    value, _ = log_half_cauchy(u_g, 1.0)
    kappa_sq = 0.0
    regularized = header[PRIOR] == REG_HORSESHOE_INTEGRATED
    if regularized:
        u_c = theta[start + 1 + p]
        kappa_sq = math.exp(u_c) * scalars[S_SLAB_SCALE] ** 2
        alpha = scalars[S_SLAB_DF] / 2
        value += alpha * math.log(alpha) - math.lgamma(alpha) - alpha * u_c - alpha * math.exp(-u_c)
    for j in range(p):
        u_l = theta[start + 1 + j]
        local, _ = log_half_cauchy(u_l, 1.0)
        value += local
        tau_lam_sq = math.exp(2.0 * (u_g + u_l)) * tau0 * tau0
        keep[j] = 1.0
        if regularized:  # written so that neither 1 - s_j nor a large tau^2 lambda^2 loses digits
            keep[j] = kappa_sq / (kappa_sq + tau_lam_sq)
            tau_lam_sq *= keep[j]
        d[j] = factor[j] * factor[j] * tau_lam_sq
    return value, tau, kappa_sq


@jit
def _scale_rule(theta, i, header, scalars, sigma, d, keep):
    """The variances ``d`` at ``theta`` (scale block from ``i``) and the scales' log prior;
    ``keep`` as :func:`_horseshoe_variances` (the horseshoe+ and R2D2 fill ``phi`` there)."""
    p = header[N_FEATURES]
    prior = header[PRIOR]
    factor = array_at(header[PTR_VEC2], p)
    if prior == HORSESHOE_PLUS_INTEGRATED:
        tau0, _ = horseshoe_plus_tau0(header, scalars, sigma)
        value, _ = log_half_cauchy(theta[i], 1.0)
        for j in range(p):
            local, _ = log_half_cauchy(theta[i + 1 + j], 1.0)
            hyper, _ = log_half_cauchy(theta[i + 1 + p + j], 1.0)
            value += local + hyper
            scale = math.exp(theta[i] + theta[i + 1 + j] + theta[i + 1 + p + j]) * tau0 * factor[j]
            d[j] = scale * scale
        return value
    if prior == R2D2_INTEGRATED:
        u = theta[i]
        log_gamma = theta[i + 1:i + 1 + p]
        split(log_gamma, keep)
        concentration = array_at(header[PTR_VEC3], p)
        value, _ = log_beta_on_logit(u, scalars[S_R2_A], scalars[S_R2_B])
        for j in range(p):
            alpha = concentration[j]
            value += alpha * log_gamma[j] - math.exp(log_gamma[j]) - math.lgamma(alpha)
            d[j] = sigma * sigma * math.exp(u) * keep[j] * factor[j] * factor[j]
        return value
    value, _, _ = _horseshoe_variances(theta, i, header, scalars, sigma, d, keep)
    return value


@jit
def global_local_log_density(theta, grad, header):
    """``log p(sigma, scales | y)`` with the coefficients and intercept integrated out; gradient into ``grad``."""
    scalars = array_at(header[PTR_SCALARS], N_SCALARS)
    p = header[N_FEATURES]
    prior = header[PRIOR]
    i = 0
    sigma = scalars[S_SIGMA]
    if not header[SIGMA_KNOWN]:
        sigma = math.exp(theta[0])
        i = 1
    d = np.empty(p)
    keep = np.empty(p)
    value = _scale_rule(theta, i, header, scalars, sigma, d, keep)
    gamma = np.empty(p)
    marginal, d_sigma = gaussian_marginal(d, sigma, header, scalars, gamma)
    if not math.isfinite(marginal):
        return -math.inf
    value += marginal
    total = gamma.sum()
    to_sigma = 0.0  # d log d_j / d log sigma is 0 or 2 for every j
    if prior == HORSESHOE_PLUS_INTEGRATED:
        for j in range(p):
            _, d_local = log_half_cauchy(theta[i + 1 + j], 1.0)
            _, d_hyper = log_half_cauchy(theta[i + 1 + p + j], 1.0)
            grad[i + 1 + j] = d_local + 2.0 * gamma[j]
            grad[i + 1 + p + j] = d_hyper + 2.0 * gamma[j]
        _, d_global = log_half_cauchy(theta[i], 1.0)
        grad[i] = d_global + 2.0 * total
        if horseshoe_plus_tau0(header, scalars, sigma)[1]:
            to_sigma = 2.0 * total
    elif prior == R2D2_INTEGRATED:
        concentration = array_at(header[PTR_VEC3], p)
        for j in range(p):
            grad[i + 1 + j] = concentration[j] - math.exp(theta[i + 1 + j]) + gamma[j] - keep[j] * total
        _, d_r2 = log_beta_on_logit(theta[i], scalars[S_R2_A], scalars[S_R2_B])
        grad[i] = d_r2 + total
        to_sigma = 2.0 * total
    else:
        to_tau = 0.0
        to_slab = 0.0
        for j in range(p):
            _, d_local = log_half_cauchy(theta[i + 1 + j], 1.0)
            chained = 2.0 * keep[j] * gamma[j]
            grad[i + 1 + j] = d_local + chained
            to_tau += chained
            to_slab += (1.0 - keep[j]) * gamma[j]
        _, d_global = log_half_cauchy(theta[i], 1.0)
        grad[i] = d_global + to_tau
        if prior == REG_HORSESHOE_INTEGRATED:
            u_c = theta[i + 1 + p]
            alpha = scalars[S_SLAB_DF] / 2
            grad[i + 1 + p] = -alpha + alpha * math.exp(-u_c) + to_slab
        if _tau0(header, scalars, sigma)[1]:
            to_sigma = to_tau
    if i == 1:
        noise, d_noise = log_sigma_prior(theta[0], scalars)
        value += noise
        grad[0] = d_sigma + d_noise + to_sigma
    return value


@jit
def global_local_expand(theta, out, header):
    """The stored quantities, in :func:`bayesreg.sampling.nutpie.expanded_layout`'s order: ``sigma``
    (when estimated); the horseshoes' ``global_scale`` (tau), ``local_scale`` (p), the regularized
    horseshoe's ``slab_scale``, the horseshoe+'s ``local_scale_hyper`` (p); R2D2's ``r2`` and
    ``phi`` (p); then the variances ``d`` (``mixture_variance``) the coefficients are drawn from."""
    scalars = array_at(header[PTR_SCALARS], N_SCALARS)
    p = header[N_FEATURES]
    prior = header[PRIOR]
    i = 0
    k = 0
    sigma = scalars[S_SIGMA]
    if not header[SIGMA_KNOWN]:
        sigma = math.exp(theta[0])
        out[0] = sigma
        i = k = 1
    d = np.empty(p)
    keep = np.empty(p)
    _scale_rule(theta, i, header, scalars, sigma, d, keep)
    if prior == R2D2_INTEGRATED:
        out[k] = 1.0 / (1.0 + math.exp(-theta[i]))
        out[k + 1:k + 1 + p] = keep
        k += 1 + p
    else:
        tau0, _ = horseshoe_plus_tau0(header, scalars, sigma) if prior == HORSESHOE_PLUS_INTEGRATED else \
            _tau0(header, scalars, sigma)
        out[k] = math.exp(theta[i]) * tau0
        for j in range(p):
            out[k + 1 + j] = math.exp(theta[i + 1 + j])
        k += 1 + p
        if prior == REG_HORSESHOE_INTEGRATED:
            out[k] = math.sqrt(math.exp(theta[i + 1 + p])) * scalars[S_SLAB_SCALE]
            k += 1
        elif prior == HORSESHOE_PLUS_INTEGRATED:
            for j in range(p):
                out[k + j] = math.exp(theta[i + 1 + p + j])
            k += p
    out[k:k + p] = d


@numba.cfunc(LOGP_SIGNATURE, cache=True, error_model="numpy")
def logp_callback(dim, x_, grad_, logp_, user_data):
    """As :func:`bayesreg.sampling.kernels.noncentred.logp_callback`, for the integrated global-local density."""
    header = numba.carray(user_data, (HEADER_LEN,), np.int64)
    n_dim = header[N_DIM]
    if dim != n_dim:
        return -1
    grad = numba.carray(grad_, (n_dim,))
    return report(global_local_log_density(numba.carray(x_, (n_dim,)), grad, header), grad,
                  numba.carray(logp_, (1,)))


@numba.cfunc(EXPAND_SIGNATURE, cache=True, error_model="numpy")
def expand_callback(dim, n_expanded, x_, out_, user_data):
    header = numba.carray(user_data, (HEADER_LEN,), np.int64)
    if dim != header[N_DIM]:
        return -1
    global_local_expand(numba.carray(x_, (dim,)), numba.carray(out_, (n_expanded,)), header)
    return 0
