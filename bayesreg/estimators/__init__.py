"""The public estimators: ``LinearRegression``, ``LogisticRegression``, and (``glm``) ``PoissonRegression``,
``NegativeBinomialRegression``, ``StudentTRegression``.

Each follows the scikit-learn protocol (``fit``/``predict``, trailing-underscore fitted
attributes) and fits either the MAP (``method="map"``: the exact penalized solution) or the
full posterior by NUTS (``method="nuts"``, the default). ``_base`` holds what they share.
"""

from ..results import MAPEstimate
from ._base import DEFAULT_PRIOR, MAPFailureWarning, _BayesianRegression
from .glm import NegativeBinomialRegression, PoissonRegression, StudentTRegression
from .linear import LinearRegression
from .logistic import LogisticRegression

__all__ = ["DEFAULT_PRIOR", "LinearRegression", "LogisticRegression", "MAPEstimate", "MAPFailureWarning",
           "NegativeBinomialRegression", "PoissonRegression", "StudentTRegression", "_BayesianRegression"]
