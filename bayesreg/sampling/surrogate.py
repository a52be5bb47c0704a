r"""Logistic posteriors at large n: NUTS on a quadratic surrogate, corrected by PSIS.

``LogisticRegression(method="surrogate")``. The Bernoulli log-likelihood :math:`\ell(\theta)`,
:math:`\theta = (b, w)`, is replaced by its second-order expansion at the MAP :math:`\theta^*`,

.. math::
    \tilde\ell(\theta) = \ell(\theta^*) + g^\top(\theta - \theta^*) - \tfrac12 (\theta - \theta^*)^\top H (\theta - \theta^*)
    = c - \tfrac12 (\theta - \hat\theta)^\top H (\theta - \hat\theta),\qquad \hat\theta = \theta^* + H^{-1} g,

with :math:`g` and :math:`H = A^\top W A` (:math:`W_i = \mu_i(1 - \mu_i)`, :math:`A = [1, X]`) the
log-likelihood's gradient and negative Hessian at the MAP. With :math:`\bar x_W = X^\top W 1 / \sum W`
the centred intercept :math:`b_c = b + \bar x_W^\top w` decouples:

.. math::
    \tilde\ell = c - \tfrac12 \|F(w - \hat w)\|^2 - \tfrac12 \textstyle\sum_i W_i\,(b_c - \hat b_c)^2,
    \qquad F^\top F = X^\top W X - (X^\top W 1)(X^\top W 1)^\top / \textstyle\sum W = X_c^\top W X_c,

a Gaussian pseudo-likelihood: O(p^2) per gradient whatever n is, with every prior (the priors see
the Bernoulli pseudo-sigma and the real n, as the exact model does). NUTS samples
:math:`p(\theta)\exp\tilde\ell(\theta)`; one more pass over the data gives :math:`\ell` at every
draw, and Pareto-smoothed importance sampling (ArviZ's ``psislw``) with log ratios
:math:`\ell - \tilde\ell` turns the draws into draws of the exact posterior.

The result is asymptotically exact (the posterior of a regular model becomes Gaussian as n grows,
and then the surrogate is exact where the mass is) and approximate at small n; the Pareto
:math:`\hat k` says which case you are in: below 0.5 the weights are well behaved, above 0.7 the
importance sampling cannot be trusted and exact NUTS (``method="nuts"``) is the way.

The draws kept in ``idata_["posterior"]`` are the surrogate draws *resampled* (systematic
resampling) with the smoothed weights, so every tool that reads a posterior reads the corrected
one; the surrogate draws themselves and their log weights stay in ``idata_["surrogate_posterior"]``
and ``idata_["surrogate_weights"]``. The sampler's convergence checks run on the surrogate draws.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from scipy import linalg

from .progress import PACKAGE_FILES

PARETO_K_MAX = 0.7
EXACT_NUTS_SECONDS = 116.0  # exact NUTS, n = 1e5, p = 20, 4 x (1000 + 1000) (issue 14's measurement)
EXACT_NUTS_WORK = 1e5 * 20 * 4 * 2000
NUTS_WARN_SECONDS = 120.0


class ApproximationWarning(UserWarning):
    """The surrogate's importance weights are unreliable (Pareto k-hat > 0.7)."""


class LargeDataWarning(UserWarning):
    """Exact NUTS on this much data will take long; the message estimates how long."""


def expansion_data(theta, likelihood_derivatives, fit_intercept: bool, n: int, positive_share: float) -> dict:
    """Model data of the quadratic surrogate from the MAP and the likelihood's derivatives there."""
    _, nll_gradient, hessian = likelihood_derivatives
    try:
        theta_hat = theta - linalg.solve(hessian, nll_gradient, assume_a="pos")
    except (linalg.LinAlgError, ValueError):
        theta_hat = theta - linalg.lstsq(hessian, nll_gradient)[0]
    if fit_intercept:
        weight_sum, cross, block = hessian[0, 0], hessian[1:, 0], hessian[1:, 1:]
        x_mean = cross / weight_sum
        precision = block - np.outer(cross, cross) / weight_sum
        coef_hat = theta_hat[1:]
        intercept_hat = theta_hat[0] + x_mean @ coef_hat
    else:
        weight_sum, x_mean, precision = 0.0, np.zeros(len(theta)), hessian
        coef_hat, intercept_hat = theta_hat, 0.0
    eigval, eigvec = np.linalg.eigh((precision + precision.T) / 2)
    return {
        "factor": np.sqrt(np.clip(eigval, 0.0, None))[:, None] * eigvec.T,  # F'F = X_c' W X_c
        "coef_hat": coef_hat,
        "x_mean": x_mean,
        "intercept_hat": np.array(float(intercept_hat)),
        "weight_sum": np.array(float(weight_sum)),
        "n": np.array(float(n)),
        # Piironen & Vehtari (2017), sec. 3.2, as model.bernoulli_data
        "pseudo_sigma": np.array(1.0 / np.sqrt(positive_share * (1 - positive_share))),
    }


