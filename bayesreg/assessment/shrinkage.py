r"""Shrinkage factors and the effective number of non-zero coefficients (Piironen & Vehtari 2017).

For a Gaussian likelihood and a prior that is (conditionally) Normal, ``w_j | v_j ~ N(0, v_j)``,
the posterior mean of ``w_j`` with uncorrelated columns is ``(1 - kappa_j)`` times the least-squares
estimate, with the shrinkage factor

.. math:: \kappa_j = \frac{1}{1 + n\,\sigma^{-2} s_j^2\, v_j},\qquad
          m_\mathrm{eff} = \sum_j (1 - \kappa_j),

``s_j`` the (population) sd of column ``j``, ``n`` the number of rows and ``sigma`` the noise sd
(logistic regression: the pseudo-sd ``1 / sqrt(mu (1 - mu))``, ``mu`` the mean of ``y``).
``kappa_j = 0``: no shrinkage; ``kappa_j = 1``: shrunk to zero. ``m_eff`` counts the coefficients
the model keeps. Each prior's ``v_j``, per draw (``c_j`` its ``factor``, 1 unless autoscaled):

======================  ===================================================================
prior                   ``v_j``
======================  ===================================================================
``Normal(s)``           ``s_j^2`` (fixed); learned scale: ``(tau c_j)^2``, ``tau`` = ``prior_scale``
``Horseshoe``           ``(tau lambda_j c_j)^2`` (``global_scale``, ``local_scale``)
``RegularizedHorseshoe``  ``(tau c_j)^2 c^2 lambda_j^2 / (c^2 + tau^2 lambda_j^2)`` (``slab_scale`` = c)
``Laplace(b)``,         the Laplace is a Normal scale mixture with ``v_j ~ Exp(rate 1/(2 b_j^2))``;
``BayesianLasso``       ``v_j`` is drawn from its exact conditional posterior given the draw's ``w_j``,
                        ``1 / v_j ~ InverseGaussian(mean 1 / (b_j |w_j|), shape 1 / b_j^2)``
                        (Park & Casella 2008), so ``(w, v)`` are draws of the joint posterior
======================  ===================================================================

With ``autoscale`` ``v_j`` scales as ``1 / s_j^2``, so ``kappa_j`` does not change when a column is
rescaled. The prior's ``m_eff`` comes from draws of the prior's scales (``sigma`` held at the
fit's value, ``sigma_``, or the known one). For the horseshoe at a fixed ``tau`` Piironen &
Vehtari's closed form is ``E[1 - kappa_j] = a_j / (1 + a_j)``, ``a_j = tau sqrt(n) s_j / sigma``
(times ``c_j``): at ``tau = sigma / sqrt(n)`` on standardized columns each coefficient is half kept.
ElasticNet has no such mixture form here and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import results
from ..priors import BayesianLasso, HalfCauchy, HalfStudentT, Horseshoe, Laplace, Normal, RegularizedHorseshoe

__all__ = ["Shrinkage", "estimator_shrinkage", "kappa", "prior_variances", "posterior_variances"]


@dataclass(frozen=True)
class Shrinkage:
    """``kappa``: posterior draws (n_draws, p); ``m_eff``: posterior draws (n_draws,);
    ``prior_m_eff``: prior draws; ``feature_names``."""

    kappa: np.ndarray
    m_eff: np.ndarray
    prior_m_eff: np.ndarray
    feature_names: list

    def summary(self) -> pd.DataFrame:
        """Per coefficient: posterior mean and 5%, 50%, 95% quantiles of ``kappa_j``, and of ``1 - kappa_j``'s mean."""
        q = np.quantile(self.kappa, [0.05, 0.5, 0.95], axis=0)
        return pd.DataFrame({"kappa_mean": self.kappa.mean(axis=0), "kappa_q05": q[0], "kappa_median": q[1],
                             "kappa_q95": q[2], "kept_mean": 1 - self.kappa.mean(axis=0)}, index=self.feature_names)

    def m_eff_summary(self) -> pd.DataFrame:
        """Mean and 5%, 50%, 95% quantiles of ``m_eff`` under the prior and the posterior."""
        rows = {name: [values.mean(), *np.quantile(values, [0.05, 0.5, 0.95])]
                for name, values in (("prior", self.prior_m_eff), ("posterior", self.m_eff))}
        return pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "q05", "median", "q95"])


