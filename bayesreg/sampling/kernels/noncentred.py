r"""The non-centred log posterior density and its gradient, compiled once per machine (numba, ``cache=True``).

One generic pair of C callbacks serves every model the package offers but the linear ones with the
coefficients integrated out (a learned Normal scale, :mod:`bayesreg.sampling.kernels.spectral`; a
learned Laplace scale as a scale mixture, :mod:`bayesreg.sampling.kernels.mixture`): the structure
(family, prior, intercept, sigma known or not) and every array (data, statistics, prior values)
are read from the header of :mod:`bayesreg.sampling.kernels.layout`, which
:mod:`bayesreg.sampling.nutpie` fills, so no p, data set or prior value ever triggers a compile.

The density is the one the PyMC model of :mod:`bayesreg.model.pymc` defines, on the same
unconstrained space and with the same Jacobians and constants (``tests/test_logdensity.py``
checks value and gradient against PyMC's at random points for every structure). Layout of the
unconstrained vector, in order::

    intercept_c            if fit_intercept: the intercept at the centred design
    log sigma              if Gaussian with sigma estimated
    prior block            Normal, Laplace, ElasticNet, GroupLaplace (kernels/groups.py): coef (p)
                           Horseshoe: z (p), log lambda (p), log g
                           RegularizedHorseshoe: z (p), log lambda (p), log g, log c2_raw
                           learned scale (Normal, Laplace): log tau, z (p)
                           learned Normal scale per group (kernels/groups.py): log tau (G), z (p)
                           group horseshoe (kernels/groups.py): z (p), log lambda (G), log g
                           BayesianLasso: log lambda^2, z (p)

Likelihoods (``b_c`` the centred intercept, so ``b = b_c - xbar'w``)
    Gaussian: :math:`-n\log\sigma - \tfrac n2\log 2\pi - [\mathrm{RSS}_{\min} + \|F(w-\hat w)\|^2
    + n(\bar y - b_c)^2] / (2\sigma^2)`, ``F`` the rank-r factor of centred X'X.
    Bernoulli: :math:`\sum_i y_i\eta_i - \log(1 + e^{\eta_i})`,
    :math:`\eta_i = b_c + (x_i - \bar x)^\top w`.
    Quadratic (the logistic surrogate of :mod:`bayesreg.sampling.surrogate`): :math:`-\tfrac12\|F(w - w^*)\|^2
    - \tfrac12 W (b_c - b_c^*)^2`, with ``xbar`` the weighted column mean that decouples ``b_c``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from . import global_local_noncentred as global_local
from .layout import (BAYESIAN_LASSO, ELASTICNET, EXPAND_SIGNATURE, FAMILY, FIT_INTERCEPT, GAUSSIAN,
                    HEADER_LEN, HORSESHOE, HORSESHOE_PLUS, INTERCEPT_PRIOR, R2D2, LAPLACE, LOGP_SIGNATURE, LOG_2PI, NORMAL,
                    NORMAL_LEARNED, N_DIM, N_FEATURES, N_ROWS, N_SCALARS, PRIOR, PTR_COEF_LS, PTR_FACTOR,
                    PTR_SCALARS, PTR_VEC1, PTR_VEC2, PTR_VEC3, PTR_X, PTR_X_MEAN, PTR_Y, QUADRATIC, RANK,
                    REG_HORSESHOE, SIGMA_KNOWN, S_EXPECTED_NONZERO, S_HYPER_NU, S_HYPER_SCALE,
                    S_INTERCEPT_SCALE, S_LASSO_DELTA, S_LASSO_R, S_N, S_PSEUDO_SIGMA, S_RSS_MIN, S_SIGMA,
                    S_SLAB_DF, S_SLAB_SCALE, S_TAU0, S_WEIGHT_SUM,
                    S_Y_MEAN, TAU0_FROM_NOISE, array_at, jit, log_half_cauchy, log_half_t, report, sign)
from .groups import (GROUP_HORSESHOE, GROUP_LAPLACE, NORMAL_GROUP_SCALES, group_horseshoe_coefficients,
                     group_horseshoe_expand, group_horseshoe_log_density, group_laplace_log_density,
                     group_scales_coefficients, group_scales_expand, group_scales_log_density)
from .likelihoods import (POISSON, PTR_OFFSET, PTR_WEIGHTS, expand_aux, glm_log_likelihood, log_sigma_prior,
                          n_free_aux)


@jit
def _global_prior_scale(header, scalars, sigma):
    """The horseshoes' tau0: it scales with the noise sd where the prior says so."""
    prior = header[PRIOR]
    noise = sigma if header[FAMILY] == GAUSSIAN else scalars[S_PSEUDO_SIGMA]
    if prior == HORSESHOE or prior == GROUP_HORSESHOE:
        return sigma if header[TAU0_FROM_NOISE] else scalars[S_TAU0]
    p = header[N_FEATURES]
    p0 = scalars[S_EXPECTED_NONZERO]
    return p0 / (p - p0) * noise / math.sqrt(scalars[S_N])


