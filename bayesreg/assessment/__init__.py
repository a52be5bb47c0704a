"""How good is a fit, and which variables matter: LOO and comparison (:mod:`.loo`, :mod:`.fitted`),
Bayesian R^2, shrinkage factors and ranks (:mod:`.shrinkage`), projection predictive selection
(:mod:`.projection`, :mod:`.selection`).

Works on fitted estimators through their attributes; never imports :mod:`bayesreg.estimators`.
"""

from .fitted import bayes_r2_draws, compare, estimator_loo
from .loo import LOOWarning

__all__ = ["LOOWarning", "bayes_r2_draws", "compare", "estimator_loo"]
