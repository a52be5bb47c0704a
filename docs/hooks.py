"""MkDocs hooks for the bayesreg docs (loaded through ``hooks:`` in mkdocs.yml).

* mkdocs-jupyter mounts ``notebooks/`` (its ``notebook_dirs`` option); these hooks list the
  notebooks that exist at build time under the "Notebooks" nav entry and on ``notebooks.md``,
  so the site builds in strict mode with none, one or many notebooks.
* A notebook page shows the executed copy that ``make test`` leaves in ``build/notebooks/``
  (outputs and plots included) when that copy was made from the notebook and the package as they
  are now; else the stored notebook, which has no outputs, with a note saying how to get them.
* ``api.md`` documents modules that may not exist yet (``<!-- module: bayesreg.plots -->``)
  only once their file exists.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from mkdocs.plugins import event_priority

NOTEBOOK_MOUNT = "notebooks"  # the key of mkdocs-jupyter's notebook_dirs in mkdocs.yml
NOTEBOOKS_PAGE = "notebooks.md"
MARKER = "<!-- notebook-list -->"
EXECUTED_DIR = Path("build", "notebooks")  # written by tests/notebook_runs.py
NOT_EXECUTED = ('<div class="admonition note"><p class="admonition-title">Shown without outputs</p>'
                "<p>This page renders the notebook as stored, without outputs. <code>make test</code> "
                "executes every notebook and the documentation then shows the results.</p></div>")
OPTIONAL_MODULE = re.compile(r"^<!-- module: (bayesreg(?:\.\w+)+) -->$", re.MULTILINE)


def _notebooks(files) -> list:
    prefix = f"{NOTEBOOK_MOUNT}/"
    found = [f for f in files if f.src_uri.startswith(prefix) and f.src_uri.endswith(".ipynb")
             and f.is_documentation_page()]
    return sorted(found, key=lambda f: f.src_uri)


def _title(path: str) -> str:
    """The notebook's first Markdown ``# heading``, else its file name."""
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        cells = []
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        for line in (source if isinstance(source, str) else "".join(source)).splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return Path(path).stem.replace("_", " ").replace("-", " ")


@event_priority(-100)  # after mkdocs-jupyter has mounted and wrapped the notebooks
def on_files(files, config):
    found = _notebooks(files)
    root = Path(config.config_file_path).parent
    for file in found:
        executed = _fresh_executed_copy(Path(file.abs_src_path), root)
        file.abs_src_path = str(executed or file.abs_src_path)
        file.bayesreg_executed = executed is not None
    notebooks = [f.src_uri for f in found]
    if config.nav and notebooks:
        config.nav = [_expand(item, notebooks) for item in config.nav]
    return files


def _fresh_executed_copy(source: Path, root: Path) -> Path | None:
    """The executed copy of ``source`` if it was made from ``source`` and ``bayesreg`` as they are now
    (the digest of tests/notebook_runs.py's ``inputs_digest``)."""
    executed_dir = root / EXECUTED_DIR
    copy = executed_dir / source.name
    if source.parent == executed_dir or not copy.is_file():
        return None
    try:
        stamp = json.loads(copy.read_text(encoding="utf-8"))["metadata"]["bayesreg"]
    except (OSError, ValueError, KeyError):
        return None
    digest = hashlib.sha256(source.read_bytes())
    for module in sorted((root / "bayesreg").rglob("*.py")):
        digest.update(module.read_bytes())
    return copy if stamp.get("inputs_sha256") == digest.hexdigest() else None


def on_page_content(html, page, config, files):
    if getattr(page.file, "bayesreg_executed", True):
        return html
    return NOT_EXECUTED + html


def _expand(item, notebooks):
    """Turn the nav entry ``{title: notebooks.md}`` into a section with the notebooks."""
    if isinstance(item, dict) and len(item) == 1:
        (title, value), = item.items()
        if value == NOTEBOOKS_PAGE:
            return {title: [{"Overview": NOTEBOOKS_PAGE}, *notebooks]}
        if isinstance(value, list):
            return {title: [_expand(child, notebooks) for child in value]}
    return item


def on_page_markdown(markdown, page, config, files):
    markdown = OPTIONAL_MODULE.sub(lambda m: _module_reference(m[1], config), markdown)
    if page.file.src_uri != NOTEBOOKS_PAGE or MARKER not in markdown:
        return markdown
    notebooks = _notebooks(files)
    if notebooks:
        listing = "\n".join(f"1. [{_title(f.abs_src_path)}]({f.src_uri})" for f in notebooks)
    else:
        listing = "*No notebook has been added yet.*"
    return markdown.replace(MARKER, listing)


def _module_reference(module: str, config) -> str:
    """A mkdocstrings block for ``module`` if its source file exists, else nothing."""
    root = Path(config.config_file_path).parent
    path = root.joinpath(*module.split("."))
    if not (path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()):
        return ""
    return f"## `{module}`\n\n::: {module}\n    options:\n      show_root_heading: false\n"