def kappa(variances, x_sd, n: int, sigma) -> np.ndarray:
    """``1 / (1 + n sigma^-2 s_j^2 v_j)``; ``sigma`` a number or one per draw (a column)."""
    return 1.0 / (1.0 + n * np.asarray(x_sd) ** 2 * variances / np.asarray(sigma) ** 2)


def _half(hyper, size, rng) -> np.ndarray:
    """Draws of a half-Cauchy or half-Student-t hyperprior."""
    if isinstance(hyper, HalfCauchy):
        return np.abs(hyper.scale * rng.standard_cauchy(size))
    if isinstance(hyper, HalfStudentT):
        return np.abs(hyper.scale * rng.standard_t(hyper.nu, size))
    raise TypeError(f"no prior draws for the hyperprior {hyper}")


def _refuse(prior):
    raise ValueError(f"shrinkage factors are defined for Normal, Laplace, BayesianLasso and the horseshoes "
                     f"(conditionally Normal priors); {type(prior).__name__} is not one. Use est.rank() instead.")


def prior_variances(prior, n_draws: int, p: int, rng, *, sigma: float, n: int, tau=None) -> np.ndarray:
    """Draws (n_draws, p) of ``v_j`` under the prior (the module's table); ``tau`` fixes the global scale."""
    size = (n_draws, p)
    factor = np.broadcast_to(getattr(prior, "factor", 1.0), (p,))
    if isinstance(prior, (Horseshoe, RegularizedHorseshoe)):
        if isinstance(prior, Horseshoe):
            tau0 = sigma if prior.scale is None else prior.scale
        else:
            tau0 = prior.expected_nonzero / (p - prior.expected_nonzero) * sigma / np.sqrt(n)
        global_scale = np.abs(tau0 * rng.standard_cauchy((n_draws, 1))) if tau is None else np.full((n_draws, 1), tau)
        local = np.abs(rng.standard_cauchy(size))
        v = (global_scale * local * factor) ** 2
        if isinstance(prior, RegularizedHorseshoe):
            nu, s = prior.slab_df, prior.slab_scale
            c2 = nu * s**2 / 2 / rng.gamma(nu / 2, 1.0, (n_draws, 1))  # Inv-Gamma(nu/2, nu s^2/2)
            v = v * c2 / (c2 + global_scale**2 * local**2)
        return v
    if isinstance(prior, Normal):
        if not prior.learned:
            return np.broadcast_to(np.broadcast_to(prior.effective_scale(), (p,)) ** 2, size).copy()
        return (_half(prior.scale, (n_draws, 1), rng) * factor) ** 2
    if isinstance(prior, (Laplace, BayesianLasso)):
        if isinstance(prior, BayesianLasso):
            b = sigma / np.sqrt(rng.gamma(prior.r, 1.0 / prior.delta, (n_draws, 1)))
        elif prior.learned:
            b = _half(prior.scale, (n_draws, 1), rng) * factor
        else:
            b = np.broadcast_to(prior.effective_scale(), (p,))
        return rng.exponential(1.0, size) * 2 * b**2  # Exp with mean 2 b^2
    _refuse(prior)


