r"""Poisson and negative binomial posteriors at large n: the quadratic surrogate of
:mod:`.surrogate`, from the rows' sums any family supplies, corrected by PSIS.

``PoissonRegression(method="surrogate")``, ``NegativeBinomialRegression(method="surrogate")``.
The log-likelihood :math:`\ell(x)` in :math:`x = (\theta, u)`, :math:`\theta = (b, w)` and
:math:`u = \log\phi` the free auxiliary parameters, is expanded to second order at the MAP
:math:`x^*` with its gradient and negative Hessian there (:class:`bayesreg.data.LikelihoodSums`,
one pass over the rows whatever the family):

.. math::
    \tilde\ell(x) = c - \tfrac12 (x - \hat x)^\top H (x - \hat x),\qquad \hat x = x^* + H^{-1} g .

**The dispersion is in the expansion, not profiled.** With the blocks of :math:`H`,
:math:`\tilde\ell` factorises exactly into a quadratic in :math:`\theta` alone and a Gaussian
for :math:`u` given :math:`\theta`:

.. math::
    \tilde\ell(\theta, u) = c' - \tfrac12 (\theta - \hat\theta)^\top S (\theta - \hat\theta)
        + \log N\big(u \mid \hat u - H_{uu}^{-1} H_{u\theta}(\theta - \hat\theta),\ H_{uu}^{-1}\big),
    \qquad S = H_{\theta\theta} - H_{\theta u} H_{uu}^{-1} H_{u\theta}.

NUTS samples :math:`p(\theta)\exp(-\tfrac12 (\theta - \hat\theta)^\top S (\theta - \hat\theta))` with
the logistic surrogate's compiled kernel (``"quadratic"``: O(p^2) per gradient, every prior; the
intercept flat, as in the exact count models), then :math:`u` is drawn from its Gaussian
conditional. The proposal is then :math:`q(\theta, u) \propto p(\theta)\exp\tilde\ell(\theta, u)`,
and the importance log ratio towards the exact posterior
:math:`p(\theta)\,p(\phi)\,\phi\,\exp\ell(\theta, u)` (:math:`\phi` the Jacobian of
:math:`u = \log\phi`) is

.. math::
    \log r = \ell(\theta, u) + \log p(\phi) + u - \big[-\tfrac12 (\theta - \hat\theta)^\top S (\theta - \hat\theta)
        + \log N(u \mid \ldots)\big] + \text{const},

so the dispersion's prior and any non-Gaussianity of its likelihood are corrected by PSIS, like
the coefficients'. Profiling (fixing :math:`\phi` at its MAP) would sample :math:`p(\theta \mid
\phi^*, y)`: its draws never move :math:`\phi`, so no weighting could recover the posterior of
:math:`\phi`, nor the extra spread it gives :math:`\theta` (the Schur complement :math:`S` is
that spread). A fixed ``phi`` (``NegativeBinomialRegression(phi=2.0)``) and the Poisson have no
:math:`u`: then :math:`S = H_{\theta\theta}` and the method is the logistic surrogate's.

Student-t has no surrogate: its likelihood is not log-concave (rows with
:math:`r^2 > \nu\sigma^2` curve the wrong way) and its :math:`(\sigma, \nu)` posterior is far from
Gaussian at any n, so a quadratic at the mode is no sound proposal.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import linalg

from .surrogate import expansion_data, importance_resample, surrogate_log_likelihood, warn_on_pareto_k


def family_surrogate_posterior(likelihood, exact_log_likelihood, prior, *, family, n: float, pseudo_sigma: float,
                               fit_intercept: bool, coef, intercept: float, aux: dict, aux_fixed: dict,
                               aux_priors: dict, names, settings: dict):
    """Expand at ``(coef, intercept, aux)`` (the MAP), sample, correct by PSIS; returns the DataTree.

    ``likelihood(theta, aux) -> LikelihoodSums`` of the unscaled design and
    ``exact_log_likelihood(coef, intercept, aux_draws)`` are each one pass over the rows
    (:func:`bayesreg.data.family_likelihood_of`, :func:`bayesreg.data.family_draws_log_likelihood_of`).
    ``aux`` holds every auxiliary value at the expansion point, ``aux_fixed`` those held fixed,
    ``aux_priors`` the priors of the others.
    """
    from .. import results
    from ..model.spec import quadratic_inputs
    from .nuts import sample_posterior, warn_on_problems

    k = int(fit_intercept)
    theta = np.concatenate([[intercept] * k, coef])
    m = theta.size
    free = [name for name in family.aux_names if name not in aux_fixed]
    index = [family.aux_names.index(name) for name in free]
    sums = likelihood(theta, tuple(aux[name] for name in family.aux_names))
    gradient, hessian = sums.joint(index)
    x = np.concatenate([theta, np.log([aux[name] for name in free])])
    x_hat = x - _solve(hessian, gradient)
    conditional = _conditional_of(hessian, m) if free else None
    precision = conditional[2] if free else hessian
    # theta_hat given directly: a zero gradient makes expansion_data's Newton step the identity
    data = expansion_data(x_hat[:m], (None, np.zeros(m), precision), fit_intercept, int(round(n)), 0.5)
    data.update(n=np.array(float(n)), pseudo_sigma=np.array(float(pseudo_sigma)))
    spec, model_data = quadratic_inputs(data, prior, fit_intercept=fit_intercept)
    spec = replace(spec, intercept_prior=False)  # the count models' intercept is flat for every prior
    idata = sample_posterior(spec, model_data, names, **settings)
    warn_on_problems(idata, results.summary_var_names(idata))
    coef_draws = results.stacked_draws(idata, "coef")
    intercept_draws = results.stacked_draws(idata, "intercept") if fit_intercept else np.zeros(len(coef_draws))
    log_ratio = -surrogate_log_likelihood(data, coef_draws, intercept_draws)
    draws = {name: np.full(len(coef_draws), float(value)) for name, value in aux_fixed.items()}
    if free:
        gain, chol, _ = conditional
        rng = np.random.default_rng(np.random.SeedSequence(settings.get("random_seed")).spawn(1)[0])
        theta_draws = np.column_stack([intercept_draws] * k + [coef_draws])
        z = rng.standard_normal((len(coef_draws), len(free)))
        u = x_hat[m:] - (theta_draws - x_hat[:m]) @ gain.T + z @ chol.T
        log_ratio += 0.5 * np.sum(z**2, axis=1) + np.sum(np.log(np.diag(chol)))  # minus log N(u | ...)
        for i, name in enumerate(free):
            draws[name] = np.exp(u[:, i])
            log_ratio += u[:, i] - np.array([aux_priors[name].neg_log_density(a)[0] for a in draws[name]])
    log_ratio += exact_log_likelihood(coef_draws, intercept_draws,
                                      tuple(draws[name] for name in family.aux_names))
    if family.aux_names:
        posterior = idata["posterior"].to_dataset()
        shape = (posterior.sizes["chain"], posterior.sizes["draw"])
        for name in family.aux_names:
            posterior[name] = (("chain", "draw"), draws[name].reshape(shape))
        idata["posterior"] = posterior
    idata, k_hat = importance_resample(idata, log_ratio, settings.get("random_seed"))
    warn_on_pareto_k(k_hat)
    return idata


def _solve(hessian, gradient):
    try:
        return linalg.solve(hessian, gradient, assume_a="pos")
    except (linalg.LinAlgError, ValueError):
        return linalg.lstsq(hessian, gradient)[0]


def _conditional_of(hessian, m: int):
    """``(gain, chol, schur)``: ``u | theta ~ N(u_hat - gain (theta - theta_hat), chol chol')`` and the
    Schur complement ``S`` (module docstring)."""
    h_tu, h_uu = hessian[:m, m:], hessian[m:, m:]
    try:
        chol_uu = linalg.cholesky(h_uu, lower=True)
    except linalg.LinAlgError:
        raise ValueError("the log-likelihood is not concave in the dispersion at the MAP (its Hessian there is not "
                         "negative definite), so the quadratic surrogate has no Gaussian in log phi: the data say "
                         "too little about phi. Fix phi=, or use method='nuts'") from None
    gain = linalg.cho_solve((chol_uu, True), h_tu.T)
    chol = linalg.cholesky(linalg.cho_solve((chol_uu, True), np.eye(len(h_uu))), lower=True)
    return gain, chol, hessian[:m, :m] - h_tu @ gain
