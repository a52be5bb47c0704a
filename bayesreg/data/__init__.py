"""Data in, validated blocks and statistics out: arrays, DataFrames or Dask. The only package that imports dask.

``validation``       every input check, in one place (messages name the problem and the argument).
``statistics``       sufficient statistics of the Gaussian likelihood and their stable merge.
``scaling``          the exact power-of-two rescaling of a design (the logistic MAP runs in it).
``dask_input``       Dask arrays / DataFrames: detection (without importing Dask), validation,
                     one distributed pass per statistic, lazy prediction, Parquet.
``logistic_passes``  the Bernoulli likelihood's distributed passes (labels, Newton steps, draws).
``family_passes``    any family's passes (Poisson, negative binomial): the rows' sums, in memory or Dask.
``dask_row_arguments`` offset and sample_weight of Dask input, split into X's row blocks.
``dask_fit``         what fit and predict do differently for Dask input, so estimators never ask.
``formula``          data frames encoded by a formula (formulaic): the design, y, the terms.
``formula_state``    a formula fit's model spec as JSON and back (no pickle), for save and load.

Everything outside this package reaches it through the names below; Dask itself is imported only
when Dask input arrives (``import bayesreg`` never imports it).
"""

from . import dask_fit, formula, formula_state, validation
from .dask_input import dask_statistics, is_dask_input, read_parquet, require_dask
from .family_passes import (DaskFamilyData, LikelihoodSums, family_data, family_draws_log_likelihood_of,
                            family_likelihood_of, family_scaling_of, family_size_of, outcome_stand_in)
from .logistic_passes import (DaskBinaryData, binary_data, draws_log_likelihood, draws_log_likelihood_of,
                              likelihood_of, scaling_of, size_of)
from .scaling import Scaling, binary_exponent
from .statistics import GaussianStatistics, array_statistics

__all__ = ["DaskBinaryData", "DaskFamilyData", "LikelihoodSums", "family_data", "family_draws_log_likelihood_of",
           "family_likelihood_of", "family_scaling_of", "family_size_of", "outcome_stand_in", "GaussianStatistics", "Scaling", "array_statistics", "binary_data", "binary_exponent",
           "dask_fit", "dask_statistics", "formula", "formula_state", "draws_log_likelihood",
           "draws_log_likelihood_of", "is_dask_input",
           "likelihood_of", "read_parquet", "require_dask", "scaling_of", "size_of", "validation"]
