"""The questions after a fit, as thin shells over :mod:`bayesreg.assessment` (issue 23): LOO and
K-fold elpd, Bayesian R^2, shrinkage factors and ranks. Mixed into every estimator; the
assessment modules do the work, so each method only forwards its arguments.
"""

from __future__ import annotations

import numpy as np


class AssessmentMixin:
    """``loo``, ``kfold``, ``bayes_r2``, ``shrinkage`` and ``rank`` for a fitted estimator."""
    def loo(self, X=None, y=None, method: str = "auto", *, offset=None, reloo: bool = False, max_refits: int = 10,
            k_threshold=None, refit_kwargs=None, random_seed=None, kfold: int | None = 10, sample_weight=None):
        """Leave-one-out elpd as an ArviZ ``ELPDDataLOO`` (``compare`` and ArviZ's plots take it).

        ``method="auto"``: exact in closed form for LinearRegression with a fixed Normal prior and
        known sigma when the training ``X, y`` are given (no sampling error; also after
        ``method="map"``); otherwise PSIS-LOO through ArviZ, with Pareto k-hat per row in
        ``.pareto_k`` and a :class:`~bayesreg.assessment.LOOWarning` naming the rows above the
        threshold. Without ``X, y`` the log-likelihood stored at fit is used; with them it is
        computed from the draws in row blocks (bounded memory at any n; Dask ``X, y``: in passes
        over the partitions). See :mod:`bayesreg.assessment.loo`.

        ``reloo=True`` (PSIS only; needs ``X, y``): when at most ``max_refits`` rows have k-hat above
        ``k_threshold`` (default ArviZ's), refit without each of them and use the refit's exact
        leave-one-out density for it (:mod:`bayesreg.assessment.reloo`); when more are flagged, run
        ``kfold``-fold cross-validation instead (:meth:`kfold`, ArviZ's ``ELPDDataLOOKFold``;
        ``kfold=None``: keep PSIS and warn). ``refit_kwargs`` override the refits' ``fit`` settings,
        by default the full fit's; ``random_seed`` seeds them (and the folds). A ``formula=`` fit
        takes its data frame, ``y`` read from the formula's outcome when left out; the refits get
        rows encoded by the full fit's spec (:mod:`bayesreg.assessment.kfold`).
        ``offset``: the training rows' offset, when the fit had one (``log(exposure)``); the refits
        get their rows'. ``sample_weight``: the training rows' weights, when the fit had them (required
        then: a weighted fit refuses ``loo`` without them); a row of weight ``w_i`` is ``w_i`` copies, left
        out together (brms's convention, as :meth:`kfold`; :mod:`bayesreg.assessment.loo`). Dask ``X, y`` (and ``offset``, aligned as in ``fit``): PSIS and the closed
        form in passes, ``reloo``'s refits on the Dask rows (:mod:`bayesreg.assessment.dask_refits`).
        """
        from ..assessment import estimator_loo

        return estimator_loo(self, X, y, method, reloo, max_refits, k_threshold, refit_kwargs, random_seed, offset,
                             kfold, sample_weight)

    def kfold(self, X, y=None, k: int = 10, *, folds=None, offset=None, sample_weight=None, method: str = "auto",
              refit_kwargs=None, random_seed=None):
        """K-fold cross-validated elpd as ArviZ's ``ELPDDataLOOKFold`` (:mod:`bayesreg.assessment.kfold`).

        ``method="auto"``: exact in closed form for LinearRegression with a fixed Normal prior and
        known sigma, else ``"refit"``: the model refitted without each fold (``k`` random folds of
        equal size, seeded by ``random_seed``, or ``folds``: a fold label per row). ``offset`` and
        ``sample_weight``: the training rows', when the fit had them (a weighted row counts as
        that many copies, kept in one fold). ``refit_kwargs`` override the full fit's settings.
        A ``formula=`` fit takes its data frame (``y`` read from the formula's outcome when left
        out); every fold is encoded by the full fit's spec, so a level missing from a fold's
        training rows keeps its column and its prior (:mod:`bayesreg.assessment.kfold`). Dask ``X, y``
        (``offset``, ``sample_weight`` and ``folds`` beside them, aligned as in ``fit``): the same
        folds as in memory, the closed form in passes, the refits on the Dask training rows with the
        full fit's method (:mod:`bayesreg.assessment.dask_refits`)."""
        from ..assessment import estimator_kfold

        return estimator_kfold(self, X, y, k, folds, random_seed, refit_kwargs, offset, sample_weight, method)

    def bayes_r2(self, X, offset=None) -> np.ndarray:
        """Draws of Gelman et al.'s (2019) Bayesian R^2 on rows ``X`` (the training rows, usually):
        ``Var_i(mu) / (Var_i(mu) + residual variance)`` per draw (:func:`bayesreg.assessment.bayes_r2_draws`;
        Dask ``X``: in passes over its partitions); ``offset``: those rows', when the fit had one."""
        from ..assessment import estimator_bayes_r2

        return estimator_bayes_r2(self, X, offset)

    def shrinkage(self, n_prior_draws: int = 4000, random_seed=None, tau=None):
        """Posterior draws of each coefficient's shrinkage factor ``kappa_j`` and of the effective
        number of non-zero coefficients ``m_eff = sum_j (1 - kappa_j)``, beside the prior's ``m_eff``
        (Piironen & Vehtari 2017; each prior's definition in :mod:`bayesreg.assessment.shrinkage`).
        ``tau`` fixes the global scale of the prior draws (e.g. ``sigma / sqrt(n)``)."""
        from ..assessment import estimator_shrinkage

        return estimator_shrinkage(self, n_prior_draws, random_seed, tau)

    def rank(self):
        """Posterior distribution of each coefficient's (a formula fit: each term's) rank by
        |standardized effect| (1 = largest;
        :mod:`bayesreg.assessment.ranking`): ``.summary()``, ``.probabilities()``, ``.draws``."""
        from ..assessment import RankDistribution, rank_draws

        self._require_posterior("rank")
        terms = getattr(self, "terms_", None)  # a formula fit ranks its terms (a factor as one)
        if not terms:
            return RankDistribution(rank_draws(self.idata_, self.x_sd_), self.feature_names_)
        groups = [[self.feature_names_.index(column) for column in columns] for columns in terms.values()]
        return RankDistribution(rank_draws(self.idata_, self.x_sd_, groups), list(terms))
