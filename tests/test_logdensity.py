"""The compiled log density is the PyMC model's, in value and gradient, for every structure.

The PyMC model (bayesreg/model/pymc.py) is the specification; the numba density
(bayesreg/sampling/kernels/noncentred.py) is what NUTS samples. Both are built from the same ModelSpec and data and
compared at random unconstrained points, matched by PyMC's value-variable names. Relative error
<= 1e-8: both are exact formulas in double precision, so only rounding separates them.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

import bayesreg as br
from bayesreg.model import pymc as model
from bayesreg.sampling import nutpie as adapter
from bayesreg.model.spec import linear_inputs, logistic_inputs
from bayesreg.priors import Prior
from seeds import shifted

N, P = 37, 4
RTOL = 1e-8

# One instance per prior class, with per-coefficient values where the prior takes them.
EXAMPLES = {
    br.Normal: br.Normal(np.array([0.5, 1.0, 2.0, 3.0])),
    br.Laplace: br.Laplace(0.7),
    br.ElasticNet: br.ElasticNet(0.8, 1.3),
    br.Horseshoe: br.Horseshoe(),
    br.RegularizedHorseshoe: br.RegularizedHorseshoe(expected_nonzero=2, slab_scale=1.5, slab_df=3),
    br.BayesianLasso: br.BayesianLasso(r=1.5, delta=0.7),
    br.HorseshoePlus: br.HorseshoePlus(),
    br.R2D2: br.R2D2(0.3, 3.0, concentration=np.array([0.3, 1.0, 0.5, 2.0])),
    br.GroupLaplace: br.GroupLaplace(0.7, groups=["a", "b", "a", "c"]),  # groups not contiguous, one of size 1
}
# learned scales: the same classes with a hyperprior, per-coefficient factors and a half-t
EXTRA = [br.Horseshoe(0.3), br.Normal(br.HalfCauchy(0.8), factor=np.array([1.0, 2.0, 0.5, 3.0])),
         br.Laplace(br.HalfStudentT(3.0, 1.2)),
         # the horseshoes' per-coefficient factor (what autoscale resolves into)
         br.Horseshoe(factor=np.array([0.5, 2.0, 1.0, 0.1])),
         br.RegularizedHorseshoe(2, 1.5, 3, factor=np.array([3.0, 0.2, 1.0, 0.01])),
         br.HorseshoePlus(0.4, factor=np.array([0.5, 2.0, 1.0, 0.1])),
         br.R2D2(factor=np.array([3.0, 0.2, 1.0, 0.5])),
         # a learned scale per group (kernels/groups.py): groups not contiguous, one of size 1
         br.Normal(br.HalfCauchy(0.8), factor=np.array([1.0, 2.0, 0.5, 3.0]), groups=["a", "b", "a", "c"]),
         br.Normal(br.HalfStudentT(3.0, 1.2), groups=[2, 1, 1, 2]),
         # the group horseshoe (kernels/groups.py): tau0 = sigma (linear) / 1 (logistic), and a given tau0
         br.Horseshoe(factor=np.array([0.5, 2.0, 1.0, 0.1]), groups=["a", "b", "a", "c"]),
         br.Horseshoe(0.3, groups=["a", "a", "a", "b"])]
LINEAR_ONLY = (br.BayesianLasso,)


def _prior_id(prior):
    hyper = getattr(prior, "scale", None)
    factor = "-factor" if np.ndim(getattr(prior, "factor", 1.0)) else ""
    groups = "-groups" if isinstance(prior, (br.Normal, br.Horseshoe)) and prior.groups is not None else ""
    return (type(prior).__name__ + (f"-{type(hyper).__name__}" if isinstance(hyper, br.priors.Hyperprior) else "")
            + factor + groups)


def _all_prior_classes():
    seen, stack = set(), list(Prior.__subclasses__())
    while stack:
        klass = stack.pop()
        if klass not in seen:
            seen.add(klass)
            stack += klass.__subclasses__()
    return seen


def test_every_prior_is_cross_checked():
    """A new prior cannot be added without a cross-check of its compiled density."""
    missing = {k.__name__ for k in _all_prior_classes()
               if k.__module__.startswith("bayesreg") and not k.__name__.startswith("_")} - {k.__name__ for k in EXAMPLES}
    assert not missing, f"add an example of {sorted(missing)} to EXAMPLES"


def _inputs(family, prior, fit_intercept, sigma_known, rng):
    X = rng.normal(size=(N, P)) * [1.0, 3.0, 0.2, 10.0] + [5.0, -2.0, 0.0, 100.0]
    if family == "gaussian":
        y = 2.0 + X @ [0.5, -0.2, 1.0, 0.01] + rng.normal(size=N)
        spec, data = linear_inputs(X, y, prior, sigma=1.3 if sigma_known else None, fit_intercept=fit_intercept)
        # a learned Normal scale is sampled collapsed (its own dense reference: tests/test_collapsed.py);
        # its non-centred density, the one the PyMC model writes, is still checked here
        return dataclasses.replace(spec, collapsed=False), data
    y01 = (rng.random(N) < 0.4).astype(float)
    return logistic_inputs(X, y01, prior, fit_intercept=fit_intercept)


CASES = [(family, prior, fit_intercept, sigma_known)
         for family, prior, fit_intercept, sigma_known in itertools.product(
             ("gaussian", "bernoulli"), [*EXAMPLES.values(), *EXTRA], (True, False), (True, False))
         if not (family == "bernoulli" and (sigma_known or isinstance(prior, LINEAR_ONLY)))]


@pytest.mark.parametrize("family,prior,fit_intercept,sigma_known", CASES,
                         ids=lambda v: _prior_id(v) if isinstance(v, Prior) else str(v))
def test_compiled_density_matches_pymc(family, prior, fit_intercept, sigma_known):
    rng = np.random.default_rng(shifted(7))
    _compare_with_pymc(*_inputs(family, prior, fit_intercept, sigma_known, rng), rng)


# offsets and row weights (bayesreg/model/row_weights.py): every prior class once, the structure
# (fit_intercept, offset, weights) rotating through the six with an offset or weights
ROW_STRUCTURES = [s for s in itertools.product((True, False), repeat=3) if s[1] or s[2]]
ROW_CASES = [(family, prior, ROW_STRUCTURES[(k + 2 * f) % len(ROW_STRUCTURES)])
             for f, family in enumerate(("gaussian", "bernoulli"))
             for k, prior in enumerate([*EXAMPLES.values(), EXTRA[1], EXTRA[2]])
             if not (family == "bernoulli" and isinstance(prior, LINEAR_ONLY))]


@pytest.mark.parametrize("family,prior,structure", ROW_CASES,
                         ids=lambda v: _prior_id(v) if isinstance(v, Prior) else str(v))
def test_compiled_density_with_offset_and_weights_matches_pymc(family, prior, structure):
    from bayesreg.model import weighted_linear_inputs, weighted_logistic_inputs

    rng = np.random.default_rng(shifted(17))
    fit_intercept, with_offset, with_weights = structure
    X = rng.normal(size=(N, P)) * [1.0, 3.0, 0.2, 10.0] + [5.0, -2.0, 0.0, 100.0]
    rows = dict(offset=rng.normal(0, 0.3, N) if with_offset else None,
                sample_weight=rng.uniform(0.2, 3.0, N) if with_weights else None)
    if family == "gaussian":
        y = 2.0 + X @ [0.5, -0.2, 1.0, 0.01] + rng.normal(size=N)
        spec, data = weighted_linear_inputs(X, y, prior, sigma=None, fit_intercept=fit_intercept, **rows)
        spec = dataclasses.replace(spec, collapsed=False)  # the non-centred density (as _inputs)
    else:
        y01 = (rng.random(N) < 0.4).astype(float)
        spec, data = weighted_logistic_inputs(X, y01, prior, fit_intercept=fit_intercept, **rows)
    _compare_with_pymc(spec, data, rng)


def _compare_with_pymc(spec, data, rng):
    pymc_model = model.build_model(spec, data, [f"x{j}" for j in range(P)])
    # FAST_COMPILE: PyTensor's Python implementations, exact in float64 and no C/numba compile per case
    logp = pymc_model.compile_logp(mode="FAST_COMPILE")
    dlogp = pymc_model.compile_dlogp(mode="FAST_COMPILE")
    layout = adapter.unconstrained_layout(spec)
    assert [v.name for v in pymc_model.value_vars] == [name for name, _ in layout]
    header, _arrays = adapter.pack(spec, data)
    for _ in range(5):
        theta = rng.normal(scale=0.7, size=sum(size for _, size in layout))
        point, start = {}, 0
        for var, (name, size) in zip(pymc_model.value_vars, layout):
            shape = pymc_model.initial_point()[name].shape
            point[name] = theta[start:start + size].reshape(shape)
            start += size
        value, grad = adapter.log_density(header, theta)
        np.testing.assert_allclose(value, logp(point), rtol=RTOL)
        np.testing.assert_allclose(grad, dlogp(point), rtol=RTOL, atol=RTOL * np.abs(dlogp(point)).max())


@pytest.mark.parametrize("prior", [*EXAMPLES.values(), *EXTRA], ids=lambda p: _prior_id(p))
def test_expanded_quantities_match_pymc_deterministics(prior):
    """What is stored per draw (coef, intercept, sigma, scales) equals the PyMC model's values."""
    rng = np.random.default_rng(shifted(3))
    spec, data = _inputs("gaussian", prior, True, False, rng)
    pymc_model = model.build_model(spec, data, [f"x{j}" for j in range(P)])
    layout = adapter.unconstrained_layout(spec)
    header, _arrays = adapter.pack(spec, data)
    theta = rng.normal(scale=0.5, size=sum(size for _, size in layout))
    point, start = {}, 0
    for name, size in layout:
        point[name] = theta[start:start + size].reshape(pymc_model.initial_point()[name].shape)
        start += size
    expanded_layout = adapter.expanded_layout(spec)
    out = np.empty(sum(int(np.prod(shape)) for _, shape in expanded_layout))
    from bayesreg.sampling.kernels import noncentred

    noncentred.expand(theta, out, header)
    names = [name for name, _ in expanded_layout]
    outputs = pymc_model.replace_rvs_by_values([pymc_model[name] for name in names])
    reference = pymc_model.compile_fn(outputs, inputs=pymc_model.value_vars, on_unused_input="ignore",
                                      mode="FAST_COMPILE")(point)
    start = 0
    for (name, shape), expected in zip(expanded_layout, reference):
        size = int(np.prod(shape))
        np.testing.assert_allclose(out[start:start + size], np.ravel(expected), rtol=RTOL, err_msg=name)
        start += size


