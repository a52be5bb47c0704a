"""The documentation site builds without a warning (`mkdocs build --strict`).

The docs render notebooks/*.ipynb when there are any (mkdocs-jupyter, not executed), so the
build is also checked on a copy of the docs with zero and with two synthetic notebooks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("mkdocs", reason="the docs tools are in the dev extras: pip install -e '.[dev]'")


def build(project: Path, site: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=project, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return result


def test_docs_build_strict(tmp_path):
    site = tmp_path / "site"
    build(ROOT, site)
    for page in ("index.html", "concepts/index.html", "conventions/index.html",
                 "misconceptions/index.html", "sampling/index.html", "notebooks/index.html",
                 "api/index.html"):
        assert (site / page).is_file(), page
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for anchor in ("bayesreg.LinearRegression", "bayesreg.LinearRegression.fit", "bayesreg.LogisticRegression",
                   "bayesreg.RegularizedHorseshoe", "bayesreg.prior_from_sklearn", "bayesreg.penalty_from_prior",
                   "bayesreg.load", "bayesreg.sampling.SamplingWarning", "bayesreg.calibration.sbc_ranks"):
        assert f'id="{anchor}"' in api, anchor
    assert '<div class="arithmatex">' in api  # the docstrings' .. math:: blocks became math
    assert ".. math::" not in api and ":class:`" not in api


def _notebook(title: str) -> dict:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": [f"# {title}\n", "\n", "Math: $w_j \\sim N(0, s^2)$.\n"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": ["1 + 1"],
         "outputs": [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                      "data": {"text/plain": ["2"]}}]},
    ]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


@pytest.mark.parametrize("n_notebooks", [0, 2])
def test_docs_build_with_and_without_notebooks(tmp_path, n_notebooks):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", project)
    shutil.copytree(ROOT / "docs", project / "docs")
    (project / "bayesreg").symlink_to(ROOT / "bayesreg", target_is_directory=True)
    notebooks = project / "notebooks"
    (notebooks / "data").mkdir(parents=True)
    (notebooks / "README.md").write_text("# Notebooks\n\nSee [the code](../bayesreg/priors.py).\n")
    (notebooks / "data" / "wells.csv").write_text("a,b\n1,2\n")
    titles = ["MAP equals penalized regression", "Coefficient uncertainty"][:n_notebooks]
    for i, title in enumerate(titles, start=1):
        (notebooks / f"0{i}-example.ipynb").write_text(json.dumps(_notebook(title)))

    site = tmp_path / "site"
    build(project, site)
    listing = (site / "notebooks" / "index.html").read_text(encoding="utf-8")
    home = (site / "index.html").read_text(encoding="utf-8")
    assert not (site / "notebooks" / "README.md").exists()
    assert not (site / "notebooks" / "data").exists()
    if not titles:
        assert "No notebook has been added yet" in listing
    for i, title in enumerate(titles, start=1):
        assert (site / "notebooks" / f"0{i}-example" / "index.html").is_file()
        page = (site / "notebooks" / f"0{i}-example" / "index.html").read_text(encoding="utf-8")
        assert (site / "notebooks" / f"0{i}-example" / f"0{i}-example.ipynb").is_file()
        assert f'href="0{i}-example.ipynb" download' in page  # the download button
        assert f'href="0{i}-example/"' in listing and title in listing
        assert f"notebooks/0{i}-example/" in home  # in the navigation