def posterior_variances(idata, prior, rng) -> np.ndarray:
    """Draws (n_draws, p) of ``v_j`` given each posterior draw (the module's table)."""
    coef = results.stacked_draws(idata, "coef")
    p = coef.shape[1]
    factor = np.broadcast_to(getattr(prior, "factor", 1.0), (p,))

    def draws(name):
        return results.stacked_draws(idata, name)

    if isinstance(prior, (Horseshoe, RegularizedHorseshoe)):
        tau, local = draws("global_scale")[:, None], draws("local_scale")
        v = (tau * local * factor) ** 2
        if isinstance(prior, RegularizedHorseshoe):
            c2 = draws("slab_scale")[:, None] ** 2
            v = v * c2 / (c2 + tau**2 * local**2)
        return v
    if isinstance(prior, Normal):
        if not prior.learned:
            return np.broadcast_to(np.broadcast_to(prior.effective_scale(), (p,)) ** 2, coef.shape).copy()
        return (draws("prior_scale")[:, None] * factor) ** 2
    if isinstance(prior, (Laplace, BayesianLasso)):
        if isinstance(prior, BayesianLasso) or prior.learned:
            b = draws("prior_scale")[:, None] * (1.0 if isinstance(prior, BayesianLasso) else factor)
        else:
            b = np.broadcast_to(prior.effective_scale(), (p,))
        b = np.broadcast_to(b, coef.shape)
        magnitude = np.maximum(np.abs(coef), 1e-300)  # a draw at exactly 0: the inverse Gaussian's limit
        return 1.0 / rng.wald(1.0 / (b * magnitude), 1.0 / b**2)
    _refuse(prior)


def _noise(est):
    """``(n, sigma draws or number, sigma for the prior)``; a pseudo-sd for the count and 0/1 families."""
    idata = est.idata_
    if "observed_data" not in idata.children:
        raise ValueError("shrinkage factors need the number of rows, taken from idata_['observed_data'], which "
                         "this fit (Dask input?) does not have")
    y = idata["observed_data"]["y"].to_numpy()
    if est._family in ("bernoulli", "poisson", "negative_binomial"):
        # Piironen & Vehtari's (2017) pseudo-sd, the sd of a Gaussian with the likelihood's curvature at
        # the mean: 1 / sqrt(mu (1 - mu)) (Bernoulli), 1 / sqrt(mu) (Poisson); the negative binomial's
        # 1 / sqrt(mu) sqrt(1 + mu / phi) at phi's posterior mean (phi_) or its fixed value
        mu = float(np.mean(y))
        if est._family == "bernoulli":
            pseudo = 1.0 / np.sqrt(mu * (1 - mu))
        else:
            phi = getattr(est, "phi_", None) or getattr(est, "phi", None)
            pseudo = np.sqrt((1.0 + (mu / phi if est._family == "negative_binomial" else 0.0)) / mu)
        return len(y), pseudo, pseudo
    if est._family == "student_t":  # the Student-t scale plays the Gaussian sigma's part
        if "sigma" in idata["posterior"]:
            return len(y), results.stacked_draws(idata, "sigma")[:, None], float(est.sigma_)
        return len(y), float(est.sigma), float(est.sigma)
    known = est._known_sigma()
    if known is not None:
        return len(y), known, known
    return len(y), results.stacked_draws(idata, "sigma")[:, None], float(est.sigma_)


def estimator_shrinkage(est, n_prior_draws: int = 4000, random_seed=None, tau=None) -> Shrinkage:
    """``est.shrinkage()``: see :meth:`bayesreg.estimators._base._BayesianRegression.shrinkage`."""
    est._require_posterior("shrinkage")
    rng = np.random.default_rng(random_seed)
    n, sigma, prior_sigma = _noise(est)
    post = kappa(posterior_variances(est.idata_, est.prior_, rng), est.x_sd_, n, sigma)
    p = post.shape[1]
    prior = kappa(prior_variances(est.prior_, n_prior_draws, p, rng, sigma=prior_sigma, n=n, tau=tau),
                  est.x_sd_, n, prior_sigma)
    return Shrinkage(post, (1 - post).sum(axis=1), (1 - prior).sum(axis=1), est.feature_names_)