@pytest.mark.parametrize("n,p", [(20, 50), (60, 5)])
def test_sufficient_statistics_keep_only_the_rank_many_rows(n, p):
    """``F`` has rank(Xc) rows (n - 1 when p > n: the thin SVD), and the expansion reproduces the
    residual sum of squares computed from the rows, at any (b, w)."""
    from bayesreg.model.spec import gaussian_data

    rng = np.random.default_rng(shifted(11))
    X = rng.normal(size=(n, p)) + 50.0
    y = rng.normal(size=n) * 3 + 7
    data = gaussian_data(X, y, fit_intercept=True, sigma=None)
    assert data["factor"].shape == (min(n - 1, p), p)
    for _ in range(3):
        w, b = rng.normal(size=p), rng.normal()
        direct = np.sum((y - b - X @ w) ** 2)
        b_c = b + data["x_mean"] @ w
        misfit = data["factor"] @ (w - data["coef_ls"])
        expanded = data["rss_min"] + misfit @ misfit + n * (data["y_mean"] - b_c) ** 2
        # both sides sum terms of size ~ |X w|^2 ~ n p 50^2 |w|^2 / p; rounding ~ eps times that
        assert expanded == pytest.approx(direct, rel=1e-9)


# -- the count and robust families (issue 21): family x prior x (intercept, offset, weights) -------------
# every prior class (a learned scale and per-coefficient factors among them), within ~30 s of PyMC compiles
FAMILY_PRIORS = [p for p in EXAMPLES.values() if not isinstance(p, LINEAR_ONLY)] + [EXTRA[1], EXTRA[4], EXTRA[7]]
STRUCTURES = list(itertools.product((True, False), repeat=3))  # (fit_intercept, offset, weights)
FAMILY_CASES = (
    # every prior, the structure rotating through the eight (intercept, offset, weights) combinations
    # (each family meets seven of them, the three together all eight)
    [(family, prior, STRUCTURES[(k + 3 * f) % 8], {})
     for f, family in enumerate(("poisson", "negative_binomial", "student_t"))
     for k, prior in enumerate(FAMILY_PRIORS)]
    # auxiliary parameters fixed or under other priors
    + [("negative_binomial", br.Laplace(0.7), (True, True, True), {"aux_fixed": {"phi": 2.5}}),
       ("negative_binomial", br.Normal(1.0), (True, False, True), {"aux_priors": {"phi": "gamma"}}),
       ("student_t", br.Laplace(0.7), (True, True, False), {"aux_fixed": {"nu": 3.0}}),
       ("student_t", br.Normal(1.0), (False, False, True), {"aux_fixed": {"sigma": 0.8, "nu": 5.0}}),
       ("student_t", br.Normal(1.0), (True, False, False), {"aux_priors": {"sigma": "exponential"}})]
)


