"""Griffe extension: render bayesreg's reStructuredText-flavoured numpy docstrings as Markdown.

Loaded by mkdocstrings-python (``extensions:`` in mkdocs.yml); it rewrites each docstring's
text in memory before griffe parses it, and changes nothing in the source:

* ``.. math:: expr`` and ``.. math::`` + an indented block become ``$$ ... $$`` display math
  (pymdownx.arithmatex renders it with MathJax);
* Sphinx roles (``:class:`~bayesreg.sampling.SamplingWarning```, ``:mod:`bayesreg.priors```,
  ``:func:`nutpie.sample```) become optional cross-references: a link where the target is
  documented on the site, plain code otherwise (no warning);
* ``coef_ : ndarray   MAP, or ...`` (a description on the item's line, after 3+ spaces) is
  split into type and description;
* a group ``draws, tune, chains : ...`` is split into one item per name, so that each takes
  its own type and default from the signature (griffe gives all of them the first name's);
  the description stays on the first;
* a prose paragraph left at column 0 after the last item of a ``Parameters`` or ``Attributes``
  section (numpy style has no place for it, and griffe would read its first word as a
  parameter) is moved up into the description.
"""

from __future__ import annotations

import re

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|obj|data|exc|const):`(~?)([\w.]+)`")
_MATH = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<inline>\S.*)?$")
_ITEM = re.compile(r"^\*{0,2}[A-Za-z_]\w*(?:, \*{0,2}[A-Za-z_]\w*)*(?: : .*)?$")
_ITEM_SECTIONS = ("Parameters", "Other Parameters", "Attributes")


class RestDocstrings(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value)


def rewrite(text: str) -> str:
    return _ROLE.sub(_role, _math(_items(_stray_paragraphs(text))))


def _role(match: re.Match) -> str:
    short, target = match.groups()
    identifier = target if "." in target else f"bayesreg.{target}"
    title = target.rsplit(".", 1)[-1] if short else target
    return f'<autoref identifier="{identifier}" optional><code>{title}</code></autoref>'


def _math(text: str) -> str:
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        match = _MATH.match(lines[i])
        i += 1
        if match is None:
            out.append(lines[i - 1])
            continue
        indent = match["indent"]
        body = [match["inline"]] if match["inline"] else []
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(indent)):
            body.append(lines[i].strip())
            i += 1
        out += ["", f"{indent}$$", *(f"{indent}{line}" for line in body if line), f"{indent}$$", ""]
    return "\n".join(out)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_header(lines: list[str], i: int) -> bool:
    return i + 1 < len(lines) and bool(lines[i].strip()) and set(lines[i + 1].strip()) == {"-"}


def _items(text: str) -> str:
    lines, out, section, i = text.splitlines(), [], None, 0
    while i < len(lines):
        line = lines[i]
        if _is_header(lines, i):
            section = line.strip()
        if section not in _ITEM_SECTIONS or _indent(line) or not _ITEM.match(line) or _is_header(lines, i):
            out.append(line)
            i += 1
            continue
        names, _, kind = line.partition(" : ")
        kind, *inline = (part.strip() for part in re.split(r"\s{3,}", kind, maxsplit=1))
        header = [f"{name} : {kind}" if kind else name for name in names.split(", ")]
        i += 1
        start = i
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i])):
            i += 1
        while i > start and not lines[i - 1].strip():
            i -= 1  # trailing blank lines stay outside the item
        out += [header[0], *(f"    {text}" for text in inline if text), *lines[start:i]]
        for other in header[1:]:
            out += [other, f"    See ``{names.split(', ')[0]}``."]
    return "\n".join(out)


def _stray_paragraphs(text: str) -> str:
    lines = text.splitlines()
    first_section = next((i for i in range(len(lines)) if _is_header(lines, i)), None)
    if first_section is None:
        return text
    kept, moved, section, i = [], [], None, 0
    while i < len(lines):
        line = lines[i]
        if _is_header(lines, i):
            section = line.strip()
            kept += [line, lines[i + 1]]
            i += 2
            continue
        stray = (section in _ITEM_SECTIONS and line.strip() and _indent(line) == 0
                 and i > 0 and not lines[i - 1].strip() and not _ITEM.match(line))
        if not stray:
            kept.append(line)
            i += 1
            continue
        while i < len(lines) and lines[i].strip() and not _is_header(lines, i):
            moved.append(lines[i])
            i += 1
        moved.append("")
    if not moved:
        return text
    cut = next(i for i in range(len(kept)) if _is_header(kept, i))
    return "\n".join([*kept[:cut], *moved, *kept[cut:]]).rstrip()
