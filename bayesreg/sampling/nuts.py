"""NUTS through nutpie, on log densities compiled once per machine, with honest diagnostics.

Why nutpie: its low-rank modified mass matrix samples correlated coefficients in a fraction of
the time and with several times the effective draws of PyMC's own NUTS (the numbers are in
``docs/sampling.md`` and ``benchmarks/RESULTS.md``).

Why not ``nutpie.compile_pymc_model``: it wraps the PyTensor graph in numba C callbacks whose
generated source differs in every process, so every new process paid seconds of compile before
its first draw. Our model family is small and fixed, so :mod:`bayesreg.sampling.kernels` writes
its log densities and gradients by hand, compiled once per machine into numba's disk cache, and
:mod:`bayesreg.sampling.nutpie` hands them to nutpie's sampler through nutpie's private API
(pinned in pyproject.toml; ``tests/test_compiled.py`` covers the integration). The PyMC model
(:mod:`bayesreg.model.pymc`) stays the specification, and ``tests/test_logdensity.py`` holds the
compiled density to it.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import warnings

import numpy as np

from ..model.spec import ModelSpec
from ..priors import R2D2, BayesianLasso, Horseshoe, RegularizedHorseshoe
from .conditional import mixture_coefficients, normal_scale_coefficients
from .progress import PACKAGE_FILES, Progress

RHAT_MAX = 1.01
ESS_MIN = 400
EBFMI_MIN = 0.3


class SamplingWarning(UserWarning):
    """The sampler's output fails a convergence check; the message says what to do."""


class SamplingError(RuntimeError):
    """The sampler itself failed (not a convergence warning); the message says what to try."""


