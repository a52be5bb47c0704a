"""The MAP objective is the PyMC model's own log posterior, so NUTS samples what MAP maximises."""

import numpy as np
import pymc as pm
import pytest

import bayesreg as br
from bayesreg.families.bernoulli import logistic_neg_log_posterior
from bayesreg.families.gaussian import linear_neg_log_posterior, sigma_prior_scale
from bayesreg.model.pymc import build_linear_model, build_logistic_model
from seeds import shifted

PRIORS = [br.Normal(0.7), br.Laplace(0.4), br.ElasticNet(0.5, 1.3)]
# one scale per feature of small_data (4 columns): prior_data passes them as vectors
PER_COEFFICIENT = [br.Normal([0.7, 0.05, 3.0, 1.0]), br.Laplace([0.4, 0.02, 2.0, 1.0]),
                   br.ElasticNet([0.5, 0.1, 2.0, 1.0], [1.3, 0.2, 0.5, 4.0])]


@pytest.fixture(scope="module")
def small_data():
    rng = np.random.default_rng(shifted(3))
    X = rng.normal(size=(30, 4)) * [1.0, 10.0, 0.1, 3.0]
    y = 2.0 + X @ [0.5, -0.1, 4.0, 0.0] + rng.normal(size=30)
    return X, y


def random_points(model, rng, k=5):
    for _ in range(k):
        yield {v.name: rng.normal(size=model.initial_point()[v.name].shape) for v in model.value_vars}


def original_intercept(point, X):
    """The model samples the intercept at the centred design: b = b_c - xbar'w."""
    return point["intercept_c"] - X.mean(axis=0) @ point["coef"]


def constant_offset(pairs):
    offsets = np.array([a - b for a, b in pairs])
    scale = max(abs(a) for a, _ in pairs)
    assert np.ptp(offsets) <= 1e-9 * scale, offsets
    return offsets[0]


@pytest.mark.parametrize("prior", PRIORS + PER_COEFFICIENT)
@pytest.mark.parametrize("sigma", [None, 1.7])
def test_linear_objective_is_model_logp(small_data, prior, sigma):
    X, y = small_data
    model = build_linear_model(X, y, prior, sigma=sigma, fit_intercept=True, feature_names=list("abcd"))
    logp = model.compile_logp(jacobian=False)
    rng = np.random.default_rng(shifted(1))
    pairs = []
    for point in random_points(model, rng):
        s = np.exp(point["sigma_log__"]) if sigma is None else sigma
        ours = linear_neg_log_posterior(X, y, prior, point["coef"], original_intercept(point, X), s,
                                        sigma_prior=sigma_prior_scale(y) if sigma is None else None)
        pairs.append((-ours, logp(point)))
    # every density here is normalised, so the constant is exactly zero
    assert abs(constant_offset(pairs)) <= 1e-9 * abs(pairs[0][0])


@pytest.mark.parametrize("prior", PRIORS)
def test_logistic_objective_is_model_logp(breast_cancer, prior):
    X, y = breast_cancer
    X = X[:80, :5]
    y = y[:80]
    model = build_logistic_model(X, y.astype(float), prior, fit_intercept=True, feature_names=list("abcde"))
    logp = model.compile_logp(jacobian=False)
    rng = np.random.default_rng(shifted(2))
    pairs = [(-logistic_neg_log_posterior(X, y, prior, p["coef"], original_intercept(p, X)), logp(p))
             for p in random_points(model, rng)]
    assert abs(constant_offset(pairs)) <= 1e-9 * abs(pairs[0][0])


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sufficient_statistics_equal_the_naive_likelihood(small_data, fit_intercept):
    """The O(p^2) likelihood equals pm.Normal(observed=y) on X @ coef, constant included."""
    X, y = small_data
    prior = br.Normal(2.0)
    fast = build_linear_model(X, y, prior, sigma=None, fit_intercept=fit_intercept, feature_names=list("abcd"))
    with pm.Model(coords={"feature": list("abcd")}) as naive:
        intercept = pm.Flat("intercept") if fit_intercept else 0.0
        sigma = pm.HalfStudentT("sigma", nu=4, sigma=np.std(y))
        # a literal 2.0 here is constant-folded by PyTensor 3.3 with a 1.9e-9 error per
        # coefficient against scipy.stats.norm; as data it is exact
        coef = pm.Normal("coef", 0.0, pm.Data("prior_scale", 2.0), dims="feature")
        pm.Normal("y", intercept + pm.math.dot(X, coef), sigma, observed=y)
    fast_logp, naive_logp = fast.compile_logp(), naive.compile_logp()
    eps = np.finfo(float).eps
    for point in random_points(fast, np.random.default_rng(shifted(5))):
        naive_point = {name: value for name, value in point.items() if name != "intercept_c"}
        if fit_intercept:
            naive_point["intercept"] = original_intercept(point, X)
        # both forms sum terms of size ~ (|y|^2 + |X|_F^2 |w|^2) / (2 sigma^2) that cancel to the RSS
        # term, so each rounds at eps times that magnitude (times a few hundred operations)
        sigma = np.exp(point["sigma_log__"])
        magnitude = (y @ y + np.sum(X**2) * point["coef"] @ point["coef"]) / (2 * sigma**2)
        assert abs(fast_logp(point) - naive_logp(naive_point)) <= 1e3 * eps * magnitude


@pytest.mark.parametrize("prior", PRIORS)
def test_map_is_the_model_mode(small_data, prior):
    """The solver's answer maximises the compiled PyMC log posterior (no perturbation improves it)."""
    X, y = small_data
    fit = br.LinearRegression(prior, sigma=1.7).fit(X, y, method="map")
    model = build_linear_model(X, y, prior, sigma=1.7, fit_intercept=True, feature_names=list("abcd"))
    logp = model.compile_logp(jacobian=False)
    centred = fit.intercept_ + X.mean(axis=0) @ fit.coef_
    best = logp({"coef": fit.coef_, "intercept_c": centred})
    rng = np.random.default_rng(shifted(4))
    for _ in range(40):
        step = 1e-5 * rng.normal(size=5)
        assert logp({"coef": fit.coef_ + step[1:], "intercept_c": centred + step[0]}) <= best + 1e-10
