"""The sampler options ``fit(X, y, **sampler_kwargs)`` passes on to :func:`nutpie.sample`, checked
against the installed nutpie before anything is compiled or sampled.

Why: nutpie accepts its named parameters (``cores``, ``adaptation``, ``init_mean``, ...) and hands
every other keyword to its settings object, which refuses an unknown name only once sampling
starts, from inside the sampler call, where it looked like a sampler failure ("Standardize X").
A typo such as ``fit(X, y, n_draws=200)`` must instead fail at once as Python's own
``TypeError: fit() got an unexpected keyword argument 'n_draws'. Did you mean 'draws'?`` does.

The settings names are nutpie's own: a name is known when ``PyNutsSettings.update`` (or
``PyMclmcSettings.update``) accepts it for some adaptation, so the check follows the installed
version instead of a copied list; the suggestions come from the names nutpie reports in
``as_dict()`` that ``update`` accepts.
"""

from __future__ import annotations

import difflib
import functools
import inspect

# nutpie.sample's parameters that bayesreg sets itself (fit's own argument for it, or why not at all)
SET_BY_FIT = {"seed": "random_seed", "progress_bar": "progressbar", "num_draws": "draws", "num_tune": "tune",
              "num_chains": "chains", "draws": "draws", "tune": "tune", "chains": "chains"}
SET_BY_BAYESREG = ("compiled_model", "save_warmup", "return_raw_trace", "blocking", "progress_callback", "zarr_store",
                   "kwargs")
ADAPTATIONS = ("diag", "draw_diag", "low_rank", "flow")
SAMPLERS = ("nuts", "mclmc")


def check_sampler_options(options: dict, fit_parameters, adaptation: str | None = None) -> None:
    """Raise ``TypeError`` (unknown name, wrong type) or ``ValueError`` (refused value) for any of
    ``options`` that nutpie would not take; ``fit_parameters`` are fit's own names, for suggestions.

    ``adaptation`` is the one the sampler will use when the options do not set it (then an option
    of another adaptation, e.g. ``mass_matrix_gamma`` with ``"diag"``, is refused too); ``None``
    accepts an option that any adaptation takes.
    """
    named = _named_parameters()
    for name, value in options.items():
        if name in SET_BY_FIT:
            raise TypeError(f"fit() got the nutpie option {name!r}, which fit sets itself: use "
                            f"fit(..., {SET_BY_FIT[name]}=...)")
        if name in SET_BY_BAYESREG:
            raise TypeError(f"fit() does not take {name!r}: bayesreg sets it itself (it needs the draws "
                            "in memory as a DataTree, without warm-up)")
        if name not in named and not _known_setting(name):
            raise TypeError(f"fit() got an unexpected keyword argument {name!r}.{_suggestion(name, fit_parameters)}")
    sampler = options.get("sampler", "nuts")
    adaptation = options.get("adaptation", adaptation)
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler={sampler!r} is not one of nutpie's samplers {SAMPLERS}")
    if adaptation is not None and adaptation not in ADAPTATIONS:
        raise ValueError(f"adaptation={adaptation!r} is not one of nutpie's adaptations {ADAPTATIONS}")
    for name, value in options.items():
        if name not in named:
            _check_setting_value(name, value, sampler, adaptation)
    target_accept = options.get("target_accept", 0.8)
    if not 0 < target_accept < 1:  # nutpie takes any float, and 2.0 saturates every tree
        raise ValueError(f"target_accept must be in (0, 1), got {target_accept}")


def _check_setting_value(name, value, sampler, adaptation) -> None:
    """Let nutpie's settings object judge ``name=value`` as ``nutpie.sample`` would, one at a time
    (nutpie's message does not name the option)."""
    for each in (ADAPTATIONS if adaptation is None else (adaptation,)):
        try:
            _settings(sampler, each).update({name: value})
            return
        except AttributeError:  # unknown to this sampler or adaptation: another may take it
            problem = TypeError(f"fit(..., {name}=...) is not an option of nutpie's {sampler!r} sampler with "
                                f"adaptation={each!r}")
        except (TypeError, ValueError, OverflowError) as exc:
            kind = TypeError if isinstance(exc, TypeError) else ValueError
            problem = kind(f"fit(..., {name}={value!r}): nutpie refused it: {exc}")
    raise problem


def _settings(sampler: str, adaptation: str):
    """A fresh settings object, built as ``nutpie.sample`` builds it (nutpie 0.16)."""
    from nutpie import _lib

    kinds = _lib.PyNutsSettings if sampler == "nuts" else _lib.PyMclmcSettings
    make = {"low_rank": kinds.LowRank, "flow": kinds.Flow}.get(adaptation, kinds.Diag)
    return make(0)


@functools.cache
def _named_parameters() -> frozenset[str]:
    from nutpie.sample import sample  # the function in its module, which a test's stand-in for nutpie.sample leaves

    return frozenset(inspect.signature(sample).parameters) - set(SET_BY_BAYESREG) - set(SET_BY_FIT)


@functools.cache
def _known_setting(name: str) -> bool:
    for sampler in SAMPLERS:
        for adaptation in ADAPTATIONS:
            try:
                _settings(sampler, adaptation).update({name: None})
                return True
            except AttributeError:
                continue
            except Exception:  # the name is known; only the probe's value None was refused
                return True
    return False


@functools.cache
def _setting_names() -> frozenset[str]:
    """The settings names nutpie accepts, from what its settings objects report about themselves."""
    names = set()
    for sampler in SAMPLERS:
        for adaptation in ADAPTATIONS:
            for key in _leaf_keys(_settings(sampler, adaptation).as_dict()["settings"]):
                for candidate in (key, f"mass_matrix_{key}"):  # nutpie's flat names for nested ones
                    if candidate not in SET_BY_FIT and _known_setting(candidate):
                        names.add(candidate)
    return frozenset(names)


def _leaf_keys(tree: dict):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaf_keys(value)
        else:
            yield key


def _suggestion(name: str, fit_parameters) -> str:
    candidates = [*fit_parameters, *sorted(_named_parameters()), *sorted(_setting_names())]
    close = difflib.get_close_matches(name, candidates, n=1)
    if close:
        return f" Did you mean {close[0]!r}?"
    return (" fit takes " + ", ".join(fit_parameters) + " and nutpie.sample's options (target_accept, maxdepth, "
            "adaptation, cores, ...: docs/sampling.md)")
