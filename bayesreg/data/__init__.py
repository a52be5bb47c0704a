"""Data layer: what the likelihoods need from the data, from NumPy or from Dask.

``statistics``  sufficient statistics of the Gaussian likelihood and their stable merge.
``dask_input``  Dask arrays / DataFrames: detection (without importing Dask), validation,
                one distributed pass per statistic, lazy prediction.
"""

from .dask_input import is_dask_input
from .statistics import GaussianStatistics, array_statistics

__all__ = ["GaussianStatistics", "array_statistics", "is_dask_input"]
