r"""K-fold validation of the projection predictive search (projpred's ``cv_varsel(cv_method = "kfold")``,
with the search validated as well: ``validate_search = TRUE``).

For each fold ``k`` (:func:`.kfold.fold_ids`; the same folds and refit seeds as ``est.kfold`` for the
same ``random_seed``):

1. the reference is refitted without the fold (:mod:`.kfold`'s refit: a clone with the resolved
   prior, the full fit's method and settings), its draws thinned to ``ndraws``;
2. the forward search is run on the training rows with that refit as the reference, giving the
   fold's own path (``Selection.fold_orders``: how stable the path is);
3. each size ``m`` of the fold's path is projected (on the training rows) and scored on the held-out
   rows by plain Monte Carlo over the projected draws, as the reference refit is:

   .. math:: \mathrm{elpd}_{mi} = \log \frac{1}{S} \sum_s p(y_i \mid \theta^{\perp (-k)}_{ms}),\qquad
             \hat y_{mi} = \frac{1}{S} \sum_s \mu^{\perp (-k)}_{msi}.

No importance sampling, so it holds where PSIS-LOO's k-hat is high; and since every fold searches
anew, the elpd of the sizes is not inflated by the search having seen the held-out rows. The
reported path (``Selection.order``) is the full-data search; the elpd per size is that of each
fold's path at that size.

With an ``offset`` and ``sample_weight`` each refit gets its training rows' (as ``est.kfold``), the
search and projections use them, the held-out linear predictors add the held-out rows' offset, and
a held-out row of weight ``v_i`` is scored as its ``v_i`` copies together, ``log (1/S) sum_s
p(y_i | s)^{v_i}`` (as ``est.kfold``).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .kfold import fold_ids, fold_seeds, refit_clone
from .reloo import refit_settings
from .submodels import Reference, log_density, mean_of, project, reference_draws, search

__all__ = ["kfold_validation"]


def kfold_validation(est, X, y_raw, y, max_terms: int, groups, ndraws: int, search_draws: int, k: int, folds,
                     random_seed, refit_kwargs, offset=None, weights=None, parents=None) -> dict:
    """K-fold elpd and predictions of every size up to ``max_terms`` and of the reference (module
    docstring), as the :class:`~.selection.Selection` fields ``elpd_i, reference_elpd_i,
    loo_predictions, reference_predictions`` (``arrays``), ``cv_method`` and ``fold_orders``. ``parents``:
    each term's lower-order terms, which enter before it (:mod:`.term_hierarchy`)."""
    n = len(y)
    fold = fold_ids(n, k, folds, random_seed)
    n_folds = int(fold.max()) + 1
    settings = {"method": est.method_ if est.method_ in ("nuts", "surrogate") else "nuts",
                **refit_settings(est.idata_, refit_kwargs)}
    settings.pop("random_seed", None)
    y_raw = np.asarray(y_raw)
    family = est._family
    elpd_i, predictions = np.empty((max_terms + 1, n)), np.empty((max_terms + 1, n))
    reference_elpd_i, reference_predictions = np.empty(n), np.empty(n)
    fold_orders = []
    def rows(values, which):
        return None if values is None else values[which]

    for f, seed in zip(range(n_folds), fold_seeds(random_seed, n_folds)):
        test = fold == f
        given = {name: values[~test] for name, values in (("offset", offset), ("sample_weight", weights))
                 if values is not None}
        refit = refit_clone(est).fit(X[~test], y_raw[~test], **given, **settings, random_seed=seed)
        mu, sigma, _ = reference_draws(est, refit.idata_, X[~test], y[~test], ndraws, rows(offset, ~test))
        training = Reference(X[~test], mu, sigma, est.fit_intercept, family, rows(offset, ~test), rows(weights, ~test))
        order = search(training, max_terms, groups, search_draws, seed, parents)
        fold_orders.append(order)
        mu_test, _, loglik_test = reference_draws(est, refit.idata_, X[test], y[test], ndraws, rows(offset, test))
        log_draws = np.log(len(mu_test))
        copies = 1.0 if weights is None else weights[test]  # a weighted row's copies are held out together
        reference_elpd_i[test] = special.logsumexp(copies * loglik_test, axis=0) - log_draws
        reference_predictions[test] = mu_test.mean(axis=0)
        for size in range(max_terms + 1):
            projection = project(training, [j for t in order[:size] for j in groups[t]])
            eta = projection.linear_predictor(X[test], rows(offset, test))
            elpd_i[size, test] = (special.logsumexp(copies * log_density(y[test], eta, projection, family), axis=0)
                                  - log_draws)
            predictions[size, test] = mean_of(eta, family).mean(axis=0)
    return {"arrays": (elpd_i, reference_elpd_i, predictions, reference_predictions), "cv_method": "kfold",
            "fold_orders": fold_orders}
