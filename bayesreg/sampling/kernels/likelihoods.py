r"""The row likelihoods of the count and robust families, with offsets and row weights, for the
non-centred kernel (:mod:`.noncentred` calls :func:`glm_log_likelihood` and :func:`expand_aux`).

Codes, header entries (19-22) and scalar slots (17-24) are this module's reserved ranges of
:mod:`.layout`. With ``eta_i = offset_i + b_c + (x_i - xbar)'w`` and row weights ``s_i`` (1 when the
pointer is 0), the log-likelihood is :math:`\sum_i s_i \log p(y_i \mid \eta_i, a)`:

* Poisson: :math:`y\eta - e^\eta - \log\Gamma(y + 1)`.
* NB2, ``phi`` the reciprocal dispersion: :math:`\log\Gamma(y + \phi) - \log\Gamma(\phi) - \log\Gamma(y + 1)
  + \phi\log\frac{\phi}{\phi + \mu} + y\log\frac{\mu}{\phi + \mu}`.
* Student-t: :math:`\log\Gamma(\frac{\nu+1}2) - \log\Gamma(\frac\nu2) - \frac12\log(\nu\pi) - \log\sigma
  - \frac{\nu+1}2\log(1 + \frac{r^2}{\nu\sigma^2})`, ``r = y - eta``.

Auxiliary parameters are sampled as ``u = log a`` (after the intercept, in the order of
:data:`AUX_NAMES`) unless fixed (bit ``k`` of ``header[AUX_FIXED]``; the value in its slot). Their
priors, with the Jacobian ``+u``: Exponential(rate), Gamma(shape, rate) or Half-t(nu, scale),
:data:`EXPONENTIAL`, :data:`GAMMA`, :data:`HALF_T` in the kind slot. The derivatives are those of
:mod:`bayesreg.families` (tested there against finite differences).
"""

from __future__ import annotations

import math

from .layout import (FAMILY, FIT_INTERCEPT, N_FEATURES, N_ROWS, PTR_X, PTR_X_MEAN, PTR_Y, array_at, jit,
                     log_half_t)

# -- family codes (reserved 3-9) -----------------------------------------------------------------
POISSON, NEGATIVE_BINOMIAL, STUDENT_T = 3, 4, 5
AUX_NAMES = {POISSON: (), NEGATIVE_BINOMIAL: ("phi",), STUDENT_T: ("sigma", "nu")}
# -- header entries (reserved 19-22) -------------------------------------------------------------
PTR_OFFSET, PTR_WEIGHTS, AUX_FIXED = 19, 20, 21
# -- scalar slots (reserved 17-24): per auxiliary parameter k = 0, 1: fixed value, prior kind, a, b
S_AUX_VALUE = (17, 18)
S_AUX_PRIOR = ((19, 20, 21), (22, 23, 24))
EXPONENTIAL, GAMMA, HALF_T = 0, 1, 2


@jit
def n_aux(family):
    if family == NEGATIVE_BINOMIAL:
        return 1
    if family == STUDENT_T:
        return 2
    return 0


@jit
def n_free_aux(header):
    count = 0
    for k in range(n_aux(header[FAMILY])):
        if not (header[AUX_FIXED] >> k) & 1:
            count += 1
    return count


@jit
def digamma(x):
    """psi(x), x > 0: recurrence up to x >= 10, then the asymptotic series (error < 1e-15 relative)."""
    shift = 0.0
    while x < 10.0:
        shift -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 * (
        1.0 / 132 - inv2 * (691.0 / 32760 - inv2 / 12.0))))))
    return shift + math.log(x) - 0.5 / x - series


@jit
def _log_aux_prior(u, kind, a, b):
    """``log p(e^u) + u`` and its derivative in ``u``."""
    x = math.exp(u)
    if kind == EXPONENTIAL:
        return math.log(a) - a * x + u, 1.0 - a * x
    if kind == GAMMA:
        return a * math.log(b) - math.lgamma(a) + a * u - b * x, a - b * x
    return log_half_t(u, a, b)


@jit
def log_sigma_prior(u, scalars):
    """``log p(sigma) + u`` at ``u = log sigma`` and its derivative: the Gaussian family's noise prior,
    whose ``(kind, a, b)`` take the first auxiliary prior slots (unused by the Gaussian otherwise;
    :func:`bayesreg.sampling.family_packing.pack_family` fills them, ``Half-t_4(sd(y))`` by default)."""
    slots = S_AUX_PRIOR[0]
    return _log_aux_prior(u, scalars[slots[0]], scalars[slots[1]], scalars[slots[2]])


