"""The report's document model, number formatting and rendering (Jinja2, HTML + Markdown twin).

A report is a list of :class:`Section` s made of :class:`Block` s (paragraphs, tables, inline-SVG
charts, lists, explicit "missing" notes). Every number shown is formatted by the functions here,
which never print ``nan``/``None`` (a missing value becomes ``n/a: <reason>``). Headline numbers are
registered with :class:`Figures`: each becomes a row of the ``daily_report`` table and a table cell
carrying ``data-fig="<section>/<name>"`` in the HTML, so a reader (or a test) can match the page
against the data. Both templates escape every value (HTML autoescape; Markdown by ``finalize``),
and braces are written as character references (HTML) or backslash escapes (Markdown, which carries no
HTML entity) so no template syntax can reach the output.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeGuard

import jinja2
from markupsafe import Markup, escape

__all__ = [
    "Block",
    "Cell",
    "Document",
    "Figures",
    "Section",
    "Table",
    "bp",
    "is_num",
    "na",
    "num",
    "pct",
    "render_html",
    "render_markdown",
    "signed",
    "write_text_atomic",
]


# ----------------------------------------------------------------------------------------------- formatting
def is_num(v: Any) -> TypeGuard[float]:
    """Whether ``v`` is a finite real number (bools excluded)."""
    if v is None or isinstance(v, bool):
        return False
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def na(reason: str) -> str:
    """The explicit text of a value that cannot be shown: ``n/a: <reason>``."""
    return f"n/a: {reason}"


def pct(v: Any, digits: int = 2, *, plus: bool = False, reason: str = "not available") -> str:
    """A decimal as a percentage (``0.1375`` -> ``13.75%``)."""
    if not is_num(v):
        return na(reason)
    return f"{float(v) * 100:{'+' if plus else ''}.{digits}f}%"


def bp(v: Any, digits: int = 1, *, reason: str = "not available") -> str:
    """A decimal change in basis points, signed (``0.0012`` -> ``+12.0 bp``)."""
    if not is_num(v):
        return na(reason)
    return f"{float(v) * 1e4:+.{digits}f} bp"


def num(v: Any, digits: int = 2, *, reason: str = "not available") -> str:
    """A plain number with thousands separators."""
    if not is_num(v):
        return na(reason)
    return f"{float(v):,.{digits}f}"


def signed(v: Any, digits: int = 2, *, reason: str = "not available") -> str:
    """A signed plain number (``+0.62``)."""
    if not is_num(v):
        return na(reason)
    f = round(float(v), digits) + 0.0  # no "-0"
    return f"{f:+,.{digits}f}"


# ----------------------------------------------------------------------------------------------- model
@dataclass(frozen=True)
class Cell:
    """A table cell: its text and, for a headline figure, the figure key ``section/name``."""

    text: str
    fig: str | None = None
    cls: str = ""


@dataclass
class Table:
    """A table of text cells."""

    headers: list[str]
    rows: list[list[Cell]]
    caption: str = ""


@dataclass
class Block:
    """One block of a section."""

    kind: Literal["p", "table", "chart", "missing", "list"]
    text: str = ""
    table: Table | None = None
    svg: Markup = field(default_factory=lambda: Markup(""))
    items: list[str] = field(default_factory=list)


@dataclass
class Section:
    """A report section."""

    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    def p(self, text: str) -> None:
        """Append a paragraph."""
        self.blocks.append(Block("p", text=text))

    def missing(self, what: str, why: str) -> None:
        """Append an explicit ``missing: <asset/table>: <why>`` note."""
        self.blocks.append(Block("missing", text=f"missing: {what}: {why}"))

    def table(self, headers: list[str], rows: list[list[Cell]], caption: str = "") -> None:
        """Append a table (rows of :class:`Cell`)."""
        self.blocks.append(Block("table", table=Table(headers, rows, caption)))

    def chart(self, svg: Markup, title: str, missing_why: str) -> None:
        """Append a chart, or a missing note when the SVG is empty."""
        if str(svg):
            self.blocks.append(Block("chart", text=title, svg=svg))
        else:
            self.missing(f"chart '{title}'", missing_why)

    def bullets(self, items: list[str]) -> None:
        """Append a bullet list."""
        self.blocks.append(Block("list", items=list(items)))


@dataclass
class Document:
    """A whole report: title, subtitle lines and sections."""

    title: str
    subtitle: list[str]
    sections: list[Section]


class Figures:
    """Collects the headline figures (rows of the ``daily_report`` table) as cells are made."""

    def __init__(self, date: dt.date) -> None:
        self.date = date
        self._rows: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, section: str, name: str, value: Any, text: str, source: str) -> Cell:
        """Register a figure and return its cell (``value`` None or non-finite is stored as null)."""
        key = (section, name)
        if key in self._rows:
            raise ValueError(f"daily_report: figure {section}/{name} registered twice")
        v = float(value) if is_num(value) else None
        self._rows[key] = {"date": self.date, "section": section, "name": name, "value": v, "text": text,
                           "source": source}
        return Cell(text, fig=f"{section}/{name}")

    def records(self) -> list[dict[str, Any]]:
        """Rows sorted by (section, name)."""
        return [self._rows[k] for k in sorted(self._rows)]


# ----------------------------------------------------------------------------------------------- rendering
def _html_finalize(v: Any) -> Any:
    if v is None:
        return Markup("n/a")
    if isinstance(v, Markup):
        return v
    s = str(escape(v)).replace("{", "&#123;").replace("}", "&#125;")
    return Markup(s)


#: Markdown escapes: backslash escapes (CommonMark), never HTML entities, so report.md reads as plain text.
#: No value may form a link or an image either: a scenario named "[x](javascript:...)" stays text.
_MD_SPECIAL = str.maketrans({"\\": "\\\\", "<": "\\<", ">": "\\>", "{": "\\{", "}": "\\}", "|": "\\|",
                             "`": "\\`", "[": "\\[", "]": "\\]", "\r": " ", "\n": " "})
#: An ``&`` that would start a character reference (``&amp;``, ``&#60;``) is escaped; any other stays as typed.
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def _md_escape(v: Any) -> str:
    if v is None:
        return "n/a"
    return _MD_ENTITY.sub(r"\\&", str(v).translate(_MD_SPECIAL))


@lru_cache(maxsize=2)
def _env(kind: str) -> jinja2.Environment:
    loader = jinja2.PackageLoader("brmacro.report", "templates")
    if kind == "html":
        return jinja2.Environment(loader=loader, autoescape=True, finalize=_html_finalize,
                                  undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return jinja2.Environment(loader=loader, autoescape=False, finalize=_md_escape,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


def render_html(doc: Document) -> str:
    """The self-contained HTML page of a document (inline CSS and SVG, no scripts)."""
    return _env("html").get_template("report.html.j2").render(doc=doc)


def render_markdown(doc: Document) -> str:
    """The Markdown twin of a document (charts are only in the HTML)."""
    return _env("md").get_template("report.md.j2").render(doc=doc)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        from brmacro._orphan import owner_alive

        if not owner_alive():  # a pool worker whose Snakemake died never publishes (brmacro._orphan)
            raise OSError(f"not writing {path}: the process that started this job is gone")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
