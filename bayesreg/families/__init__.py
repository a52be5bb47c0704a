"""What an outcome is: each family's likelihood, its derivatives and negative log posterior. No PyMC here.

``gaussian``   linear regression: the normal likelihood and the default prior on the noise sd.
``bernoulli``  logistic regression: the Bernoulli likelihood, its gradient and Hessian.
"""

from . import bernoulli, gaussian

__all__ = ["bernoulli", "gaussian"]
