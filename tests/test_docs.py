"""The documentation site builds without a warning (`mkdocs build --strict`).

The real site is built into ``site/`` (open ``site/index.html``) after every notebook has been
executed in this test run, so its notebook pages show their outputs and plots. The docs render
notebooks/*.ipynb when there are any, so the build is also checked on a copy of the docs with
zero and with two synthetic notebooks (stored notebooks, no executed copies).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from notebook_runs import NOTEBOOK_DIR, executed_notebook, inputs_digest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"

pytest.importorskip("mkdocs", reason="the docs tools are in the dev extras: pip install -e '.[dev]'")


def build(project: Path, site: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=project, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})},
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return result


@pytest.mark.slow
def test_docs_build_strict_with_executed_notebooks():
    notebooks = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    executed = [executed_notebook(path) for path in notebooks]  # in this test run, by any worker
    site = SITE
    shutil.rmtree(site, ignore_errors=True)
    build(ROOT, site)
    for page in ("index.html", "concepts.html", "conventions.html", "misconceptions.html",
                 "sampling.html", "notebooks.html", "api.html"):
        assert (site / page).is_file(), page
    for path, copy in zip(notebooks, executed):
        page = (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        n_plots = sum("image/png" in output.get("data", {})
                      for cell in nbformat.read(copy, as_version=4).cells for output in cell.get("outputs", []))
        assert page.count("data:image/png;base64,") >= n_plots > 0, path.name
        assert "Shown without outputs" not in page
        broken = [link for link in _relative_links(page) if not (site / "notebooks" / link).resolve().is_file()]
        assert not broken, f"{path.name}: links to nothing in the site: {broken}"  # strict mode skips these
        downloaded = nbformat.read(site / "notebooks" / path.name, as_version=4)
        assert any(cell.get("outputs") for cell in downloaded.cells)  # the download has the outputs too
    api = (site / "api.html").read_text(encoding="utf-8")
    for anchor in ("bayesreg.LinearRegression", "bayesreg.LinearRegression.fit", "bayesreg.LogisticRegression",
                   "bayesreg.NoMAPError",
                   "bayesreg.RegularizedHorseshoe", "bayesreg.prior_from_sklearn", "bayesreg.penalty_from_prior",
                   "bayesreg.load", "bayesreg.sampling.SamplingWarning", "bayesreg.calibration.sbc_ranks",
                   "bayesreg.plots.coefficients", "bayesreg.plots.posterior_predictive",
                   "bayesreg.plots.predicted_probabilities", "bayesreg.plots.horseshoe_density"):
        assert f'id="{anchor}"' in api, anchor
    assert '<div class="arithmatex">' in api  # the docstrings' .. math:: blocks became math
    assert ".. math::" not in api and ":class:`" not in api


def _relative_links(html: str) -> list[str]:
    """Targets of the page's relative href/src links (no scheme, no fragment-only, no data: URIs)."""
    links = re.findall(r'(?:href|src)="([^"]+)"', html)
    return sorted({link.split("#")[0] for link in links
                   if not re.match(r"^[a-z][a-z0-9+.-]*:", link) and not link.startswith(("#", "/"))} - {""})


def _notebook(title: str) -> dict:
    cells = [
        {"cell_type": "markdown", "id": "title", "metadata": {}, "source": [f"# {title}\n", "\n", "Math: $w_j \\sim N(0, s^2)$.\n"]},
        {"cell_type": "code", "id": "sum", "execution_count": 1, "metadata": {}, "source": ["1 + 1"],
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
    (notebooks / "README.md").write_text("# Notebooks\n\nSee [the code](../bayesreg/priors/coefficients.py).\n")
    (notebooks / "data" / "wells.csv").write_text("a,b\n1,2\n")
    titles = ["MAP equals penalized regression", "Coefficient uncertainty"][:n_notebooks]
    for i, title in enumerate(titles, start=1):
        (notebooks / f"0{i}-example.ipynb").write_text(json.dumps(_notebook(title)))

    site = tmp_path / "site"
    build(project, site)
    listing = (site / "notebooks.html").read_text(encoding="utf-8")
    home = (site / "index.html").read_text(encoding="utf-8")
    assert not (site / "notebooks" / "README.md").exists()
    assert not (site / "notebooks" / "data").exists()
    if not titles:
        assert "No notebook has been added yet" in listing
    for i, title in enumerate(titles, start=1):
        page = (site / "notebooks" / f"0{i}-example.html").read_text(encoding="utf-8")
        assert (site / "notebooks" / f"0{i}-example.ipynb").is_file()
        assert f'href="0{i}-example.ipynb" download' in page  # the download button
        assert "Shown without outputs" in page  # no executed copy in this project
        assert f'href="notebooks/0{i}-example.html"' in listing and title in listing
        assert f"notebooks/0{i}-example.html" in home  # in the navigation


def test_executed_copy_is_shown_only_while_notebook_and_package_are_unchanged(tmp_path):
    """The stamp tests/notebook_runs.py writes and the check docs/hooks.py makes must agree, and a
    change to the notebook or to any module of the package must retire the executed copy."""
    spec = importlib.util.spec_from_file_location("bayesreg_docs_hooks", ROOT / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    source = tmp_path / "notebooks" / "01-example.ipynb"
    module = tmp_path / "bayesreg" / "sub" / "plots.py"
    for path, text in ((source, json.dumps(_notebook("Example"))), (module, "x = 1\n")):
        path.parent.mkdir(parents=True)
        path.write_text(text)
    executed = nbformat.from_dict(_notebook("Example"))
    executed.metadata["bayesreg"] = {"inputs_sha256": inputs_digest(source, tmp_path / "bayesreg")}
    copy = tmp_path / hooks.EXECUTED_DIR / source.name
    copy.parent.mkdir(parents=True)
    nbformat.write(executed, copy)

    assert hooks._fresh_executed_copy(source, tmp_path) == copy
    module.write_text("x = 2\n")
    assert hooks._fresh_executed_copy(source, tmp_path) is None
    module.write_text("x = 1\n")
    source.write_text(json.dumps(_notebook("Changed")))
    assert hooks._fresh_executed_copy(source, tmp_path) is None


def test_docs_build_never_converts_through_pandoc(tmp_path):
    """jupytext converts Markdown through pandoc when one is on PATH, and Debian's pandoc 2.17 never
    finishes on api.md's ``:::`` blocks: the build must not read the Markdown pages with jupytext.
    A fake ``pandoc`` first on PATH answers ``--version`` as 2.17 does (jupytext asks once, when it is
    imported), and records and fails any other call, so a conversion can neither hang nor pass."""
    fake = tmp_path / "bin" / "pandoc"
    calls = tmp_path / "pandoc-calls.txt"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\n'
                    'if [ "$1" = --version ]; then echo "pandoc 2.17.1.1"; exit 0; fi\n'
                    f'echo "$@" >> "{calls}"\nexit 1\n')
    fake.chmod(0o755)
    build(ROOT, tmp_path / "site", env={"PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"})
    assert not calls.exists(), f"the docs build converted through pandoc: {calls.read_text()}"
