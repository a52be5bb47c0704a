"""Plots of fits, each a matplotlib ``Figure`` (never ``plt.show()``). Loaded on first use of ``bayesreg.plots``.

``fitted``          one or several fitted estimators: coefficients (forest, MAP marked), prior against
                    posterior, posterior predictive checks, predicted probabilities, the horseshoe's density.
``regularization``  how much to regularize: the shrinkage path (MAP beside posterior) and ``how_much``.
``per_term``        does a term (a factor's columns together) matter: ``terms``, the posterior of each
                    term's contribution or group norm.
``assessment``      which variables matter: shrinkage factors and m_eff, ranks, projection predictive selection.
"""

from .assessment import ranks, selection, shrinkage_factors
from .fitted import (MAP_LABEL, coefficients, horseshoe_density, posterior_predictive, predicted_probabilities,
                     prior_posterior)
from .per_term import terms
from .regularization import how_much, shrinkage

__all__ = ["MAP_LABEL", "coefficients", "horseshoe_density", "how_much", "posterior_predictive",
           "predicted_probabilities", "prior_posterior", "ranks", "selection", "shrinkage", "shrinkage_factors",
           "terms"]
