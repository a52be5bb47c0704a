r"""Projection of a negative binomial (NB2, log link) reference posterior onto a submodel, the
dispersion ``phi`` projected with the coefficients (Piironen, Paasiniemi & Vehtari 2020's
projection: Kullback-Leibler divergence from the reference's predictive to the submodel's).

Draw ``s`` of the reference predicts ``y_i ~ NB(m_si, phi_s)`` (mean ``m_si``, variance
``m + m^2 / phi``). Its projection onto the columns ``Z`` minimises over ``(b, phi')`` the expected
negative log-likelihood of the submodel ``NB(mu_i = e^{z_i'b}, phi')`` under the reference,
summed over rows; up to terms free of ``(b, phi')`` (the ``E log y!``):

.. math::
    F_s(b, \phi') = \sum_i \big[(\phi' + m_{si}) \log(\phi' + \mu_i) - m_{si}\,\eta_i\big]
        + n\,(\log\Gamma(\phi') - \phi'\log\phi') - \sum_i E_{si}\log\Gamma(y + \phi'),
    \qquad \eta_i = z_i'b,\ \mu_i = e^{\eta_i}.

The ``b``-part is linear in ``y``: it needs only the means ``m_si`` (a convex IRLS problem for
fixed ``phi'``, score ``Z' [phi'(mu - m) / (phi' + mu)] = 0``). The dispersion part needs
``E log Gamma(y + phi')`` under each row's ``NB(m_si, phi_s)``, exactly, by summation over the
support: ``log Gamma(y + phi') - log Gamma(phi') = sum_{j < y} log(phi' + j)``, so

.. math:: \sum_i E_{si}\big[\log\Gamma(y + \phi') - \log\Gamma(\phi')\big] = \sum_{j \ge 0} G_s(j) \log(\phi' + j),
          \qquad G_s(j) = \sum_i P_{si}(y > j),

a table per draw built once from the reference (pmf by its closed form, survival by summing the
pmf from the top down, so small tails keep their relative precision), shared by every submodel
and every ``phi'``. The sum stops at ``J_s`` where every row's survival is below ``EPSILON``
(``1e-13``; the NB quantile of the row with the largest mean, which is stochastically the
largest). The tail of an NB falls at least geometrically with ratio ``rho = m / (m + phi)`` beyond
its mode, so the omitted part is at most ``n EPSILON (1 + m_max / phi_s) log(phi' + J_s)`` in the
objective and ``n EPSILON (1 + m_max / phi_s) / phi'`` in the score: below 1e-9 for n up to 1e3 and
``m_max / phi_s`` up to 1e2. Its derivatives in ``phi'`` are the same sums of ``G_s(j) / (phi' + j)``
and ``-G_s(j) / (phi' + j)^2`` (digamma and trigamma differences).

``(b, log phi')`` are found jointly by damped Newton (:mod:`.damped_newton`), the cross derivative
``d^2 F / d eta_i d phi' = mu_i (mu_i - m_si) / (phi' + mu_i)^2`` included. ``phi'`` is kept in
``[1e-8, 1e8]``: at the upper end the submodel is Poisson to 1e-8 relative in its variance.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from .damped_newton import minimise_per_draw

__all__ = ["EPSILON", "nb_cross_entropy", "nb_survival_table", "project_nb"]

EPSILON = 1e-13
LOG_PHI_BOUNDS = (np.log(1e-8), np.log(1e8))
_TABLE_BUDGET = 2_000_000  # pmf values held at once while building the table (draws x rows x support)


def _support_end(mean, phi) -> np.ndarray:
    """``J_s``: past it every row's ``P(y > J_s) < EPSILON`` (module docstring), per draw."""
    largest = mean.max(axis=1)
    return stats.nbinom.isf(EPSILON, phi, phi / (phi + largest)).astype(int) + 1


