"""Split a document along its structure, keeping every chunk's character span in the text.

Sections follow Markdown headings (each chunk knows its heading path); inside a section,
paragraphs are packed up to ``max_chars``, and a new page starts a new chunk, so a citation names
one page. A table or any paragraph that fits is never cut; a
longer one is split at its lines, then its sentences, then at whitespace. Consecutive chunks of
one section share up to ``overlap`` characters of whole units, so a passage cut at a boundary is
still found whole in one of them. Spans are contiguous ranges of the text: ``text[start:end]`` is
exactly what a citation points at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
PARAGRAPH = re.compile(r"(?s).+?(?:\n[ \t]*\n|\Z)")
SENTENCE = re.compile(r"(?s).+?(?:[.!?](?=\s)|\n|\Z)")

Span = tuple[int, int]


@dataclass(frozen=True)
class Chunk:
    title: str
    heading: str
    text: str
    start: int
    end: int
    page: int | None = None
    page_end: int | None = None


def chunk_text(text: str, title: str, max_chars: int = 900, overlap: int = 120,
               page_at: Callable[[int], int | None] = lambda _o: None) -> list[Chunk]:
    if max_chars < 100:
        raise ValueError("chunk size must be at least 100 characters")
    overlap = max(0, min(overlap, max_chars // 2))
    chunks: list[Chunk] = []
    for start, end, heading in _sections(text, title):
        units = [u for para in _matches(PARAGRAPH, text, start, end) for u in _fit(text, para, max_chars)]
        for s, e in _pack(units, max_chars, overlap, page_at):
            chunk = _trimmed(text, s, e, title, heading, page_at)
            if chunk is not None:
                chunks.append(chunk)
    return chunks


def _sections(text: str, title: str) -> list[tuple[int, int, str]]:
    marks = [(m.start(), m.group(2), len(m.group(1))) for m in HEADING.finditer(text)]
    bounds = [m[0] for m in marks] + [len(text)]
    sections = [(0, bounds[0], "")] if not marks or marks[0][0] > 0 else []
    path: list[tuple[int, str]] = []
    carried: int | None = None  # start of headings with nothing under them, joined to the next section
    for i, (pos, name, level) in enumerate(marks):
        path = [p for p in path if p[0] < level] + [(level, name)]
        # the document's own title (a lone level-1 heading) is not repeated in every path
        shown = [n for lvl, n in path if not (lvl == 1 and n == title)]
        start = pos if carried is None else carried
        body = text[pos:bounds[i + 1]].split("\n", 1)
        if i + 1 < len(marks) and (len(body) < 2 or not body[1].strip()):
            carried = start
            continue
        carried = None
        sections.append((start, bounds[i + 1], " > ".join(shown)))
    return sections


def _matches(pattern: re.Pattern[str], text: str, start: int, end: int) -> list[Span]:
    return [(start + m.start(), start + m.end()) for m in pattern.finditer(text[start:end]) if m.group().strip()]


def _fit(text: str, span: Span, max_chars: int) -> list[Span]:
    """Break one paragraph into units no longer than max_chars: lines, then sentences, then words."""
    start, end = span
    if end - start <= max_chars:
        return [span]
    body = text[start:end]
    lines = _matches(re.compile(r"[^\n]*\n|[^\n]+\Z"), text, start, end)
    if len(lines) > 1:
        return [u for line in lines for u in _fit(text, line, max_chars)]
    sentences = _matches(SENTENCE, text, start, end)
    if len(sentences) > 1:
        return [u for s in sentences for u in _fit(text, s, max_chars)]
    out, pos = [], start
    while pos < end:
        cut = min(end, pos + max_chars)
        if cut < end:
            space = body.rfind(" ", pos - start, cut - start)
            cut = start + space + 1 if space > (pos - start) else cut
        out.append((pos, cut))
        pos = cut
    return out


def _pack(units: list[Span], max_chars: int, overlap: int, page_at: Callable[[int], int | None]) -> list[Span]:
    packed: list[Span] = []
    current: list[Span] = []
    for unit in units:
        if current and page_at(unit[0]) != page_at(current[0][0]):  # a new page starts a new chunk
            packed.append((current[0][0], current[-1][1]))
            current = []
        elif current and unit[1] - current[0][0] > max_chars:
            packed.append((current[0][0], current[-1][1]))
            tail: list[Span] = []
            for prior in reversed(current[1:]):  # never carry the whole previous chunk
                if current[-1][1] - prior[0] > overlap or unit[1] - prior[0] > max_chars:
                    break
                tail.insert(0, prior)
            current = tail
        current.append(unit)
    if current:
        packed.append((current[0][0], current[-1][1]))
    return packed


def _trimmed(text: str, start: int, end: int, title: str, heading: str,
             page_at: Callable[[int], int | None]) -> Chunk | None:
    raw = text[start:end]
    if not raw.strip():
        return None
    start += len(raw) - len(raw.lstrip())
    end -= len(raw) - len(raw.rstrip())
    return Chunk(title, heading, text[start:end], start, end, page_at(start), page_at(max(start, end - 1)))
