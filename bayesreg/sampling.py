"""NUTS through nutpie, with honest diagnostics.

Why nutpie (measured on the diabetes ridge model, 4 x 1000 draws, 2 cores; see
``benchmarks/RESULTS.md``): PyMC's own NUTS took 22 s with min bulk ESS 2348; nutpie with its
low-rank modified mass matrix samples in 0.4 s with min bulk ESS 5001, after a one-off numba
compile of 10-30 s (on posteriordb's diamonds the low-rank mass matrix gave min bulk ESS 7094
where the diagonal one gave 163). The compile is paid once per :class:`~bayesreg.model.ModelSpec`
per process: refits with the same structure (new data, same prior and shape) reuse the compiled
model through ``with_data``.
"""

from __future__ import annotations

import contextlib
import time
import warnings

import numpy as np

from .model import ModelSpec, build_model
from .priors import Horseshoe, RegularizedHorseshoe

RHAT_MAX = 1.01
ESS_MIN = 400


class SamplingWarning(UserWarning):
    """The sampler's output fails a convergence check; the message says what to do."""


_COMPILED: dict[ModelSpec, tuple] = {}  # spec -> (PyMC model, nutpie's compiled model)


def _compiled(spec: ModelSpec, data: dict, feature_names) -> tuple[object, object, float]:
    """The PyMC model and compiled sampler for ``spec``, and the seconds this call spent compiling."""
    if spec in _COMPILED:
        return *_COMPILED[spec], 0.0
    import nutpie

    started = time.perf_counter()
    model = build_model(spec, data, feature_names)
    _COMPILED[spec] = model, nutpie.compile_pymc_model(model)
    return *_COMPILED[spec], time.perf_counter() - started


def _with_data(model, compiled, data: dict):
    """``compiled`` with ``data`` swapped in, its initial points included.

    nutpie's ``with_data`` swaps the data of the log density only; the initial-point function
    reads the PyMC model's shared variables, which still hold the data the model was compiled
    with. Without updating them, the same data and seed gave different draws depending on what
    the process had fitted first (tests/test_nuts.py).
    """
    used = {var.name for var in compiled.shared_var_keys}  # pytensor prunes data the graph ignores
    current = {name: value for name, value in data.items() if name in used}
    for name, value in current.items():
        model[name].set_value(np.asarray(value, dtype=model[name].dtype))
    return compiled.with_data(**current)


def default_settings(spec: ModelSpec) -> dict:
    """nutpie settings by prior, from measurements (``benchmarks/RESULTS.md``).

    Horseshoes: a diagonal mass matrix and ``target_accept=0.99``. On n=100, p=200 with 5 signals
    the low-rank adaptation did not finish one run in 6 minutes (401 funnel-shaped dimensions),
    and the diagonal one gave 185 / 16 / 1 divergences of 4000 at target_accept .9 / .95 / .99.
    Everything else: the low-rank mass matrix, for correlated coefficients.
    """
    if issubclass(spec.prior_type, (Horseshoe, RegularizedHorseshoe)):
        return {"adaptation": "diag", "target_accept": 0.99}
    return {"adaptation": "low_rank"}


def sample_posterior(spec: ModelSpec, data: dict, feature_names, *, draws: int, tune: int, chains: int,
                     random_seed=None, progressbar: bool = True, **sampler_kwargs):
    """Sample the posterior of ``spec`` given ``data``; returns an ArviZ ``DataTree``.

    ``sampler_kwargs`` go to :func:`nutpie.sample` (e.g. ``target_accept``, ``maxdepth``,
    ``adaptation="diag"``) and override :func:`default_settings`. ``random_seed`` must be an
    int or None.
    """
    if random_seed is not None and not isinstance(random_seed, (int, np.integer)):
        raise TypeError(f"random_seed must be an int or None, got {random_seed!r}")
    import nutpie

    model, compiled, compile_seconds = _compiled(spec, data, feature_names)
    sampler_kwargs = {**default_settings(spec), **sampler_kwargs}
    started = time.perf_counter()
    idata = nutpie.sample(_with_data(model, compiled, data), draws=draws, tune=tune, chains=chains,
                          seed=None if random_seed is None else int(random_seed),
                          progress_bar=progressbar, save_warmup=False, **sampler_kwargs)
    for name, group in idata.children.items():  # the compiled model carries its first fit's names
        if "feature" in group.dims:
            idata[name] = group.to_dataset().assign_coords(feature=list(feature_names))
    idata.attrs.update(sampler="nutpie", prior=spec.prior_type.__name__, adaptation=sampler_kwargs["adaptation"],
                       target_accept=sampler_kwargs.get("target_accept", 0.8),
                       compile_seconds=compile_seconds, sampling_seconds=time.perf_counter() - started)
    _check_finite(idata)
    return idata


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
    summary = az.summary(idata, var_names=var_names, kind="diagnostics")
    worst_rhat = float(summary["r_hat"].max())
    if worst_rhat > RHAT_MAX:
        problems.append(
            f"R-hat is {worst_rhat:.4f} (> {RHAT_MAX}) for {summary['r_hat'].idxmax()}: chains disagree. "
            "Run more tune and draws, and check for multimodality.")
    worst_ess = float(summary["ess_bulk"].min())
    if worst_ess < ESS_MIN:
        problems.append(
            f"bulk ESS is {worst_ess:.0f} (< {ESS_MIN}) for {summary['ess_bulk'].idxmin()}: too few "
            "effective draws for reliable intervals. Increase draws (and chains).")
    return problems


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
