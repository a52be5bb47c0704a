"""Posterior sampling: NUTS (nutpie) on log densities compiled once per machine. No PyMC here.

``nuts``         the entry point: settings by prior, the sampler call, convergence diagnostics.
``nutpie``       the adapter: a model's structure and data packed for the compiled kernels and
                 handed to nutpie's sampler (nutpie's private API, pinned).
``kernels``      the numba log densities and gradients (non-centred, spectral, scale mixture).
``conditional``  exact draws of the coefficients that a collapsed kernel integrated out.
``exact``        iid draws where the posterior is Gaussian (a fixed Normal prior, sigma known).
``options``      the sampler options fit passes on, checked against the installed nutpie.
``surrogate``    large-n logistic regression: NUTS on a quadratic surrogate, corrected by PSIS.
``surrogate_family``  the same for Poisson and negative binomial (the dispersion in the expansion).
``progress``     what a user sees while it runs: progress on stderr, an early warning when slow.

nutpie and numba load on the first fit, not on ``import bayesreg``.
"""

from .nuts import (EBFMI_MIN, ESS_MIN, PACKAGE_FILES, RHAT_MAX, SamplingError, SamplingWarning, collected_problems,
                   columns_standardized, convergence_problems, default_settings, sample_posterior, warn_on_problems)
from .exact import IgnoredOptionsWarning
from .options import check_sampler_options
from .progress import SlowSamplingWarning
from .surrogate_family import family_surrogate_posterior
from .surrogate import (ApproximationWarning, LargeDataWarning, surrogate_posterior, warn_on_exact_nuts_time,
                        warn_on_pareto_k)

__all__ = ["EBFMI_MIN", "ESS_MIN", "PACKAGE_FILES", "RHAT_MAX", "ApproximationWarning", "IgnoredOptionsWarning",
           "LargeDataWarning", "SamplingError", "SamplingWarning", "SlowSamplingWarning", "check_sampler_options",
           "collected_problems", "family_surrogate_posterior",
           "columns_standardized", "convergence_problems", "default_settings", "sample_posterior",
           "surrogate_posterior", "warn_on_exact_nuts_time", "warn_on_pareto_k", "warn_on_problems"]
