"""What a prior is: specifications with their densities and penalties. No PyMC, no data here.

``base``          :class:`Prior` and :class:`Hyperprior`, scikit-learn's parameter protocol, checks.
``coefficients``  Normal (ridge), Laplace (lasso), ElasticNet, Horseshoe, RegularizedHorseshoe.
``global_local``  HorseshoePlus, R2D2.
``groups``        GroupLaplace (the Bayesian group lasso): groups of coefficients shrunk together.
``hyperpriors``   learned scales: HalfCauchy, HalfStudentT; Park & Casella's BayesianLasso.
``autoscale``     a prior resolved on the data (``autoscale=True`` into numbers).
``conventions``   penalties, priors and scikit-learn's parameters converted into each other.
"""

from .autoscale import autoscale_factors, population_sd, resolve_prior
from .base import Hyperprior, Params, Prior
from .coefficients import ElasticNet, Horseshoe, Laplace, Normal, RegularizedHorseshoe
from .global_local import HorseshoePlus, R2D2
from .conventions import Penalty, penalty_from_prior, prior_from_penalty, prior_from_sklearn
from .groups import GroupLaplace
from .hyperpriors import BayesianLasso, HalfCauchy, HalfStudentT

__all__ = ["BayesianLasso", "ElasticNet", "GroupLaplace", "HalfCauchy", "HalfStudentT", "Horseshoe", "HorseshoePlus",
           "Hyperprior", "Laplace", "Normal", "Params", "Penalty", "Prior", "R2D2", "RegularizedHorseshoe",
           "autoscale_factors",
           "penalty_from_prior", "population_sd", "prior_from_penalty", "prior_from_sklearn", "resolve_prior"]
