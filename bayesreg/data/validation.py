"""Input checks, in one place. Every message names the problem and the argument."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d

METHODS = ("nuts", "map", "empirical_bayes", "surrogate")  # empirical_bayes: exact (linear) or Laplace-approximate
# (logistic); surrogate: LogisticRegression only


@dataclass(frozen=True)
class NamedDesign:
    """A design matrix built by bayesreg itself (a formula's encoding): a contiguous (either order) float64
    array with no missing values (its producer checked them) and its column names. ``check_X``
    takes it as it is, with the finiteness check only: no DataFrame round trip, no copy."""

    values: np.ndarray
    columns: list

    @property
    def shape(self) -> tuple:
        return self.values.shape


def check_X(X, *, name: str = "X") -> tuple[np.ndarray, list[str] | None]:
    """Return ``X`` as a finite 2-d float64 array, and its column names if it had any.

    DataFrames get named checks first (which columns are non-numeric or missing); the generic
    checks are scikit-learn's ``check_array``, so messages match what its users know.
    """
    if isinstance(X, NamedDesign):
        _check_finite(X.values, name)
        return X.values, [str(c) for c in X.columns]
    feature_names = None
    if isinstance(X, pd.DataFrame):
        feature_names = [str(c) for c in X.columns]
        non_numeric = [
            str(c) for c, dtype in X.dtypes.items()
            if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))
        ]
        if non_numeric:
            raise TypeError(f"{name} has non-numeric columns {non_numeric}; encode them as numbers first")
        if X.isna().to_numpy().any():
            bad = [str(c) for c in X.columns[X.isna().any().to_numpy()]]
            raise ValueError(f"{name} contains missing values (NaN/NA) in columns {bad}")
        X = X.to_numpy(dtype=float)
    if sparse.issparse(X):
        raise TypeError(f"sparse input is not supported for {name}; pass a dense array (X.toarray())")
    X = check_array(X, dtype=np.float64, input_name=name, ensure_all_finite=False)
    _check_finite(X, name)
    return np.ascontiguousarray(X), feature_names


_MISSING_ADVICE = {"X": "drop those rows from X and y, or impute the values (sklearn.impute.SimpleImputer)",
                   "y": "drop those rows from X and y before fitting (e.g. keep = y.notna())"}


def _where(bad: np.ndarray) -> str:
    """``in 2 rows (first: row 3)``, with the column for a 2-d array: where to look."""
    rows = bad if bad.ndim == 1 else bad.any(axis=1)
    first = int(np.argmax(rows))
    column = f", column {int(np.argmax(bad[first]))}" if bad.ndim == 2 else ""
    count = int(rows.sum())
    return f"in {count} row{'s' if count != 1 else ''} of {rows.size} (first: row {first}{column}, counting from 0)"


def _check_finite(a: np.ndarray, name: str) -> None:
    if np.isfinite(a.sum()):  # the common case in one pass and no n x p masks (a finite sum has no NaN/inf)
        return
    for test, what, advice in ((np.isnan, "NaN", _MISSING_ADVICE["y" if name == "y" else "X"]),
                               (np.isinf, "infinity", "remove or correct those rows before fitting")):
        bad = test(a)
        if bad.any():
            raise ValueError(f"{name} contains {what} {_where(bad)}; {advice}")


def _as_1d(y, n_rows: int) -> np.ndarray:
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    if isinstance(y, pd.DataFrame) and y.shape[1] == 1:
        y = y.iloc[:, 0]
    if isinstance(y, pd.Series):
        if y.isna().any():
            raise ValueError(f"y contains missing values (NaN/NA) {_where(y.isna().to_numpy())}; "
                             f"{_MISSING_ADVICE['y']}")
        # keep the labels' type (int 0/1 stays int, as scikit-learn's classes_); nullable Int64,
        # Float64 and boolean become their numpy dtypes
        y = y.to_numpy(dtype=getattr(y.dtype, "numpy_dtype", None))
    y = np.asarray(y)
    if y.ndim == 0 or (y.ndim == 2 and y.shape[1] != 1) or y.ndim > 2:
        raise ValueError(f"y must be 1-d, got shape {y.shape}")
    y = column_or_1d(y, warn=True)  # a (n, 1) column is accepted with scikit-learn's warning
    if y.shape[0] != n_rows:
        raise ValueError(f"X and y have different numbers of rows: {n_rows} and {y.shape[0]}")
    return y


def check_y_continuous(y, n_rows: int) -> np.ndarray:
    y = _as_1d(y, n_rows)
    try:
        y = y.astype(float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"y must be numeric for a linear model, got dtype {y.dtype}") from exc
    _check_finite(y, "y")
    return y


def _labels(y, n_rows: int) -> np.ndarray:
    y = _as_1d(y, n_rows)
    if np.issubdtype(y.dtype, np.floating):
        _check_finite(y, "y")
    elif y.dtype == object:
        missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in y], dtype=bool)
        if missing.any():
            raise ValueError(f"y contains missing values (None/NaN) {_where(missing)}; {_MISSING_ADVICE['y']}")
    return y


def check_y_fitted_labels(y, n_rows: int, classes: np.ndarray) -> np.ndarray:
    """``y`` as 0/1 against a fitted model's ``classes`` (``classes[1]`` is 1). New data may hold
    one class only; labels the model never saw are an error."""
    y = _labels(y, n_rows)
    unknown = sorted(set(np.unique(y).tolist()) - set(classes.tolist()))
    if unknown:
        raise ValueError(f"y has labels {unknown} the model was not fitted on ({classes.tolist()})")
    return (y == classes[1]).astype(np.int64)


def check_y_binary(y, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(y01, classes)``: ``classes`` sorted, ``classes[1]`` the positive class."""
    y = _labels(y, n_rows)
    check_classification_targets(y)
    classes, y01 = np.unique(y, return_inverse=True)
    if len(classes) == 1:
        raise ValueError(f"logistic regression needs two classes in y, got only one class: {classes.tolist()}")
    if len(classes) > 2:
        raise ValueError(
            f"Only binary classification is supported. y has {len(classes)} classes: "
            f"{classes[:5].tolist()}{' ...' if len(classes) > 5 else ''}"
        )
    return y01.astype(float), classes


def check_method(method) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    return method


def check_sigma(sigma) -> float | None:
    if sigma is None:
        return None
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real):
        raise TypeError(f"sigma must be a positive number or None, got {sigma!r}")
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma (the noise sd) must be finite and > 0, got {sigma!r}")
    return float(sigma)


