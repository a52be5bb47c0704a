r"""Formulas on Dask data frames: formulaic's model spec learned on the first partition, then every
partition encoded with it, lazily, where it lives.

The fit's first pass computes partition 0 alone and learns the spec there (factor levels,
contrasts, the design's columns). Every partition, that one included, is then encoded by
:func:`bayesreg.data.formula.apply_spec` inside the estimator's own distributed pass (for
``LinearRegression`` the sufficient statistics), so the design is never gathered.

What the first partition cannot know is an error, never a silent difference from the in-memory fit:

- a factor level first seen in a later partition stops the pass with an error naming the column,
  the level and the levels partition 0 has (a Dask categorical column carries all of its categories
  in its dtype, so it has no such problem: ``df.categorize(columns=[...])`` first);
- transforms whose constants are learned from the data (``center``, ``scale``, ``poly``, ``bs``) are
  refused: on partition 0 they would differ from the whole data's. Compute such a column first
  (``df.assign(x_c=df.x - df.x.mean())``).

The outcome must be a column (``"y ~ ..."``), or ``y`` is passed (a Dask series or array).
"""

from __future__ import annotations

import operator

import pandas as pd

from .formula import (INTERCEPT, FormulaFit, _materialise, apply_spec, checked_formula, factor_names, parse,
                      plain_factors, terms_of)
from .validation import NamedDesign


def fit_design_dask(formula: str, data, y, fit_intercept: bool) -> FormulaFit:
    """The lazy design (a Dask DataFrame of floats named as formulaic names the columns) and y."""
    from formulaic import model_matrix

    if not hasattr(data, "get_partition"):
        raise TypeError(f"to fit with formula={formula!r} on Dask input, pass a Dask DataFrame holding the "
                        f"formula's columns, got {type(data).__name__}")
    parsed, rhs = checked_formula(formula, y, fit_intercept)
    first = plain_factors(data.get_partition(0).compute(), factor_names(rhs))
    if len(first) == 0:
        raise ValueError(f"formula {formula!r} on a Dask data frame learns its encoding from the first partition, "
                         "which is empty: repartition the data (df.repartition(npartitions=...)) first")
    try:
        matrix = _materialise(lambda: model_matrix(rhs, first, na_action="raise", output="pandas"), first, rhs=rhs)
    except ValueError as exc:
        raise ValueError(f"cannot encode the first partition with formula {formula!r}: {exc}") from exc
    spec = matrix.model_spec
    if spec.transform_state:
        raise ValueError(f"formula {formula!r} uses transforms that learn constants from the data "
                         f"({', '.join(sorted(spec.transform_state))}); on a Dask data frame they would be learned "
                         "from the first partition only. Compute those columns first (e.g. "
                         "df.assign(x_c=df.x - df.x.mean())) and name them in the formula")
    columns = [str(name) for name in spec.column_names if name != INTERCEPT]
    if hasattr(parsed, "lhs"):
        y = outcome_of_rows(formula, data)
    meta = pd.DataFrame({name: pd.Series(dtype=float) for name in columns})
    design = data.map_partitions(_encoded_partition, spec, columns, meta=meta)
    return FormulaFit(design, y, spec, terms_of(spec))


def design_of_rows(spec, data, columns):
    """New rows of a Dask data frame encoded by the fitted ``spec``, lazily (predictions)."""
    meta = pd.DataFrame({str(name): pd.Series(dtype=float) for name in columns})
    return data.map_partitions(_encoded_partition, spec, [str(name) for name in columns], meta=meta)


def outcome_of_rows(formula: str, data):
    """The outcome column the formula's left side names, of the Dask frame ``data`` (None when the
    formula names none): for fit, and for the assessments called without ``y`` (K-fold, LOO)."""
    parsed = parse(formula)
    if not hasattr(parsed, "lhs"):
        return None
    name = _outcome_column(parsed.lhs, data, formula)
    # selected inside each partition, not as data[name]: Dask's optimiser pushes a column selection
    # into a .categorize() below it, which fails there (KeyError; dask 2026.8)
    return data.map_partitions(operator.getitem, name, meta=data._meta[name])


def _outcome_column(lhs, data, formula: str) -> str:
    (term,) = list(lhs)
    name = str(term.factors[0].expr) if len(term.factors) == 1 else None
    if name not in data.columns:
        raise ValueError(f"formula {formula!r} on a Dask data frame must name the outcome as a column of the frame "
                         f"(it has {list(data.columns)[:10]}); compute an expression such as log(y) as a column "
                         "first, or pass y to fit")
    return name


def _encoded_partition(partition: pd.DataFrame, spec, columns: list) -> pd.DataFrame:
    """One partition's design; an unseen level, a missing column or a NaN raise, naming them."""
    design: NamedDesign = apply_spec(spec, partition, columns)
    return pd.DataFrame(design.values, columns=columns, index=partition.index)
