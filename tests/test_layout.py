"""The package's layout rules, read from its imports with ``ast`` (no module is imported).

Every import statement counts, the ones inside functions included: a lazy import still makes one
module depend on another. Each rule was broken once by hand (an import added in the wrong place,
a long file) and seen to fail here.

1. No import circles between modules (a package's ``__init__`` is a module of its own).
2. ``dask`` and ``distributed`` are imported only inside ``bayesreg/data/``.
3. ``pymc``, ``pytensor``, ``nutpie`` and ``numba`` are not imported by ``priors/``, ``families/``,
   ``solvers/``, ``data/``, ``model/spec.py`` or ``model/glm_spec.py``, directly or through another module of the package.
4. No module is over 450 lines.
5. The estimators reach ``data`` and ``sampling`` through those packages' faces (their
   ``__init__``), never a module inside them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "bayesreg"
MAX_LINES = 450
BACKENDS = ("pymc", "pytensor", "nutpie", "numba")
NO_BACKEND = ("bayesreg.priors", "bayesreg.families", "bayesreg.solvers", "bayesreg.data", "bayesreg.model.spec",
              "bayesreg.model.glm_spec")
DASK = ("dask", "distributed")
FACES = {"bayesreg.estimators": ("bayesreg.data", "bayesreg.sampling")}


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = PACKAGE) -> list[tuple[str, int, str]]:
    """``(imported module, line, named module)`` for every import in the file, relative ones resolved.
    ``from a import b`` imports ``a.b`` when ``b`` is a module of the package, else ``a``; the named
    module is ``a`` either way (what the statement reaches into)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    modules = {module_name(p, root) for p in root.rglob("*.py")}
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                child = f"{target}.{alias.name}"
                found.append((child if child in modules else target, node.lineno, target))
    return found


def graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (a package import counts as its ``__init__``)."""
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    edges = {}
    for name, path in files.items():
        edges[name] = {target for target, _, _ in imports_of(path, root) if target in files and target != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def reached(edges: dict[str, set[str]], start: str) -> list[str]:
    """The package's modules ``start`` imports directly or through others, nearest first."""
    seen, queue = [start], [start]
    while queue:
        for w in sorted(edges.get(queue.pop(0), ())):
            if w not in seen:
                seen.append(w)
                queue.append(w)
    return seen


def violations(root: Path = PACKAGE) -> list[str]:
    edges = graph(root)
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    backend_users = {name for name, path in files.items()
                     if any(target.split(".")[0] in BACKENDS for target, _, _ in imports_of(path, root))}
    problems = [f"import circle: {' <-> '.join(cycle)}" for cycle in cycles(edges)]
    for name in sorted(files):
        if any(name == p or name.startswith(p + ".") for p in NO_BACKEND):
            through = [m for m in reached(edges, name)[1:] if m in backend_users]
            if through:
                problems.append(f"{name} imports {through[0]}, which imports {', '.join(BACKENDS)}: "
                                f"{name} must not import them")
    for path in sorted(root.rglob("*.py")):
        name = module_name(path, root)
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            problems.append(f"{path.relative_to(root.parent)} has {lines} lines (> {MAX_LINES}): split it")
        for target, line, named in imports_of(path, root):
            top = target.split(".")[0]
            where = f"{path.relative_to(root.parent)}:{line}"
            if top in DASK and not (name + ".").startswith("bayesreg.data."):
                problems.append(f"{where} imports {target}: dask enters through bayesreg/data/ only")
            if top in BACKENDS and any(name == p or name.startswith(p + ".") for p in NO_BACKEND):
                problems.append(f"{where} imports {target}: {name} must not import {', '.join(BACKENDS)}")
            for importer, faces in FACES.items():
                if name.startswith(importer) and any(named.startswith(face + ".") for face in faces):
                    problems.append(f"{where} imports from {named}: go through its package's face "
                                    f"({named.rsplit('.', 1)[0]})")
    return problems


def test_the_package_keeps_its_layout_rules():
    assert violations() == []


def _package(tmp_path, files: dict[str, str]) -> Path:
    root = tmp_path / "bayesreg"
    for relative, text in {"__init__.py": "", **files}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize("files, expected", [
    ({"a.py": "from . import b\n", "b.py": "def f():\n    from .a import x\n"}, "import circle: bayesreg.a <-> bayesreg.b"),
    ({"estimators/__init__.py": "", "estimators/fit.py": "import dask.array\n"}, "dask enters through bayesreg/data/"),
    ({"data/__init__.py": "", "data/x.py": "import dask\nfrom distributed import Client\n"}, None),
    ({"priors/__init__.py": "", "priors/p.py": "def f():\n    import pymc\n"}, "must not import"),
    ({"model/__init__.py": "", "model/spec.py": "from numba import njit\n"}, "must not import"),
    ({"model/__init__.py": "", "model/pymc.py": "import pymc\n"}, None),
    ({"model/__init__.py": "", "model/pymc.py": "import pymc\n", "solvers/__init__.py": "",
      "solvers/linear.py": "from ..model.pymc import build_model\n"}, "must not import"),
    ({"big.py": "x = 1\n" * (MAX_LINES + 1)}, f"has {MAX_LINES + 1} lines"),
    ({"data/__init__.py": "", "data/dask_input.py": "", "estimators/__init__.py": "",
      "estimators/linear.py": "from ..data.dask_input import x\n"}, "go through its package's face"),
    ({"data/__init__.py": "", "data/dask_fit.py": "", "estimators/__init__.py": "",
      "estimators/linear.py": "from ..data import dask_fit, x\n"}, None),
])
def test_each_rule_fails_when_broken(tmp_path, files, expected):
    """A small package that breaks one rule (or keeps all of them, ``expected=None``)."""
    found = violations(_package(tmp_path, files))
    if expected is None:
        assert found == []
    else:
        assert len(found) >= 1 and all(expected in problem for problem in found), found
