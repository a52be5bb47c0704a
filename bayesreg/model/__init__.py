"""The model: its structure and data (``spec``, no PyMC), and the PyMC reference model built from them.

``spec``  :class:`ModelSpec` and the data dicts every path is computed from (MAP, evidence, NUTS).
``pymc``  the PyMC model, the specification the compiled kernels are tested against; imported
          (with PyMC) only when asked for: ``bayesreg.model.build_model`` or ``est.pymc_model()``.
"""

from .glm_spec import glm_inputs, sigma_prior_data
from .spec import (ModelSpec, collapsed_data, gaussian_data, linear_inputs, linear_inputs_from_statistics,
                   logistic_inputs, mixture_pays, quadratic_inputs)
from .row_weights import weighted_linear_inputs, weighted_logistic_inputs

__all__ = ["ModelSpec", "build_model", "collapsed_data", "gaussian_data", "glm_inputs", "linear_inputs",
           "linear_inputs_from_statistics", "logistic_inputs", "mixture_pays", "quadratic_inputs", "sigma_prior_data",
           "weighted_linear_inputs", "weighted_logistic_inputs"]


def __getattr__(name):
    """``build_model`` imports PyMC (seconds), so it loads on first use, not with the specification."""
    if name == "build_model":
        from .pymc import build_model

        return build_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