@jit
def _tau_depends_on_sigma(header):
    if header[FAMILY] != GAUSSIAN or header[SIGMA_KNOWN]:
        return False
    horseshoe = header[PRIOR] == HORSESHOE or header[PRIOR] == GROUP_HORSESHOE
    return header[PRIOR] == REG_HORSESHOE or (horseshoe and header[TAU0_FROM_NOISE] == 1)


@jit
def coefficients(theta, start, header, scalars, sigma, coef):
    """Fill ``coef`` from the prior block of ``theta`` (which starts at ``start``)."""
    p = header[N_FEATURES]
    prior = header[PRIOR]
    if prior <= ELASTICNET or prior == GROUP_LAPLACE:
        coef[:] = theta[start:start + p]
    elif prior == HORSESHOE or prior == REG_HORSESHOE:
        tau = math.exp(theta[start + 2 * p]) * _global_prior_scale(header, scalars, sigma)
        c2 = 0.0
        if prior == REG_HORSESHOE:
            c2 = math.exp(theta[start + 2 * p + 1]) * scalars[S_SLAB_SCALE] ** 2
        factor = array_at(header[PTR_VEC1], p)
        for j in range(p):
            lam = math.exp(theta[start + p + j])
            if prior == REG_HORSESHOE:
                lam = math.sqrt(c2 * lam * lam / (c2 + tau * tau * lam * lam))
            coef[j] = theta[start + j] * lam * tau * factor[j]
    elif prior == HORSESHOE_PLUS or prior == R2D2:  # the horseshoe+ and R2D2 (kernels/global_local_noncentred.py)
        global_local.coefficients(theta, start, header, scalars, sigma, coef)
    elif prior == BAYESIAN_LASSO:
        scale = sigma * math.exp(-0.5 * theta[start])
        for j in range(p):
            coef[j] = theta[start + 1 + j] * scale
    elif prior == NORMAL_GROUP_SCALES:
        group_scales_coefficients(theta, start, header, coef)
    elif prior == GROUP_HORSESHOE:
        group_horseshoe_coefficients(theta, start, header, _global_prior_scale(header, scalars, sigma), coef)
    else:
        tau = math.exp(theta[start])
        factor = array_at(header[PTR_VEC1], p)
        for j in range(p):
            coef[j] = theta[start + 1 + j] * tau * factor[j]


