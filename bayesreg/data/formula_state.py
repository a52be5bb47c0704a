"""A formula fit's model spec as JSON, and back, with no pickle: loading a file runs no code from it.

What formulaic learned on the training frame and needs again for new rows is data:

- the formula (the right side, as formulaic writes it, e.g. ``1 + x1 + C(region)``),
- ``transform_state``: the constants of stateful transforms (``center``, ``scale``, ``poly``, ``bs``
  knots), numbers, lists and dicts (numpy arrays and integer keys kept by tags),
- ``encoder_state``: each factor's kind and categorical levels (the contrasts are re-derived from
  the formula, e.g. ``C(region, contr.treatment('b'))``),
- the design's column names (the estimator checks every new encoding against them).

formulaic evaluates a formula's factors as Python expressions. A formula read from a file is
therefore checked first (:func:`check_formula_is_data`): its factors may be column names, numbers,
strings, arithmetic, and calls of formulaic's own transforms (``C``, ``center``, ``bs``, ``contr.sum``,
``np.log``, ...), nothing else (no builtins such as ``open``, no attribute starting with ``_``). The same
check runs at ``save``, so a fit that could not be loaded back is refused when saved.
"""

from __future__ import annotations

import ast
import builtins

import numpy as np

FORMAT = 1
_NUMPY_FUNCTIONS = {"log", "log1p", "log2", "log10", "exp", "expm1", "sqrt", "square", "abs", "power", "sin",
                    "cos", "tanh", "arcsinh", "clip", "minimum", "maximum"}
_OPERATORS = (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def spec_to_json(spec) -> dict:
    """The model spec's state as JSON-ready data (see the module docstring)."""
    check_formula_is_data(str(spec.formula))
    return {
        "format": FORMAT,
        "formula": str(spec.formula),
        "ensure_full_rank": bool(spec.ensure_full_rank),
        "column_names": list(spec.column_names),
        "transform_state": _tagged(spec.transform_state),
        "encoder_state": {expr: [kind.value, _tagged({k: v for k, v in state.items() if k != "contrasts"})]
                          for expr, (kind, state) in spec.encoder_state.items()},
    }


def spec_from_json(saved: dict):
    """The formulaic ``ModelSpec`` of :func:`spec_to_json`'s data, after :func:`check_formula_is_data`."""
    from formulaic import ModelSpec
    from formulaic.parser.types import Factor

    if saved.get("format") != FORMAT:
        raise ValueError(f"the saved formula state has format {saved.get('format')!r}; this bayesreg reads {FORMAT}")
    check_formula_is_data(saved["formula"])
    spec = ModelSpec(
        formula=saved["formula"], ensure_full_rank=saved["ensure_full_rank"], na_action="raise", output="pandas",
        transform_state=_untagged(saved["transform_state"]),
        encoder_state={expr: (Factor.Kind(kind), _untagged(state))
                       for expr, (kind, state) in saved["encoder_state"].items()},
    )
    return spec


def check_formula_is_data(formula: str) -> None:
    """Raise unless every factor of ``formula`` is data, arithmetic or a formulaic transform (module docstring)."""
    from formulaic import Formula
    from formulaic.transforms import TRANSFORMS

    try:
        parsed = Formula(formula)
    except Exception as exc:  # formulaic's parser fails in its own ways (SyntaxError, FormulaSyntaxError, ...)
        raise ValueError(f"cannot parse the saved formula {formula!r}: {exc}") from None
    if hasattr(parsed, "lhs"):
        raise ValueError(f"the saved formula {formula!r} has a left side; a saved model spec has the right side only")
    for term in parsed:
        for factor in term.factors:
            if factor.eval_method.value == "lookup":  # a column by name: nothing is evaluated, but no dunders
                if "__" in str(factor.expr):
                    raise ValueError(f"formula {formula!r} looks up {str(factor.expr)!r}: a name with '__' is not "
                                     "loaded, since loading must not run code from a file")
            else:
                _check_expression(str(factor.expr), set(TRANSFORMS), formula)


def _check_expression(expr: str, transforms: set, formula: str) -> None:
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise ValueError(f"formula {formula!r} has a factor {expr!r} that is not a Python expression") from None
    forbidden = set(dir(builtins))
    for node in ast.walk(tree):
        problem = None
        if isinstance(node, ast.Name) and (node.id.startswith("_") or node.id in forbidden):
            problem = f"the name {node.id!r}"
        elif isinstance(node, ast.Attribute) and (node.attr.startswith("_") or not _allowed_attribute(node)):
            problem = f"the attribute {ast.unparse(node)!r}"
        elif isinstance(node, ast.Call) and not _allowed_call(node.func, transforms):
            problem = f"a call of {ast.unparse(node.func)!r}"
        elif not isinstance(node, (ast.Expression, ast.Name, ast.Attribute, ast.Call, ast.Constant, ast.keyword,
                                   ast.List, ast.Tuple, ast.Load, *_OPERATORS)):
            problem = f"the expression {ast.unparse(node) if isinstance(node, ast.expr) else type(node).__name__!r}"
        if problem:
            raise ValueError(f"formula {formula!r} uses {problem} in {expr!r}: a saved formula may use column names, "
                             "numbers, arithmetic and formulaic's transforms (C, center, scale, bs, poly, contr.*, "
                             "np.log, ...) only, since loading must not run code from a file")


def _allowed_attribute(node: ast.Attribute) -> bool:
    return isinstance(node.value, ast.Name) and (
        node.value.id == "contr" or (node.value.id == "np" and node.attr in _NUMPY_FUNCTIONS))


def _allowed_call(func, transforms: set) -> bool:
    if isinstance(func, ast.Name):
        return func.id in transforms
    return isinstance(func, ast.Attribute) and _allowed_attribute(func)


def _tagged(value):
    """JSON-ready: numpy scalars as Python numbers; arrays, tuples and dicts with other than string keys tagged."""
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _tagged(v) for k, v in value.items()}
        return {"__items__": [[_tagged(k), _tagged(v)] for k, v in value.items()]}
    if isinstance(value, np.ndarray):
        return {"__ndarray__": _tagged(value.tolist()), "dtype": value.dtype.str}
    if isinstance(value, tuple):
        return {"__tuple__": [_tagged(v) for v in value]}
    if isinstance(value, list):
        return [_tagged(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot save the formula state value {value!r} ({type(value).__name__}) as data")


def _untagged(value):
    if isinstance(value, list):
        return [_untagged(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__items__" in value:
        return {_untagged(k): _untagged(v) for k, v in value["__items__"]}
    if "__ndarray__" in value:
        return np.asarray(_untagged(value["__ndarray__"]), dtype=np.dtype(value["dtype"]))
    if "__tuple__" in value:
        return tuple(_untagged(v) for v in value["__tuple__"])
    return {k: _untagged(v) for k, v in value.items()}