def surrogate_log_likelihood(data: dict, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """The surrogate (up to its constant) at each draw: the same numbers the model samples."""
    misfit = (coef - data["coef_hat"]) @ data["factor"].T
    offset = intercept + coef @ data["x_mean"] - data["intercept_hat"]
    return -0.5 * np.sum(misfit**2, axis=1) - 0.5 * data["weight_sum"] * offset**2


def importance_resample(idata, log_ratio: np.ndarray, random_seed=None):
    """PSIS on ``log_ratio`` (exact minus surrogate log-likelihood per stacked draw), then resampling.

    Returns ``(idata, k_hat)`` with the posterior replaced by draws resampled with the
    Pareto-smoothed weights (systematic resampling, shuffled so no chain holds one region).
    """
    import arviz_stats  # noqa: F401  (registers the .azstats accessor)

    posterior = idata["posterior"].to_dataset()
    shape = (posterior.sizes["chain"], posterior.sizes["draw"])
    # ArviZ's psislw smooths the weights 1 / exp(values) (LOO's convention): pass -log_ratio
    ratios = xr.DataArray(-log_ratio.reshape(shape), dims=("chain", "draw"))
    log_weights, k_hat = ratios.azstats.psislw(dim=["chain", "draw"])
    weights = np.exp(log_weights.to_numpy().ravel() - log_weights.to_numpy().max())
    weights /= weights.sum()
    rng = np.random.default_rng(random_seed)
    total = weights.size
    positions = (rng.random() + np.arange(total)) / total
    chosen = np.minimum(np.searchsorted(np.cumsum(weights), positions), total - 1)
    chosen = rng.permutation(chosen)
    resampled = {}
    for name, values in posterior.data_vars.items():
        flat = values.transpose("chain", "draw", ...).to_numpy().reshape(total, *values.shape[2:])
        resampled[name] = (values.transpose("chain", "draw", ...).dims, flat[chosen].reshape(values.shape))
    idata["surrogate_posterior"] = posterior
    idata["surrogate_weights"] = xr.Dataset({"log_weight": (("chain", "draw"), log_weights.to_numpy())},
                                            coords={"chain": posterior["chain"], "draw": posterior["draw"]})
    idata["posterior"] = xr.Dataset(resampled, coords=posterior.coords)
    k_hat = float(k_hat)
    idata.attrs.update(pareto_k=k_hat, method="surrogate")
    return idata, k_hat


def warn_on_pareto_k(k_hat: float) -> None:
    if k_hat > PARETO_K_MAX:
        warnings.warn(
            f"Pareto k-hat of the surrogate's importance weights is {k_hat:.2f} (> {PARETO_K_MAX}): the "
            "quadratic surrogate is too far from the exact likelihood here (small n, or a posterior far "
            "from Gaussian), and the corrected draws cannot be trusted. Run exact NUTS: "
            "fit(X, y, method='nuts').", ApproximationWarning, skip_file_prefixes=PACKAGE_FILES)


def warn_on_exact_nuts_time(n: int, p: int, draws: int, tune: int, chains: int) -> None:
    """Warn before exact NUTS on logistic data large enough to take minutes.

    The estimate scales issue 14's measurement (116 s at n = 1e5, p = 20, 4 x 2000 iterations)
    linearly in n p and in iterations: the gradient costs O(n p) and dominates.
    """
    seconds = EXACT_NUTS_SECONDS * n * p * chains * (draws + tune) / EXACT_NUTS_WORK
    if seconds > NUTS_WARN_SECONDS:
        warnings.warn(
            f"exact NUTS on n = {n}, p = {p} costs O(n p) per gradient: estimated {seconds / 60:.0f} min. "
            "method='surrogate' samples a quadratic expansion of the log-likelihood (O(p^2) per "
            "gradient) and corrects it exactly by importance sampling; Pareto k-hat tells you whether "
            "to trust it.", LargeDataWarning, skip_file_prefixes=PACKAGE_FILES)


def surrogate_posterior(likelihood, exact_log_likelihood, prior, *, n_features: int, n: int, positive_share: float,
                        fit_intercept: bool, map_theta, names, settings: dict):
    """Expand at the MAP, sample the surrogate with NUTS, correct by PSIS; returns the DataTree.

    ``likelihood(theta)`` gives the Bernoulli (NLL, gradient, Hessian) and
    ``exact_log_likelihood(coef, intercept)`` the log-likelihood per draw, each one pass over the
    data. ``map_theta`` is the MAP; None (priors without a mode: horseshoes) expands at the mode of
    the likelihood under a flat-as-possible Normal(1e3) prior, which keeps it finite under separation.
    """
    from .. import results
    from ..data import Scaling
    from ..model.spec import quadratic_inputs
    from ..priors import Normal
    from ..solvers import newton_map
    from .nuts import sample_posterior, warn_on_problems

    if map_theta is None:  # the identity scaling: theta and the derivatives in the data's units
        map_theta, derivatives = newton_map(likelihood, Scaling.identity(n_features), Normal(1e3), fit_intercept)
    else:
        derivatives = likelihood(map_theta)
    data = expansion_data(map_theta, derivatives, fit_intercept, n, positive_share)
    spec, model_data = quadratic_inputs(data, prior, fit_intercept=fit_intercept)
    idata = sample_posterior(spec, model_data, names, **settings)
    warn_on_problems(idata, results.summary_var_names(idata))
    coef = results.stacked_draws(idata, "coef")
    intercept = results.stacked_draws(idata, "intercept") if fit_intercept else np.zeros(len(coef))
    log_ratio = exact_log_likelihood(coef, intercept) - surrogate_log_likelihood(data, coef, intercept)
    idata, k_hat = importance_resample(idata, log_ratio, settings.get("random_seed"))
    warn_on_pareto_k(k_hat)
    return idata
