"""reloo (issue 23): rows with a high Pareto k-hat get an exact leave-one-out refit.

Reference: the conjugate Gaussian model (fixed Normal prior, known sigma), where the leave-one-out
predictive density of each row has a closed form from the posterior of the other rows, solved here
from scratch (brute force, no code of the package).
"""

import warnings

import numpy as np
import pytest
from scipy import stats

import bayesreg as br
from bayesreg.assessment import LOOWarning
from bayesreg.assessment.reloo import refit_settings
from seeds import shifted

pytestmark = pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning")
rng = np.random.default_rng(shifted(230))
N, P, SIGMA = 60, 4, 1.0
SCALES = np.array([1.0, 0.5, 2.0, 1.0])
X = rng.normal(size=(N, P))
y = 1.5 + X @ [1.0, 0.3, 0.0, 0.0] + SIGMA * rng.normal(size=N)
# Row 0 alone carries the information on the last coefficient (x = 30 against N(0, 1) elsewhere):
# its leverage h_0 / sigma^2 is ~0.94, and for a Gaussian model the Pareto tail index of the
# importance ratios 1 / p(y_0 | theta) is that leverage, so k-hat ~0.94 > 0.7: PSIS fails there.
X[0] = [0.0, 0.0, 0.0, 30.0]
y[0] = 1.5 + SIGMA * rng.normal()


def cavity(i):
    """Mean and variance of row i's fitted value under the posterior without row i (normal equations)."""
    Z = np.hstack([np.ones((N, 1)), X])
    keep = np.arange(N) != i
    C = np.linalg.inv(Z[keep].T @ Z[keep] / SIGMA**2 + np.diag(np.r_[0.0, 1 / SCALES**2]))
    return Z[i] @ C @ Z[keep].T @ y[keep] / SIGMA**2, Z[i] @ C @ Z[i]


def test_reloo_refits_the_high_khat_rows_and_matches_the_closed_form():
    """Each refitted row's elpd_i = log mean_s N(y_i | f_s, sigma^2) over the refit's S = 4000 draws
    f_s ~ N(m, v) (the cavity). Its Monte Carlo sd is sqrt(r / ESS) with r = E[p^2] / E[p]^2 - 1 in
    closed form: E[p] = N(y | m, v + sigma^2), E[p^2] = (4 pi sigma^2)^(-1/2) N(y | m, v + sigma^2 / 2).
    With a conservative ESS = S / 4 (this conjugate model's exact iid draws get S), the tolerance is 4 such
    sds: a false alarm below 1e-4 per row. k-hat itself is noisy for row 0 (0.62-1.34 over seed
    shifts at a true 0.93; the other rows' largest 0.35-0.62), so the refits are asked for above
    k_threshold=0.4 and checked for whichever rows that flags (row 0 among them in all seeds tried);
    the rows not refitted keep their PSIS values exactly."""
    est = br.LinearRegression(br.Normal(SCALES), sigma=SIGMA).fit(X, y, draws=1000, tune=500, chains=4,
                                                                  random_seed=shifted(3), progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LOOWarning)  # row 0 is named with the advice reloo=True (tested below)
        psis = est.loo(X, y, method="psis")
    flagged = np.flatnonzero(psis.pareto_k.to_numpy() > 0.4)
    assert 0 in flagged and len(flagged) <= 10, psis.pareto_k.to_numpy()
    refitted = est.loo(X, y, method="psis", reloo=True, k_threshold=0.4, random_seed=shifted(4))
    for i in flagged:
        m, v = cavity(i)
        exact = stats.norm.logpdf(y[i], m, np.sqrt(v + SIGMA**2))
        second_moment = (4 * np.pi * SIGMA**2) ** -0.5 * stats.norm.pdf(y[i], m, np.sqrt(v + SIGMA**2 / 2))
        tolerance = 4 * np.sqrt((second_moment / np.exp(exact) ** 2 - 1) / 1000)
        assert abs(refitted.elpd_i.to_numpy()[i] - exact) < tolerance, (i, refitted.elpd_i.to_numpy()[i], exact)
    others = np.setdiff1d(np.arange(N), flagged)
    np.testing.assert_array_equal(refitted.elpd_i.to_numpy()[others], psis.elpd_i.to_numpy()[others])
    assert np.all(refitted.pareto_k.to_numpy()[flagged] == 0) and not refitted.warning
    # p_loo_i = lppd_i - elpd_i with the full-data lppd_i: p moves by exactly what elpd moved
    assert refitted.p - psis.p == pytest.approx(psis.elpd - refitted.elpd, abs=1e-9)
    # a fixed Normal prior with sigma known is drawn exactly (no NUTS): its refits get no NUTS options,
    # so they raise no IgnoredOptionsWarning
    assert est.idata_.attrs["sampler"] == "exact"
    settings = refit_settings(est.idata_, {"draws": 300}, random_seed=shifted(7))
    assert settings == dict(draws=300, chains=4, progressbar=False, random_seed=shifted(7))


def test_refit_settings_repeat_a_nuts_fits_tune_and_target_accept():
    """A NUTS fit (sigma estimated) records its tune and target_accept; the refits repeat them."""
    est = br.LinearRegression(br.Normal(SCALES)).fit(X, y, draws=60, tune=70, chains=2, target_accept=0.85,
                                                     random_seed=shifted(8), progressbar=False)
    settings = refit_settings(est.idata_, {"draws": 300}, random_seed=shifted(7))
    assert settings == dict(draws=300, chains=2, tune=70, target_accept=0.85, progressbar=False,
                            random_seed=shifted(7))


def test_reloo_advice_and_its_limits():
    est = br.LinearRegression(br.Normal(SCALES), sigma=SIGMA).fit(X, y, draws=200, tune=200, chains=2,
                                                                  random_seed=shifted(5), progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LOOWarning)
        psis = est.loo(X, y, method="psis")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        capped = est.loo(X, y, method="psis", reloo=True, max_refits=0, k_threshold=-np.inf, kfold=None)
    messages = [str(w.message) for w in caught if issubclass(w.category, LOOWarning)]
    assert any("more than max_refits=0; none was refitted" in m and "K-fold" in m for m in messages), messages
    assert all(w.filename == __file__ for w in caught if issubclass(w.category, LOOWarning))  # the caller's line
    np.testing.assert_array_equal(capped.elpd_i.to_numpy(), psis.elpd_i.to_numpy())
    with pytest.raises(ValueError, match=r"est.loo\(X, y, reloo=True\)"):
        est.loo(reloo=True)
