"""The marginality principle in the forward search: an interaction enters only after its
lower-order terms (projpred's forward search does the same: ``select_possible_terms_size``).

A formula's terms are named by their factors joined with ``:`` (formulaic's names: ``x1``,
``C(region)``, ``x1:C(region)``). Term ``u`` is a *parent* of term ``t`` when ``u``'s factors are a
proper subset of ``t``'s; a parent the formula does not have puts no constraint (``y ~ a:b`` alone
may enter at once). Why: a submodel with ``a:b`` but without ``a`` changes meaning with the
coding of ``b`` (its dummies then absorb part of ``a``'s effect), so the search would compare
submodels that are not what their names say (seen on warpbreaks: ``wool:tension`` first).
"""

from __future__ import annotations

__all__ = ["eligible", "parents_of"]


def parents_of(names) -> list[frozenset]:
    """For each term name, the indices of its parents among ``names``."""
    factors = [frozenset(name.split(":")) for name in names]
    return [frozenset(u for u, other in enumerate(factors) if other < mine) for mine in factors]


def eligible(term: int, chosen, parents) -> bool:
    """Whether ``term`` may enter after ``chosen`` (``parents=None``: every term may)."""
    return parents is None or parents[term] <= set(chosen)