def nb_survival_table(mean, phi) -> np.ndarray:
    """``G_s(j) = sum_i P(y_si > j)`` for ``j = 0 .. J - 1`` (S, J) with ``J`` the largest
    :func:`_support_end`; zeros past a draw's own end."""
    mean, phi = np.asarray(mean, dtype=float), np.asarray(phi, dtype=float)
    S, n = mean.shape
    J = int(_support_end(mean, phi).max())
    y = np.arange(J + 1.0)
    table = np.zeros((S, J))
    chunk = max(1, _TABLE_BUDGET // (n * (J + 1)))
    for start in range(0, S, chunk):
        rows = slice(start, start + chunk)
        f = phi[rows, None]
        # log pmf = logG(y + f) - logG(f) - logG(y + 1) + f log(f / (f + m)) + y log(m / (f + m))
        shape = special.gammaln(y + f) - special.gammaln(f) - special.gammaln(y + 1)  # (s, J + 1)
        log_total = np.logaddexp(np.log(f), np.log(mean[rows]))  # log(f + m), (s, n)
        log_p0, log_ratio = f * (np.log(f) - log_total), np.log(mean[rows]) - log_total
        pmf = np.exp(shape[:, None, :] + log_p0[..., None] + log_ratio[..., None] * y).sum(axis=1)  # (s, J + 1)
        # survival P(y > j) = sum_{k > j} pmf(k): summed from the top so small tails stay exact
        table[rows] = np.cumsum(pmf[:, :0:-1], axis=1)[:, ::-1]
    return table


def _phi_terms(log_phi, table):
    """``sum_j G(j) log(phi + j)`` and its first two derivatives in ``phi``, per draw."""
    phi = np.exp(log_phi)[:, None]
    shifted = phi + np.arange(table.shape[1])
    return (np.sum(table * np.log(shifted), axis=1), np.sum(table / shifted, axis=1),
            -np.sum(table / shifted**2, axis=1))


def nb_cross_entropy(B, log_phi, Z, mean, table) -> np.ndarray:
    """``F_s(b, phi')`` (module docstring) per draw: ``B`` (S, k), ``log_phi`` (S,)."""
    phi = np.exp(log_phi)
    eta = B @ Z.T
    log_total = np.logaddexp(log_phi[:, None], eta)  # log(phi' + mu)
    n = Z.shape[0]
    rows = np.sum((phi[:, None] + mean) * log_total - mean * eta, axis=1)
    return rows - n * phi * log_phi - _phi_terms(log_phi, table)[0]


def _derivatives(theta, Z, mean, table):
    """Gradient and Hessian of :func:`nb_cross_entropy` in ``(b, u = log phi')``."""
    B, u = theta[:, :-1], theta[:, -1]
    phi = np.exp(u)[:, None]
    eta = B @ Z.T
    mu = np.exp(eta)
    total = phi + mu
    n, k = Z.shape
    _, d1, d2 = _phi_terms(u, table)
    g_eta = phi * (mu - mean) / total
    h_eta = phi * mu * (phi + mean) / total**2
    h_eta_phi = mu * (mu - mean) / total**2
    g_phi = np.sum(np.log(total) + (phi + mean) / total, axis=1) - n * (u + 1) - d1
    h_phi = np.sum(1 / total + (mu - mean) / total**2, axis=1) - n / phi[:, 0] - d2
    phi = phi[:, 0]
    gradient = np.concatenate([g_eta @ Z, (phi * g_phi)[:, None]], axis=1)
    hessian = np.empty((len(theta), k + 1, k + 1))
    hessian[:, :k, :k] = np.einsum("sn,nk,nl->skl", h_eta, Z, Z)
    hessian[:, :k, k] = hessian[:, k, :k] = phi[:, None] * (h_eta_phi @ Z)
    hessian[:, k, k] = phi**2 * h_phi + phi * g_phi
    return gradient, hessian


def project_nb(Z, mean, phi, table=None, tol: float = 1e-11):
    """``(B (S, k), phi' (S,))``: the projection (module docstring) of reference means ``mean`` (S, n)
    and dispersions ``phi`` (S,) onto the design ``Z`` (n, k; the intercept's column included).
    ``table``: :func:`nb_survival_table` of the reference, when already built."""
    mean, phi = np.asarray(mean, dtype=float), np.asarray(phi, dtype=float)
    table = nb_survival_table(mean, phi) if table is None else table
    S, k = len(mean), Z.shape[1]
    theta = np.zeros((S, k + 1))
    intercept = np.flatnonzero(np.all(Z == 1.0, axis=0))
    if intercept.size:  # start at the rows' mean rate
        theta[:, intercept[0]] = np.log(mean.mean(axis=1))
    theta[:, k] = np.clip(np.log(phi), *LOG_PHI_BOUNDS)
    lower = np.r_[np.full(k, -np.inf), LOG_PHI_BOUNDS[0]]
    upper = np.r_[np.full(k, np.inf), LOG_PHI_BOUNDS[1]]
    theta = minimise_per_draw(lambda t: nb_cross_entropy(t[:, :-1], t[:, -1], Z, mean, table),
                              lambda t: _derivatives(t, Z, mean, table), theta, tol=tol, lower=lower, upper=upper)
    return theta[:, :-1], np.exp(theta[:, -1])
