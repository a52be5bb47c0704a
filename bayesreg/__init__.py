"""bayesreg: regularization as a prior.

Ridge, lasso, elastic-net and horseshoe regression (linear and logistic), with MAP estimates
that are exactly the penalized solutions and full NUTS posteriors for their uncertainty.

The pipeline, one package a step::

    data        arrays, DataFrames or Dask in; validated blocks and sufficient statistics out
      -> priors x families     what a prior is (density, penalty) x what an outcome is (likelihood)
      -> model    spec: the structure and its data (no PyMC); pymc: the PyMC reference model
      -> solvers (exact MAP) | evidence (empirical Bayes) | sampling (NUTS on numba kernels
         compiled once per machine, not through PyMC: the PyMC model is what they are tested against)
      -> estimators (fit, predict; the scikit-learn protocol) -> results (summary, predictive)
      -> plots, cli;  persistence saves and loads fits;  calibration checks the posteriors (SBC)

Priors, families, data, solvers and the model's spec never import PyMC; only ``data`` imports
Dask. ``tests/test_layout.py`` holds the package to these rules.
"""

from .assessment import compare, select
from .estimators import (LinearRegression, LogisticRegression, MAPEstimate, MAPFailureWarning, NegativeBinomialRegression,
                         PoissonRegression, StudentTRegression)
from .persistence import load
from .priors import (R2D2, BayesianLasso, ElasticNet, GroupLaplace, HalfCauchy, HalfStudentT, Horseshoe, HorseshoePlus,
                     Laplace, Normal, Penalty, Prior, RegularizedHorseshoe, penalty_from_prior, prior_from_penalty,
                     prior_from_sklearn, resolve_prior)
from .solvers import NoMAPError

__all__ = [
    "BayesianLasso",
    "ElasticNet",
    "GroupLaplace",
    "HalfCauchy",
    "HalfStudentT",
    "Horseshoe",
    "HorseshoePlus",
    "Laplace",
    "LinearRegression",
    "LogisticRegression",
    "MAPEstimate",
    "MAPFailureWarning",
    "NegativeBinomialRegression",
    "NoMAPError",
    "Normal",
    "Penalty",
    "PoissonRegression",
    "Prior",
    "R2D2",
    "RegularizedHorseshoe",
    "StudentTRegression",
    "compare",
    "load",
    "penalty_from_prior",
    "prior_from_penalty",
    "prior_from_sklearn",
    "resolve_prior",
    "select",
]

__version__ = "0.1.0"

_LAZY_MODULES = ("plots", "calibration")  # matplotlib and the SBC machinery load on first use


def __getattr__(name):
    """``br.plots`` and ``br.calibration`` without importing them on ``import bayesreg``."""
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
