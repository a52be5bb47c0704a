"""The code on the front pages runs as written and prints what its comments say.

Every ```python block of README.md, and then of docs/index.md, is run in order in one fresh
interpreter (the blocks of a page build on each other), in an empty working directory.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), flags=re.S | re.M)


def run_page(page: str, cwd: Path) -> str:
    script = "import matplotlib\nmatplotlib.use('Agg')\n" + "\n".join(python_blocks(ROOT / page))
    result = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=900,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, f"{page}: its code fails:\n{result.stderr[-4000:]}"
    return result.stdout


def test_pages_have_code():
    assert len(python_blocks(ROOT / "README.md")) == 1
    assert len(python_blocks(ROOT / "docs" / "index.md")) == 5


@pytest.mark.slow
def test_readme_first_fit_runs(tmp_path):
    printed = run_page("README.md", tmp_path)
    assert "'bmi': 471.0" in printed and "'age': 0.0" in printed  # Lasso(alpha=0.5)'s solution
    assert (tmp_path / "coefficients.png").is_file()


@pytest.mark.slow
def test_getting_started_page_runs_and_prints_what_it_says(tmp_path):
    printed = run_page("docs/index.md", tmp_path).splitlines()
    assert printed[0] == "Laplace(scale=11.31)"
    assert printed[1].startswith("{'age': 0.0, 'sex': 0.0, 'bmi': 471.0, 'bp': 136.5, 's1': 0.0,")
    assert printed[2].startswith("method='map' is not available: the horseshoe prior has no finite MAP")
    assert (tmp_path / "diabetes-lasso.zip").is_file()