def default_settings(spec: ModelSpec) -> dict:
    """nutpie settings by prior; the measurements behind each are in ``docs/sampling.md``.

    Horseshoes: a diagonal mass matrix (the low-rank adaptation stalls on hundreds of
    funnel-shaped dimensions) and ``target_accept=0.99`` (small steps for the funnels).
    Learned scales sampled with the coefficients (one global funnel): low-rank with
    ``target_accept=0.95``. A learned Normal scale in linear regression is sampled collapsed
    (:mod:`bayesreg.sampling.kernels.spectral`: 1 or 2 dimensions, no funnel) with
    ``target_accept=0.99``: with p > n the likelihood does not penalise sigma -> 0, and the
    posterior's long left tail in log sigma needs small steps, which cost little in so few
    dimensions. A learned Laplace scale or the Bayesian lasso sampled as a scale mixture
    (:mod:`bayesreg.sampling.kernels.mixture`, p + 2 dimensions): diagonal (the low-rank updates
    cost more than they save there) with ``target_accept=0.9``, above 0.8 for sigma's left tail;
    the global-local priors sampled on their scales (:mod:`bayesreg.sampling.kernels.global_local`)
    take the same (0 divergences in 10 seeds on diabetes and a p > n case: ``benchmarks/RESULTS.md``).
    A fixed Normal prior collapsed (``spec.conjugate``): NUTS on ``log sigma`` alone, diagonal with
    nutpie's ``target_accept=0.8``. In one dimension larger steps give more effective draws (median
    min bulk ESS of 4000 draws near 2600 at 0.6, 2400 at 0.7, 1770 at 0.8, 1480 at 0.9), but 0.6
    diverged at n = 30, p = 4 (4 transitions in 10 fits: sigma's wall at 0, where RSS / sigma^2
    blows up); 0.7 and 0.8 had none in 40 fits each, and 0.8 keeps a margin
    (``benchmarks/conjugate.py --sweep``). With sigma known nothing is sampled
    (:mod:`bayesreg.sampling.exact`).
    Everything else: the low-rank mass matrix, for correlated coefficients.
    """
    if spec.conjugate:
        return {"adaptation": "diag", "target_accept": 0.8}
    if spec.spectral:
        return {"adaptation": "low_rank", "target_accept": 0.99}
    if spec.mixture:
        return {"adaptation": "diag", "target_accept": 0.9}
    if issubclass(spec.prior_type, (Horseshoe, RegularizedHorseshoe, R2D2)):  # HorseshoePlus is a Horseshoe
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
    ``Exception``) becomes a :class:`SamplingError`. ``progressbar`` shows progress (a line on
    stderr; nutpie's bar in a notebook), and a fit expected to take minutes warns early
    (:class:`~bayesreg.sampling.progress.SlowSamplingWarning`) either way.
    """
    if random_seed is not None and not isinstance(random_seed, (int, np.integer)):
        raise TypeError(f"random_seed must be an int or None, got {random_seed!r}")
    if spec.conjugate and spec.sigma_known:  # a Gaussian posterior: iid draws, nothing for NUTS to do
        from .exact import exact_posterior

        return exact_posterior(spec, data, feature_names, draws=draws, chains=chains, random_seed=random_seed,
                               **sampler_kwargs)
    import nutpie
    from nutpie.sample import in_notebook

    from .nutpie import compile_model

    started = time.perf_counter()
    model = compile_model(spec, data, list(feature_names))
    prepare_seconds = time.perf_counter() - started
    sampler_kwargs = {**default_settings(spec), **sampler_kwargs}
    notebook = in_notebook()
    # nutpie's own default: as many chains at once as the process may use cores (Python 3.13's
    # process_cpu_count; os.cpu_count before it)
    cores = getattr(os, "process_cpu_count", os.cpu_count)() or 1
    progress = Progress(chains, sampler_kwargs.get("cores") or min(chains, cores),
                        show=progressbar and not notebook, advice=_faster_alternative(spec))
    started = time.perf_counter()
    try:
        with _one_blas_thread(spec):
            sampler = nutpie.sample(model, draws=draws, tune=tune, chains=chains,
                                    seed=None if random_seed is None else int(random_seed),
                                    progress_bar=progressbar and notebook, save_warmup=False, blocking=False,
                                    progress_callback=progress, **sampler_kwargs)
            idata = progress.wait(sampler)
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


def _faster_alternative(spec: ModelSpec) -> str:
    """The first advice of a slow fit's warning: what is faster for this model."""
    if spec.family == "bernoulli":
        return ("method='surrogate' samples a quadratic expansion of the log-likelihood and corrects it by "
                "importance sampling, usually in seconds (check its Pareto k-hat). ")
    return ""


def _one_blas_thread(spec: ModelSpec):
    """The scale-mixture density calls BLAS from every chain's thread at once; OpenBLAS's own threads
    on top oversubscribe the cores (about 3x the sampling time on 2 cores: ``docs/sampling.md``).
    The other densities use no BLAS."""
    if spec.mixture:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=1, user_api="blas")
    return contextlib.nullcontext()


def _add_conditional_coefficients(idata, spec: ModelSpec, data: dict, feature_names, rng) -> None:
    """Put ``coef`` (and ``intercept``) drawn given each sampled draw (:mod:`bayesreg.sampling.conditional`)
    into the posterior, in the order and with the dims the other structures have (coef, intercept,
    sigma, the prior's scales); a Laplace's mixture variances, a device of the sampler, are dropped."""
    import xarray as xr

    posterior = idata["posterior"].to_dataset()
    shape = (posterior.sizes["chain"], posterior.sizes["draw"])
    m = shape[0] * shape[1]
    sigma = posterior["sigma"].to_numpy().ravel() if "sigma" in posterior else np.full(m, float(data["sigma_known"]))
    if spec.spectral:  # a fixed Normal (conjugate) is the spectral model at tau = 1
        tau = np.ones(m) if spec.conjugate else posterior["prior_scale"].to_numpy().ravel()
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


