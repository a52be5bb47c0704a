r"""Exact leave-one-out for the rows PSIS cannot handle: refit without each of them (``reloo``).

Where Pareto ``k-hat`` is above ArviZ's threshold, the importance weights of PSIS-LOO are too
heavy-tailed for the estimate of ``log p(y_i | y_{-i})`` to be trusted. When there are few such
rows, the model is refitted without each row ``i`` and

.. math:: \widehat{\mathrm{elpd}}_i = \log \frac{1}{S} \sum_{s=1}^{S} p(y_i \mid \theta^{(-i)}_s),

with ``theta^(-i)_s`` the draws of the refit: plain Monte Carlo of the leave-one-out predictive
density, no importance sampling (what ArviZ's ``reloo`` does). ``p_loo_i = lppd_i - elpd_i`` keeps
the full-data ``lppd_i``, and the row's ``k-hat`` is set to 0 (nothing was importance-sampled).

The refit is a clone of the estimator with its *resolved* prior (``prior_``): the prior the full
fit used, in the same units, not re-autoscaled on ``n - 1`` rows (a horseshoe's global scale is
still recomputed from ``n - 1``: a change of order ``1 / (2n)``). The sampler settings default to
the full fit's (chains, draws, tune and target_accept, read from the posterior's metadata).
"""

from __future__ import annotations

import json

import numpy as np
from scipy import special

from .loo import log_likelihood_blocks

__all__ = ["refit_settings", "refit_elpd"]


def refit_settings(idata, refit_kwargs=None, random_seed=None) -> dict:
    """Keyword arguments of each refit's ``fit``: the full fit's chains and draws (and, when the
    posterior records them, its tune and target_accept), updated by ``refit_kwargs``."""
    posterior = idata["posterior"]
    settings = dict(draws=posterior.sizes["draw"], chains=posterior.sizes["chain"], progressbar=False,
                    random_seed=random_seed)
    stats = idata["sample_stats"].attrs if "sample_stats" in idata.children else {}
    try:
        recorded = json.loads(stats.get("inference_library_settings", "{}")).get("settings", {})
    except (TypeError, ValueError):
        recorded = {}
    if "num_tune" in recorded:
        settings["tune"] = int(recorded["num_tune"])
    target = recorded.get("adapt_options", {}).get("step_size_settings", {}).get("target_accept")
    if target is not None:
        settings["target_accept"] = float(target)
    settings.update(refit_kwargs or {})
    return settings


def refit_elpd(est, X_arr, y_raw, y_arr, rows, settings: dict, offset=None, aux_fixed=None,
               sample_weight=None) -> np.ndarray:
    """``log (1/S) sum_s p(y_i | theta^(-i)_s)`` for each ``i`` in ``rows``, one refit each
    (module docstring). ``y_raw``: ``y`` as the user gave it (labels), for the refit's ``fit``;
    ``y_arr``: the same as numbers, for the log-likelihood; ``offset``: the rows' (each refit gets
    its rows', the left-out row's enters its density); ``aux_fixed``: the auxiliary values the fit
    held fixed (:func:`.loo.fixed_auxiliary`); ``sample_weight``: the rows' (each refit gets its rows',
    and row ``i``'s ``w_i`` copies are left out together: ``log (1/S) sum_s p(y_i | theta^(-i)_s)^{w_i}``)."""
    from .kfold import refit_clone

    y_raw = np.asarray(y_raw)
    out = np.empty(len(rows))
    for k, i in enumerate(rows):
        keep = np.arange(len(y_arr)) != i
        refit = refit_clone(est)  # a formula fit's: on rows of the full fit's design (kfold module docstring)
        rows_of_fit = {} if offset is None else {"offset": offset[keep]}
        if sample_weight is not None:
            rows_of_fit["sample_weight"] = sample_weight[keep]
        refit.fit(X_arr[keep], y_raw[keep], method="nuts", **rows_of_fit, **settings)
        ((_, loglik),) = log_likelihood_blocks(refit.idata_, X_arr[[i]], y_arr[[i]], est._family, est.fit_intercept,
                                               est._known_sigma(), offset=None if offset is None else offset[[i]],
                                               aux_fixed=aux_fixed)
        copies = 1.0 if sample_weight is None else sample_weight[i]
        out[k] = special.logsumexp(copies * loglik) - np.log(loglik.size)
    return out
