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
    assert_math_served_by_the_site(site)


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


@pytest.fixture(scope="module")
def quick_site(tmp_path_factory) -> Path:
    """The site built from this checkout as it is (notebooks as stored, not executed), with a fake
    ``pandoc`` first on PATH. The fake answers ``--version`` as Debian's 2.17 does (jupytext asks
    once, when it is imported) and records and fails any other call, so a conversion through pandoc
    can neither hang the build nor go unnoticed: its calls are in ``site.parent / PANDOC_CALLS``."""
    root = tmp_path_factory.mktemp("quick-docs")
    fake = root / "bin" / "pandoc"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\n'
                    'if [ "$1" = --version ]; then echo "pandoc 2.17.1.1"; exit 0; fi\n'
                    f'echo "$@" >> "{root / PANDOC_CALLS}"\nexit 1\n')
    fake.chmod(0o755)
    build(ROOT, root / "site", env={"PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"})
    return root / "site"


PANDOC_CALLS = "pandoc-calls.txt"


def test_docs_build_never_converts_through_pandoc(quick_site):
    """jupytext converts Markdown through pandoc when one is on PATH, and Debian's pandoc 2.17 never
    finishes on api.md's ``:::`` blocks: the build must not read the Markdown pages with jupytext."""
    calls = quick_site.parent / PANDOC_CALLS
    assert not calls.exists(), f"the docs build converted through pandoc: {calls.read_text()}"


def assert_math_served_by_the_site(site: Path) -> None:
    """Every page loads MathJax from a file of the site, and no page loads a script from elsewhere
    (but Material's offline search shim, which is not about math): opened from the file system
    without a network, formulas would otherwise stay raw TeX. mkdocs-jupyter's fallback address on
    the notebook pages must be the site's file as well."""
    pages = [path for path in site.rglob("*.html") if path.name != "404.html"]  # 404 uses absolute URLs
    assert len(pages) >= 8
    for page in pages:
        html = page.read_text(encoding="utf-8")
        sources = re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)
        external = [src for src in sources if re.match(r"^([a-z][a-z0-9+.-]*:|//)", src)]
        assert all("iframe-worker" in src for src in external), f"{page.name} loads {external}"
        mathjax = [src for src in sources if src.endswith(MATHJAX_COMPONENT)]
        assert len(mathjax) == 1, f"{page.name}: {sources}"
        assert (page.parent / mathjax[0]).resolve() == site / MATHJAX_COMPONENT, page.name
        for config in re.findall(r'data-mkdocs-jupyter-mathjax="([^"]+)"', html):
            url = json.loads(config.replace("&quot;", '"'))["url"]
            if page.parent.name == "notebooks":  # the only pages the fallback serves
                assert (page.parent / url).resolve() == site / MATHJAX_COMPONENT, url
            assert not re.match(r"^([a-z][a-z0-9+.-]*:|//)", url), f"{page.name}: {url}"
    component = (site / MATHJAX_COMPONENT).read_text(encoding="utf-8")
    assert "MathJax" in component and len(component) > 1_000_000  # the real thing, not a stub
    autoloaded = site / MATHJAX_COMPONENT.replace("tex-svg.js", "input/tex/extensions/boldsymbol.js")
    assert autoloaded.is_file()  # rarer macros are fetched from the site when first used


MATHJAX_COMPONENT = "javascripts/mathjax/tex-svg.js"


def test_math_is_served_by_the_site(quick_site):
    assert_math_served_by_the_site(quick_site)


CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)


@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (Debian: apt-get install chromium)")
@pytest.mark.parametrize("page", ["concepts.html", "notebooks/01_map_is_penalized_regression.html"])
def test_formulas_render_offline(quick_site, page):
    """Headless Chromium opens the page from the file system with every host name unresolvable:
    MathJax must still replace every formula by its typeset ``mjx-container``."""
    if not (quick_site / page).is_file():
        pytest.skip(f"{page} is not in this checkout")
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--virtual-time-budget=20000", "--dump-dom", (quick_site / page).as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    formulas = [tex.strip() for _, tex in re.findall(r'<(span|div) class="arithmatex">(.*?)</\1>',
                                                     result.stdout, flags=re.DOTALL)]
    assert formulas, f"no formula found in {page}: {result.stderr[-2000:]}"
    raw = [tex for tex in formulas if not tex.startswith("<mjx-container")]
    assert not raw, f"{len(raw)} of {len(formulas)} formulas left as TeX, e.g. {raw[0][:80]}"
    nested = [tex for tex in formulas if tex.count("<mjx-container") != 1]
    assert not nested, f"{len(nested)} formulas typeset twice, one inside the other"


def test_long_code_lines_wrap(quick_site):
    """Code blocks were cut off sideways in the narrow column between the sidebars. The wrapping is
    a stylesheet (docs/stylesheets/code.css): every page must load it, it must wrap both Markdown
    code blocks and notebook input cells, and Markdown code must come one span per line, which its
    hanging indent needs. (How it looks was checked by eye in screenshots; a pixel test would be
    brittle across fonts.)"""
    css = quick_site / "stylesheets" / "code.css"
    rules = re.findall(r"([^{}]+)\{([^}]*)\}", re.sub(r"/\*.*?\*/", "", css.read_text(), flags=re.DOTALL))
    wrapping = {" ".join(selector.split()) for selectors, body in rules if "white-space: pre-wrap" in body
                for selector in selectors.split(",")}
    assert {".md-typeset pre > code", ".jupyter-wrapper .jp-InputArea .highlight-ipynb pre"} <= wrapping
    for page in (path for path in quick_site.rglob("*.html") if path.name != "404.html"):
        html = page.read_text(encoding="utf-8")
        sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
        assert any((page.parent / href).resolve() == css for href in sheets), f"{page.name}: {sheets}"
    index = (quick_site / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<code><span id="__span-0-1">', index)  # pymdownx.highlight's line_spans