@jit
def _prior_log_density(theta, start, header, scalars, sigma, coef, G, grad):
    """Prior block: add ``log p`` (with Jacobians) and write its gradient, chaining the
    likelihood's gradient ``G`` (in coef) through the coefficient transform. Returns
    ``(log p, extra d/d log sigma)``."""
    p = header[N_FEATURES]
    prior = header[PRIOR]
    value = 0.0
    to_log_sigma = 0.0
    if prior == NORMAL:
        scale = array_at(header[PTR_VEC1], p)
        for j in range(p):
            s = scale[j]
            value += -0.5 * (coef[j] / s) ** 2 - math.log(s) - 0.5 * LOG_2PI
            grad[start + j] = G[j] - coef[j] / (s * s)
    elif prior == LAPLACE:
        scale = array_at(header[PTR_VEC1], p)
        for j in range(p):
            b = scale[j]
            value += -abs(coef[j]) / b - math.log(2 * b)
            grad[start + j] = G[j] - sign(coef[j]) / b
    elif prior == GROUP_LAPLACE:
        value = group_laplace_log_density(start, header, coef, G, grad)
    elif prior == ELASTICNET:
        l1 = array_at(header[PTR_VEC1], p)
        l2 = array_at(header[PTR_VEC2], p)
        log_normalizer = array_at(header[PTR_VEC3], p)
        for j in range(p):
            w = coef[j]
            value += -l1[j] * abs(w) - 0.5 * l2[j] * w * w - log_normalizer[j]
            grad[start + j] = G[j] - l1[j] * sign(w) - l2[j] * w
    elif prior == HORSESHOE or prior == REG_HORSESHOE:
        u_g = theta[start + 2 * p]
        tau = math.exp(u_g) * _global_prior_scale(header, scalars, sigma)
        c2 = 0.0
        if prior == REG_HORSESHOE:
            c2 = math.exp(theta[start + 2 * p + 1]) * scalars[S_SLAB_SCALE] ** 2
        to_tau = 0.0
        to_slab = 0.0
        factor = array_at(header[PTR_VEC1], p)
        for j in range(p):
            z = theta[start + j]
            u_l = theta[start + p + j]
            lam = math.exp(u_l)
            shrink = 0.0  # d log(lambda~) / d log c: tau^2 lambda^2 / (c^2 + tau^2 lambda^2)
            if prior == REG_HORSESHOE:
                shrink = tau * tau * lam * lam / (c2 + tau * tau * lam * lam)
                lam = math.sqrt(c2 * lam * lam / (c2 + tau * tau * lam * lam))
            chained = G[j] * coef[j]
            value += -0.5 * z * z - 0.5 * LOG_2PI
            grad[start + j] = -z + G[j] * lam * tau * factor[j]
            local, d_local = log_half_cauchy(u_l, 1.0)
            value += local
            grad[start + p + j] = d_local + chained * (1.0 - shrink)
            to_tau += chained * (1.0 - shrink)
            to_slab += chained * shrink
        global_, d_global = log_half_cauchy(u_g, 1.0)
        value += global_
        grad[start + 2 * p] = d_global + to_tau
        if prior == REG_HORSESHOE:
            u_c = theta[start + 2 * p + 1]
            alpha = scalars[S_SLAB_DF] / 2
            value += alpha * math.log(alpha) - math.lgamma(alpha) - alpha * u_c - alpha * math.exp(-u_c)
            grad[start + 2 * p + 1] = -alpha + alpha * math.exp(-u_c) + 0.5 * to_slab
        if _tau_depends_on_sigma(header):
            to_log_sigma = to_tau
    elif prior == HORSESHOE_PLUS or prior == R2D2:
        value, to_log_sigma = global_local.prior_log_density(theta, start, header, scalars, sigma, coef, G, grad)
    elif prior == BAYESIAN_LASSO:
        # lambda^2 ~ Gamma(r, delta) on u = log lambda^2; z ~ Laplace(0, 1); w = z sigma / lambda
        u = theta[start]
        r = scalars[S_LASSO_R]
        delta = scalars[S_LASSO_DELTA]
        scale = sigma * math.exp(-0.5 * u)
        chained = 0.0
        for j in range(p):
            z = theta[start + 1 + j]
            value += -abs(z) - math.log(2.0)
            grad[start + 1 + j] = -sign(z) + G[j] * scale
            chained += G[j] * coef[j]
        value += r * math.log(delta) - math.lgamma(r) + r * u - delta * math.exp(u)
        grad[start] = r - delta * math.exp(u) - 0.5 * chained
        if header[FAMILY] == GAUSSIAN and not header[SIGMA_KNOWN]:
            to_log_sigma = chained
    elif prior == NORMAL_GROUP_SCALES:
        value = group_scales_log_density(theta, start, header, scalars, coef, G, grad)
    elif prior == GROUP_HORSESHOE:
        value, to_tau = group_horseshoe_log_density(theta, start, header, _global_prior_scale(header, scalars, sigma),
                                                    coef, G, grad)
        if _tau_depends_on_sigma(header):
            to_log_sigma = to_tau
    else:
        u_t = theta[start]
        tau = math.exp(u_t)
        factor = array_at(header[PTR_VEC1], p)
        to_tau = 0.0
        for j in range(p):
            z = theta[start + 1 + j]
            if prior == NORMAL_LEARNED:
                value += -0.5 * z * z - 0.5 * LOG_2PI
                d_z = -z
            else:
                value += -abs(z) - math.log(2.0)
                d_z = -sign(z)
            grad[start + 1 + j] = d_z + G[j] * tau * factor[j]
            to_tau += G[j] * coef[j]
        hyper, d_hyper = log_half_t(u_t, scalars[S_HYPER_NU], scalars[S_HYPER_SCALE])  # nu = 1: half-Cauchy
        value += hyper
        grad[start] = d_hyper + to_tau
    return value, to_log_sigma


