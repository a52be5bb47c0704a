"""``formula=`` on every estimator: a data frame encoded by formulaic into the design (see
:mod:`bayesreg.data.formula`), on fit and again, through the stored model spec, on every prediction.

:class:`_BayesianRegression` inherits this, so an estimator class gets formulas by listing
``formula`` among its constructor parameters (``tests/test_formula.py`` checks that every registered
estimator does).
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..data import formula as fm
from ..data import formula_dask, is_dask_input
from ..priors import GroupLaplace, Horseshoe, Normal


class FormulaMixin:
    """``_formula_input`` for fit, ``_design_of`` for the predictions; ``terms_`` and ``model_spec_``
    after a formula fit; ``term_summary``."""

    def _formula_input(self, X, y):
        """``(X, y, fitted attributes)``: the encoded design and the outcome when a formula is set, else as given."""
        formula = getattr(self, "formula", None)
        if formula is None:
            if y is None:
                raise ValueError("requires y to be passed, but the target y is None: call fit(X, y), or give the "
                                 "estimator a formula naming y (formula='y ~ x1 + C(region)') and call fit(df)")
            return X, y, {}
        encode = formula_dask.fit_design_dask if is_dask_input(X) else fm.fit_design  # Dask: partition by partition
        fitted = encode(formula, X, y, self.fit_intercept)
        return fitted.X, fitted.y, {"model_spec_": fitted.model_spec, "terms_": fitted.terms}

    @staticmethod
    def _grouped(prior, from_formula: dict):
        """A group prior without groups, or a Normal with ``groups="terms"``, gets the formula's terms
        (a factor's columns are one group)."""
        if isinstance(prior, GroupLaplace) and prior.groups is None:
            needs = ("GroupLaplace needs groups: pass GroupLaplace(scale, groups=[one label per column of X]), "
                     "or fit with formula= on the estimator (each term of the formula is a group)")
        elif isinstance(prior, (Normal, Horseshoe)) and isinstance(prior.groups, str):  # "terms"
            needs = (f"{type(prior).__name__}(..., groups='terms') takes the formula's terms as groups, and this fit "
                     "has no formula: pass groups=[one label per column of X], or fit with formula= on the estimator")
        else:
            return prior
        if "terms_" not in from_formula:
            raise ValueError(needs)
        return dataclasses.replace(prior, groups=fm.group_labels(from_formula["terms_"]))

    def _design_of(self, X):
        """New rows encoded by the fitted formula (unchanged when the fit had none)."""
        spec = getattr(self, "model_spec_", None)
        if spec is None:
            return X
        if is_dask_input(X) and hasattr(X, "map_partitions"):
            return formula_dask.design_of_rows(spec, X, self.feature_names_in_)  # lazily, partition by partition
        return fm.apply_spec(spec, X, self.feature_names_in_)

    @property
    def term_columns_(self) -> dict:
        """``{term: [columns]}``: the formula's terms, else the group prior's groups, else one per column."""
        from ..terms import term_columns

        return term_columns(self)

    def term_summary(self, X=None, size: float | None = None, ci_prob: float | None = None):
        """One row per term (a factor's dummies together): its columns, the posterior of the group
        norm ``||w_g||`` (mean, sd, equal-tailed ``ci_prob`` interval; at the MAP where there is one)
        and, for rows ``X``, of the term's contribution to the linear predictor, the sd over those
        rows of ``X_g w_g``: its posterior mean and, with ``size``, ``P(sd > size | y)``; a learned
        scale per group (``scale_mean``, interval) where the prior has one. See :mod:`bayesreg.terms`.

        A fit with a MAP only (``method="map"``) gives the MAP's norm (``norm_map``) and, for rows
        ``X``, its contribution (``contribution_sd_map``); a probability needs a posterior.

        A :class:`~bayesreg.results.SummaryTable`: full-precision numbers, shown rounded to 3
        significant digits with every column.
        """
        from .. import results
        from ..terms import term_table

        check_is_fitted(self, "coef_")
        if size is not None and X is None:
            raise ValueError("size is a size of the term's contribution on rows X: pass X (e.g. the training data)")
        if size is not None and not (isinstance(size, numbers.Real) and np.isfinite(size) and size >= 0):
            raise ValueError(f"size (of a term's contribution, in units of the linear predictor) must be a "
                             f"finite number >= 0, got {size!r}")
        prob = results.CI_PROB if ci_prob is None else ci_prob
        if not 0 < prob < 1:
            raise ValueError(f"the interval probability must be in (0, 1), got {prob}")
        idata = getattr(self, "idata_", None)
        map_coef = None if getattr(self, "map_", None) is None else self.map_.coef
        if idata is None:  # a point fit: its coefficients are the MAP
            if size is not None:
                raise ValueError(f"P(contribution sd > size) needs a posterior, and this fit was "
                                 f"method={getattr(self, 'method_', 'map')!r}: fit with method='nuts', or call "
                                 "term_summary(X) without size for the MAP's contribution (contribution_sd_map)")
            map_coef = self.coef_ if map_coef is None else map_coef
            draws, scales = None, {}
        else:
            posterior = idata["posterior"]
            draws = posterior["coef"].stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()
            scales = {}  # a learned scale per group: Normal's tau_g (prior_scale), the group horseshoe's lambda_g
            for name in ("prior_scale", "local_scale"):
                if name in posterior and "group" in posterior[name].dims:
                    stacked = posterior[name].stack(sample=("chain", "draw")).transpose("sample", ...)
                    scales = {str(label): stacked.sel(group=label).to_numpy() for label in stacked["group"].to_numpy()}
        design = None if X is None else self._validated_X(X)
        table = term_table(draws, self.feature_names_, self.term_columns_, prob, map_coef, design, size, scales)
        return results.SummaryTable(table)  # shown with every column, numbers rounded; full precision kept

    def _has_terms(self) -> bool:
        """A formula fit, or a group prior's: terms that are not simply the columns."""
        return getattr(self, "terms_", None) is not None or getattr(getattr(self, "prior_", None), "groups", None) is not None

    def _with_term_table(self, table, X, size, ci_prob):
        """The summary with its term table (``table.terms``, shown below the coefficients) for a fit
        with terms; a plain (``round_to="none"``) table gets none: call ``term_summary``."""
        from ..results import SummaryTable

        if not self._has_terms():
            if X is not None or size is not None:
                raise ValueError("X and size are for the term table, and this fit has no terms (no formula, no "
                                 "group prior): call summary() without them")
            return table
        if isinstance(table, SummaryTable):
            table.terms = self.term_summary(X, size, ci_prob)
        return table
