"""What ``fit`` and the predictions do differently for Dask input, kept out of the estimators.

In ``fit`` the data are either the in-memory pair ``(X, y)`` or what one distributed pass learned:
:class:`~bayesreg.data.GaussianStatistics` (linear) or
:class:`~bayesreg.data.logistic_passes.DaskBinaryData` (logistic) or
:class:`~bayesreg.data.family_passes.DaskFamilyData` (Poisson, negative binomial). The functions here answer the
questions the estimators ask of either form, so the estimators never test for Dask themselves
(the logistic MAP on either form is :func:`bayesreg.solvers.logistic_map`).
"""

from __future__ import annotations

import numpy as np

from . import validation as v
from .dask_input import check_dask_X, is_dask_input, lazy_rows
from .family_passes import DaskFamilyData
from .logistic_passes import DaskBinaryData
from .statistics import GaussianStatistics


def check_dask_fit(log_likelihood) -> None:
    if log_likelihood:
        raise ValueError("log_likelihood=True is not available for Dask input: pointwise values take "
                         "n x draws numbers; compute them on a sample of rows instead")


def autoscale_data(data) -> dict:
    """The data arguments of :func:`~bayesreg.priors.resolve_prior`: ``X`` and ``y`` in memory, or
    the population sds a distributed pass computed (``sds=(x_sd, y_sd or None, constant columns or None)``)."""
    if isinstance(data, tuple):
        return {"X": data[0], "y": data[1]}
    if isinstance(data, GaussianStatistics):
        # population sds from the centred co-moments; a constant column has exactly 0 there
        return {"X": None, "y": None, "sds": (np.sqrt(np.maximum(np.diag(data.xx), 0.0) / data.n), data.y_sd, None)}
    return {"X": None, "y": None, "sds": (data.x_sd, None, data.x_max == data.x_min)}


def in_memory_binary(data):
    """``(X, y01)`` in memory: exact NUTS needs every row at every gradient."""
    if not isinstance(data, DaskBinaryData):
        return data
    X_arr, _ = v.check_X(data.X.compute())
    y = data.y.compute() if is_dask_input(data.y) else data.y
    return X_arr, v.check_y_fitted_labels(y, X_arr.shape[0], data.classes).astype(float)


def in_memory_family(data):
    """``(X, y)`` in memory (exact NUTS on Dask input of the count families), y checked by the family."""
    if not isinstance(data, DaskFamilyData):
        return data
    X_arr, _ = v.check_X(data.X.compute())
    y = data.y.compute() if is_dask_input(data.y) else data.y
    return X_arr, data.family.check_y(v.check_y_continuous(y, X_arr.shape[0]))


def rows_of(estimator, X, block_function, n_columns=None):
    """``block_function`` of the validated rows of ``X``; a lazy Dask array for Dask input.

    ``block_function`` must not hold the estimator (a lazy task would carry it to the workers).
    """
    if is_dask_input(X):
        X = estimator._design_of(X)  # a formula fit: the partitions encoded by its spec, lazily
        names = check_dask_X(X)
        estimator._check_columns(len(names) if names is not None else X.shape[1], names)
        return lazy_rows(X, block_function, n_columns)
    return block_function(estimator._validated_X(X))


def labels_of(positive, classes):
    """``classes[positive]``, lazily for a Dask array."""
    if is_dask_input(positive):
        return positive.map_blocks(lambda block: classes[block.astype(int)], dtype=classes.dtype)
    return classes[positive.astype(int)]
