"""Turn a file's bytes into text that keeps its structure.

Every format becomes Markdown-like text: headings as ``#`` lines, tables as ``| a | b |`` rows,
paragraphs separated by blank lines. The chunker then follows one structure for all formats, and
a chunk's character span points into this text, which the store keeps per document.

A file that cannot be used raises :class:`Unreadable` with a reason a person can act on.
"""

from __future__ import annotations

import bisect
import csv
import io
import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

KINDS = {
    ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text", ".rst": "text",
    ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx", ".csv": "csv", ".xlsx": "xlsx",
}
SUPPORTED = ", ".join(sorted(KINDS))
MAX_TABLE_ROWS = 50_000  # rows of a CSV/XLSX turned into text; the table itself goes to SQL whole


class Unreadable(Exception):
    """The file is not a usable document; the message says why."""


@dataclass
class Table:
    """A CSV file or a spreadsheet sheet, offered to SQL as well as indexed as text."""

    name: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Parsed:
    kind: str
    title: str
    text: str
    page_starts: list[int] = field(default_factory=list)  # offset where page n+1 begins; empty without pages
    tables: list[Table] = field(default_factory=list)

    def page_at(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        return max(1, bisect.bisect_right(self.page_starts, offset))


def kind_of(name: str, head: bytes) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in KINDS:
        return KINDS[suffix]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if not suffix and _looks_like_text(head):
        return "text"
    if _looks_binary(head):
        raise Unreadable(f"binary file of unsupported type{f' {suffix!r}' if suffix else ''}; supported: {SUPPORTED}")
    raise Unreadable(f"unsupported type {suffix!r}; supported: {SUPPORTED}")


def parse(name: str, data: bytes) -> Parsed:
    if not data.strip():
        raise Unreadable("empty file")
    kind = kind_of(name, data[:4096])
    title = _title_from_name(name)
    parsed = _PARSERS[kind](data, title)
    if not parsed.text.strip():
        raise Unreadable("no text found" + (" (a scanned PDF without a text layer?)" if kind == "pdf" else ""))
    return parsed


def _title_from_name(name: str) -> str:
    return re.sub(r"[-_]+", " ", Path(name).stem).strip() or name


def _looks_binary(head: bytes) -> bool:
    return b"\x00" in head


def _looks_like_text(head: bytes) -> bool:
    if _looks_binary(head):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start >= len(head) - 4  # a multi-byte character cut by the 4 KiB window
    return True


def _decode(data: bytes) -> str:
    if _looks_binary(data[:8192]):
        raise Unreadable("binary content in a text file (NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _markdown(data: bytes, title: str) -> Parsed:
    text = _decode(data)
    first = re.search(r"^#\s+(.+?)\s*$", text, re.MULTILINE)
    return Parsed("markdown", first.group(1) if first else title, text)


def _text(data: bytes, title: str) -> Parsed:
    return Parsed("text", title, _decode(data))


class _HtmlToText(HTMLParser):
    BLOCKS = frozenset(["p", "div", "section", "article", "li", "ul", "ol", "br", "tr", "table", "blockquote",
                        "pre", "header", "footer", "main", "dt", "dd", "figure", "figcaption"])
    SKIP = frozenset(["script", "style", "noscript", "template", "svg", "head"])

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False
        self._cells: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        if tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "tr":
            self._cells = []
        elif tag in ("td", "th") and self._cells is not None:
            self._cells.append("")
        elif tag in self.BLOCKS:
            self.out.append("\n\n" if tag in ("p", "div", "section", "article", "table", "blockquote") else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        if tag == "title":
            self._in_title = False
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n")
        elif tag == "tr" and self._cells is not None:
            self.out.append("\n| " + " | ".join(c.strip() for c in self._cells) + " |")
            self._cells = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._skip:
            return
        elif self._cells is not None and self._cells:
            self._cells[-1] += " " + " ".join(data.split())
        else:
            self.out.append(re.sub(r"\s+", " ", data))


def _html(data: bytes, title: str) -> Parsed:
    parser = _HtmlToText()
    parser.feed(_decode(data))
    parser.close()
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", "".join(parser.out))
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    first = re.search(r"^#\s+(.+?)\s*$", text, re.MULTILINE)
    name = " ".join(parser.title.split()) or (first.group(1) if first else title)
    return Parsed("html", name, text)


def _pdf(data: bytes, title: str) -> Parsed:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged files are reported as failed, not logged
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise Unreadable("encrypted PDF; decrypt it first")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except Unreadable:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as err:  # what pypdf raises on damaged files
        raise Unreadable(f"corrupt PDF: {str(err).splitlines()[0] if str(err) else type(err).__name__}") from None
    text, starts = "", []
    for page in pages:
        starts.append(len(text))
        text += page.strip() + "\n\n"
    return Parsed("pdf", meta_title.strip() or title, text, page_starts=starts)


def _docx(data: bytes, title: str) -> Parsed:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as err:
        raise Unreadable(f"not a valid DOCX file: {err}") from None
    parts: list[str] = []
    doc_title = (document.core_properties.title or "").strip()
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(block, document)
            text = paragraph.text.strip()
            if not text:
                continue
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            level = re.fullmatch(r"Heading (\d)", style)
            if style == "Title":
                doc_title = doc_title or text
                parts.append(f"# {text}")
            elif level:
                parts.append("#" * min(6, int(level.group(1)) + 1) + " " + text)
            else:
                parts.append(text)
        elif tag == "tbl":
            table = DocxTable(block, document)
            parts.append("\n".join("| " + " | ".join(c.text.strip() for c in row.cells) + " |" for row in table.rows))
    return Parsed("docx", doc_title or title, "\n\n".join(parts) + "\n")


def _rows_as_text(name: str, columns: list[str], rows: list[list[str]], level: int) -> str:
    lines = [f"{'#' * level} {name}", ""]
    for row in rows[:MAX_TABLE_ROWS]:
        lines.append("; ".join(f"{c}: {v}" for c, v in zip(columns, row, strict=False) if str(v).strip()))
    return "\n".join(lines) + "\n"


def _csv(data: bytes, title: str) -> Parsed:
    text = _decode(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    if not rows:
        raise Unreadable("empty CSV")
    columns = [c.strip() or f"column{i + 1}" for i, c in enumerate(rows[0])]
    table = Table(title, columns, rows[1:])
    return Parsed("csv", title, _rows_as_text(title, columns, table.rows, 1), tables=[table])


def _xlsx(data: bytes, title: str) -> Parsed:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise Unreadable(f"not a valid XLSX file: {err}") from None
    tables, parts = [], [f"# {title}", ""]
    for sheet in book.worksheets:
        rows = [["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)]
        rows = [r for r in rows if any(v.strip() for v in r)]
        if not rows:
            continue
        columns = [c.strip() or f"column{i + 1}" for i, c in enumerate(rows[0])]
        tables.append(Table(f"{title} {sheet.title}", columns, rows[1:]))
        parts.append(_rows_as_text(sheet.title, columns, rows[1:], 2))
    book.close()
    return Parsed("xlsx", title, "\n".join(parts), tables=tables)


_PARSERS: dict[str, Callable[[bytes, str], Parsed]] = {
    "markdown": _markdown, "text": _text, "html": _html, "pdf": _pdf, "docx": _docx, "csv": _csv, "xlsx": _xlsx,
}
