"""What of the gathered evidence goes into the Responder's prompt.

On a laptop CPU every token of that prompt is prefilled before the first word of the answer, at
some 40 tokens a second, so the brief carries what the answer needs and nothing else: of the
rows behind an aggregate, the columns the query names (not every column of every joined table,
nor what the block's label or the query's filters already say);
of a passage, the sentences that match the question about as well as the best ones do; of a table
in a passage, the rows and columns the question names, one row a line. The events and the
citations keep everything; the numbers check still reads the full rows and passages."""

from __future__ import annotations

import math
import re
from typing import Any

ROWS_PER_GROUP = 2  # a sample: the query's own rows carry the figures
SNIPPET_CHARS = 360
# A sentence other than its passage's best goes in when it matches the question at least this
# share as well as the best sentence of all the passages: a word in common is not enough.
RELEVANT_SHARE = 0.5
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9*\"'(\[])")
_WORD = re.compile(r"[a-z0-9]+")
_LIST_ITEM = re.compile(r"^(?:[-*+]|\d+[.)])\s+")
_TABLE_RULE = re.compile(r"^\|?[\s:|-]*-[\s:|-]*\|?$")
# words that say nothing about which sentence answers the question
_STOP = frozenset({
    "the", "and", "for", "with", "from", "that", "this", "what", "which", "who", "whom", "whose", "when",
    "where", "why", "how", "does", "did", "say", "says", "said", "had", "has", "have", "was", "were", "are",
    "been", "being", "there", "their", "they", "them", "its", "into", "onto", "about", "many", "much",
    "most", "more", "less", "least", "last", "first", "any", "all", "each", "per", "than", "then", "also",
    "only", "very", "can", "could", "should", "would", "will", "shall", "may", "might", "must", "not", "nor",
    "our", "your", "you", "his", "her", "she", "him", "out", "over", "under", "between", "after", "before",
    "during", "since", "until", "while", "show", "list", "give", "tell", "find", "name", "names",
})


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _WORD.findall(text.lower().replace("_", " ")) if len(w) >= 3 and w not in _STOP}


def named_columns(sql: str, columns: list[str]) -> list[int]:
    """Indexes of the columns the query names, each name once (a ``SELECT *`` over a join repeats
    ``vehicle_id``); all of them when the query names none."""
    seen: set[str] = set()
    keep = []
    for i, name in enumerate(columns):
        key = name.lower()
        if key in seen or not re.search(rf"\b{re.escape(key)}\b", sql.lower()):
            continue
        seen.add(key)
        keep.append(i)
    return keep or list(range(len(columns)))


def _said_already(sql: str, name: str, values: list[Any], group: dict[str, Any]) -> bool:
    """A column the brief need not repeat on every row: the group's own key (the block's label
    names it), one value throughout that the query filters on (``severity = 'critical'``), or a
    column the query bounds (``occurred_at >= CURRENT_DATE - INTERVAL 90 DAY``): every row is
    within the bound, and a timestamp costs some twenty tokens a row."""
    if name.lower() in {k.lower() for k in group}:
        return True
    column = rf"(?<!\w)\"?{re.escape(name)}(?!\w)\"?"
    if re.search(rf"{column}\s*(?:>=|<=|>|<|BETWEEN\b)|(?:>=|<=|>|<)\s*(?:\w+\.)?{column}", sql, re.I):
        return True
    first = values[0] if values else None
    return (isinstance(first, str) and bool(first) and all(v == first for v in values)
            and re.search(rf"=\s*'{re.escape(first)}'", sql) is not None)


def rows_behind(sql: str, columns: list[str], rows: list[list[Any]],
                group: dict[str, Any] | None = None) -> tuple[list[str], list[list[Any]]]:
    """The rows behind one group as the brief shows them: the named columns less what the label
    and the query's filters already say, distinct rows, a few."""
    keep = named_columns(sql, columns)
    telling = [i for i in keep if not _said_already(sql, columns[i], [r[i] for r in rows], group or {})]
    keep = telling or keep
    shown: list[list[Any]] = []
    for row in rows:
        cut = [row[i] for i in keep]
        if cut not in shown:
            shown.append(cut)
        if len(shown) == ROWS_PER_GROUP:
            break
    return [columns[i] for i in keep], shown


