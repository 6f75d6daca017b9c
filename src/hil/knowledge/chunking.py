"""Split a document along its structure (Markdown headings, then paragraphs), keeping every
chunk's character span in the source so a citation can point at the exact text."""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Chunk:
    title: str
    heading: str
    text: str
    start: int
    end: int


def chunk_markdown(text: str, default_title: str, max_chars: int = 900) -> list[Chunk]:
    title = default_title
    first = HEADING.search(text)
    if first and len(first.group(1)) == 1:
        title = first.group(2)
    marks = [(m.start(), m.group(2), len(m.group(1))) for m in HEADING.finditer(text)]
    sections: list[tuple[int, int, str]] = []
    bounds = [m[0] for m in marks] + [len(text)]
    if not marks or marks[0][0] > 0:
        sections.append((0, bounds[0] if marks else len(text), title))
    path: list[tuple[int, str]] = []
    for i, (pos, name, level) in enumerate(marks):
        path = [p for p in path if p[0] < level] + [(level, name)]
        sections.append((pos, bounds[i + 1], " > ".join(n for lvl, n in path if lvl > 1) or name))
    chunks: list[Chunk] = []
    for start, end, heading in sections:
        _split(text, start, end, title, heading, max_chars, chunks)
    return chunks


def _split(text: str, start: int, end: int, title: str, heading: str, max_chars: int, out: list[Chunk]) -> None:
    body = text[start:end]
    if not body.strip():
        return
    if len(body) <= max_chars:
        _add(text, start, end, title, heading, out)
        return
    # pack paragraphs into chunks of at most max_chars
    cur_start = start
    cur_end = start
    for para in re.finditer(r"(?s).+?(?:\n\s*\n|\Z)", body):
        p_start, p_end = start + para.start(), start + para.end()
        if cur_end > cur_start and p_end - cur_start > max_chars:
            _add(text, cur_start, cur_end, title, heading, out)
            cur_start = p_start
        cur_end = p_end
    if cur_end > cur_start:
        _add(text, cur_start, cur_end, title, heading, out)


def _add(text: str, start: int, end: int, title: str, heading: str, out: list[Chunk]) -> None:
    raw = text[start:end]
    lead = len(raw) - len(raw.lstrip())
    trail = len(raw) - len(raw.rstrip())
    if raw.strip():
        out.append(Chunk(title, heading, raw.strip(), start + lead, end - trail))
