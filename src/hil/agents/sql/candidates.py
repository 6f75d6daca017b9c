"""Choosing between candidate queries by what they return.

Drafts made from different evidence (the full prompt, the schema alone, a second sample) often
disagree; when they are run read-only, the result most of them agree on is usually the right
one. A candidate that fails to run counts for nothing, one that returns no rows for a question
that expects some counts for less than half, so agreeing empty results do not outvote a real
one. With reads approved by a human nothing runs before the approval: candidates are compared
by their normalised text instead, and the ones not chosen go to the approver as alternatives.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot.errors import SqlglotError

from hil.connectors.base import Connector
from hil.errors import QueryFailed, QueryRefused

EMPTY_WEIGHT = 0.4  # two empty results still lose to one with rows


@dataclass
class Candidate:
    source: str  # where it came from: "draft", "schema only", "second sample"
    sql: str | None  # None when it never became a valid query
    error: str | None = None
    result: tuple[tuple[str, int], ...] | None = None
    rows: int | None = None

    def weight(self, expects_rows: bool) -> float:
        if self.sql is None or self.result is None:
            return 0.0
        return EMPTY_WEIGHT if expects_rows and self.rows == 0 else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "sql": self.sql, "result_rows": self.rows,
                **({"error": self.error} if self.error else {})}


def run(conn: Connector, c: Candidate, limit: int) -> None:
    """Runs the candidate read-only and records its result as a comparable multiset of rows."""
    if c.sql is None:
        return
    try:
        rows = conn.execute_read(c.sql, limit=limit).rows
    except (QueryFailed, QueryRefused) as err:
        c.error = err.message
        return
    c.rows = len(rows)
    c.result = tuple(sorted(Counter(repr(r) for r in rows).items()))


def normalised(sql: str, dialect: str) -> str:
    """The query as sqlglot prints it: spacing, case of keywords and redundant parentheses ignored."""
    try:
        return sqlglot.parse_one(sql, read=dialect).sql(dialect=dialect, normalize=True)
    except SqlglotError:
        return " ".join(sql.split()).lower()


def choose_by_result(cands: list[Candidate], expects_rows: bool) -> tuple[int, float]:
    """(index of the chosen candidate, the weight behind its result). Ties go to the earlier candidate."""
    support: dict[Any, float] = {}
    for c in cands:
        if c.result is not None:
            support[c.result] = support.get(c.result, 0.0) + c.weight(expects_rows)
    best = -1.0
    pick = 0
    for i, c in enumerate(cands):
        score = support.get(c.result, 0.0) if c.result is not None else 0.0
        if score > best:
            best, pick = score, i
    return pick, max(best, 0.0)


def agree(cands: list[Candidate], expects_rows: bool) -> bool:
    """Whether the valid candidates so far all return the same, non-empty result."""
    results = {c.result for c in cands if c.sql is not None}
    return len(results) == 1 and None not in results and all(c.weight(expects_rows) == 1.0 for c in cands
                                                              if c.sql is not None)


def alternatives(chosen: str, cands: list[Candidate], dialect: str) -> list[dict[str, str]]:
    """The valid candidates that differ from the chosen one, once each, for the approver."""
    seen = {normalised(chosen, dialect)}
    out = []
    for c in cands:
        if c.sql is not None and (key := normalised(c.sql, dialect)) not in seen:
            seen.add(key)
            out.append({"source": c.source, "sql": c.sql})
    return out