@jit
def _misfit(coef, header, G):
    """``||F(w - w_hat)||^2``, and ``G = -F'F(w - w_hat)``: O(r p)."""
    p = header[N_FEATURES]
    r = header[RANK]
    factor = array_at(header[PTR_FACTOR], r * p)
    delta = coef - array_at(header[PTR_COEF_LS], p)
    G[:] = 0.0
    total = 0.0
    for k in range(r):
        m = 0.0
        for j in range(p):
            m += factor[k * p + j] * delta[j]
        total += m * m
        for j in range(p):
            G[j] -= factor[k * p + j] * m
    return total


@jit
def _gaussian(coef, b_c, sigma, header, scalars, G):
    """Log-likelihood via sufficient statistics; fills ``G`` = d/d coef, returns
    ``(value, d/d b_c, d/d log sigma)``."""
    n = scalars[S_N]
    offset = scalars[S_Y_MEAN] - b_c
    rss = scalars[S_RSS_MIN] + _misfit(coef, header, G) + n * offset * offset
    inv_var = 1.0 / (sigma * sigma)
    G *= inv_var
    value = -n * math.log(sigma) - 0.5 * n * LOG_2PI - 0.5 * rss * inv_var
    return value, n * offset * inv_var, -n + rss * inv_var


@jit
def _quadratic(coef, b_c, header, scalars, G):
    """The surrogate log-likelihood (up to its constant); fills ``G``, returns ``(value, d/d b_c)``."""
    weight = scalars[S_WEIGHT_SUM]
    offset = scalars[S_Y_MEAN] - b_c  # S_Y_MEAN holds the expansion point's centred intercept
    return -0.5 * (_misfit(coef, header, G) + weight * offset * offset), weight * offset


@jit
def _bernoulli(coef, b_c, header, G):
    """Log-likelihood of the logistic model on the centred design, row weights and offsets read as
    :func:`~.likelihoods.glm_log_likelihood` reads them; fills ``G``, returns ``(value, d/d b_c)``."""
    n = header[N_ROWS]
    p = header[N_FEATURES]
    X = array_at(header[PTR_X], n * p)
    y = array_at(header[PTR_Y], n)
    x_mean = array_at(header[PTR_X_MEAN], p)
    has_offset = header[PTR_OFFSET] != 0
    has_weights = header[PTR_WEIGHTS] != 0
    offset = array_at(header[PTR_OFFSET] if has_offset else header[PTR_Y], n)
    weights = array_at(header[PTR_WEIGHTS] if has_weights else header[PTR_Y], n)
    shift = b_c
    for j in range(p):
        shift -= x_mean[j] * coef[j]
    G[:] = 0.0
    value = 0.0
    total = 0.0
    for i in range(n):
        eta = shift
        row = i * p
        for j in range(p):
            eta += X[row + j] * coef[j]
        if has_offset:
            eta += offset[i]
        s = weights[i] if has_weights else 1.0
        # one exp serves both softplus(eta) = max(eta, 0) + log1p(e) and expit(eta), e = exp(-|eta|)
        e = math.exp(-abs(eta))
        value += s * (y[i] * eta - (max(eta, 0.0) + math.log1p(e)))
        residual = s * (y[i] - (1.0 / (1.0 + e) if eta >= 0 else e / (1.0 + e)))
        total += residual
        for j in range(p):
            G[j] += X[row + j] * residual
    for j in range(p):
        G[j] -= x_mean[j] * total
    return value, total


@jit
def log_density(theta, grad, header):
    """The log posterior density at ``theta``; its gradient is written into ``grad``."""
    scalars = array_at(header[PTR_SCALARS], N_SCALARS)
    p = header[N_FEATURES]
    grad[:] = 0.0
    i = 0
    b_c = 0.0
    if header[FIT_INTERCEPT]:
        b_c = theta[0]
        i = 1
    gaussian = header[FAMILY] == GAUSSIAN
    sigma = scalars[S_SIGMA]
    log_sigma_at = -1
    if gaussian and not header[SIGMA_KNOWN]:
        log_sigma_at = i
        sigma = math.exp(theta[i])
        i += 1
    aux_at = i  # the count and robust families' log auxiliary parameters (kernels.likelihoods)
    if header[FAMILY] >= POISSON:
        i += n_free_aux(header)
    coef = np.empty(p)
    coefficients(theta, i, header, scalars, sigma, coef)
    G = np.empty(p)
    value = 0.0
    d_log_sigma = 0.0
    if gaussian:
        value, d_b, d_log_sigma = _gaussian(coef, b_c, sigma, header, scalars, G)
    elif header[FAMILY] == QUADRATIC:
        value, d_b = _quadratic(coef, b_c, header, scalars, G)
    elif header[FAMILY] >= POISSON:
        value, d_b = glm_log_likelihood(theta, aux_at, coef, b_c, header, scalars, G, grad)
    else:
        value, d_b = _bernoulli(coef, b_c, header, G)
    prior_value, to_log_sigma = _prior_log_density(theta, i, header, scalars, sigma, coef, G, grad)
    value += prior_value
    if header[FIT_INTERCEPT]:
        grad[0] = d_b
        if header[INTERCEPT_PRIOR]:
            s = scalars[S_INTERCEPT_SCALE]
            value += -0.5 * (b_c / s) ** 2 - math.log(s) - 0.5 * LOG_2PI
            grad[0] -= b_c / (s * s)
    if log_sigma_at >= 0:
        sigma_prior, d_sigma_prior = log_sigma_prior(theta[log_sigma_at], scalars)
        value += sigma_prior
        grad[log_sigma_at] = d_log_sigma + d_sigma_prior + to_log_sigma
    return value


