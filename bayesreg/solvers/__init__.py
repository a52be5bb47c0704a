"""MAP solvers: exact penalized fits. No PyMC here; data only through :mod:`bayesreg.data`'s face.

``linear``        Gaussian likelihood: closed-form ridge, exact lasso / elastic net, joint sigma.
``logistic``      Bernoulli likelihood: Newton (L2) and proximal Newton (L1).
``quadratic_l1``  the exact quadratic + L1 minimiser both rely on.
``glm``           every family, with offsets, row weights and auxiliary parameters: proximal Newton.
``groups``        the group lasso (GroupLaplace): block coordinate descent + Newton polish, linear and logistic.
"""

from .glm import GLMMAP, family_map, fit_glm_map
from .groups import fit_linear_group_map, fit_logistic_group_map, kkt_violation, minimize_quadratic_group
from .linear import LinearMAP, NoMAPError, fit_linear_map, fit_linear_map_from_statistics
from .logistic import fit_logistic_map, logistic_map, newton_map
from .quadratic_l1 import minimize_quadratic_l1

__all__ = ["GLMMAP", "LinearMAP", "NoMAPError", "family_map", "fit_glm_map", "fit_linear_group_map", "fit_linear_map",
           "fit_linear_map_from_statistics", "fit_logistic_group_map", "fit_logistic_map", "kkt_violation",
           "minimize_quadratic_group",
           "logistic_map", "minimize_quadratic_l1", "newton_map"]
