"""Execute a notebook once per test run and keep the executed copy for the docs.

``make test`` executes every notebook in ``notebooks/`` (tests/test_notebooks.py) and the docs
build renders the executed copies, outputs and plots included (tests/test_docs.py). Both ask
:func:`executed_notebook`; whichever asks first executes the notebook, under a file lock so that
two pytest-xdist workers never run the same notebook at once, and the other reuses the copy.

A copy is reused only within the same test run (pytest-xdist's run id, or one made here), so a
notebook is executed against the current code in every ``make test``. Copies go to
``build/notebooks/``, stamped with :func:`inputs_digest`; ``docs/hooks.py`` prefers a copy over
the output-free original only while the notebook and the package are unchanged since.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
import uuid
from pathlib import Path

import nbformat
from filelock import FileLock
from nbclient import NotebookClient

from seeds import SEED_SHIFT, shifted

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
EXECUTED_DIR = ROOT / "build" / "notebooks"
CELL_TIMEOUT = 600  # seconds per cell
PROBE = "import sys\nprint(sys.executable)"
RUN_ID = os.environ.setdefault("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)  # set by xdist on workers


def inputs_digest(source: Path, package: Path = ROOT / "bayesreg") -> str:
    """sha256 of the notebook and of every module of the package: what its outputs depend on.
    ``docs/hooks.py`` computes the same to decide whether an executed copy is current."""
    digest = hashlib.sha256(source.read_bytes())
    for module in sorted(package.rglob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()


def executed_notebook(source: Path) -> Path:
    """The path of ``source`` executed in this test run; executes it if no worker has yet.

    Raises ``nbclient.exceptions.CellExecutionError`` (with the failing cell and its traceback)
    when a cell fails, and ``AssertionError`` when the kernel is not this interpreter.
    """
    EXECUTED_DIR.mkdir(parents=True, exist_ok=True)
    target = EXECUTED_DIR / source.name
    with FileLock(target.with_suffix(".lock")):
        _link_folders(source.parent)
        if _executed_in_this_run(target, source):
            return target
        notebook = _execute(source)
        partial = target.with_suffix(".partial")
        nbformat.write(notebook, partial)
        partial.replace(target)  # never a half-written copy for the docs to pick up
    return target


def _link_folders(notebook_dir: Path) -> None:
    """Give the executed copies the notebooks' folders (``data/``) as relative symlinks, so their
    relative links and paths resolve as the originals' do (in the docs, and when re-run)."""
    for folder in (entry for entry in notebook_dir.iterdir() if entry.is_dir() and not entry.name.startswith(".")):
        link = EXECUTED_DIR / folder.name
        try:
            link.symlink_to(os.path.relpath(folder, EXECUTED_DIR), target_is_directory=True)
        except FileExistsError:  # made by another notebook's worker (each holds its own lock)
            pass


def execution_seconds(path: Path) -> float:
    return nbformat.read(path, as_version=4).metadata["bayesreg"]["execution_seconds"]


def _executed_in_this_run(target: Path, source: Path) -> bool:
    if not target.is_file():
        return False
    stamp = nbformat.read(target, as_version=4).metadata.get("bayesreg", {})
    return stamp.get("test_run") == RUN_ID and stamp.get("inputs_sha256") == inputs_digest(source)


def _execute(source: Path):
    notebook = nbformat.read(source, as_version=4)
    _shift_seed(notebook)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(PROBE))
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(source.parent)}})  # the kernel's cwd
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    probe = notebook.cells.pop(0)
    _renumber_without_probe(notebook)
    kernel_python = "".join(output.get("text", "") for output in probe.outputs).strip()
    assert os.path.abspath(kernel_python) == os.path.abspath(sys.executable), (
        f"{source.name} ran in {kernel_python}, not in this interpreter {sys.executable}: the "
        "python3 kernelspec must start the project's venv"
    )
    notebook.metadata["bayesreg"] = {"inputs_sha256": inputs_digest(source), "test_run": RUN_ID,
                                     "execution_seconds": round(seconds, 1), "seed_shift": SEED_SHIFT}
    return notebook


SEED_LINE = re.compile(r"^SEED = (\d+)$", re.MULTILINE)


def _shift_seed(notebook) -> None:
    """Each notebook draws every seed from one ``SEED = <int>`` line: move it by
    ``BAYESREG_TEST_SEED_SHIFT`` (tests/seeds.py), so the claims cells are checked on other draws
    too. The executed copy shows the seed it ran with."""
    if SEED_SHIFT == 0:
        return
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = SEED_LINE.sub(
                lambda m: f"SEED = {shifted(int(m.group(1)))}  # {m.group(1)} + BAYESREG_TEST_SEED_SHIFT", cell.source)


def _renumber_without_probe(notebook) -> None:
    """The probe ran as ``In [1]``: number the notebook's own cells from 1 again."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.execution_count:
            cell.execution_count -= 1
            for output in cell.outputs:
                if output.get("execution_count"):
                    output.execution_count -= 1
