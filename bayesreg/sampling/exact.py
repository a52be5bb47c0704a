r"""Exact iid posterior draws where the posterior is Gaussian: a fixed Normal prior with sigma known.

``LinearRegression(prior=Normal(s), sigma=value)`` has the conjugate posterior

.. math::
    w \mid y \sim N(\mu, \Sigma),\quad \Sigma = (X_c^\top X_c/\sigma^2 + \operatorname{diag}(s)^{-2})^{-1},
    \quad \mu = \Sigma X_c^\top y_c/\sigma^2,

and, independently, the flat intercept at the centred design :math:`b_c \sim N(\bar y, \sigma^2/n)`
(``b = b_c - \bar x^\top w``). Nothing is left for NUTS to do: every draw is an independent draw
of the posterior (:func:`bayesreg.sampling.conditional.normal_scale_coefficients` at ``tau = 1``, in
the eigen-data of :func:`bayesreg.model.spec.collapsed_data`, O(r p) a draw after one SVD), so
there are no divergences, no adaptation, and the effective sample size is the number of draws.

The result is shaped as a NUTS fit's (``chain`` x ``draw``, with a ``sample_stats`` group whose
``diverging`` is all False), so the summary (R-hat and ESS computed as usual, near 1 and near the
draw count), plots, LOO and persistence treat it as any other fit. The convergence checks skip
R-hat for it (iid draws have nothing to converge; with few draws R-hat passed 1.01 by chance) and
keep the ESS check, whose advice (more draws) still holds.
``chains`` and ``draws`` keep their meaning; ``tune`` has none here. The nutpie options
(``target_accept``, ``maxdepth``, ``adaptation``, ``cores``, ...) have no effect on exact draws, so
one :class:`IgnoredOptionsWarning` names those given.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from ..model.spec import ModelSpec
from .conditional import normal_scale_coefficients
from .progress import PACKAGE_FILES


class IgnoredOptionsWarning(UserWarning):
    """Sampler options were given that the exact (iid) posterior draws do not use."""


def exact_posterior(spec: ModelSpec, data: dict, feature_names, *, draws: int, chains: int, random_seed=None,
                    **nuts_options):
    """``chains`` x ``draws`` iid draws of the Gaussian posterior of ``spec`` (a fixed Normal prior,
    sigma known) as a DataTree; ``nuts_options`` (NUTS's alone) are named in one warning and unused."""
    import arviz as az

    if not (spec.conjugate and spec.sigma_known):
        raise ValueError(f"exact draws need a fixed Normal prior with sigma known, got {spec.prior_type.__name__} "
                         f"with sigma {'known' if spec.sigma_known else 'estimated'}")
    for name, value in (("draws", draws), ("chains", chains)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}: e.g. fit(..., draws=1000, chains=4)")
    if nuts_options:
        warnings.warn(f"the posterior is Gaussian (a fixed Normal prior with sigma known), so it is drawn exactly, "
                      f"without NUTS; these NUTS options have no effect: {', '.join(sorted(nuts_options))}",
                      IgnoredOptionsWarning, skip_file_prefixes=PACKAGE_FILES)
    started = time.perf_counter()
    m = chains * draws
    sigma = np.full(m, float(data["sigma_known"]))
    coef, intercept = normal_scale_coefficients(data, spec.fit_intercept, sigma, np.ones(m),
                                                np.random.default_rng(random_seed))
    posterior = {"coef": coef.reshape(chains, draws, -1)}
    if spec.fit_intercept:
        posterior["intercept"] = intercept.reshape(chains, draws)
    idata = az.from_dict({"posterior": posterior,
                          "sample_stats": {"diverging": np.zeros((chains, draws), dtype=bool)}},
                         dims={"coef": ["feature"]}, coords={"feature": np.asarray(list(feature_names), dtype=object)})
    idata.attrs.update(sampler="exact", prior=spec.prior_type.__name__, setup_seconds=0.0,
                       sampling_seconds=time.perf_counter() - started)
    return idata