def _family_inputs(family, prior, structure, aux, rng):
    from bayesreg.families import Exponential, Gamma
    from bayesreg.model.glm_spec import glm_inputs

    fit_intercept, with_offset, with_weights = structure
    # uncentred columns, but spreads that keep |eta| < ~10 at the test points: PyMC's (and scipy's)
    # negative binomial computes log(1 - p) from p = phi / (phi + mu), whose rounding is eps * phi / mu
    # relative, 1e-5 absolute at mu = 1e-11 (eta = -25), where the kernel's log(mu / (phi + mu)) is exact
    X = rng.normal(size=(N, P)) * [1.0, 3.0, 0.2, 2.0] + [5.0, -2.0, 0.0, 10.0]
    eta = 0.5 + (X - X.mean(0)) @ [0.2, -0.1, 0.5, 0.01]
    y = rng.poisson(np.exp(eta)).astype(float) if family != "student_t" else eta + rng.standard_t(3, N)
    offset = rng.normal(0, 0.3, N) if with_offset else None
    weights = rng.uniform(0.2, 3.0, N) if with_weights else None
    priors = {name: {"gamma": Gamma(3.0, 1.5), "exponential": Exponential(0.7)}[kind]
              for name, kind in aux.get("aux_priors", {}).items()}
    return glm_inputs(X, y, prior, family, fit_intercept=fit_intercept, offset=offset, sample_weight=weights,
                      aux_fixed=aux.get("aux_fixed"), aux_priors=priors)


