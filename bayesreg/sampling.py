"""NUTS through nutpie, on log densities compiled once per machine, with honest diagnostics.

Why nutpie (measured on the diabetes ridge model, 4 x 1000 draws, 2 cores; see
``benchmarks/RESULTS.md``): PyMC's own NUTS took 22 s with min bulk ESS 2348; nutpie with its
low-rank modified mass matrix samples in 0.4 s with min bulk ESS 5001 (on posteriordb's diamonds
the low-rank mass matrix gave min bulk ESS 7094 where the diagonal one gave 163).

Why not ``nutpie.compile_pymc_model``: it wraps the PyTensor graph in numba C callbacks whose
generated source differs in every process, so every new process paid 7-24 s of compile before
its first draw. Our model family is small and fixed, so :mod:`bayesreg.logdensity` writes its log
density and gradient by hand, compiled once per machine into numba's disk cache, and
:mod:`bayesreg.compiled` hands them to nutpie's sampler through nutpie's private API (tested with
nutpie 0.16.11, pinned in pyproject.toml; ``tests/test_compiled.py`` covers the integration).
The PyMC model (:mod:`bayesreg.model`) stays the specification, and ``tests/test_logdensity.py``
holds the compiled density to it.
"""

from __future__ import annotations

import contextlib
import time
import warnings

import numpy as np

from .conditional import mixture_coefficients, normal_scale_coefficients
from .hyperpriors import BayesianLasso
from .model_inputs import ModelSpec
from .priors import Horseshoe, RegularizedHorseshoe

RHAT_MAX = 1.01
ESS_MIN = 400
EBFMI_MIN = 0.3


class SamplingWarning(UserWarning):
    """The sampler's output fails a convergence check; the message says what to do."""


class SamplingError(RuntimeError):
    """The sampler itself failed (not a convergence warning); the message says what to try."""


def default_settings(spec: ModelSpec) -> dict:
    """nutpie settings by prior, from measurements (``benchmarks/RESULTS.md``).

    Horseshoes: a diagonal mass matrix and ``target_accept=0.99``. On n=100, p=200 with 5 signals
    the low-rank adaptation did not finish one run in 6 minutes (401 funnel-shaped dimensions),
    and the diagonal one gave 185 / 16 / 1 divergences of 4000 at target_accept .9 / .95 / .99.
    Learned scales (one global funnel): low-rank with ``target_accept=0.95``; at 0.8 the known-sigma
    quadrature problem of tests/test_hyperpriors.py and diabetes gave 10 divergences of 4000 each,
    at 0.95 none, with bulk ESS of the scale 899 and 661.
    A learned Normal scale in linear regression is sampled collapsed (:mod:`bayesreg.logdensity_collapsed`:
    1 or 2 dimensions, no funnel) with ``target_accept=0.99``: with p > n (the sparse case of
    nuts_speed.py, n=100, p=200) sigma -> 0 is not penalised by the likelihood, and the posterior's
    long left tail in log sigma gave 1-6 divergences of 4000 in each of 5 seeds at 0.8, none at 0.95
    or 0.99; bulk ESS of tau 476-1256 at 0.95, 791-1069 at 0.99, about 2 s a fit either way.
    A learned Laplace scale or the Bayesian lasso sampled as a scale mixture
    (:mod:`bayesreg.logdensity_mixture`, p + 2 dimensions): the diagonal mass matrix. On that sparse
    case the low-rank one took 125 s against 28 s (its updates cost more than they saved; 15-31
    leapfrog steps either way), with bulk ESS of tau 4632 against 2489. ``target_accept=0.9``: 0
    divergent at 0.8 and at 0.9 there (and on diabetes), kept above 0.8 for sigma's left tail,
    which gave the collapsed Normal its divergences at 0.8.
    Everything else: the low-rank mass matrix, for correlated coefficients.
    """
    if spec.spectral:
        return {"adaptation": "low_rank", "target_accept": 0.99}
    if spec.mixture:
        return {"adaptation": "diag", "target_accept": 0.9}
    if issubclass(spec.prior_type, (Horseshoe, RegularizedHorseshoe)):
        return {"adaptation": "diag", "target_accept": 0.99}
    if spec.scale_learned or spec.prior_type is BayesianLasso:
        return {"adaptation": "low_rank", "target_accept": 0.95}
    return {"adaptation": "low_rank"}


