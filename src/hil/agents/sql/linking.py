"""Schema linking: which parts of a schema a piece of text talks about.

A question or a reviewer's message often names a value ("critical", "Central") rather than
the column that holds it. Small models do not make that leap on their own; pointing at the
column does.
"""

from __future__ import annotations

import re

from hil.connectors.base import Table, render_schema

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({
    "the", "a", "an", "of", "in", "on", "for", "to", "and", "or", "by", "with", "from", "what", "which",
    "who", "how", "many", "much", "is", "are", "was", "were", "each", "per", "all", "any", "most", "least",
    "top", "last", "first", "do", "does", "did", "have", "has", "had", "that", "this", "there", "their",
    "than", "then", "show", "list", "give", "me", "find", "count", "number",
})


def value_mentions(text: str, tables: list[Table]) -> list[str]:
    """``table.column = 'value'`` for each sampled value that the text names as a whole word."""
    lowered = text.lower()
    found: list[str] = []
    for t in tables:
        for c in t.columns:
            for value in c.samples:
                if len(value) >= 3 and re.search(rf"(?<!\w){re.escape(value.lower())}(?!\w)", lowered):
                    found.append(f"{t.name}.{c.name} = '{value}'")
    return found


def _terms(text: str) -> set[str]:
    """Lower-case words of ``text`` (identifiers split on _), with a plural 's' dropped."""
    words = _WORD.findall(text.lower().replace("_", " "))
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words if w not in _STOP}


def _score(table: Table, terms: set[str], text: str) -> float:
    score = 3.0 * len(_terms(table.name) & terms) + 1.0 * len(_terms(table.comment or "") & terms)
    for c in table.columns:
        score += 1.0 * len(_terms(c.name) & terms) + 0.5 * len(_terms(c.comment or "") & terms)
    score += 2.0 * len(value_mentions(text, [table]))
    return score


def select_tables(text: str, tables: list[Table], budget_chars: int) -> list[Table]:
    """The tables a prompt about ``text`` should show, within ``budget_chars`` of schema.

    When the whole schema fits it is used as is. Otherwise tables are ranked by how much of
    the text their names, column names and sampled values match; the foreign-key neighbours of
    the best matches come next (a join needs both ends), then the rest, and tables are added in
    that order while they fit.
    """
    if len(render_schema(tables)) <= budget_chars:
        return tables
    terms = _terms(text)
    scored = sorted(((s, t.name.lower(), t) for t in tables if (s := _score(t, terms, text)) > 0),
                    key=lambda x: (-x[0], x[1]))
    by_name = {t.name.lower(): t for t in tables}
    order: list[Table] = [t for _, _, t in scored]
    neighbours: list[Table] = []
    for t in order[:5]:
        for c in t.columns:
            ref = by_name.get((c.references or "").split("(")[0].lower())
            if ref is not None:
                neighbours.append(ref)
        neighbours += [o for o in tables if any((c.references or "").split("(")[0].lower() == t.name.lower()
                                                for c in o.columns)]
    chosen: list[Table] = []
    used = 0
    for t in [*order[:5], *neighbours, *order[5:]]:
        if t in chosen:
            continue
        size = len(render_schema([t])) + 1
        if used + size > budget_chars:
            continue
        chosen.append(t)
        used += size
    return chosen