def convergence_problems(idata, var_names, standardized: bool | None = None) -> list[str]:
    """Each failed check as a sentence with concrete advice (empty when all pass).

    ``standardized``: whether X's columns have mean ~0 and sd ~1 (:func:`columns_standardized`),
    ``None`` where that is not known; it decides whether "standardize X" is advice or beside the point.
    """
    import arviz as az

    stats = idata["sample_stats"]
    problems = []
    n_div = int(stats["diverging"].sum())
    if n_div:
        total = stats["diverging"].size
        problems.append(
            f"{n_div} of {total} transitions diverged: the posterior has regions NUTS cannot follow, so "
            f"estimates may be biased. {_divergence_advice(idata.attrs)}")
    saturated, transitions = _treedepth_saturation(stats)
    if saturated:
        problems.append(
            f"{saturated} of {transitions} transitions ({_percent(saturated, transitions)}) hit the maximum "
            f"tree depth: sampling is inefficient. {_treedepth_advice(standardized)}")
    bfmi = _e_bfmi(idata)
    if bfmi is not None and bfmi.min() < EBFMI_MIN:
        problems.append(
            f"E-BFMI is {bfmi.min():.2f} (< {EBFMI_MIN}) in chain {int(bfmi.argmin())}: the sampler explores "
            "the energy distribution poorly, typical of a funnel (a scale and the coefficients it "
            "scales). Use a non-centred or regularized prior (RegularizedHorseshoe), or standardize X.")
    summary = az.summary(idata, var_names=var_names, kind="diagnostics")
    n_chains = idata["posterior"].sizes["chain"]
    iid = idata.attrs.get("sampler") == "exact"  # iid draws (sampling/exact.py): R-hat would only flag chance
    if n_chains < 2 and not iid:
        problems.append(
            "R-hat needs at least 2 chains and was not checked (chains=1): disagreement between chains, "
            "the main sign of non-convergence, cannot be seen. Use chains=4.")
    elif not iid:
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
                f"{kind} ESS is {math.floor(worst_ess)} (< {ESS_MIN}) for {column.idxmin()}: too few effective draws "
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


def _treedepth_saturation(stats) -> tuple[int, int]:
    """How many transitions hit the maximum tree depth, of how many."""
    for name in ("reached_max_treedepth", "maxdepth_reached"):
        if name in stats:
            return int(stats[name].sum()), int(stats[name].size)
    return 0, 0


def _percent(count: int, total: int) -> str:
    """A share that never prints as "0.0%" when the count is not 0: 3 of 4000 is "0.075%"."""
    share = 100 * count / total
    return f"{share:.2g}%" if share < 1 else f"{share:.1f}%"


def _treedepth_advice(standardized: bool | None) -> str:
    raise_depth = "raise maxdepth (fit(..., maxdepth=12))"
    if standardized:
        return ("X's columns are already standardized, so the cause is the posterior's shape (strongly "
                f"correlated coefficients, or a horseshoe's funnel), not the data's units: {raise_depth}.")
    if standardized is None:
        return f"If X's columns are on very different scales, standardize them (mean 0, sd 1); else {raise_depth}."
    return f"X's columns are not standardized: standardize them (mean 0, sd 1), or {raise_depth}."


def columns_standardized(X, tolerance: float = 0.05) -> bool:
    """Whether every column has |mean| and |sd - 1| within ``tolerance`` (sd with ddof 0 or 1 alike:
    sqrt(n / (n - 1)) - 1 < 0.05 for n > 10), as StandardScaler leaves them."""
    X = np.asarray(X)
    return bool(np.all(np.abs(X.mean(axis=0)) <= tolerance) and np.all(np.abs(X.std(axis=0) - 1) <= tolerance))


def warn_on_problems(idata, var_names, standardized: bool | None = None) -> None:
    for problem in convergence_problems(idata, var_names, standardized):
        warnings.warn(problem, SamplingWarning, skip_file_prefixes=PACKAGE_FILES)


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
