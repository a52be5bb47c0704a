r"""Formulas in, numeric designs out: a data frame encoded by formulaic (no parser of our own).

``formula="y ~ x1 + C(region) + x2:x3"`` is parsed and materialised by formulaic
(Wilkinson formulas: factors, ``C(x, contr.treatment('b'))`` with a chosen reference level,
interactions, ``center()``, ``scale()``, ``poly()``, ``bs()``). What formulaic learns from the
training frame (factor levels, centring constants, spline knots) is its *model spec*; predictions on a
new frame go through that same spec, so a level or a column order never changes the encoding.

The intercept is the estimator's (``fit_intercept``: a flat prior, never penalized), so formulaic's
``Intercept`` column is dropped from the design. The formula's intercept must agree with
``fit_intercept``: ``"y ~ x"`` (implicit ``1 +``) with ``fit_intercept=True``, ``"y ~ 0 + x"`` or
``"y ~ x - 1"`` with ``fit_intercept=False``. With an intercept formulaic codes a factor of ``k``
levels by ``k - 1`` treatment contrasts; without one, by ``k`` indicators.

Errors name the problem: a column the formula uses but the frame lacks (with the closest column name),
a missing value (NaN/None) in a used column (never dropped silently: formulaic's default drops such
rows), a factor level not seen in training (formulaic would encode it as all zeros), and in training
a level or an interaction cell that no row has (a column of zeros: a coefficient the data do not touch).

String columns are factors whatever their dtype backend: ``object``, ``str``, ``category``, pandas'
``string[pyarrow]``/``string[python]`` and pyarrow-backed ``pd.ArrowDtype`` strings and dictionaries
(:func:`plain_factors` hands the last ones to formulaic as ``object`` columns).

Each term of the formula is a group of columns (``terms``): a factor of ``k`` levels is one group of
``k - 1`` columns; the group priors (:mod:`bayesreg.priors.groups`) shrink them together.
Saving a formula fit stores the spec as JSON (:mod:`bayesreg.data.formula_state`), never a pickle.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import functools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .validation import NamedDesign

INTERCEPT = "Intercept"


@dataclass(frozen=True)
class FormulaFit:
    """What a fit learns from its formula: the design (no intercept column), y (or None), the spec."""

    X: NamedDesign
    y: object
    model_spec: object  # formulaic.ModelSpec of the right-hand side
    terms: dict  # term -> its column names, in design order (the intercept left out)


def parse(formula):
    """formulaic's ``Formula`` of ``formula``, or a ``TypeError``/``ValueError`` that says what is wrong."""
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string such as 'y ~ x1 + C(region)', got {formula!r}")
    return _parsed(formula)


@functools.lru_cache(maxsize=64)
def _parsed(formula: str):
    """Parsed once per formula string (a refit, a grid search's clones): formulaic's ``Formula``
    is not changed by materialising it."""
    from formulaic import Formula
    from formulaic.errors import FormulaicError

    try:
        parsed = Formula(formula)
    except (FormulaicError, SyntaxError) as exc:
        raise ValueError(f"cannot parse formula {formula!r}: {exc}") from exc
    if hasattr(parsed, "lhs") and len(list(parsed.lhs)) != 1:
        raise ValueError(f"formula {formula!r} must name one outcome on the left of '~', got {str(parsed.lhs)!r}")
    return parsed


def _has_intercept(rhs) -> bool:
    return any(str(term) == "1" for term in rhs)


def fit_design(formula: str, data, y, fit_intercept: bool) -> FormulaFit:
    """Encode the training frame ``data``; ``y`` is taken from the formula's left side unless it has none."""
    from formulaic import model_matrix

    parsed, rhs = checked_formula(formula, y, fit_intercept)
    frame = plain_factors(_frame(data, f"fit with formula={formula!r}"), factor_names(rhs))
    if hasattr(parsed, "lhs"):
        y = _outcome(parsed.lhs, frame, formula)
    try:
        matrix = _materialise(lambda: model_matrix(rhs, frame, na_action="raise", output="pandas"), frame, rhs=rhs)
        check_cells(matrix)
    except ValueError as exc:
        raise ValueError(f"cannot encode the data with formula {formula!r}: {exc}") from exc
    spec = matrix.model_spec
    return FormulaFit(_without_intercept(matrix), y, spec, terms_of(spec))


