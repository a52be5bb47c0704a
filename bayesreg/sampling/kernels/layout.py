"""What every kernel shares: the header and scalar layout, pointers into the caller's arrays, the
callback signatures and the status report, and small densities used by more than one kernel.

:mod:`bayesreg.sampling.nutpie` fills an ``int64`` header (structure codes and the addresses of
the data, statistics and prior arrays) and a float64 vector of scalars; every kernel reads them
through the names below, so no p, data set or prior value ever triggers a compile. Changing
anything here changes every kernel: see the cache note in :mod:`bayesreg.sampling.kernels`.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# -- header layout (int64 entries) ---------------------------------------------------------------
(FAMILY, PRIOR, FIT_INTERCEPT, SIGMA_KNOWN, N_ROWS, N_FEATURES, RANK, N_DIM, INTERCEPT_PRIOR,
 TAU0_FROM_NOISE, PTR_SCALARS, PTR_X, PTR_Y, PTR_FACTOR, PTR_COEF_LS, PTR_X_MEAN,
 PTR_VEC1, PTR_VEC2, PTR_VEC3) = range(19)
# Entries 19-34 are reserved, one range per feature in flight, so that parallel branches append
# without renumbering each other: 19-22 families (offset, weights, ...), 23-26 groups of
# coefficients, 27-30 global-local priors, 31-34 unassigned. An unused entry stays 0.
HEADER_LEN = 35
# -- scalar slots (float64) -----------------------------------------------------------------------
(S_N, S_Y_MEAN, S_RSS_MIN, S_SIGMA, S_SIGMA_PRIOR_SCALE, S_SIGMA_PRIOR_NU, S_PSEUDO_SIGMA,
 S_INTERCEPT_SCALE, S_TAU0, S_EXPECTED_NONZERO, S_SLAB_SCALE, S_SLAB_DF, S_HYPER_NU,
 S_HYPER_SCALE, S_LASSO_R, S_LASSO_DELTA, S_WEIGHT_SUM) = range(17)
# Slots 17-47 are reserved as the header's are: 17-24 families (auxiliary priors), 25-29 groups,
# 30-39 global-local priors, 40-47 unassigned.
N_SCALARS = 48

GAUSSIAN, BERNOULLI, QUADRATIC = 0, 1, 2
(NORMAL, LAPLACE, ELASTICNET, HORSESHOE, REG_HORSESHOE, NORMAL_LEARNED, LAPLACE_LEARNED,
 BAYESIAN_LASSO, NORMAL_COLLAPSED, LAPLACE_MIXTURE, BAYESIAN_LASSO_MIXTURE) = range(11)
# NORMAL_COLLAPSED: bayesreg.sampling.kernels.spectral; the two *_MIXTURE: bayesreg.sampling.kernels.mixture
# Reserved codes: families 3-9; priors 11-19 global-local, 20-29 groups of coefficients.
# Global-local priors (issue 24): the horseshoes in linear regression with the coefficients integrated
# out (bayesreg.sampling.kernels.global_local), and the horseshoe+ and R2D2 priors.
HORSESHOE_INTEGRATED, REG_HORSESHOE_INTEGRATED, HORSESHOE_PLUS, HORSESHOE_PLUS_INTEGRATED, R2D2, R2D2_INTEGRATED = \
    range(11, 17)
S_R2_A, S_R2_B = 30, 31  # the R2D2 prior's Beta(a, b) on R^2
# A fixed Normal prior with sigma estimated, collapsed (issue 24's conjugate case): the spectral kernel at
# tau = 1 with no tau coordinate. Prior code 30: the first after the reserved ranges above.
NORMAL_CONJUGATE = 30

LOG_2PI = math.log(2 * math.pi)
LOG_2_OVER_PI = math.log(2 / math.pi)

jit = numba.njit(cache=True, fastmath=False, error_model="numpy")


@intrinsic
def _void_pointer(typingctx, address):
    """``void*`` from an integer address (the header stores the arrays' addresses)."""
    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)
    return types.voidptr(types.int64), codegen


@jit
def array_at(address, size):
    return numba.carray(_void_pointer(address), (size,), np.float64)


@jit
def sign(x):
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


@jit
def log_half_t(u, nu, scale):
    """``log p(e^u) + u`` of a Half-Student-t(nu, scale) (nu = inf unsupported; nu = 1 is the
    half-Cauchy), and its derivative in ``u``."""
    x = math.exp(u) / scale
    q = x * x / nu
    value = (math.log(2.0) + math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)
             - math.log(scale) - (nu + 1) / 2 * math.log1p(q) + u)
    return value, 1.0 - (nu + 1) * q / (1.0 + q)


@jit
def log_half_cauchy(u, scale):
    x = math.exp(u) / scale
    return LOG_2_OVER_PI - math.log(scale) - math.log1p(x * x) + u, 1.0 - 2 * x * x / (1 + x * x)


LOGP_SIGNATURE = types.int64(types.uint64, types.CPointer(types.double), types.CPointer(types.double),
                              types.CPointer(types.double), types.voidptr)
EXPAND_SIGNATURE = types.int64(types.uint64, types.uint64, types.CPointer(types.double),
                                types.CPointer(types.double), types.voidptr)


@jit
def report(value, grad, logp):
    """Store the density for nutpie and return its status: 4 (the density is not finite), 3 (the
    gradient is not finite; both are recoverable failures, counted as divergences) or 0."""
    logp[0] = value
    if not math.isfinite(value):
        return 4
    for j in range(grad.size):
        if not math.isfinite(grad[j]):
            return 3
    return 0
