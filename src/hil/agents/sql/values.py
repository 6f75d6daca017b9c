"""Value linking: which words of a question are values stored in the database, and where.

"How big is new mexico?" names no column, but 'new mexico' is a value of state.state_name.
Pointing the model at that column, and reading the question as "how big is <state_name>" when
looking for similar approved questions, are the two things small models cannot do alone.

The index holds the distinct values of text columns with at most ``MAX_DISTINCT`` of them
(names, codes, categories; not free text), lower-cased, built once per database version.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hil.connectors.base import Connector, Table

MAX_DISTINCT = 5000
MAX_VALUE_CHARS = 60
MAX_WORDS = 4
MAX_NAMES = 50  # a column of categories (depots, makes, regions), not of people or products
_WORD = re.compile(r"[a-z0-9][a-z0-9'.&-]*")
# Single words too common to be taken for a value even when a column happens to hold them.
_COMMON = frozenset({
    "the", "a", "an", "of", "in", "on", "at", "for", "to", "and", "or", "by", "with", "from", "what", "which",
    "who", "how", "is", "are", "was", "were", "do", "does", "did", "that", "this", "there", "me", "all", "any",
    "most", "many", "much", "each", "per", "than", "have", "has", "give", "show", "list", "name", "names",
    "number", "count", "total", "big", "high", "long", "large", "small", "new", "major", "yes", "no", "none",
    "other", "unknown",
})


@dataclass(frozen=True)
class Mention:
    text: str  # the words of the question
    value: str  # the stored value
    table: str
    column: str


@dataclass
class ValueIndex:
    values: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # lower -> (table, column, stored)
    schema_words: set[str] = field(default_factory=set)  # "city" names a table here, not a value
    _domains: dict[tuple[str, str], list[str]] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(cls, conn: Connector, tables: list[Table]) -> ValueIndex:
        index = cls()
        for t in tables:
            index.schema_words |= {w for name in [t.name, *(c.name for c in t.columns)]
                                   for w in re.split(r"[^a-z0-9]+", name.lower()) if w}
            index.schema_words |= {w[:-1] for w in set(index.schema_words) if w.endswith("s")}
            index.schema_words |= {w + "s" for w in set(index.schema_words)}
            for c in t.columns:
                if not any(k in c.type.upper() for k in ("CHAR", "TEXT", "STRING")):
                    continue
                for value in _distinct(conn, t.name, c.name):
                    key = " ".join(value.lower().split())
                    if key and len(key) <= MAX_VALUE_CHARS:
                        index.values.setdefault(key, []).append((t.name, c.name, value))
        return index

    def find(self, text: str) -> list[Mention]:
        """Stored values named in ``text``, longest match first, without overlaps."""
        words = _WORD.findall(text.lower())
        found: list[Mention] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_WORDS, len(words) - i), 0, -1):
                phrase = " ".join(words[i:i + n])
                if n == 1 and (phrase in _COMMON or phrase in self.schema_words or len(phrase) < 3):
                    continue
                hits = self.values.get(phrase) or self.values.get(phrase.rstrip("?.,!"))
                if hits:
                    found += [Mention(phrase, stored, table, column) for table, column, stored in hits]
                    i += n
                    break
            else:
                i += 1
        return found

    def domains(self) -> dict[tuple[str, str], list[str]]:
        """Every indexed column's stored values, by (table, column); built once per index."""
        if self._domains is None:
            by_column: dict[tuple[str, str], list[str]] = {}
            for hits in self.values.values():
                for table, column, stored in hits:
                    by_column.setdefault((table, column), []).append(stored)
            self._domains = by_column
        return self._domains

    def names_not_returned(self, columns: list[str], rows: list[list[Any]],
                           keep: Callable[[str, str], bool] = lambda _c, _v: True) -> dict[str, list[str]]:
        """For a result column of names (every value a stored value of one column with at most
        ``MAX_NAMES`` of them: depots, makes, regions), the names of that column the result does
        not have. An answer that names one of them says something the query did not return
        ("Central and South, 17 and 17" when the query returned Central alone). Only names that
        read as names (a capital or a digit, three characters or more): "major" or "active" are
        words an answer uses for other things; and only those ``keep`` allows (the answer check
        reads them, never a model, but the step's output is kept)."""
        left_out: dict[str, list[str]] = {}
        for j, name in enumerate(columns):
            shown = {r[j] for r in rows if j < len(r) and r[j] is not None}
            if not shown or not all(isinstance(v, str) for v in shown):
                continue
            # the stored columns that hold every value the result shows
            holders = set.intersection(*({(t, c) for t, c, _s in self.values.get(" ".join(v.lower().split()), [])}
                                         for v in shown))
            domains = [self.domains()[h] for h in holders]
            others = {v for domain in domains if len(domain) <= MAX_NAMES
                      for v in domain if v not in shown and _reads_as_name(v) and keep(name, v)}
            if others:
                left_out[name] = sorted(others)
        return left_out

    def mask(self, text: str) -> str:
        """``text`` with each stored value replaced by placeholders for the columns that hold it:
        "how big is new mexico" -> "how big is <state_name> <border> ..."."""
        out = text.lower()
        by_phrase: dict[str, list[str]] = {}
        for m in self.find(text):
            slot = f"<{m.column.lower()}>"
            if slot not in by_phrase.setdefault(m.text, []):
                by_phrase[m.text].append(slot)
        for phrase in sorted(by_phrase, key=len, reverse=True):
            out = re.sub(rf"(?<![\w<]){re.escape(phrase)}(?![\w>])", " ".join(by_phrase[phrase]), out)
        return out


def _reads_as_name(value: str) -> bool:
    return len(value) >= 3 and (value[0].isupper() or any(ch.isdigit() for ch in value))


def _distinct(conn: Connector, table: str, column: str) -> list[str]:
    try:
        result = conn.execute_read(f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL '
                                   f"LIMIT {MAX_DISTINCT + 1}", limit=MAX_DISTINCT + 1)
    except Exception:  # noqa: BLE001 - linking is a hint, never a failure
        return []
    if result.truncated or len(result.rows) > MAX_DISTINCT:
        return []  # too many to be names or categories
    return [str(r[0]) for r in result.rows if isinstance(r[0], str)]
