r"""Projection of a Student-t (identity link) reference posterior onto a submodel, the scale
``sigma`` projected with the coefficients, the degrees of freedom kept (Piironen, Paasiniemi &
Vehtari 2020's projection: Kullback-Leibler divergence from the reference's predictive to the
submodel's).

Draw ``s`` of the reference predicts ``y_i ~ t_nu(mu_si, sigma_s)`` (``nu = nu_s``). Its
projection onto the columns ``Z`` minimises over ``(b, sigma')`` the expected negative
log-likelihood of the submodel ``t_nu(z_i'b, sigma')`` under the reference, summed over rows:

.. math::
    F_s(b, \sigma') = n\Big[\log\frac{\Gamma(\frac\nu2)\sqrt{\nu\pi}}{\Gamma(\frac{\nu+1}2)} + \log\sigma'\Big]
        + \frac{\nu+1}2 \sum_i E\log\Big(1 + \frac{x_i^2}{c}\Big),\qquad
    x_i = y_i - z_i'b = d_i + \sigma_s T,\ d_i = \mu_{si} - z_i'b,\ c = \nu\sigma'^2,

``T ~ t_nu`` standard. Score in ``eta_i = z_i'b``: ``-(nu+1) E[x/q]``, in ``u = log sigma'``:
``n - (nu+1) sum_i E[x^2/q]`` (``q = c + x^2``); Hessian ``(nu+1) E[(c - x^2)/q^2]``,
``2(nu+1) c E[x^2/q^2]``, cross ``2(nu+1) c E[x/q^2]``. Damped Newton in ``(b, log sigma')``
(:mod:`.damped_newton`; the expected loss is not convex in ``b`` everywhere, as the Student-t
likelihood is not).

**nu is not projected** (``nu' = nu_s``): the submodel keeps the tail weight the reference
learned, and what the dropped columns explained goes into ``sigma'`` (as the Gaussian projection
widens ``sigma``). Projecting ``nu'`` as well would let the submodel fit the location mixture the
dropped columns leave by heavier tails, a feature of the reference's noise it does not have; and
``nu`` is weakly identified, so its projection per draw would be noisy. A fixed ``sigma`` of the
reference is projected like a learned one (as the Gaussian projection widens a known ``sigma``).

**The expectations** ``E g(d + sigma_s T)`` are by quadrature over ``T``: the double-exponential
(sinh-sinh) rule ``T = sinh(pi/2 sinh t)``, trapezoidal in ``t`` with step ``STEP = 1/20`` on
``|t| <= 4.5``, weights ``h dT/dt p_nu(T)`` (nodes shared by every row; weights per draw through
``nu``), nodes whose weight is below 1e-18 for every draw dropped (about 160 nodes at ``nu = 1``,
110 at ``nu = 4``, 60 at ``nu = 30``). It integrates the algebraic tails of ``t_nu`` without
truncation error worth the name (``|T|`` reaches 1e30, beyond which ``t_{0.5}`` has mass 1e-15).
Its error in one row's ``E log(c + x^2)``, measured against adaptive ``scipy.integrate.quad`` on
pieces split at the features (tests/test_select_dispersion.py checks the first two columns):

==========  ======================  ======================  =======================
``nu``      ``|d| <= 2 sqrt(c)``    ``|d| <= 5 sqrt(c)``    ``|d| <= 30 sqrt(c)``
==========  ======================  ======================  =======================
0.5 - 1     2e-11                   1e-5                    2e-3
3           6e-12                   2e-7                    5e-5
>= 10       6e-13                   7e-10                   5e-9
==========  ======================  ======================  =======================

(``sigma'`` from ``sigma/2`` to ``4 sigma``.) The error grows with ``|d|``: ``log(c + x^2)`` has a
feature of width ``sqrt(c)`` at ``x = 0``, i.e. at ``T = -d / sigma``, which lies where the rule's
nodes, placed for the density, grow sparse. Such a row is one whose reference mean is many of the
submodel's scales away from the submodel's: its terms enter the divergence of a poor submodel
(errors of 1e-3 against differences of whole nats between candidates) and hardly move the
projection (its score ``x / q ~ 1 / d`` is small). The elpd of the submodels does not use the
quadrature (the Student-t density of ``y`` under each projected draw).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .damped_newton import minimise_per_draw

__all__ = ["STEP", "project_student_t", "t_cross_entropy", "t_nodes"]

STEP = 1 / 20
_T_MAX = 4.5
_BUDGET = 2_000_000  # quadrature values held at once (draws x rows x nodes)


def t_nodes(nu) -> tuple[np.ndarray, np.ndarray]:
    """``(T (K,), weights (S, K))``: the quadrature (module docstring) for ``t_nu`` per draw."""
    nu = np.atleast_1d(np.asarray(nu, dtype=float))
    t = np.arange(-_T_MAX, _T_MAX + STEP / 2, STEP)
    inner = np.pi / 2 * np.sinh(t)
    T = np.sinh(inner)
    jacobian = STEP * np.pi / 2 * np.cosh(t) * np.cosh(inner)
    log_density = (special.gammaln((nu[:, None] + 1) / 2) - special.gammaln(nu[:, None] / 2)
                   - 0.5 * np.log(nu[:, None] * np.pi) - (nu[:, None] + 1) / 2 * np.log1p(T**2 / nu[:, None]))
    weights = jacobian * np.exp(log_density)
    keep = weights.max(axis=0) > 1e-18
    return T[keep], weights[:, keep]


def _constant(nu):
    return special.gammaln(nu / 2) - special.gammaln((nu + 1) / 2) + 0.5 * np.log(nu * np.pi)


def t_cross_entropy(B, log_sigma, Z, mu, sigma, nu, nodes=None) -> np.ndarray:
    """``F_s(b, sigma')`` (module docstring) per draw: ``B`` (S, k), ``log_sigma`` (S,)."""
    T, weights = t_nodes(nu) if nodes is None else nodes
    c = nu * np.exp(2 * log_sigma)
    x = (mu - B @ Z.T)[..., None] + sigma[:, None, None] * T  # (S, n, K)
    expected = np.matmul(np.log1p(x**2 / c[:, None, None]), weights[:, :, None]).sum(axis=(1, 2))
    return Z.shape[0] * (_constant(nu) + log_sigma) + (nu + 1) / 2 * expected


def _derivatives(theta, Z, mu, sigma, nu, nodes):
    """Gradient and Hessian of :func:`t_cross_entropy` in ``(b, u = log sigma')``."""
    T, weights = nodes
    B, u = theta[:, :-1], theta[:, -1]
    n, k = Z.shape
    c = nu * np.exp(2 * u)
    x = (mu - B @ Z.T)[..., None] + sigma[:, None, None] * T
    inverse = 1 / (c[:, None, None] + x**2)  # 1 / q
    ratio = x * inverse  # x / q

    def expect(values):  # E over T per row: (S, n, K) @ (S, K, 1)
        return np.matmul(values, weights[:, :, None])[..., 0]

    e_inverse, e_inverse2 = expect(inverse), expect(inverse * inverse)
    e_ratio, e_ratio_inverse = expect(ratio), expect(ratio * inverse)
    # x^2 / q = 1 - c / q and x^2 / q^2 = 1 / q - c / q^2: two expectations serve four
    mass = weights.sum(axis=1)[:, None]
    e_square = mass - c[:, None] * e_inverse  # E x^2 / q
    e_square2 = e_inverse - c[:, None] * e_inverse2  # E x^2 / q^2
    a = (nu + 1)[:, None]
    g_eta = -a * e_ratio
    h_eta = a * (c[:, None] * e_inverse2 - e_square2)  # E (c - x^2) / q^2
    h_eta_u = 2 * a * c[:, None] * e_ratio_inverse
    g_u = n - a[:, 0] * e_square.sum(axis=1)
    h_u = 2 * a[:, 0] * c * e_square2.sum(axis=1)
    gradient = np.concatenate([g_eta @ Z, g_u[:, None]], axis=1)
    hessian = np.empty((len(theta), k + 1, k + 1))
    hessian[:, :k, :k] = np.einsum("sn,nk,nl->skl", h_eta, Z, Z)
    hessian[:, :k, k] = hessian[:, k, :k] = h_eta_u @ Z
    hessian[:, k, k] = h_u
    return gradient, hessian


def project_student_t(Z, mu, sigma, nu, tol: float = 1e-11):
    """``(B (S, k), sigma' (S,))``: the projection (module docstring) of reference locations ``mu``
    (S, n), scales ``sigma`` (S,) and degrees of freedom ``nu`` (S,) onto the design ``Z`` (n, k;
    the intercept's column included). Draws go in chunks that bound the quadrature's memory."""
    mu, sigma, nu = (np.asarray(a, dtype=float) for a in (mu, sigma, nu))
    S, n = mu.shape
    k = Z.shape[1]
    T, weights = t_nodes(nu)
    B, log_sigma = np.zeros((S, k)), np.zeros(S)
    chunk = max(1, _BUDGET // (n * len(T)))
    for start in range(0, S, chunk):
        rows = slice(start, start + chunk)
        nodes = (T, weights[rows])
        args = (Z, mu[rows], sigma[rows], nu[rows], nodes)
        start_b = np.linalg.lstsq(Z, mu[rows].T, rcond=None)[0].T if k else np.zeros((len(mu[rows]), 0))
        spread = np.mean((mu[rows] - start_b @ Z.T) ** 2, axis=1)
        theta = np.column_stack([start_b, 0.5 * np.log(sigma[rows] ** 2 + spread)])
        theta = minimise_per_draw(lambda t: t_cross_entropy(t[:, :-1], t[:, -1], *args),
                                  lambda t: _derivatives(t, *args), theta, tol=tol)
        B[rows], log_sigma[rows] = theta[:, :-1], theta[:, -1]
    return B, np.exp(log_sigma)
