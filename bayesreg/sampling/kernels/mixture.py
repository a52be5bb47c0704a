r"""Laplace priors with a learned scale in linear regression, sampled as a scale mixture of Normals.

A Laplace is a Normal whose variance is exponential (Andrews & Mallows 1974; the representation
behind Park & Casella's Gibbs sampler):

.. math::
    w_j \sim \mathrm{Laplace}(0, b_j) \iff w_j \mid d_j \sim N(0, d_j),\quad d_j = 2 b_j^2 e_j,\quad
    e_j \sim \mathrm{Exp}(1).

Given the variances ``d`` and ``sigma``, the coefficients and the flat intercept integrate out in
closed form, so NUTS samples ``(log sigma, log tau, log e)`` (p + 2 dimensions, smooth: no kink
at ``w = 0`` and no funnel between ``sigma`` and coefficients that the data pin to within
``sigma``), and :func:`bayesreg.sampling.conditional.mixture_coefficients` draws ``w`` and ``b`` from
their Gaussian conditional afterwards. The scale is ``b_j = tau c_j`` (``Laplace(HalfCauchy(s))``
and the like) or ``b_j = sigma / lambda`` (the Bayesian lasso); ``theta`` holds ``log b``.

With the Gaussian likelihood's rank-``r`` factor ``F`` (``F'F = X_c'X_c``, :mod:`bayesreg.model.spec`),
``a = F w_hat`` (``PTR_VEC1``) and :math:`R = \mathrm{RSS}_{\min}`, the evidence given ``d`` is
that of the ``r`` rows ``F`` with "responses" ``a``, plus the ``k - r`` residual directions
(``k = n - 1`` with an intercept, else ``n``):

.. math::
    \log p(y \mid d, \sigma) = -\tfrac12\Big[k\log 2\pi + (k - r)\log\sigma^2 + \frac{R}{\sigma^2}
        + \log\det K + a^\top K^{-1} a\Big] - \tfrac12\log n\,[\text{intercept}],\qquad
    K = \sigma^2 I_r + F D F^\top.

Derivatives, with :math:`q = K^{-1}a`:

.. math::
    \frac{\partial}{\partial d_j} = \tfrac12\big[(f_j^\top q)^2 - f_j^\top K^{-1} f_j\big],\qquad
    \frac{\partial}{\partial\log\sigma}\Big|_d = -(k - r) + \frac{R}{\sigma^2}
        + \sigma^2\big(q^\top q - \operatorname{tr}K^{-1}\big).

:math:`K = LL^\top` by Cholesky, then ``W = L^{-1} F`` by one matrix product:
:math:`f_j^\top K^{-1} f_j = \|W_{:j}\|^2`, :math:`f_j^\top q = (W^\top L^{-1} a)_j` and
:math:`\operatorname{tr}K^{-1} = \|L^{-1}\|_F^2`. Cost O(r^2 p) per gradient (timings in
``benchmarks/RESULTS.md``), against O(r p) for the non-centred coefficients, which
:func:`bayesreg.model.spec.linear_inputs` keeps where this would cost more than it saves.

Unconstrained vector: ``log sigma`` (when estimated), ``log b`` (``log tau``; the lasso's
``log(sigma / lambda)``), then
``u_j = log e_j`` with density :math:`e^{u_j} e^{-e^{u_j}}`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .layout import (BAYESIAN_LASSO_MIXTURE, EXPAND_SIGNATURE, FIT_INTERCEPT, HEADER_LEN, LOGP_SIGNATURE,
                    LOG_2PI, N_DIM, N_FEATURES, N_SCALARS, PRIOR, PTR_FACTOR, PTR_SCALARS, PTR_VEC1,
                    PTR_VEC2, RANK, SIGMA_KNOWN, S_HYPER_NU, S_HYPER_SCALE, S_LASSO_DELTA, S_LASSO_R, S_N,
                    S_RSS_MIN, S_SIGMA, array_at, jit, log_half_t,
                    report)
from .likelihoods import log_sigma_prior


@jit
def _cholesky(K, L):
    """``K = L L'`` into ``L`` (lower, row-oriented so the inner loops run along contiguous rows);
    False where ``K`` is not numerically positive definite (numba's own raises, which a C
    callback cannot pass on)."""
    r = K.shape[0]
    for i in range(r):
        for j in range(i + 1):
            total = K[i, j]
            for k in range(j):
                total -= L[i, k] * L[j, k]
            if i == j:
                if not total > 0.0:
                    return False
                L[i, i] = math.sqrt(total)
            else:
                L[i, j] = total / L[j, j]
        for j in range(i + 1, r):
            L[i, j] = 0.0
    return True


@jit
def _lower_inverse(L, inverse):
    """``L^-1`` of a lower-triangular ``L`` into ``inverse``, row by row: row ``i`` is
    ``(e_i - sum_{k<i} L[i, k] row_k) / L[i, i]``."""
    r = L.shape[0]
    inverse[:] = 0.0
    for i in range(r):
        inverse[i, i] = 1.0
        for k in range(i):
            coefficient = L[i, k]
            for j in range(k + 1):
                inverse[i, j] -= coefficient * inverse[k, j]
        scale = 1.0 / L[i, i]
        for j in range(i + 1):
            inverse[i, j] *= scale


@jit
def _scale_prior(log_b, log_sigma, header, scalars):
    """The log prior of the common Laplace scale ``b`` (``b_j = b c_j``) on ``theta``'s ``log b``,
    with its Jacobian, and its derivatives in ``log b`` and ``log sigma``.

    Learned scale: ``b = tau`` ~ half-t. Bayesian lasso: ``b = sigma / lambda`` with
    ``lambda^2 ~ Gamma(r, delta)``; sampling ``log b`` rather than ``log lambda^2`` (a constant
    Jacobian, 2) leaves ``sigma`` out of the Laplace's scale, so ``sigma`` and the ``p`` mixture
    variables are not all correlated through it (diagonal adaptation gave a bulk ESS of sigma of
    377 at n = 100, p = 200 with ``log lambda^2``).
    """
    if header[PRIOR] == BAYESIAN_LASSO_MIXTURE:
        v = 2.0 * (log_sigma - log_b)  # log lambda^2
        r = scalars[S_LASSO_R]
        delta = scalars[S_LASSO_DELTA]
        d_v = r - delta * math.exp(v)
        value = r * math.log(delta) - math.lgamma(r) + r * v - delta * math.exp(v) + math.log(2.0)
        return value, -2.0 * d_v, 2.0 * d_v
    value, d_value = log_half_t(log_b, scalars[S_HYPER_NU], scalars[S_HYPER_SCALE])  # nu = 1: half-Cauchy
    return value, d_value, 0.0


@jit
def gaussian_marginal(d, sigma, header, scalars, gamma):
    r"""``log p(y | d, sigma)`` (coefficients and the flat intercept integrated out), with
    ``gamma_j = d/d log d_j`` written into ``gamma``; returns ``(value, d/d log sigma at fixed d)``.

    With ``K = sigma^2 I_r + F D F'``, ``a = F w_hat`` and ``q = K^-1 a`` (the mixture kernel's
    evidence; ``k = n - 1`` with an intercept, else ``n``):

    .. math::
        \log p = -\tfrac12\big[k\log 2\pi + (k - r)\log\sigma^2 + R/\sigma^2 + \log\det K
            + a^\top q\big] - \tfrac12\log n\,[\text{intercept}],\\
        \gamma_j = \tfrac12 d_j\big[(f_j^\top q)^2 - f_j^\top K^{-1}f_j\big],\qquad
        \partial_{\log\sigma} = -(k - r) + R/\sigma^2 + \sigma^2(q^\top q - \operatorname{tr}K^{-1}).

    Returns ``-inf`` where ``K`` is not numerically positive definite (only rounding can do that).
    """
    p = header[N_FEATURES]
    r = header[RANK]
    F = array_at(header[PTR_FACTOR], r * p).reshape((r, p))
    a = array_at(header[PTR_VEC1], r)
    n = scalars[S_N]
    k = n - 1.0 if header[FIT_INTERCEPT] else n
    sigma_sq = sigma * sigma
    K = (F * d) @ F.T
    for m in range(r):
        K[m, m] += sigma_sq
    L = np.empty((r, r))
    if not _cholesky(K, L):
        return -math.inf, 0.0
    inverse = np.empty((r, r))
    _lower_inverse(L, inverse)
    W = inverse @ F
    t = inverse @ a
    fq = W.T @ t
    log_det = 0.0
    for m in range(r):
        log_det += 2.0 * math.log(L[m, m])
    diagonal = np.zeros(p)
    for m in range(r):
        for j in range(p):
            diagonal[j] += W[m, j] * W[m, j]
    for j in range(p):
        gamma[j] = 0.5 * d[j] * (fq[j] * fq[j] - diagonal[j])
    residual = scalars[S_RSS_MIN]
    value = -0.5 * (k * LOG_2PI + (k - r) * math.log(sigma_sq) + residual / sigma_sq + log_det + np.dot(t, t))
    if header[FIT_INTERCEPT]:
        value -= 0.5 * math.log(n)
    q = inverse.T @ t
    trace = 0.0  # tr K^-1 = ||L^-1||_F^2
    for m in range(r):
        for column in range(m + 1):
            trace += inverse[m, column] * inverse[m, column]
    return value, -(k - r) + residual / sigma_sq + sigma_sq * (np.dot(q, q) - trace)


@jit
def mixture_log_density(theta, grad, header):
    """``log p(sigma, scale, e | y)`` (coefficients and intercept integrated out) at ``theta``;
    gradient into ``grad``."""
    scalars = array_at(header[PTR_SCALARS], N_SCALARS)
    p = header[N_FEATURES]
    factor = array_at(header[PTR_VEC2], p)
    i = 0
    sigma = scalars[S_SIGMA]
    if not header[SIGMA_KNOWN]:
        sigma = math.exp(theta[0])
        i = 1
    log_b = theta[i]
    value, d_scale, d_scale_sigma = _scale_prior(log_b, math.log(sigma), header, scalars)
    two_b_sq = 2.0 * math.exp(2.0 * log_b)
    d = np.empty(p)
    for j in range(p):
        e = math.exp(theta[i + 1 + j])
        d[j] = two_b_sq * factor[j] * factor[j] * e
        value += theta[i + 1 + j] - e
        grad[i + 1 + j] = 1.0 - e
    gamma = np.empty(p)  # d/d log d_j of the marginal
    marginal, d_log_sigma = gaussian_marginal(d, sigma, header, scalars, gamma)
    if marginal == -math.inf:
        return -math.inf  # sigma^2 I + F D F' is positive definite; only rounding can make it look otherwise
    value += marginal
    to_log_b = 0.0
    for j in range(p):
        grad[i + 1 + j] += gamma[j]
        to_log_b += 2.0 * gamma[j]
    grad[i] = d_scale + to_log_b
    if i == 1:
        noise, d_noise = log_sigma_prior(theta[0], scalars)
        value += noise
        grad[0] = d_log_sigma + d_noise + d_scale_sigma
    return value


@jit
def mixture_expand(theta, out, header):
    """The sampled quantities, in :func:`bayesreg.sampling.nutpie.expanded_layout`'s order: ``sigma``
    (when estimated), ``prior_scale`` (``tau``; the lasso's ``sigma / lambda``), ``prior_lambda``
    (the lasso's), then the mixture variances ``d`` from which the coefficients are drawn."""
    scalars = array_at(header[PTR_SCALARS], N_SCALARS)
    p = header[N_FEATURES]
    factor = array_at(header[PTR_VEC2], p)
    i = 0
    k = 0
    sigma = scalars[S_SIGMA]
    if not header[SIGMA_KNOWN]:
        sigma = math.exp(theta[0])
        out[0] = sigma
        i = k = 1
    log_b = theta[i]
    out[k] = math.exp(log_b)
    k += 1
    if header[PRIOR] == BAYESIAN_LASSO_MIXTURE:
        out[k] = sigma / out[k - 1]  # lambda
        k += 1
    two_b_sq = 2.0 * math.exp(2.0 * log_b)
    for j in range(p):
        out[k + j] = two_b_sq * factor[j] * factor[j] * math.exp(theta[i + 1 + j])


@numba.cfunc(LOGP_SIGNATURE, cache=True, error_model="numpy")
def logp_callback(dim, x_, grad_, logp_, user_data):
    """As :func:`bayesreg.sampling.kernels.noncentred.logp_callback`, for the mixture density."""
    header = numba.carray(user_data, (HEADER_LEN,), np.int64)
    n_dim = header[N_DIM]
    if dim != n_dim:
        return -1
    grad = numba.carray(grad_, (n_dim,))
    return report(mixture_log_density(numba.carray(x_, (n_dim,)), grad, header), grad, numba.carray(logp_, (1,)))


@numba.cfunc(EXPAND_SIGNATURE, cache=True, error_model="numpy")
def expand_callback(dim, n_expanded, x_, out_, user_data):
    header = numba.carray(user_data, (HEADER_LEN,), np.int64)
    if dim != header[N_DIM]:
        return -1
    mixture_expand(numba.carray(x_, (dim,)), numba.carray(out_, (n_expanded,)), header)
    return 0
