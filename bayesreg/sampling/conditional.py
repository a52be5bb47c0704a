r"""Exact draws of the coefficients a collapsed sampler integrated out, one per posterior draw.

Linear regression with a Gaussian prior given its variances is conjugate: given ``sigma`` and the
prior variances ``D``, the coefficients are Gaussian with

.. math::
    \Sigma = (X_c^\top X_c / \sigma^2 + D^{-1})^{-1},\qquad \mu = \Sigma X_c^\top y_c / \sigma^2,

and the flat intercept at the centred design is :math:`b_c \sim N(\bar y, \sigma^2/n)`,
independent of ``w`` (``b = b_c - \bar x^\top w``). The samplers of
:mod:`bayesreg.sampling.kernels.spectral` (``D = tau^2 diag(c^2)``) and :mod:`bayesreg.sampling.kernels.mixture`
(``D`` the Laplace's mixture variances) sample everything but ``w`` and ``b``; these functions
complete each draw. NumPy, seeded from the fit's ``random_seed`` (nutpie's expand callback gets
no random numbers).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.linalg import lapack


def normal_scale_coefficients(data: dict, fit_intercept: bool, sigma, tau, rng) -> tuple[np.ndarray, np.ndarray]:
    r"""``(coef, intercept)`` given each ``(sigma, tau)``, for ``D = tau^2 diag(c^2)``: O(r p) a draw.

    ``sigma`` and ``tau`` are 1-d arrays of equal length ``m``; returns ``coef`` (m, p) and
    ``intercept`` (m,) (zeros without an intercept). With the eigen-data of
    :func:`bayesreg.model.spec.collapsed_data` (rows of ``V'``, ``s_i^2``, ``a_i``) and
    :math:`v_i = \sigma^2 + \tau^2 s_i^2`: ``z = xi + V(u - V'xi)`` with ``xi ~ N(0, I_p)`` (the
    prior, which the data leave unchanged off ``span(V)``) and
    :math:`u_i \sim N(\tau s_i a_i / v_i,\ \sigma^2 / v_i)`; ``w = tau c * z``.
    """
    Vt, eigval, projection = data["spectrum_eigvec"], data["spectrum_eigval"], data["spectrum_projection"]
    sigma, tau = np.asarray(sigma, dtype=float)[:, None], np.asarray(tau, dtype=float)[:, None]
    v = sigma**2 + tau**2 * eigval
    mean = tau * np.sqrt(eigval) * projection / v
    u = mean + sigma / np.sqrt(v) * rng.standard_normal(v.shape)
    xi = rng.standard_normal((len(tau), Vt.shape[1]))
    coef = (xi + (u - xi @ Vt.T) @ Vt) * (tau * data["prior_factor"])
    return coef, _intercepts(data, fit_intercept, sigma[:, 0], coef, rng)


def mixture_coefficients(data: dict, fit_intercept: bool, sigma, variances, rng) -> tuple[np.ndarray, np.ndarray]:
    r"""``(coef, intercept)`` given each ``(sigma, d)``, for ``D = diag(d)``: O(r^2 p) a draw.

    ``sigma`` is (m,), ``variances`` (m, p). The sampler of Bhattacharya, Chakraborty & Mallick
    (2016, Biometrika 103, 985), written with the likelihood's rank-r factor ``F`` and ``a = F w_hat``
    (so it costs an r x r, not a p x p, factorisation): with ``u = D^{1/2} xi``, ``xi ~ N(0, I_p)``
    and ``delta ~ N(0, I_r)``,

    .. math::
        w = u + D F^\top K^{-1}(a - F u - \sigma\delta),\qquad K = \sigma^2 I_r + F D F^\top,

    is exactly :math:`N(\mu, \Sigma)` (``u`` a prior draw, moved by the regression of the prior
    residual on a simulated data set). ``K`` is positive definite in exact arithmetic, not always
    in floating point: when ``sigma^2`` and the small variances fall below the rounding error of the
    large ones (a horseshoe's scales span many decades), ``K`` is numerically singular and its
    Cholesky factor fails or is garbage. Such draws (Cholesky failed, or ``K``'s reciprocal
    condition number below :data:`K_MIN_RCOND`) take :func:`_precision_form_draw` instead, the same
    linear map of the same ``(xi, delta)`` (so the seed fixes the draws either way) computed
    without ``K``.
    """
    F, a = data["factor"], data["mixture_projection"]
    sigma = np.asarray(sigma, dtype=float)
    variances = np.asarray(variances, dtype=float)
    r = F.shape[0]
    coef = np.empty_like(variances)
    for i, (s, d) in enumerate(zip(sigma, variances)):
        xi = rng.standard_normal(d.size)
        delta = rng.standard_normal(r)
        u = np.sqrt(d) * xi
        K = (F * d) @ F.T
        K[np.diag_indices(r)] += s * s
        factor = _well_conditioned_cholesky(K)
        if factor is None:
            coef[i] = _precision_form_draw(F, a, s, d, xi, delta)
        else:
            coef[i] = u + d * (F.T @ linalg.cho_solve(factor, a - F @ u - s * delta))
    return coef, _intercepts(data, fit_intercept, sigma, coef, rng)


K_MIN_RCOND = 1e-10
"""Below this reciprocal condition number of ``K`` (LAPACK's estimate), a solve with ``K`` may lose
more than 10 of float64's 16 digits, and the precision form is used instead."""


def _well_conditioned_cholesky(K: np.ndarray):
    """``cho_factor(K)``, or None if it fails or ``K`` is too ill-conditioned to solve with."""
    try:
        factor = linalg.cho_factor(K, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return None
    rcond, info = lapack.dpocon(factor[0], np.abs(K).sum(axis=0).max(), uplo="L")
    return factor if info == 0 and rcond >= K_MIN_RCOND else None


def _precision_form_draw(F, a, s, d, xi, delta) -> np.ndarray:
    r"""The draw of :func:`mixture_coefficients` for the same ``(xi, delta)``, in the precision form.

    With ``w = D^{1/2} z``, the posterior of ``z`` has precision :math:`P = I + G^\top G`,
    :math:`G = F D^{1/2} / \sigma`, and :math:`z = P^{-1}(G^\top (a - \sigma\delta) / \sigma + \xi)`
    is exactly the Bhattacharya draw (Woodbury: ``I + G G' = K / sigma^2``). It is the least-squares
    solution of :math:`[G; I] z \approx [(a - \sigma\delta)/\sigma;\ \xi]`, computed by a
    Householder QR of the stacked ``(r + p) x p`` matrix: never forming ``K`` or ``P`` (which square
    the scales' range), and backward stable column by column, so a column of huge variance does not
    swamp the others. O((r + p) p^2) a draw: a fallback only.
    """
    root = np.sqrt(d)
    stacked = np.vstack([F * (root / s), np.eye(d.size)])
    target = np.concatenate([(a - s * delta) / s, xi])
    q, upper = np.linalg.qr(stacked)
    return root * linalg.solve_triangular(upper, q.T @ target, check_finite=False)


def _intercepts(data: dict, fit_intercept: bool, sigma, coef, rng) -> np.ndarray:
    if not fit_intercept:
        return np.zeros(len(coef))
    centred = float(data["y_mean"]) + sigma / np.sqrt(float(data["n"])) * rng.standard_normal(len(coef))
    return centred - coef @ data["x_mean"]
