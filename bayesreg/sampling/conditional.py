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
    (so it costs an r x r, not a p x p, factorisation): with ``u ~ N(0, D)`` and ``delta ~ N(0, I_r)``,

    .. math::
        w = u + D F^\top K^{-1}(a - F u - \sigma\delta),\qquad K = \sigma^2 I_r + F D F^\top,

    is exactly :math:`N(\mu, \Sigma)` (``u`` a prior draw, moved by the regression of the prior
    residual on a simulated data set).
    """
    F, a = data["factor"], data["mixture_projection"]
    sigma = np.asarray(sigma, dtype=float)
    variances = np.asarray(variances, dtype=float)
    r = F.shape[0]
    coef = np.empty_like(variances)
    for i, (s, d) in enumerate(zip(sigma, variances)):
        u = np.sqrt(d) * rng.standard_normal(d.size)
        K = (F * d) @ F.T
        K[np.diag_indices(r)] += s * s
        solved = linalg.cho_solve(linalg.cho_factor(K, lower=True), a - F @ u - s * rng.standard_normal(r))
        coef[i] = u + d * (F.T @ solved)
    return coef, _intercepts(data, fit_intercept, sigma, coef, rng)


def _intercepts(data: dict, fit_intercept: bool, sigma, coef, rng) -> np.ndarray:
    if not fit_intercept:
        return np.zeros(len(coef))
    centred = float(data["y_mean"]) + sigma / np.sqrt(float(data["n"])) * rng.standard_normal(len(coef))
    return centred - coef @ data["x_mean"]