@jit
def glm_log_likelihood(theta, aux_start, coef, b_c, header, scalars, G, grad):
    """Log-likelihood plus the auxiliary priors; fills ``G`` (d/d coef) and the auxiliary
    coordinates of ``grad``; returns ``(value, d/d b_c)``."""
    family = header[FAMILY]
    n = header[N_ROWS]
    p = header[N_FEATURES]
    X = array_at(header[PTR_X], n * p)
    y = array_at(header[PTR_Y], n)
    x_mean = array_at(header[PTR_X_MEAN], p)
    has_offset = header[PTR_OFFSET] != 0
    has_weights = header[PTR_WEIGHTS] != 0
    offset = array_at(header[PTR_OFFSET] if has_offset else header[PTR_Y], n)
    weights = array_at(header[PTR_WEIGHTS] if has_weights else header[PTR_Y], n)
    aux = [1.0, 1.0]
    i = aux_start
    for k in range(n_aux(family)):
        if (header[AUX_FIXED] >> k) & 1:
            aux[k] = scalars[S_AUX_VALUE[k]]
        else:
            aux[k] = math.exp(theta[i])
            i += 1
    phi = aux[0]
    sigma = aux[0]
    nu = aux[1]
    shift = b_c
    if not header[FIT_INTERCEPT]:
        shift = 0.0
    for j in range(p):
        shift -= x_mean[j] * coef[j]
    G[:] = 0.0
    value = 0.0
    total = 0.0
    d_aux0 = 0.0
    d_aux1 = 0.0
    constant = 0.0
    if family == NEGATIVE_BINOMIAL:
        constant = -math.lgamma(phi) + phi * math.log(phi)
    elif family == STUDENT_T:
        constant = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi) - math.log(sigma)
    psi_phi = digamma(phi) if family == NEGATIVE_BINOMIAL else 0.0
    for r in range(n):
        eta = shift
        row = r * p
        for j in range(p):
            eta += X[row + j] * coef[j]
        if has_offset:
            eta += offset[r]
        s = weights[r] if has_weights else 1.0
        yr = y[r]
        if family == POISSON:
            mu = math.exp(eta)
            term = yr * eta - mu - math.lgamma(yr + 1)
            d_eta = yr - mu
        elif family == NEGATIVE_BINOMIAL:
            mu = math.exp(eta)
            log_total = max(math.log(phi), eta) + math.log1p(math.exp(-abs(math.log(phi) - eta)))
            term = math.lgamma(yr + phi) - math.lgamma(yr + 1) + constant - phi * log_total + yr * (eta - log_total)
            total_ = phi + mu
            d_eta = phi * (yr - mu) / total_
            d_aux0 += s * phi * (digamma(yr + phi) - psi_phi + math.log(phi) - log_total + (mu - yr) / total_)
        else:
            res = yr - eta
            c = res * res / (sigma * sigma)
            D = nu * sigma * sigma + res * res
            term = constant - (nu + 1) / 2 * math.log1p(c / nu)
            d_eta = (nu + 1) * res / D
            d_aux0 += s * (-1.0 + (nu + 1) * res * res / D)
            d_aux1 += s * nu * (-0.5 * (digamma(nu / 2) - digamma((nu + 1) / 2) + 1 / nu + math.log1p(c / nu))
                                + (nu + 1) * c / (2 * nu * (nu + c)))
        value += s * term
        d_eta *= s
        total += d_eta
        for j in range(p):
            G[j] += X[row + j] * d_eta
    for j in range(p):
        G[j] -= x_mean[j] * total
    # auxiliary priors and gradients
    i = aux_start
    derivatives = (d_aux0, d_aux1)
    for k in range(n_aux(family)):
        if (header[AUX_FIXED] >> k) & 1:
            continue
        slots = S_AUX_PRIOR[k]
        prior, d_prior = _log_aux_prior(theta[i], scalars[slots[0]], scalars[slots[1]], scalars[slots[2]])
        value += prior
        grad[i] = derivatives[k] + d_prior
        i += 1
    return value, total


@jit
def expand_aux(theta, aux_start, header, scalars, out, k):
    """Write the auxiliary parameters (natural scale, fixed ones included) into ``out`` from ``k``;
    returns the next ``k``."""
    i = aux_start
    for m in range(n_aux(header[FAMILY])):
        if (header[AUX_FIXED] >> m) & 1:
            out[k] = scalars[S_AUX_VALUE[m]]
        else:
            out[k] = math.exp(theta[i])
            i += 1
        k += 1
    return k
