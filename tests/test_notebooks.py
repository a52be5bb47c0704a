"""Execute every notebook in ``notebooks/`` so that they cannot rot.

Each notebook runs top to bottom in a fresh ``python3`` kernel that must be this interpreter (the
project's venv), with ``notebooks/`` as the working directory (tests/notebook_runs.py). The
executed copies go to ``build/notebooks/`` for the docs. Notebooks are stored without outputs; a
fast test checks that.
"""

from __future__ import annotations

import nbformat
import pytest

from notebook_runs import NOTEBOOK_DIR, executed_notebook, execution_seconds

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
ERROR_OUTPUT_TYPES = {"error"}


def _code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_notebooks_exist():
    assert [path.name[:3] for path in NOTEBOOKS] == ["01_", "02_", "03_", "04_", "05_", "06_", "07_", "08_"], NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [i for i, cell in enumerate(_code_cells(notebook)) if cell.outputs or cell.execution_count]
    assert not dirty, f"{path.name}: clear the outputs of code cells {dirty} before committing"
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_executes(path):
    executed = nbformat.read(executed_notebook(path), as_version=4)
    cells = _code_cells(executed)
    assert all(cell.execution_count for cell in cells), f"{path.name}: a code cell did not run"
    outputs = [output for cell in cells for output in cell.outputs]
    assert not [o for o in outputs if o.output_type in ERROR_OUTPUT_TYPES]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} shows no plot"
    print(f"{path.name}: executed in {execution_seconds(executed_notebook(path)):.1f} s")
