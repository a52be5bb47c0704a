"""What an outcome is: each family's likelihood, its derivatives and negative log posterior. No PyMC here.

``base``               the interface (per-row NLL and its derivatives in eta and log aux).
``auxiliary``          priors on auxiliary parameters: Exponential, Gamma, HalfT.
``gaussian``           linear regression: the normal likelihood and the default prior on the noise sd.
``bernoulli``          logistic regression: the Bernoulli likelihood, its gradient and Hessian.
``poisson``            counts, log link.
``negative_binomial``  over-dispersed counts (NB2), log link, reciprocal dispersion phi.
``student_t``          robust linear regression: sigma and the degrees of freedom nu.

A new family is one file and one line in :data:`FAMILIES`; the family tests run over this registry.
"""

from . import bernoulli, gaussian
from .auxiliary import AuxPrior, Exponential, Gamma, HalfT
from .base import Family, RowDerivatives
from .bernoulli import BERNOULLI
from .gaussian import GAUSSIAN
from .negative_binomial import NEGATIVE_BINOMIAL
from .poisson import POISSON
from .student_t import STUDENT_T

FAMILIES = {f.name: f for f in (GAUSSIAN, BERNOULLI, POISSON, NEGATIVE_BINOMIAL, STUDENT_T)}


def get_family(name: str):
    """The family registered as ``name`` (``"poisson"``, ``"negative_binomial"``, ``"student_t"``, ...)."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown family {name!r}; expected one of {sorted(FAMILIES)}") from None


__all__ = ["AuxPrior", "BERNOULLI", "Exponential", "FAMILIES", "Family", "GAUSSIAN", "Gamma", "HalfT",
           "NEGATIVE_BINOMIAL", "POISSON", "RowDerivatives", "STUDENT_T", "bernoulli", "gaussian", "get_family"]
