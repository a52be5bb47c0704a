r"""Approximate empirical Bayes for logistic regression: the Laplace approximation to the evidence.

Model: :math:`y_i \sim \mathrm{Bernoulli}(\mathrm{logit}^{-1}(b + x_i^\top w))`,
:math:`w_j \sim N(0, t^2 d_j^2)`, flat intercept ``b``. The evidence
:math:`p(y \mid t) = \int e^{-F(\theta)}\,d\theta`, with :math:`\theta = (b, w)` and
:math:`F = \mathrm{NLL} - \log p(w \mid t)`, has no closed form. MacKay's (1992) Laplace
approximation expands ``F`` to second order at its minimum :math:`\hat\theta` (the MAP):

.. math::
    \log p(y \mid t) \approx -F(\hat\theta) + \frac k2\log 2\pi - \frac12\log\det H(\hat\theta),
    \qquad H = A^\top \mathrm{diag}(\mu(1-\mu)) A + \mathrm{diag}(0, 1/(t d)^2),

``k`` the number of parameters (``p``, plus 1 for the intercept, whose flat prior adds no term).
Its relative error is :math:`O(1/n)`; ``log_evidence_`` of a logistic fit is this approximation,
labelled so in the docs. The multiplier ``t`` is chosen on a grid of ``log t`` and refined by
bounded Brent; ``coef_`` and ``intercept_`` are the MAP at the chosen ``t`` (the centre of the
Laplace approximation, its approximate posterior mean).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg, optimize, special

from .likelihoods import bernoulli_nll
from .priors import Normal
from .solvers import fit_logistic_map
from .solvers.logistic import _hessian

_LOG_T = np.linspace(math.log(1e-4), math.log(1e4), 81)


def laplace_log_evidence(X, y01, base_scale, t: float, fit_intercept: bool):
    """``(log evidence, coef, intercept)`` at ``Normal(t * base_scale)``, by the Laplace approximation."""
    prior = Normal(t * np.asarray(base_scale, dtype=float))
    coef, intercept = fit_logistic_map(X, y01, prior, fit_intercept)
    eta = intercept + X @ coef
    mu = special.expit(eta)
    precision = np.broadcast_to(prior.l2, coef.shape)
    curvature = np.concatenate([np.zeros(int(fit_intercept)), precision])
    hessian = _hessian(X, mu * (1 - mu), fit_intercept) + np.diag(curvature)
    logdet = 2 * np.sum(np.log(np.diag(linalg.cholesky(hessian))))
    k = hessian.shape[0]
    value = -(bernoulli_nll(eta, y01) + prior.neg_log_density(coef)) + k / 2 * math.log(2 * math.pi) - logdet / 2
    return float(value), coef, intercept


def fit_laplace_evidence(X, y01, base_scale, fit_intercept: bool):
    """Maximise the Laplace-approximate evidence over the multiplier ``t``; returns
    ``(t, log evidence, coef, intercept)``."""
    def negative(u):
        return -laplace_log_evidence(X, y01, base_scale, math.exp(u), fit_intercept)[0]

    values = np.array([negative(u) for u in _LOG_T])
    best = int(np.argmin(values))
    if best in (0, len(_LOG_T) - 1):
        edge = "0" if best == 0 else "infinity"
        raise ValueError(
            f"the (Laplace-approximate) evidence keeps growing as the prior scale -> {edge} (searched "
            f"multipliers 1e-4 to 1e4 of the prior's scale): empirical Bayes has no finite answer here. "
            "Fix the prior scale, or learn it by NUTS with a hyperprior."
        )
    found = optimize.minimize_scalar(negative, bounds=(_LOG_T[best - 1], _LOG_T[best + 1]), method="bounded",
                                     options={"xatol": 1e-10})
    t = math.exp(found.x)
    value, coef, intercept = laplace_log_evidence(X, y01, base_scale, t, fit_intercept)
    return t, value, coef, intercept