def check_offset(offset, n_rows: int) -> np.ndarray | None:
    """``offset`` as a finite float64 vector of length ``n_rows`` (None stays None)."""
    if offset is None:
        return None
    offset = _row_vector(offset, n_rows, "offset")
    _check_finite(offset, "offset")
    return offset


def check_sample_weight(sample_weight, n_rows: int, *, all_rows: bool = True) -> np.ndarray | None:
    """``sample_weight`` as a finite, non-negative float64 vector with a positive sum (None stays None).
    ``all_rows=False``: a piece of the rows (a Dask block), whose weights may all be 0; the positive
    sum is then checked on the total."""
    if sample_weight is None:
        return None
    weights = _row_vector(sample_weight, n_rows, "sample_weight")
    _check_finite(weights, "sample_weight")
    if np.any(weights < 0):
        raise ValueError(f"sample_weight must be >= 0; it is negative {_where(weights < 0)}. A weight counts "
                         "a row that many times: use 0 to leave a row out")
    if all_rows and not weights.sum() > 0:
        raise ValueError("sample_weight is zero in every row, so there are no data to fit; give some rows a weight > 0")
    return weights


def _row_vector(values, n_rows: int, name: str) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.DataFrame)):
        values = values.to_numpy()
    try:
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must hold one number per row of X") from exc
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or values.shape[0] != n_rows:
        raise ValueError(f"{name} must hold one number per row of X ({n_rows} rows), got shape {values.shape}")
    return np.ascontiguousarray(values)