def checked_formula(formula: str, y, fit_intercept: bool):
    """``(parsed, right side)``, after the checks that need no data: the intercept agrees with
    ``fit_intercept``, and ``y`` is given exactly when the formula names no outcome."""
    parsed = parse(formula)
    rhs = parsed.rhs if hasattr(parsed, "lhs") else parsed
    if _has_intercept(rhs) != bool(fit_intercept):
        has = _has_intercept(rhs)
        raise ValueError(
            f"formula {formula!r} {'has' if has else 'removes'} an intercept but fit_intercept={fit_intercept}: "
            + ("write '0 + ...' or '... - 1' in the formula, or pass fit_intercept=True" if not fit_intercept
               else "pass fit_intercept=False, or drop '0 +' / '- 1' from the formula"))
    if hasattr(parsed, "lhs") and y is not None:
        raise ValueError(f"formula {formula!r} names the outcome ({str(parsed.lhs)!r}), so fit takes no y: "
                         "call fit(df), or write the formula without a left side ('~ x1 + ...') and pass y")
    if not hasattr(parsed, "lhs") and y is None:
        raise ValueError(f"requires y to be passed, but the target y is None: formula {formula!r} has no outcome; "
                         "write 'y ~ ...' to take y from the data frame, or call fit(df, y)")
    return parsed, rhs


def apply_spec(spec, data, columns) -> NamedDesign:
    """The design of new rows ``data`` under the fitted ``spec`` (the intercept column dropped), which
    must have the training design's ``columns``."""
    names = factor_names(spec.formula)
    frame = plain_factors(_frame(data, "predict with a formula fit"), names)
    matrix = _materialise(lambda: spec.get_model_matrix(frame, na_action="raise", output="pandas"), frame, spec,
                          spec.formula)
    expected = list(columns)
    design = _without_intercept(matrix)
    if list(design.columns) != expected:  # e.g. a spec rebuilt from a file by another formulaic version
        raise ValueError(f"the formula encoded the data into columns {list(design.columns)}, but the model was "
                         f"fitted on {expected}")
    return design


def outcome_of(formula: str, data):
    """The outcome the formula's left side reads from the frame ``data`` (None when it has none):
    the training ``y`` of a formula fit's assessment (K-fold, LOO) called without ``y``."""
    parsed = parse(formula)
    if not hasattr(parsed, "lhs"):
        return None
    return _outcome(parsed.lhs, _frame(data, f"read the outcome of formula={formula!r}"), formula)


def terms_of(spec) -> dict:
    """``{term: [its columns]}`` in design order, the intercept left out (a factor: its contrasts)."""
    return {str(term): [spec.column_names[i] for i in indices]
            for term, indices in spec.term_indices.items() if str(term) != "1"}


def group_labels(terms: dict) -> np.ndarray:
    """One label per design column: the name of its term."""
    return np.asarray([term for term, columns in terms.items() for _ in columns], dtype=object)


def _outcome(lhs, frame: pd.DataFrame, formula: str):
    """The outcome column as given (labels kept: strings stay strings for logistic regression), or
    for an expression such as ``log(y)`` its one numeric column."""
    from formulaic import model_matrix

    (term,) = list(lhs)
    if len(term.factors) == 1 and str(term.factors[0].expr) in frame.columns:
        return frame[str(term.factors[0].expr)]
    if len(term.factors) == 1 and term.factors[0].eval_method.value == "lookup":
        raise ValueError(f"formula {formula!r} names the outcome {str(lhs)!r}, but the data frame has no such "
                         f"column (it has {list(frame.columns)[:10]})")
    values = _materialise(lambda: model_matrix(lhs, frame, na_action="raise", output="pandas"), frame)
    if values.shape[1] != 1:
        raise ValueError(f"the left side of formula {formula!r} gives {values.shape[1]} columns "
                         f"{list(values.columns)}; it must give one outcome column")
    return values.iloc[:, 0].astype(float)


