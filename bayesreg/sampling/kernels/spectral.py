r"""The collapsed log density: a learned Normal scale in linear regression, coefficients integrated out.

For ``y ~ N(b + Xw, sigma^2)``, ``w_j = tau c_j z_j`` with ``z ~ N(0, I)``, ``tau`` ~ half-t and
a flat intercept ``b``, the coefficients and the intercept integrate out exactly, so NUTS samples
only :math:`p(\tau, \sigma \mid y) \propto p(y \mid \tau, \sigma)\, p(\tau)\, p(\sigma)` (one or
two dimensions, no funnel), and :func:`bayesreg.sampling.conditional.normal_scale_coefficients` draws ``w`` and
``b`` from their Gaussian conditional afterwards. The evidence is
:func:`bayesreg.model.spec.collapsed_data`'s (that of :mod:`bayesreg.evidence`), from the
eigen-data ``s_i^2`` (``PTR_VEC1``), ``a_i`` (``PTR_VEC2``), ``r`` (``RANK``) and ``R``
(``S_RSS_MIN``); value and gradient cost O(r).

A fixed Normal prior ``w_j ~ N(0, s_j^2)`` with sigma estimated is the same density at ``tau = 1``
(``c_j = s_j`` in the eigen-data), with no ``tau`` coordinate and no hyperprior: prior code
``NORMAL_CONJUGATE``, NUTS on ``log sigma`` alone (issue 24's conjugate case).

Unconstrained vector: ``log sigma`` (when sigma is estimated), then ``log tau`` (not for
``NORMAL_CONJUGATE``). Derivatives, with
:math:`e_i = \tau^2 s_i^2`, :math:`v_i = \sigma^2 + e_i` and :math:`t_i = (v_i - a_i^2)/v_i^2`:

.. math::
    \frac{\partial \log p(y \mid \tau, \sigma)}{\partial\log\tau} = -\sum_i e_i t_i,\qquad
    \frac{\partial \log p(y \mid \tau, \sigma)}{\partial\log\sigma} = -\sum_i \sigma^2 t_i - (k - r)
        + \frac{R}{\sigma^2}.

It reads the header layout and the half-t density of :mod:`bayesreg.sampling.kernels.layout`
(the cache note in :mod:`bayesreg.sampling.kernels` says why that is safe).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .layout import (EXPAND_SIGNATURE, FIT_INTERCEPT, HEADER_LEN, LOGP_SIGNATURE, LOG_2PI, N_DIM, N_SCALARS,
                    NORMAL_CONJUGATE, PRIOR, PTR_SCALARS, PTR_VEC1, PTR_VEC2, RANK, SIGMA_KNOWN, S_HYPER_NU,
                    S_HYPER_SCALE, S_N, S_RSS_MIN, S_SIGMA, array_at, jit, log_half_t,
                    report)
from .likelihoods import log_sigma_prior


@jit
def collapsed_log_density(theta, grad, header):
    """``log p(tau, sigma | y)`` (up to the evidence's normalisation) at ``theta``; gradient into ``grad``."""
    scalars = array_at(header[PTR_SCALARS], N_SCALARS)
    r = header[RANK]
    eigval = array_at(header[PTR_VEC1], r)
    projection = array_at(header[PTR_VEC2], r)
    n = scalars[S_N]
    k = n - 1.0 if header[FIT_INTERCEPT] else n
    residual = scalars[S_RSS_MIN]
    i = 0
    sigma = scalars[S_SIGMA]
    if not header[SIGMA_KNOWN]:
        sigma = math.exp(theta[0])
        i = 1
    conjugate = header[PRIOR] == NORMAL_CONJUGATE
    u_tau = 0.0 if conjugate else theta[i]
    tau_sq = math.exp(2.0 * u_tau)
    sigma_sq = sigma * sigma
    total = k * LOG_2PI + (k - r) * math.log(sigma_sq) + residual / sigma_sq
    d_tau = 0.0
    d_sigma = -(k - r) + residual / sigma_sq
    for j in range(r):
        e = tau_sq * eigval[j]
        v = sigma_sq + e
        a_sq = projection[j] * projection[j]
        total += math.log(v) + a_sq / v
        t = (v - a_sq) / (v * v)
        d_tau -= e * t
        d_sigma -= sigma_sq * t
    value = -0.5 * total
    if header[FIT_INTERCEPT]:
        value -= 0.5 * math.log(n)
    if not conjugate:
        hyper, d_hyper = log_half_t(u_tau, scalars[S_HYPER_NU], scalars[S_HYPER_SCALE])
        value += hyper
        grad[i] = d_tau + d_hyper
    if i == 1:
        noise, d_noise = log_sigma_prior(theta[0], scalars)
        value += noise
        grad[0] = d_sigma + d_noise
    return value


@jit
def collapsed_expand(theta, out):
    """The sampled quantities: ``sigma`` (when estimated) and ``prior_scale`` (tau, when learned), in theta's order."""
    for j in range(theta.size):
        out[j] = math.exp(theta[j])


@numba.cfunc(LOGP_SIGNATURE, cache=True, error_model="numpy")
def logp_callback(dim, x_, grad_, logp_, user_data):
    """As :func:`bayesreg.sampling.kernels.noncentred.logp_callback`, for the collapsed density."""
    header = numba.carray(user_data, (HEADER_LEN,), np.int64)
    n_dim = header[N_DIM]
    if dim != n_dim:
        return -1
    grad = numba.carray(grad_, (n_dim,))
    return report(collapsed_log_density(numba.carray(x_, (n_dim,)), grad, header), grad, numba.carray(logp_, (1,)))


@numba.cfunc(EXPAND_SIGNATURE, cache=True, error_model="numpy")
def expand_callback(dim, n_expanded, x_, out_, user_data):
    header = numba.carray(user_data, (HEADER_LEN,), np.int64)
    if dim != header[N_DIM] or n_expanded != dim:
        return -1
    collapsed_expand(numba.carray(x_, (dim,)), numba.carray(out_, (n_expanded,)))
    return 0
