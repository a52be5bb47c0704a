"""bayesreg: regularization as a prior.

Ridge, lasso, elastic-net and horseshoe regression (linear and logistic), with MAP estimates
that are exactly the penalized solutions and full NUTS posteriors for their uncertainty.

Pipeline: ``priors`` x ``likelihoods`` -> ``model`` (PyMC) -> ``solvers`` (MAP) | ``sampling``
(NUTS) -> ``estimators`` (fit, predict, summary) -> ``plots``.
"""

from .conventions import Penalty, penalty_from_prior, prior_from_penalty, prior_from_sklearn
from .autoscale import resolve_prior
from .estimators import LinearRegression, LogisticRegression, MAPEstimate, MAPFailureWarning
from .hyperpriors import BayesianLasso, HalfCauchy, HalfStudentT
from .persistence import load
from .priors import ElasticNet, Horseshoe, Laplace, Normal, Prior, RegularizedHorseshoe
from .solvers import NoMAPError

__all__ = [
    "BayesianLasso",
    "ElasticNet",
    "HalfCauchy",
    "HalfStudentT",
    "Horseshoe",
    "Laplace",
    "LinearRegression",
    "LogisticRegression",
    "MAPEstimate",
    "MAPFailureWarning",
    "NoMAPError",
    "Normal",
    "Penalty",
    "Prior",
    "RegularizedHorseshoe",
    "load",
    "penalty_from_prior",
    "prior_from_penalty",
    "prior_from_sklearn",
    "resolve_prior",
]

__version__ = "0.1.0"

_LAZY_MODULES = ("plots", "calibration")  # matplotlib and the SBC machinery load on first use


def __getattr__(name):
    """``br.plots`` and ``br.calibration`` without importing them on ``import bayesreg``."""
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
