r"""Exact minimiser of a convex quadratic plus a weighted L1 norm.

.. math:: \min_z\ \tfrac12 z^\top Q z - q^\top z + \sum_j \lambda_j |z_j|

This one problem is every L1 MAP here: the lasso and elastic net in Gram form, and each
proximal-Newton step of L1 logistic regression.

Method: feature-sign search (Lee, Battle, Raina & Ng, 2007), an active-set method that
terminates in finitely many steps. For a guessed support ``S`` and signs ``s`` it solves

.. math:: Q_{SS} z_S = q_S - \lambda_S s_S

exactly, then line-searches to the best point where a coefficient changes sign, and adds the
zero coefficient that most violates ``|(Qz - q)_j| <= lambda_j``. It stops at a point meeting
every KKT condition; the problem is convex, so that is the global minimum, exact to rounding:
zeros are exact zeros and non-zeros carry no optimizer tolerance. Should the active set stall
(a singular ``Q_SS`` from duplicated columns), cyclic coordinate descent with soft-thresholding
takes over, polishing by the same exact solve whenever the support it finds passes the KKT test.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

_KKT_RTOL = 1e-12
_CD_RTOL = 1e-14


def minimize_quadratic_l1(Q, q, l1, z0=None, *, max_rounds: int = 10_000) -> np.ndarray:
    """Return ``argmin 0.5 z'Qz - q'z + sum(l1 * |z|)`` for symmetric PSD ``Q``.

    ``l1[j] == 0`` leaves coordinate ``j`` unpenalized. ``z0`` warm-starts the descent.
    """
    Q = np.asarray(Q, dtype=float)
    q = np.asarray(q, dtype=float)
    l1 = np.broadcast_to(np.asarray(l1, dtype=float), q.shape).copy()
    z = np.zeros_like(q) if z0 is None else np.array(z0, dtype=float)
    diag = np.diag(Q).copy()
    if np.any(diag < 0):
        raise ValueError("Q must be positive semi-definite: it has a negative diagonal entry")
    scale = max(np.abs(q).max(initial=0.0), l1.max(initial=0.0), np.finfo(float).tiny)
    kkt_tol = _KKT_RTOL * scale
    found = _feature_sign(Q, q, l1, z.copy(), kkt_tol)
    if found is not None:
        return found
    residual = q - Q @ z  # r = q - Qz; coordinate j is optimal when z_j = S(r_j + Q_jj z_j, l1_j) / Q_jj
    everything = np.arange(q.size)

    for _ in range(max_rounds):
        full_step = _sweep(Q, diag, l1, z, residual, everything)
        active = np.flatnonzero((z != 0) | (l1 == 0))
        for _ in range(20):
            if _sweep(Q, diag, l1, z, residual, active) <= _CD_RTOL * scale:
                break
        exact = _solve_on_support(Q, q, l1, z, kkt_tol)
        if exact is not None:
            return exact
        if full_step <= _CD_RTOL * scale:
            return z
    raise RuntimeError("coordinate descent did not converge; the problem may be badly scaled")


def _solve_psd(A, b) -> np.ndarray:
    # A near-singular active set (more active columns than rank) is caught by the KKT and
    # descent checks that follow every solve, so scipy's warning would only be noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        return linalg.solve(A, b, assume_a="pos")


def _objective(Q, q, l1, z) -> float:
    return 0.5 * z @ Q @ z - q @ z + l1 @ np.abs(z)


def _feature_sign(Q, q, l1, z, kkt_tol, max_steps: int = 1000) -> np.ndarray | None:
    """Feature-sign search from ``z``; None if it stalls (then the caller falls back)."""
    free = l1 == 0
    z[~free & (np.abs(z) == 0)] = 0.0
    for _ in range(max_steps):
        gradient = Q @ z - q
        active = (z != 0) | free
        signs = np.sign(z)
        if np.all(np.abs(gradient[active] + l1[active] * signs[active]) <= kkt_tol):
            # the active set is optimal: add the zero coefficient that most violates KKT, if any
            violation = np.where(active, -np.inf, np.abs(gradient) - l1)
            newcomer = int(np.argmax(violation))
            if violation[newcomer] <= kkt_tol:
                return z
            active[newcomer] = True
            signs[newcomer] = -np.sign(gradient[newcomer])
        support = np.flatnonzero(active)
        try:
            target_s = _solve_psd(Q[np.ix_(support, support)], q[support] - l1[support] * signs[support])
        except (linalg.LinAlgError, ValueError):
            return None
        target = np.zeros_like(z)
        target[support] = target_s
        z_next = _best_sign_crossing(Q, q, l1, z, target, support, free)
        if _objective(Q, q, l1, z_next) > _objective(Q, q, l1, z) + kkt_tol * (1 + np.abs(z).sum()):
            return None
        z = z_next
    return None


def _best_sign_crossing(Q, q, l1, z, target, support, free) -> np.ndarray:
    """Best of ``target`` and the points on the segment ``z -> target`` where a sign flips."""
    step = target - z
    candidates = [target]
    for j in support:
        if not free[j] and z[j] != 0 and np.sign(target[j]) != np.sign(z[j]):
            candidate = z - (z[j] / step[j]) * step
            candidate[j] = 0.0  # exactly, not to rounding
            candidates.append(candidate)
    return min(candidates, key=lambda c: _objective(Q, q, l1, c))


def _sweep(Q, diag, l1, z, residual, indices) -> float:
    """One cyclic pass of soft-thresholded coordinate updates, in place. Returns the largest step."""
    largest = 0.0
    for j in indices:
        d = diag[j]
        old = z[j]
        u = residual[j] + d * old
        if d <= 0.0:
            if abs(u) > l1[j]:
                raise ValueError(f"the objective is unbounded below along coordinate {j}")
            new = 0.0
        else:
            new = np.sign(u) * max(abs(u) - l1[j], 0.0) / d
        if new != old:
            step = new - old
            residual -= step * Q[j]
            z[j] = new
            largest = max(largest, abs(step) * np.sqrt(d))
    return largest


def _solve_on_support(Q, q, l1, z, kkt_tol) -> np.ndarray | None:
    """Solve the KKT system on the support of ``z``; return it if it is optimal, else None."""
    support = np.flatnonzero((z != 0) | (l1 == 0))
    signs = np.sign(z[support])
    penalized = l1[support] > 0
    exact = np.zeros_like(z)
    if support.size:
        Q_ss = Q[np.ix_(support, support)]
        rhs = q[support] - l1[support] * signs
        try:
            exact[support] = _solve_psd(Q_ss, rhs)
        except (linalg.LinAlgError, ValueError):
            return None
        if np.any(np.sign(exact[support][penalized]) != signs[penalized]):
            return None
    gradient = Q @ exact - q
    off = np.ones(z.size, dtype=bool)
    off[support] = False
    if np.any(np.abs(gradient[off]) > l1[off] + kkt_tol):
        return None
    if support.size and np.any(np.abs(gradient[support] + l1[support] * signs) > kkt_tol):
        return None  # a singular Q_SS solved inaccurately
    return exact
