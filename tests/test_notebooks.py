"""Execute every notebook in ``notebooks/`` so that they cannot rot.

Each notebook runs top to bottom in a fresh ``python3`` kernel with ``notebooks/`` as the
working directory. The kernel must be this interpreter (the project's venv): jupyter_client
starts the ``python3`` kernelspec, whose command is ``python``, with ``sys.executable``, and the
first (injected) cell checks that. Notebooks are stored without outputs; a fast test checks that.
"""

from __future__ import annotations

import os
import pathlib
import sys
import time

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 600  # seconds per cell
PROBE = "import sys\nprint(sys.executable)"


def _code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_notebooks_exist():
    assert [path.name[:3] for path in NOTEBOOKS] == ["01_", "02_", "03_", "04_"], NOTEBOOKS


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
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(PROBE))
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},  # the kernel's working directory
    )
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError with the failing cell and traceback
    seconds = time.perf_counter() - started

    kernel_python = "".join(output.get("text", "") for output in notebook.cells[0].outputs).strip()
    assert os.path.abspath(kernel_python) == os.path.abspath(sys.executable), (
        f"{path.name} ran in {kernel_python}, not in this interpreter {sys.executable}"
    )
    print(f"{path.name}: executed in {seconds:.1f} s")