def _frame(data, doing: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict):
        return pd.DataFrame(data)
    kind = type(data).__module__.split(".")[0]
    if kind == "dask":  # a Dask data frame is encoded partition by partition (formula_dask), not here
        raise TypeError(f"cannot {doing} on a Dask {type(data).__name__}: pass a Dask DataFrame holding the "
                        "formula's columns")
    raise TypeError(f"to {doing}, pass a pandas DataFrame holding the formula's columns, got {type(data).__name__}")


def factor_names(rhs) -> frozenset:
    """Every name in the formula's factors: the columns it looks up, and the functions it calls."""
    names = set()
    for term in rhs:
        for factor in term.factors:
            expr = str(factor.expr)
            if factor.eval_method.value == "lookup":
                names.add(expr.strip("`"))
            elif factor.eval_method.value == "python":
                names |= _expression_names(expr)
    return frozenset(names)


def _expression_names(expr: str) -> set:
    try:
        return {node.id for node in ast.walk(ast.parse(expr, mode="eval")) if isinstance(node, ast.Name)}
    except SyntaxError:
        return {expr.strip("`")}


def _is_text(dtype) -> bool:
    """A string column that formulaic would not see as a factor: pandas' ``string`` dtype with
    ``pd.NA`` (``"string[pyarrow]"``, ``"string[python]"``, what Dask makes of strings) and pyarrow-backed
    strings and dictionaries (``pd.ArrowDtype``, e.g. from ``read_parquet(dtype_backend="pyarrow")``).
    formulaic takes ``object``, pandas 3's default ``str`` and ``category`` as factors, and tries
    to read anything else as numbers ("could not convert string to float")."""
    if isinstance(dtype, pd.StringDtype):
        return dtype != "str"  # pandas 3's default (na_value=NaN) is the one formulaic knows
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        kind = dtype.pyarrow_dtype
        return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind)
    return False


def plain_factors(frame: pd.DataFrame, names) -> pd.DataFrame:
    """The frame with the formula's string columns of other dtypes (:func:`_is_text`) as ``object``
    columns, missing values as NaN (so that ``na_action="raise"`` sees them): a factor whatever the
    dtype backend. Its levels are then the sorted strings, as for any string column (a pyarrow
    dictionary's order is the order of first appearance, no meaning). Other columns are not copied."""
    text = [c for c in frame.columns if c in names and _is_text(frame[c].dtype)]
    if not text:
        return frame
    converted = {c: frame[c].astype(object).where(frame[c].notna(), np.nan) for c in text}
    return frame.assign(**converted)


def check_cells(matrix) -> None:
    """A column of a term made of factors only (a level, or a combination of levels of an
    interaction) that is zero in every training row has no data: its coefficient would be the
    prior's alone, and the term's other coefficients would shift with it. An error naming it."""
    from formulaic.parser.types import Factor

    spec = matrix.model_spec
    kinds = {expr: kind for expr, (kind, _) in spec.encoder_state.items()}
    for term, indices in spec.term_indices.items():
        exprs = [str(factor.expr) for factor in term.factors]
        if str(term) == "1" or not all(kinds.get(expr) is Factor.Kind.CATEGORICAL for expr in exprs):
            continue
        for i in indices:
            name = spec.column_names[i]
            if not matrix[name].to_numpy().any():
                what = "combination of levels" if len(exprs) > 1 else "level"
                raise ValueError(
                    f"column {name!r} of term {str(term)!r} is zero in every row: no row has that {what}, so the "
                    "data say nothing about its coefficient. Drop the term or merge levels (for an interaction "
                    "of factors with an empty cell, e.g. keep the main effects only), or drop unused "
                    "categories (df[col].cat.remove_unused_categories())")