@pytest.mark.parametrize("family,prior,structure,aux", FAMILY_CASES,
                         ids=lambda v: _prior_id(v) if isinstance(v, Prior) else str(v))
def test_compiled_family_density_matches_pymc(family, prior, structure, aux):
    """PyMC's own Poisson / NegativeBinomial / StudentT log densities (weighted, offset) against
    the compiled kernel (bayesreg/sampling/kernels/likelihoods.py), value and gradient, rtol 1e-8;
    and the stored quantities (coef, intercept, the auxiliary parameters, the prior's scales)."""
    rng = np.random.default_rng(shifted(13))
    spec, data = _family_inputs(family, prior, structure, aux, rng)
    pymc_model = model.build_model(spec, data, [f"x{j}" for j in range(P)])
    logp = pymc_model.compile_logp(mode="FAST_COMPILE")
    dlogp = pymc_model.compile_dlogp(mode="FAST_COMPILE")
    layout = adapter.unconstrained_layout(spec)
    assert [v.name for v in pymc_model.value_vars] == [name for name, _ in layout]
    header, _arrays = adapter.pack(spec, data)
    for _ in range(2):
        theta = rng.normal(scale=0.5, size=sum(size for _, size in layout))
        point, start = {}, 0
        for name, size in layout:
            point[name] = theta[start:start + size].reshape(pymc_model.initial_point()[name].shape)
            start += size
        value, grad = adapter.log_density(header, theta)
        np.testing.assert_allclose(value, logp(point), rtol=RTOL)
        np.testing.assert_allclose(grad, dlogp(point), rtol=RTOL, atol=RTOL * np.abs(dlogp(point)).max())
    expanded_layout = adapter.expanded_layout(spec)
    out = np.empty(sum(int(np.prod(shape)) for _, shape in expanded_layout))
    from bayesreg.sampling.kernels import noncentred

    noncentred.expand(theta, out, header)
    names = [name for name, _ in expanded_layout]
    fixed = aux.get("aux_fixed", {})
    outputs = pymc_model.replace_rvs_by_values([pymc_model[name] for name in names if name not in fixed])
    reference = iter(pymc_model.compile_fn(outputs, inputs=pymc_model.value_vars, on_unused_input="ignore",
                                           mode="FAST_COMPILE")(point))
    start = 0
    for name, shape in expanded_layout:
        size = int(np.prod(shape))
        expected = fixed[name] if name in fixed else np.ravel(next(reference))
        np.testing.assert_allclose(out[start:start + size], expected, rtol=RTOL, err_msg=name)
        start += size
