"""MkDocs hook: MathJax served from the built site, so formulas render from ``site/`` opened as files.

The MathJax files come from the ``django-static-mathjax`` package of the dev extras (pyproject.toml):
a copy of the official ``mathjax-full`` 3.2.2 release, with no dependency (Django is only needed
to serve it through Django, which we don't). This hook publishes into ``site/javascripts/mathjax/``
(where mkdocs.yml's ``extra_javascript`` points):

* the one combined component the pages load, ``tex-svg.js``: TeX input and SVG output, so no web
  font has to be fetched. Not a ``tex-mml-*`` one: their MathML input finds the assistive MathML of
  formulas already typeset and typesets it again, nested, when the page is re-typeset;
* what it loads on demand: the TeX extensions ``autoload`` pulls in for rarer macros, the menu,
  and the accessibility tools the menu can switch on.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

SITE_DIR = "javascripts/mathjax"
COMPONENT = "tex-svg.js"
ON_DEMAND = ("input/tex/extensions", "ui", "a11y", "sre")


def mathjax_dir() -> Path:
    """The ``es5`` folder of the installed MathJax release (its ready-to-load components)."""
    try:
        root = importlib.resources.files("mathjax")
    except ModuleNotFoundError:
        root = None
    es5 = Path(str(root)) / "static" / "mathjax" / "es5" if root is not None else None
    if es5 is None or not (es5 / COMPONENT).is_file():
        raise PluginError("The docs serve MathJax from the site and take it from the "
                          "django-static-mathjax package, which is not installed: "
                          "pip install -e '.[dev]' (or `make test`, which does).")
    return es5


def vendored_files(es5: Path) -> list[Path]:
    """The component and everything it may load later, as paths relative to ``es5``."""
    found = [Path(COMPONENT)]
    for folder in ON_DEMAND:
        found += sorted(p.relative_to(es5) for p in (es5 / folder).rglob("*") if p.is_file())
    return found


def on_files(files, config):
    es5 = mathjax_dir()
    for relative in vendored_files(es5):
        files.append(File.generated(config, f"{SITE_DIR}/{relative.as_posix()}",
                                    abs_src_path=str(es5 / relative)))
    return files