def _materialise(build, frame: pd.DataFrame, spec=None, rhs=None):
    """``build()``, with formulaic's quiet failure modes made errors that name the column or level."""
    from formulaic.errors import DataMismatchWarning, FactorEvaluationError

    with warnings.catch_warnings():
        warnings.simplefilter("error", DataMismatchWarning)  # an unseen level: formulaic would code it as zeros
        try:
            return build()
        except DataMismatchWarning as exc:
            raise ValueError(f"the data hold a factor level not seen in training ({_unseen(spec, frame, exc)}): "
                             "the model has no coefficient for it. Drop or recode those rows (e.g. to the "
                             "reference level), or refit with them in the training data") from None
        except FactorEvaluationError as exc:
            missing = _missing_columns(rhs, frame)
            if missing:
                raise ValueError(f"the data frame has no column {', '.join(map(repr, missing))}, which the formula "
                                 f"uses{_close_matches(missing, frame)} (it has columns {list(frame.columns)[:20]})"
                                 ) from None
            raise ValueError(f"a column the formula uses is missing or cannot be evaluated: {exc} "
                             f"(the data frame has columns {list(frame.columns)[:20]})") from None
        except ValueError as exc:
            if "null values" in str(exc):
                raise ValueError(f"missing values (NaN/None) in a column the formula uses: {exc} Drop those rows "
                                 "(df.dropna(subset=[...])) or impute them first") from None
            raise


def _missing_columns(rhs, frame: pd.DataFrame) -> list:
    """The names the formula uses that are neither columns of the frame nor formulaic's transforms
    (``C``, ``np``, ``center``, ...) nor Python's builtins."""
    from formulaic.transforms import TRANSFORMS

    if rhs is None:
        return []
    known = {str(c) for c in frame.columns} | set(TRANSFORMS) | set(dir(builtins))
    return sorted(set(factor_names(rhs)) - known)


def _close_matches(missing: list, frame: pd.DataFrame) -> str:
    columns = [str(c) for c in frame.columns]
    found = {name: difflib.get_close_matches(name, columns, n=1) for name in missing}
    hints = [f"{matches[0]!r} for {name!r}" for name, matches in found.items() if matches]
    return f"; did you mean {', '.join(hints)}?" if hints else ""


def _unseen(spec, frame: pd.DataFrame, warning) -> str:
    """Which column holds which unseen levels, from the spec's training levels; formulaic's own
    message lists the levels but not the column."""
    found = []
    for expr, (_, state) in (spec.encoder_state.items() if spec is not None else ()):
        if "categories" not in state:
            continue
        try:
            names = {node.id for node in ast.walk(ast.parse(expr, mode="eval")) if isinstance(node, ast.Name)}
        except SyntaxError:
            names = {expr.strip("`")}
        for column in sorted(names & {str(c) for c in frame.columns}):
            unseen = sorted(set(frame[column].dropna().tolist()) - set(state["categories"]), key=str)
            if unseen:
                found.append(f"column {column!r} has {unseen}, the fit saw {list(state['categories'])}")
    return "; ".join(found) or str(warning)


def _without_intercept(matrix) -> NamedDesign:
    """formulaic's columns without its ``Intercept``, as one column-major (Fortran-ordered) float64
    array and the names.

    formulaic's pandas output holds one array per column; each is copied once, whole, into its
    column of the design (a contiguous copy: ~6 ms at n = 1e5, p = 32, where writing a row-major
    design, a transposition, took ~11 ms; benchmarks/RESULTS.md). Every consumer takes either order:
    the closed-form and Newton solvers centre (a new array) and call BLAS, and the samplers' data
    go through ``np.ascontiguousarray``. The result equals formulaic's matrix bit for bit, and no
    DataFrame round trip follows (formulaic's ``na_action="raise"`` has checked missing values;
    ``check_X`` checks finiteness).
    """
    names = [str(name) for name in matrix.columns if name != INTERCEPT]
    by_column = np.empty((len(names), len(matrix)))
    for row, name in zip(by_column, names):
        row[:] = matrix[name].to_numpy()
    return NamedDesign(by_column.T, names)
