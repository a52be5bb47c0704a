"""Simulation-based calibration of the count and robust families (issue 21), Normal prior, with an
exposure offset: the generator draws (coef, aux, y) with numpy from the priors and likelihood as
the docstrings write them (bayesreg/families/*.py), the estimator samples with NUTS, and the rank
of each true parameter among the posterior draws must be uniform.

False-alarm rate: each test passes when every parameter's chi-square p-value (10 bins) exceeds
1e-3 divided by the number of parameters ranked (Bonferroni), so a correct sampler fails a test
with probability < 1e-3, the three together < 3e-3. At 50 replications this catches gross errors
only. Measured by breaking the kernel once: the offset dropped failed the Student-t test
(p = 4e-12) but not the Poisson one (an offset of mean 0.2 is absorbed by the coefficients' ranks);
the Jacobian of log phi dropped passed unseen (20 rows hardly inform phi). Both are caught exactly
by tests/test_logdensity.py's comparison with PyMC; this test guards the whole path (generator ->
estimator -> packing -> kernel -> nutpie -> stored draws).
"""

import warnings

import numpy as np
import pytest

import bayesreg as br
from bayesreg.calibration import uniformity_pvalues
from bayesreg.families import Exponential, Gamma, HalfT
from bayesreg.sampling import SamplingWarning
from seeds import shifted

N, P, REPLICATIONS = 20, 2, 50
DRAWS, CHAINS, TUNE, THIN = 100, 2, 150, 2
KEPT = (DRAWS * CHAINS // THIN + 1) // 10 * 10 - 1  # ranks 0..KEPT split into 10 equal bins


def _replication(family, rng):
    X = rng.normal(size=(N, P))
    offset = np.log(rng.uniform(0.5, 2.0, N))
    coef = rng.normal(0.0, 0.5, P)  # the Normal(0.5) prior
    eta = offset + X @ coef
    if family == "poisson":
        return X, rng.poisson(np.exp(eta)).astype(float), offset, coef, {}
    if family == "negative_binomial":
        phi = rng.exponential(1.0)  # Exponential(1)
        y = rng.poisson(rng.gamma(phi, np.exp(eta) / phi)).astype(float)
        return X, y, offset, coef, {"phi": phi}
    sigma = abs(rng.standard_t(4.0))  # Half-t(4, 1)
    nu = rng.gamma(2.0, 1 / 0.1)  # Gamma(2, 0.1)
    return X, eta + sigma * rng.standard_t(nu, N), offset, coef, {"sigma": sigma, "nu": nu}


def _estimator(family):
    prior = br.Normal(0.5)
    if family == "poisson":
        return br.PoissonRegression(prior, fit_intercept=False)
    if family == "negative_binomial":
        return br.NegativeBinomialRegression(prior, phi_prior=Exponential(1.0), fit_intercept=False)
    return br.StudentTRegression(prior, sigma_prior=HalfT(4.0, 1.0), nu_prior=Gamma(2.0, 0.1), fit_intercept=False)


@pytest.mark.parametrize("family", ["poisson", "negative_binomial", "student_t"])
def test_simulation_based_calibration_family(family):
    rng = np.random.default_rng(shifted(21))
    ranks = []
    for r in range(REPLICATIONS):
        X, y, offset, coef, aux = _replication(family, rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplingWarning)  # SBC judges the whole, not one fit
            posterior = _estimator(family).fit(X, y, offset=offset, draws=DRAWS, tune=TUNE, chains=CHAINS,
                                               random_seed=shifted(1000 + r), progressbar=False).idata_["posterior"]
        draws = [posterior["coef"].to_numpy().reshape(-1, P)]
        draws += [posterior[name].to_numpy().reshape(-1, 1) for name in aux]
        truth = np.r_[coef, list(aux.values())]
        ranks.append((np.hstack(draws)[::THIN][:KEPT] < truth).sum(axis=0))
    pvalues = uniformity_pvalues(np.array(ranks), KEPT + 1)
    assert pvalues.min() > 1e-3 / len(pvalues), pvalues