def sample_posterior(spec: ModelSpec, data: dict, feature_names, *, draws: int, tune: int, chains: int,
                     random_seed=None, progressbar: bool = True, **sampler_kwargs):
    """Sample the posterior of ``spec`` given ``data``; returns an ArviZ ``DataTree``.

    ``sampler_kwargs`` go to :func:`nutpie.sample` (e.g. ``target_accept``, ``maxdepth``,
    ``adaptation="diag"``) and override :func:`default_settings`. ``random_seed`` must be an
    int or None. A failure inside the sampler (nutpie reports some as a Rust panic, which is not an
    ``Exception``) becomes a :class:`SamplingError`.
    """
    if random_seed is not None and not isinstance(random_seed, (int, np.integer)):
        raise TypeError(f"random_seed must be an int or None, got {random_seed!r}")
    import nutpie

    from .compiled import compile_model

    started = time.perf_counter()
    model = compile_model(spec, data, list(feature_names))
    prepare_seconds = time.perf_counter() - started
    sampler_kwargs = {**default_settings(spec), **sampler_kwargs}
    started = time.perf_counter()
    try:
        with _one_blas_thread(spec):
            idata = nutpie.sample(model, draws=draws, tune=tune, chains=chains,
                                  seed=None if random_seed is None else int(random_seed),
                                  progress_bar=progressbar, save_warmup=False, **sampler_kwargs)
    except (KeyboardInterrupt, SystemExit, GeneratorExit, TypeError):
        raise
    except BaseException as exc:  # pyo3's PanicException derives from BaseException
        raise SamplingError(
            f"the NUTS sampler failed ({type(exc).__name__}: {str(exc).strip()[:300]}). Standardize X, "
            "check the prior's scale against the data's, or try fit(..., adaptation='diag', "
            "target_accept=0.95); the estimator keeps its previous fit.") from None
    idata.attrs.update(sampler="nutpie", prior=spec.prior_type.__name__, adaptation=sampler_kwargs["adaptation"],
                       target_accept=sampler_kwargs.get("target_accept", 0.8),
                       setup_seconds=prepare_seconds, sampling_seconds=time.perf_counter() - started)
    if spec.collapsed:
        try:
            _add_conditional_coefficients(idata, spec, data, list(feature_names), np.random.default_rng(random_seed))
        except np.linalg.LinAlgError:
            raise SamplingError(
                "a draw's conditional covariance of the coefficients is not positive definite in double "
                "precision; standardize X and y. The estimator keeps its previous fit.") from None
    _check_finite(idata)
    return idata


def _one_blas_thread(spec: ModelSpec):
    """The scale-mixture density calls BLAS from every chain's thread at once; OpenBLAS's own threads
    on top oversubscribe the cores (n = 100, p = 200 on 2 cores: 82 s of sampling, 28 s with one
    BLAS thread). The other densities use no BLAS."""
    if spec.mixture:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=1, user_api="blas")
    return contextlib.nullcontext()


def _add_conditional_coefficients(idata, spec: ModelSpec, data: dict, feature_names, rng) -> None:
    """Put ``coef`` (and ``intercept``) drawn given each sampled draw (:mod:`bayesreg.conditional`)
    into the posterior, in the order and with the dims the other structures have (coef, intercept,
    sigma, the prior's scales); a Laplace's mixture variances, a device of the sampler, are dropped."""
    import xarray as xr

    posterior = idata["posterior"].to_dataset()
    shape = (posterior.sizes["chain"], posterior.sizes["draw"])
    m = shape[0] * shape[1]
    sigma = posterior["sigma"].to_numpy().ravel() if "sigma" in posterior else np.full(m, float(data["sigma_known"]))
    if spec.spectral:
        tau = posterior["prior_scale"].to_numpy().ravel()
        coef, intercept = normal_scale_coefficients(data, spec.fit_intercept, sigma, tau, rng)
    else:
        variances = posterior["mixture_variance"].to_numpy().reshape(m, -1)
        coef, intercept = mixture_coefficients(data, spec.fit_intercept, sigma, variances, rng)
    drawn = {"coef": (("chain", "draw", "feature"), coef.reshape(*shape, -1))}
    if spec.fit_intercept:
        drawn["intercept"] = (("chain", "draw"), intercept.reshape(shape))
    kept = {name: posterior[name] for name in posterior.data_vars if name != "mixture_variance"}
    idata["posterior"] = xr.Dataset({**drawn, **kept},
                                    coords={**posterior.coords, "feature": np.asarray(feature_names, dtype=object)},
                                    attrs=posterior.attrs)


