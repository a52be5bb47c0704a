"""The code on the front pages runs as written and prints what its comments say.

Every ```python block of README.md, then of docs/index.md, runs in order in one fresh interpreter
(a page's blocks build on each other; one process for both pages compiles each model once), in
an empty working directory.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("README.md", "docs/index.md")
MARKER = "=== page: {} ==="


def python_blocks(page: str) -> list[str]:
    text = (ROOT / page).read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def run_pages(cwd: Path) -> dict[str, list[str]]:
    """Each page's printed lines, from running all pages' code in one interpreter."""
    script = ["import matplotlib", "matplotlib.use('Agg')"]
    for page in PAGES:
        script += [f"print({MARKER.format(page)!r})", *python_blocks(page)]
    result = subprocess.run([sys.executable, "-c", "\n".join(script)], cwd=cwd, capture_output=True, text=True,
                            timeout=900, env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, f"the pages' code fails:\n{result.stderr[-4000:]}"
    printed, page = {}, None
    for line in result.stdout.splitlines():
        found = [p for p in PAGES if line == MARKER.format(p)]
        page = found[0] if found else page
        if not found and page is not None:
            printed.setdefault(page, []).append(line)
    return printed


def test_pages_have_code():
    assert [len(python_blocks(page)) for page in PAGES] == [3, 6]  # index.md: + "Saving a fit"


@pytest.mark.slow
def test_front_pages_run_and_print_what_they_say(tmp_path):
    printed = run_pages(tmp_path)
    readme, index = printed["README.md"], printed["docs/index.md"]
    assert readme[0].startswith("{'age': 0.0, 'sex': 0.0, 'bmi': 471.0, 'bp': 136.5, 's1': 0.0,")  # Lasso(0.5)
    assert (tmp_path / "coefficients.png").is_file()
    assert readme[-4:-2] == ["0.518", "[295.3 295.3] 54.2"]  # the autoscaled default; empirical Bayes
    # formula, selection and ranks: strong signals, the same order for any seed (checked on seeds 0-2)
    assert readme[-2:] == ["['bmi', 's5', 'bp']", "['bmi', 'bp', 's5']"]
    assert index[0] == "Laplace(scale=11.31)"
    assert index[1] == readme[0]
    assert index[2].startswith("method='map' is not available: the horseshoe prior has no finite MAP")
    assert (tmp_path / "diabetes-lasso.zip").is_file()
