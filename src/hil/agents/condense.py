"""What of the gathered evidence goes into the Responder's prompt.

On a laptop CPU every token of that prompt is prefilled before the first word of the answer, at
some 40 tokens a second, so the brief carries what the answer needs and nothing else: of the
rows behind an aggregate, the columns the query names (not every column of every joined table,
nor what the block's label or the query's filters already say);
of a passage, the sentences that share words with the question. The events and the citations
keep everything; the numbers check still reads the full rows and passages."""

from __future__ import annotations

import math
import re
from typing import Any

ROWS_PER_GROUP = 2  # a sample: the query's own rows carry the figures
SNIPPET_CHARS = 360
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9*\"'(\[])")
_WORD = re.compile(r"[a-z0-9]+")
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
    names it), or one value throughout that the query filters on (``severity = 'critical'``)."""
    if name.lower() in {k.lower() for k in group}:
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


def _sentences(text: str) -> list[str]:
    body = " ".join(line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    return [s for s in _SENTENCE.split(body) if s]


def relevant_passages(texts: list[str], question: str, limit: int = SNIPPET_CHARS) -> list[str]:
    """Of each passage, the sentences that best match the question, in their own order, within
    ``limit`` characters; its first sentence when none shares a word. A word of the question that
    most sentences share (the words the passages were retrieved by) weighs little; a rarer one
    (``manual`` where every passage says ``overheating``) weighs more. Heading lines go: the brief
    gives the section apart."""
    split = [_sentences(t) for t in texts]
    asked = _stems(question)
    stems = [[_stems(s) & asked for s in sentences] for sentences in split]
    count = sum(len(s) for s in split) or 1
    df = {w: sum(w in m for ms in stems for m in ms) for w in asked}
    weight = {w: math.log(count / df[w]) for w in asked if df[w]}
    return [_pick(sentences, [sum(weight[w] for w in m) for m in matched], limit)
            for sentences, matched in zip(split, stems, strict=True)]


def _pick(sentences: list[str], scores: list[float], limit: int) -> str:
    if not sentences:
        return ""
    chosen: list[int] = []
    used = 0
    for i in sorted(range(len(sentences)), key=lambda i: (-scores[i], i)):
        if chosen and (scores[i] == 0 or used + len(sentences[i]) > limit):
            continue
        chosen.append(i)
        used += len(sentences[i]) + 1
    text = " ".join(sentences[i] for i in sorted(chosen))
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."