def _check_finite(idata) -> None:
    for name, values in idata["posterior"].data_vars.items():
        if not np.all(np.isfinite(values.to_numpy())):
            raise FloatingPointError(f"the sampler returned non-finite draws of {name!r}")


def convergence_problems(idata, var_names) -> list[str]:
    """Each failed check as a sentence with concrete advice (empty when all pass)."""
    import arviz as az

    stats = idata["sample_stats"]
    problems = []
    n_div = int(stats["diverging"].sum())
    if n_div:
        total = stats["diverging"].size
        problems.append(
            f"{n_div} of {total} transitions diverged: the posterior has regions NUTS cannot follow, so "
            f"estimates may be biased. {_divergence_advice(idata.attrs)}")
    depth = _treedepth_saturation(stats)
    if depth:
        problems.append(
            f"{depth:.1%} of transitions hit the maximum tree depth: sampling is inefficient. Standardize "
            "X, or raise maxdepth (fit(..., maxdepth=12)).")
    bfmi = _e_bfmi(idata)
    if bfmi is not None and bfmi.min() < EBFMI_MIN:
        problems.append(
            f"E-BFMI is {bfmi.min():.2f} (< {EBFMI_MIN}) in chain {int(bfmi.argmin())}: the sampler explores "
            "the energy distribution poorly, typical of a funnel (a scale and the coefficients it "
            "scales). Use a non-centred or regularized prior (RegularizedHorseshoe), or standardize X.")
    summary = az.summary(idata, var_names=var_names, kind="diagnostics")
    n_chains = idata["posterior"].sizes["chain"]
    if n_chains < 2:
        problems.append(
            "R-hat needs at least 2 chains and was not checked (chains=1): disagreement between chains, "
            "the main sign of non-convergence, cannot be seen. Use chains=4.")
    else:
        worst_rhat = float(summary["r_hat"].max())
        if worst_rhat > RHAT_MAX:
            problems.append(
                f"R-hat is {worst_rhat:.4f} (> {RHAT_MAX}) for {summary['r_hat'].idxmax()}: chains disagree. "
                "Run more tune and draws, and check for multimodality.")
    for kind, use in (("bulk", "means and medians"), ("tail", "interval endpoints")):
        column = summary[f"ess_{kind}"]
        worst_ess = float(column.min())
        if worst_ess < ESS_MIN:
            problems.append(
                f"{kind} ESS is {worst_ess:.0f} (< {ESS_MIN}) for {column.idxmin()}: too few effective draws "
                f"for reliable {use}. Increase draws (and chains).")
    return problems


def _e_bfmi(idata):
    """E-BFMI per chain (Betancourt 2016), or None when the sampler stored no energy."""
    import arviz as az

    if "energy" not in idata["sample_stats"]:
        return None
    return np.atleast_1d(np.asarray(az.bfmi(idata)["energy"]))


def _divergence_advice(attrs) -> str:
    used = attrs.get("target_accept", 0.8)
    if used >= 0.999:  # smaller steps will not help: the posterior's geometry is the problem
        advice = (f"target_accept is already {used}: standardize X, or choose a prior that matches the "
                  "data (a smaller slab_scale or expected_nonzero for a horseshoe)")
    else:
        higher = 0.95 if used < 0.95 else 0.99 if used < 0.99 else 0.999
        advice = f"Raise target_accept (it was {used}; fit(..., target_accept={higher}))"
    if attrs.get("prior") == "Horseshoe":
        advice += ", or use RegularizedHorseshoe with a sensible expected_nonzero"
    return advice + "."


def _treedepth_saturation(stats) -> float:
    for name in ("reached_max_treedepth", "maxdepth_reached"):
        if name in stats:
            return float(stats[name].mean())
    return 0.0


def warn_on_problems(idata, var_names) -> None:
    for problem in convergence_problems(idata, var_names):
        warnings.warn(problem, SamplingWarning, stacklevel=3)


@contextlib.contextmanager
def collected_problems():
    """Collect the :class:`SamplingWarning` messages raised inside into the yielded list instead of
    showing them, for callers that report them their own way; other warnings pass through."""
    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SamplingWarning)
        yield problems
    for warning in caught:
        if issubclass(warning.category, SamplingWarning):
            problems.append(str(warning.message))
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