@jit
def expand(theta, out, header):
    """The quantities stored per draw, in :func:`bayesreg.sampling.nutpie.expanded_layout`'s order:
    coef, intercept, sigma, then the prior's scales."""
    scalars = array_at(header[PTR_SCALARS], N_SCALARS)
    p = header[N_FEATURES]
    prior = header[PRIOR]
    i = 0
    b_c = 0.0
    if header[FIT_INTERCEPT]:
        b_c = theta[0]
        i = 1
    sigma = scalars[S_SIGMA]
    sampled_sigma = header[FAMILY] == GAUSSIAN and not header[SIGMA_KNOWN]
    if sampled_sigma:
        sigma = math.exp(theta[i])
        i += 1
    aux_at = i
    if header[FAMILY] >= POISSON:
        i += n_free_aux(header)
    coef = out[:p]
    coefficients(theta, i, header, scalars, sigma, coef)
    k = p
    if header[FIT_INTERCEPT]:
        x_mean = array_at(header[PTR_X_MEAN], p)
        out[k] = b_c - np.dot(x_mean, coef)
        k += 1
    if sampled_sigma:
        out[k] = sigma
        k += 1
    if header[FAMILY] >= POISSON:
        k = expand_aux(theta, aux_at, header, scalars, out, k)
    if prior == HORSESHOE or prior == REG_HORSESHOE:
        out[k] = math.exp(theta[i + 2 * p]) * _global_prior_scale(header, scalars, sigma)
        for j in range(p):
            out[k + 1 + j] = math.exp(theta[i + p + j])
        k += 1 + p
        if prior == REG_HORSESHOE:
            out[k] = math.sqrt(math.exp(theta[i + 2 * p + 1])) * scalars[S_SLAB_SCALE]
    elif prior == HORSESHOE_PLUS or prior == R2D2:
        global_local.expand_scales(theta, i, header, scalars, sigma, out[k:])
    elif prior == BAYESIAN_LASSO:
        out[k] = sigma * math.exp(-0.5 * theta[i])
        out[k + 1] = math.exp(0.5 * theta[i])
    elif prior == NORMAL_GROUP_SCALES:
        group_scales_expand(theta, i, header, out, k)
    elif prior == GROUP_HORSESHOE:
        group_horseshoe_expand(theta, i, header, _global_prior_scale(header, scalars, sigma), out, k)
    elif prior >= NORMAL_LEARNED and prior != GROUP_LAPLACE:
        out[k] = math.exp(theta[i])


@numba.cfunc(LOGP_SIGNATURE, cache=True, error_model="numpy")
def logp_callback(dim, x_, grad_, logp_, user_data):
    """nutpie's logp callback: the status of :func:`report`, or -1 when called with the wrong dimension."""
    header = numba.carray(user_data, (HEADER_LEN,), np.int64)
    n_dim = header[N_DIM]
    if dim != n_dim:
        return -1
    grad = numba.carray(grad_, (n_dim,))
    return report(log_density(numba.carray(x_, (n_dim,)), grad, header), grad, numba.carray(logp_, (1,)))


@numba.cfunc(EXPAND_SIGNATURE, cache=True, error_model="numpy")
def expand_callback(dim, n_expanded, x_, out_, user_data):
    header = numba.carray(user_data, (HEADER_LEN,), np.int64)
    if dim != header[N_DIM]:
        return -1
    theta = numba.carray(x_, (dim,))
    out = numba.carray(out_, (n_expanded,))
    expand(theta, out, header)
    return 0
