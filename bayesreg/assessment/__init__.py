"""How good is a fit, and which variables matter: LOO, K-fold and comparison (:mod:`.loo`, :mod:`.kfold`,
:mod:`.reloo`, :mod:`.fitted`; Dask fits: :mod:`.dask_passes`),
Bayesian R^2, shrinkage factors (:mod:`.shrinkage`), ranks (:mod:`.ranking`), projection predictive
selection (:mod:`.projection`, :mod:`.projection_glm`, :mod:`.selection`; Dask rows: :mod:`.selection_dask`).

Works on fitted estimators through their attributes; never imports :mod:`bayesreg.estimators`.
"""

from .fitted import compare, estimator_bayes_r2, estimator_kfold, estimator_loo
from .r2 import bayes_r2_draws
from .loo import LOOWarning
from .projection import Projection, forward_search, project_gaussian
from .projection_glm import project_bernoulli, project_poisson
from .ranking import RankDistribution, rank_draws
from .selection import ProjectedModel, Selection, select
from .shrinkage import Shrinkage, estimator_shrinkage

__all__ = ["LOOWarning", "ProjectedModel", "Projection", "RankDistribution", "Selection", "Shrinkage",
           "bayes_r2_draws", "compare", "estimator_bayes_r2", "estimator_kfold", "estimator_loo", "estimator_shrinkage", "forward_search",
           "project_bernoulli", "project_gaussian", "project_poisson", "rank_draws", "select"]
