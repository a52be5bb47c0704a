"""Every seed in the tests moves with ``BAYESREG_TEST_SEED_SHIFT`` (tests/seeds.py).

A literal seed (``random_seed=<int>``, ``default_rng(<int>)``, ``--seed <int>``) in tests/ must be written
``shifted(3)``, or carry a ``# seed fixed:`` comment on its line saying why it must not move
(stored reference data generated with it; a run whose values no assertion reads). Notebooks with
claims cells take every seed from their one ``SEED = <int>`` line, which tests/notebook_runs.py
shifts.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from notebook_runs import NOTEBOOK_DIR, SEED_LINE, _shift_seed

TESTS = Path(__file__).parent
LITERAL_SEED = re.compile(r"random_seed=\d|default_rng\(\d|\"--seed\", \"\d")
EXEMPT = "# seed fixed:"


def unshifted_seeds(files) -> list[str]:
    """``file:line`` of each literal seed that neither goes through shifted() nor is exempt."""
    return [f"{path.name}:{number}: {line.strip()}" for path in files
            for number, line in enumerate(path.read_text().splitlines(), 1)
            if LITERAL_SEED.search(line) and EXEMPT not in line]


def test_every_literal_seed_in_the_tests_is_shifted():
    assert unshifted_seeds(sorted(TESTS.glob("*.py"))) == []


def test_notebooks_with_claims_take_their_seeds_from_one_seed_line():
    for path in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
        code = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
        if "assert " not in code:
            continue
        assert len(SEED_LINE.findall(code)) == 1, f"{path.name}: one `SEED = <int>` line expected"
        assert not LITERAL_SEED.search(code), f"{path.name}: a literal seed that the shift cannot move"


def test_the_shift_moves_the_seeds_and_the_notebook_seed_line(monkeypatch):
    def run(value):
        env = {**os.environ, "BAYESREG_TEST_SEED_SHIFT": value}
        return subprocess.run([sys.executable, "-c", "import seeds; print(seeds.shifted(3))"], cwd=TESTS, env=env,
                              capture_output=True, text=True)
    assert run("2").stdout.strip() == "5"
    assert run("").stdout.strip() == "3"
    assert "is not an integer" in run("two").stderr
    import notebook_runs

    monkeypatch.setattr(notebook_runs, "SEED_SHIFT", 2)
    monkeypatch.setattr(notebook_runs, "shifted", lambda seed: seed + 2)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np\nSEED = 13\nrng = 1")])
    _shift_seed(notebook)
    assert notebook.cells[0].source == "import numpy as np\nSEED = 15  # 13 + BAYESREG_TEST_SEED_SHIFT\nrng = 1"
