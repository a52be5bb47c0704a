"""scikit-learn's parameter protocol for small immutable specifications (priors, hyperpriors).

Priors are values: frozen dataclasses, equal when their parameters are equal (arrays compared
elementwise). ``get_params``/``set_params``/``__sklearn_clone__`` let scikit-learn's model
selection reach into them (``GridSearchCV(est, {"prior__scale": [...]})``).
"""

from __future__ import annotations

import dataclasses

import numpy as np


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and bool(np.all(np.asarray(a) == np.asarray(b)))
    return a == b


def _hashable(value):
    return tuple(value.tolist()) if isinstance(value, np.ndarray) else value


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, np.ndarray):
        shown = ", ".join(f"{v:.4g}" for v in value[:4])
        return f"[{shown}{', ...' if value.size > 4 else ''}]"
    return str(value) if isinstance(value, Params) else repr(value)


_QUIET_DEFAULTS = {"autoscale": False, "factor": 1.0}  # printed only when they say something


class Params:
    """scikit-learn's parameter protocol for small immutable specifications (priors, hyperpriors).

    ``get_params``/``set_params`` make ``GridSearchCV(est, {"prior__scale": [...]})`` work:
    scikit-learn clones the estimator (``__sklearn_clone__`` builds a fresh prior) and then sets
    the parameter on the clone. ``set_params`` validates by building a new instance, so a bad
    value raises and leaves the prior unchanged. Nothing else ever changes a prior.
    """

    def get_params(self, deep: bool = True) -> dict:
        params = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if deep:
            for name, value in list(params.items()):
                if isinstance(value, Params):
                    params.update({f"{name}__{k}": v for k, v in value.get_params().items()})
        return params

    def set_params(self, **params):
        own = self.get_params(deep=False)
        direct = {}
        nested: dict[str, dict] = {}
        for key, value in params.items():
            head, _, rest = key.partition("__")
            if head not in own:
                raise ValueError(f"invalid parameter {head!r} for {type(self).__name__}; valid parameters are "
                                 f"{sorted(own)}")
            if rest:
                nested.setdefault(head, {})[rest] = value
            else:
                direct[head] = value
        for head, sub in nested.items():
            inner = direct.get(head, own[head])
            if not isinstance(inner, Params):
                raise ValueError(f"{type(self).__name__} {head} is {inner!r}, which has no parameter {sorted(sub)}")
            direct[head] = type(inner)(**{**inner.get_params(deep=False), **sub})
        checked = type(self)(**{**own, **direct})
        for name in direct:
            object.__setattr__(self, name, getattr(checked, name))
        return self

    def __sklearn_clone__(self):
        return type(self)(**{k: v.__sklearn_clone__() if isinstance(v, Params) else v
                             for k, v in self.get_params(deep=False).items()})

    def __eq__(self, other) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        mine, theirs = self.get_params(deep=False), other.get_params(deep=False)
        return all(_same(mine[k], theirs[k]) for k in mine)

    def __hash__(self) -> int:
        return hash((type(self).__name__, *(_hashable(v) for v in self.get_params(deep=False).values())))

    def __str__(self) -> str:
        """For people: ``Laplace(scale=11.31)``, numbers to 4 significant digits (``repr`` is exact)."""
        values = (f"{k}={_format(v)}" for k, v in self.get_params(deep=False).items()
                  if not (k in _QUIET_DEFAULTS and _same(v, _QUIET_DEFAULTS[k])))
        return f"{type(self).__name__}({', '.join(values)})"