def _blocks(text: str) -> list[str]:
    """The passage's paragraphs, list items and tables, one string each, without heading lines,
    list markers, a table's rule row or emphasis marks (tokens that tell the model nothing)."""
    blocks: list[list[str]] = []
    kind = ""  # what the open block is: "text" or "table"; "" after a blank line or a heading
    for raw in text.replace("**", "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            kind = ""
            continue
        if line.startswith("|"):
            if kind != "table":
                blocks.append([])
                kind = "table"
            if not _TABLE_RULE.match(line):
                blocks[-1].append(line)
            continue
        item = _LIST_ITEM.match(line)
        if item or kind != "text":
            blocks.append([])
        blocks[-1].append(line[item.end():] if item else line)
        kind = "text"
    return [("\n" if b[0].startswith("|") else " ").join(b) for b in blocks if b]


def _sentences(text: str) -> list[str]:
    """A table stays whole (its header names its columns), a row a line; text splits at sentence ends."""
    return [s for block in _blocks(text)
            for s in ([block] if block.startswith("|") else _SENTENCE.split(block)) if s]


def table_part(table: str, asked: set[str]) -> str:
    """Of a table (``| a | b |`` lines, the header first), the header and the rows that name
    something the question names, with the first column (what a row is) and the columns the
    question names; every row, or every column, when the question names none. Cells are read
    as ``a | b``, as the query's results are."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in table.splitlines()]
    header, body = rows[0], rows[1:]
    named = [j for j in range(1, len(header)) if _stems(header[j]) & asked]
    columns = [0, *named] if named else list(range(len(header)))
    body = [r for r in body if _stems(" ".join(r)) & asked] or body
    return "\n".join(" | ".join(r[j] for j in columns if j < len(r)) for r in [header, *body])


def relevant_passages(texts: list[str], question: str, limit: int = SNIPPET_CHARS) -> list[str]:
    """Of each passage, its sentence that best matches the question and any other that matches
    at least ``RELEVANT_SHARE`` as well as the best of all passages, in their own order, within
    ``limit`` characters; its opening, up to ``limit``, when no sentence shares a word (it was
    retrieved for its section or its meaning, not its words). A word of the question that
    most sentences share (the words the passages were retrieved by) weighs little; a rarer one
    (``manual`` where every passage says ``overheating``) weighs more. Heading lines go: the brief
    gives the section apart. A table counts as one sentence, cut to what the question names
    (:func:`table_part`)."""
    asked = _stems(question)
    split = [[table_part(s, asked) if s.startswith("|") else s for s in _sentences(t)] for t in texts]
    stems = [[_stems(s) & asked for s in sentences] for sentences in split]
    count = sum(len(s) for s in split) or 1
    df = {w: sum(w in m for ms in stems for m in ms) for w in asked}
    weight = {w: math.log(count / df[w]) for w in asked if df[w]}
    scores = [[sum(weight[w] for w in m) for m in matched] for matched in stems]
    floor = RELEVANT_SHARE * max((x for xs in scores for x in xs), default=0.0)
    return [_pick(sentences, passage, limit, floor) for sentences, passage in zip(split, scores, strict=True)]


def _pick(sentences: list[str], scores: list[float], limit: int, floor: float = 0.0) -> str:
    if not sentences:
        return ""
    unmatched = max(scores) == 0
    if unmatched:  # retrieved for its section or meaning: its opening, in order
        order = list(range(len(sentences)))
    else:  # the best first, then those above the floor
        ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
        order = ranked[:1] + [i for i in ranked[1:] if scores[i] > 0 and scores[i] >= floor]
    chosen: list[int] = []
    used = 0
    for i in order:
        if chosen and used + len(sentences[i]) > limit:
            if unmatched:
                break  # an opening does not skip a sentence
            continue
        chosen.append(i)
        used += len(sentences[i]) + 1
    text, previous = "", ""
    for i in sorted(chosen):  # a table's rows are lines: a table starts and ends a line of its own
        if text:
            text += "\n" if "\n" in sentences[i] or "\n" in previous else " "
        text += sentences[i]
        previous = sentences[i]
    if len(text) <= limit:
        return text
    cut = text[:limit]  # a table is cut after a row, text after a word
    return cut.rsplit("\n" if "\n" in cut else " ", 1)[0] + " ..."
