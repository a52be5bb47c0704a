"""What every prior is: an immutable value with scikit-learn's parameter protocol, and its checks.

Priors are values: frozen dataclasses, equal when their parameters are equal (arrays compared
elementwise). ``get_params``/``set_params``/``__sklearn_clone__`` let scikit-learn's model
selection reach into them (``GridSearchCV(est, {"prior__scale": [...]})``). :class:`Prior` is
the base of the priors on coefficients (:mod:`bayesreg.priors.coefficients`), :class:`Hyperprior`
of the priors on a learned global scale (:mod:`bayesreg.priors.hyperpriors`); both live here so
that a coefficient prior can recognise a learned scale without importing its module.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

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
        shown = ", ".join(f"{v:.4g}" if value.dtype.kind in "fiu" else repr(v) for v in value[:4])  # or labels
        return f"[{shown}{', ...' if value.size > 4 else ''}]"
    return str(value) if isinstance(value, Params) else repr(value)


# fields left out of str and repr while at their class default: ``factor`` is 1 unless
# autoscale resolved a learned scale into per-coefficient multipliers, ``autoscale`` says itself when on
_QUIET = ("autoscale", "factor", "groups")  # groups: None unless the prior groups its coefficients


def _exact(value) -> str:
    """``repr``, with arrays in full (numpy's own repr rounds to 8 digits and elides long arrays)."""
    return f"array({value.tolist()!r})" if isinstance(value, np.ndarray) else repr(value)


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

    def __init_subclass__(cls, **kwargs):
        # @dataclass writes its own __repr__ unless the class has one in its own __dict__: put ours there
        # first (this runs when the class is created, before the decorator)
        super().__init_subclass__(**kwargs)
        if "__repr__" not in cls.__dict__:
            cls.__repr__ = Params.__repr__

    def _shown(self) -> dict:
        """The parameters worth showing: all but the quiet ones at their class default."""
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        return {k: v for k, v in self.get_params(deep=False).items()
                if not (k in _QUIET and defaults[k] is not dataclasses.MISSING and _same(v, defaults[k]))}

    def __str__(self) -> str:
        """For people: ``Laplace(scale=11.31)``, numbers to 4 significant digits (``repr`` is exact)."""
        return f"{type(self).__name__}({', '.join(f'{k}={_format(v)}' for k, v in self._shown().items())})"

    def __repr__(self) -> str:
        """Exact: ``eval(repr(prior)) == prior`` (numpy's ``array`` in scope for array scales)."""
        return f"{type(self).__name__}({', '.join(f'{k}={_exact(v)}' for k, v in self._shown().items())})"


def positive_number(name: str, value) -> float:
    """Return ``value`` as a float, or raise if it is not finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return value


def positive_scale(name: str, value):
    """A positive number (as float), or a 1-d array of them (as a read-only float array).

    An array holds one entry per feature: glmnet's ``penalty.factor`` in prior form. Its length is
    checked against ``X`` at fit time (:meth:`Prior.check_n_features`).
    """
    if isinstance(value, (bool, np.bool_)) or isinstance(value, (numbers.Real, np.number)):
        return positive_number(name, value)
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be a positive number or a 1-d array of them (one per feature), got {value!r}")
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must hold numbers, got {value!r}") from exc
    if array.ndim == 0:
        return positive_number(name, float(array))
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a number or a non-empty 1-d array (one entry per feature), "
                         f"got shape {array.shape}")
    bad = np.flatnonzero(~(np.isfinite(array) & (array > 0)))
    if bad.size:
        raise ValueError(f"{name} must be finite and > 0 in every entry; entries {bad[:5].tolist()} are "
                         f"{array[bad[:5]].tolist()}")
    array.setflags(write=False)  # a prior is a value: nobody changes it behind the estimator's back
    return array


class Prior(Params):
    """Base class of coefficient priors.

    Coefficients are independent a priori under ``Normal``, ``Laplace`` and ``ElasticNet``, and
    independent given the shared global scale under the horseshoes and the hyperprior forms.
    A scale may be one number (the same prior on every coefficient) or an array with one entry
    per feature.

    Subclasses with a finite MAP expose the penalty weights ``l1`` and ``l2`` (numbers, or arrays
    with one entry per coefficient) of
    ``-log p(w) = sum_j l1_j |w_j| + l2_j / 2 * w_j^2 + const``.
    """

    has_map: bool = True
    autoscale: bool = False
    l1: float = 0.0
    l2: float = 0.0

    @property
    def l2_sqrt(self) -> float:
        """``sqrt(l2)``, the inverse of the Gaussian factor's scale, without squaring first (the
        solvers rescale it by powers of two; ``l2`` itself under- or overflows at scales ~1e160)."""
        return np.sqrt(self.l2)

    def neg_log_density(self, w) -> float:
        """Exact ``-log p(w)`` summed over coefficients, normalising constant included."""
        raise NotImplementedError

    def no_map_reason(self) -> str:
        return ""

    def per_coefficient(self) -> dict:
        """The hyperparameters that may hold one entry per feature, by field name."""
        return {}

    def check_n_features(self, n_features: int) -> None:
        """Raise if a per-coefficient array does not have one entry per column of ``X``."""
        for name, value in self.per_coefficient().items():
            if isinstance(value, np.ndarray) and value.size != n_features:
                raise ValueError(
                    f"{type(self).__name__} {name} has {value.size} entries but X has {n_features} features; "
                    "give one entry per column of X, or a single number for all of them"
                )


class Hyperprior(Params):
    """A prior on a positive global scale ``tau``."""

    def neg_log_density(self, tau) -> np.ndarray | float:
        """Exact ``-log p(tau)`` (elementwise), normalising constant included; ``tau > 0``."""
        raise NotImplementedError
