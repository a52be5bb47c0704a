r"""Empirical Bayes: the prior scale that maximises the evidence, exact (linear) or Laplace-approximate (logistic).

Linear regression with a Normal prior: the exact evidence
    Model: :math:`y = b + Xw + \varepsilon`, :math:`\varepsilon \sim N(0, \sigma^2 I_n)`,
    :math:`w_j \sim N(0, t^2 d_j^2)` with ``d`` the prior's (per-coefficient, possibly autoscaled)
    scale and ``t`` one multiplier learned from the data, and a flat prior on the intercept ``b``.

    Evidence (marginal likelihood)
        Write :math:`\tilde X_c = (X - \bar x) \operatorname{diag}(d) = U S V^\top` (thin SVD,
        ``r`` non-zero singular values :math:`s_i`), :math:`a = U^\top y_c`,
        :math:`R = \|y_c - U a\|^2`. Integrating ``w`` out gives
        :math:`y \sim N(1 b, \sigma^2 I + t^2 \tilde X_c \tilde X_c^\top)` (after shifting ``b`` by
        :math:`\bar x^\top w`, which a flat prior allows). The all-ones direction is an eigenvector
        with eigenvalue :math:`\sigma^2`, so integrating the flat ``b`` out removes that direction and
        contributes :math:`\int N(\sqrt n\,\bar y; \sqrt n\, b, \sigma^2)\,db = 1/\sqrt n`:

        .. math::
            \log p(y \mid t, \sigma) = -\tfrac12\Big[k\log 2\pi + \sum_{i\le r}\log v_i + (k - r)\log\sigma^2
                + \sum_{i\le r}\frac{a_i^2}{v_i} + \frac{R}{\sigma^2}\Big] - \tfrac12\log n,
            \qquad v_i = \sigma^2 + t^2 s_i^2,

        with :math:`k = n - 1`. Without an intercept nothing is centred, :math:`k = n` and the
        :math:`-\tfrac12\log n` term is absent: that is exactly scikit-learn's
        ``BayesianRidge(fit_intercept=False)`` objective with ``alpha = 1/sigma^2``,
        ``lambda = 1/t^2``. (``BayesianRidge(fit_intercept=True)`` instead centres and keeps ``k = n``:
        it treats the estimated mean as known, one degree of freedom too many.)

    Maximisation
        Known sigma: over :math:`u = \log t^2`. Unknown sigma: for fixed :math:`g = t^2/\sigma^2` the
        best :math:`\sigma^2` is :math:`q(g)/k`, :math:`q(g) = \sum a_i^2/(1 + g s_i^2) + R`, leaving
        the 1-d profile :math:`k\log q(g) + \sum\log(1 + g s_i^2)` over :math:`u = \log g`. Each
        evaluation costs O(r) after one SVD; a grid finds the best basin and ``brentq`` solves the
        derivative's root in it to machine precision. A maximum at the edge (the evidence keeps
        growing as ``t -> 0``, "no signal", or ``t -> infinity``) is an error, not a silent number.

    Posterior mean at the chosen values: :math:`w = d \odot V\,\mathrm{diag}\big(t^2 s_i/v_i\big)\,a`,
    :math:`b = \bar y - \bar x^\top w`; it is also the MAP (the posterior is Gaussian).

Logistic regression with a Normal prior: the Laplace approximation to the evidence
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
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize, special

from .families.bernoulli import bernoulli_hessian, bernoulli_nll
from .model import collapsed_data, gaussian_data
from .priors import Normal
from .solvers import fit_logistic_map

_GRID = 401
_MARGIN = 25.0  # e^25 ~ 7e10: far beyond any singular-value ratio in double precision


@dataclass(frozen=True)
class EvidenceFit:
    multiplier: float  # t: the learned prior scale is t * d
    sigma: float
    log_evidence: float
    coef: np.ndarray
    intercept: float


class _Spectrum:
    """The centred, prior-scaled design's SVD and the data in its basis: all the evidence needs.

    Computed by :func:`bayesreg.model.spec.collapsed_data`, the eigen-data NUTS uses for a
    learned Normal scale, from the same sufficient statistics as the Gaussian likelihood.
    """

    def __init__(self, X, y, base_scale, fit_intercept: bool):
        n, p = X.shape
        self.d = np.broadcast_to(np.asarray(base_scale, dtype=float), (p,))
        # the sampler's eigen-data (the collapsed model's): one computation for both
        data = gaussian_data(X, y, fit_intercept, None)
        spectrum = collapsed_data({**data, "prior_factor": self.d})
        self.x_mean, self.y_mean = data["x_mean"], float(data["y_mean"])
        self.s, self.Vt = np.sqrt(spectrum["spectrum_eigval"]), spectrum["spectrum_eigvec"]
        self.a, self.R = spectrum["spectrum_projection"], float(spectrum["spectrum_rss"])
        self.n, self.k = n, n - 1 if fit_intercept else n
        self.fit_intercept = fit_intercept
        if self.s.size == 0:
            raise ValueError("empirical Bayes needs at least one non-constant column in X")

    def log_evidence(self, t: float, sigma: float) -> float:
        v = sigma**2 + t**2 * self.s**2
        r = self.s.size
        total = (self.k * math.log(2 * math.pi) + np.sum(np.log(v)) + (self.k - r) * math.log(sigma**2)
                 + np.sum(self.a**2 / v) + self.R / sigma**2)
        return float(-0.5 * total - (0.5 * math.log(self.n) if self.fit_intercept else 0.0))

    def posterior_mean(self, t: float, sigma: float) -> tuple[np.ndarray, float]:
        v = sigma**2 + t**2 * self.s**2
        coef = self.d * (self.Vt.T @ (t**2 * self.s / v * self.a))
        return coef, self.y_mean - float(self.x_mean @ coef)

    # -- objectives over u (each up to constants), with their derivatives --------------------------
    def known_sigma(self, sigma: float):
        s2, a2 = self.s**2, self.a**2

        def value(u):
            v = sigma**2 + math.exp(u) * s2
            return float(np.sum(np.log(v)) + np.sum(a2 / v))

        def slope(u):
            e = math.exp(u) * s2
            v = sigma**2 + e
            return float(np.sum(e * (v - a2) / v**2))

        return value, slope

    def profile(self):
        s2, a2 = self.s**2, self.a**2

        def value(u):
            w = 1 + math.exp(u) * s2
            return float(self.k * math.log(np.sum(a2 / w) + self.R) + np.sum(np.log(w)))

        def slope(u):
            g = math.exp(u)
            w = 1 + g * s2
            q = np.sum(a2 / w) + self.R
            return float(g * (-self.k * np.sum(a2 * s2 / w**2) / q + np.sum(s2 / w)))

        return value, slope


def _minimise(value, slope, lo: float, hi: float) -> float:
    grid = np.linspace(lo, hi, _GRID)
    values = np.array([value(u) for u in grid])
    if not np.all(np.isfinite(values)):
        raise FloatingPointError("the evidence is not finite on the search grid")
    best = int(np.argmin(values))
    if best == 0:
        raise ValueError(
            "the evidence keeps growing as the prior scale -> 0: the data show no signal a Normal prior "
            "can explain, so empirical Bayes would set every coefficient to 0. Fix the prior scale, or "
            "use method='nuts' with a learned scale."
        )
    if best == _GRID - 1:
        raise ValueError(
            "the evidence keeps growing as the prior scale -> infinity (no shrinkage is best, or the "
            "data are fitted exactly): empirical Bayes has no finite answer. Fix the prior scale or sigma."
        )
    left, right = grid[best - 1], grid[best + 1]
    if slope(left) < 0 < slope(right):
        return optimize.brentq(slope, left, right, xtol=1e-14, rtol=4 * np.finfo(float).eps)
    found = optimize.minimize_scalar(value, bounds=(left, right), method="bounded", options={"xatol": 1e-12})
    return float(found.x)


def fit_evidence(X, y, base_scale, sigma: float | None, fit_intercept: bool) -> EvidenceFit:
    """Maximise the evidence over the prior-scale multiplier ``t`` (and ``sigma`` when None).

    ``base_scale`` is the prior's scale ``d`` (a number or one per feature); the chosen prior is
    ``Normal(t * d)``. See the module docstring for the formula.
    """
    spectrum = _Spectrum(X, y, base_scale, fit_intercept)
    lo = -2 * math.log(spectrum.s.max()) - _MARGIN
    hi = -2 * math.log(spectrum.s.min()) + _MARGIN
    if sigma is not None:
        shift = 2 * math.log(sigma)
        u = _minimise(*spectrum.known_sigma(sigma), lo + shift, hi + shift)
        t = math.exp(u / 2)
    else:
        if spectrum.k <= 0:
            raise ValueError("empirical Bayes with unknown sigma needs at least 2 rows (1 without intercept)")
        u = _minimise(*spectrum.profile(), lo, hi)
        g = math.exp(u)
        sigma = math.sqrt((np.sum(spectrum.a**2 / (1 + g * spectrum.s**2)) + spectrum.R) / spectrum.k)
        if not sigma > 0:
            raise ValueError("the data are fitted exactly, so the evidence grows without bound as sigma -> 0; "
                             "pass a known sigma=")
        t = math.sqrt(g) * sigma
    coef, intercept = spectrum.posterior_mean(t, sigma)
    return EvidenceFit(multiplier=t, sigma=sigma, log_evidence=spectrum.log_evidence(t, sigma), coef=coef,
                       intercept=intercept)


def log_evidence_curve(X, y, base_scale, multipliers, sigma: float, fit_intercept: bool) -> np.ndarray:
    """``log p(y | t, sigma)`` at each multiplier ``t`` (prior ``Normal(t * base_scale)``), one SVD for all."""
    spectrum = _Spectrum(X, y, base_scale, fit_intercept)
    return np.array([spectrum.log_evidence(float(t), sigma) for t in np.asarray(multipliers, dtype=float)])


# -- logistic regression: the Laplace approximation ---------------------------------------------
_LOG_T = np.linspace(math.log(1e-4), math.log(1e4), 81)


def laplace_log_evidence(X, y01, base_scale, t: float, fit_intercept: bool):
    """``(log evidence, coef, intercept)`` at ``Normal(t * base_scale)``, by the Laplace approximation."""
    prior = Normal(t * np.asarray(base_scale, dtype=float))
    coef, intercept = fit_logistic_map(X, y01, prior, fit_intercept)
    eta = intercept + X @ coef
    mu = special.expit(eta)
    precision = np.broadcast_to(prior.l2, coef.shape)
    curvature = np.concatenate([np.zeros(int(fit_intercept)), precision])
    hessian = bernoulli_hessian(X, mu * (1 - mu), fit_intercept) + np.diag(curvature)
    logdet = 2 * np.sum(np.log(np.diag(linalg.cholesky(hessian))))
    k = hessian.shape[0]
    value = -(bernoulli_nll(eta, y01) + prior.neg_log_density(coef)) + k / 2 * math.log(2 * math.pi) - logdet / 2
    return float(value), coef, intercept


def best_log_multiplier(negative) -> float:
    """The multiplier ``t`` that minimises ``negative(log t)`` (minus a log evidence): an 81-point grid
    of ``log t`` over 1e-4..1e4, refined by bounded Brent between the best point's neighbours; an
    optimum at the grid's edge means the evidence has no finite maximum there, which is an error."""
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
    return math.exp(found.x)


def fit_laplace_evidence(X, y01, base_scale, fit_intercept: bool):
    """Maximise the Laplace-approximate evidence over the multiplier ``t``; returns
    ``(t, log evidence, coef, intercept)``."""
    def negative(u):
        return -laplace_log_evidence(X, y01, base_scale, math.exp(u), fit_intercept)[0]

    t = best_log_multiplier(negative)
    value, coef, intercept = laplace_log_evidence(X, y01, base_scale, t, fit_intercept)
    return t, value, coef, intercept
