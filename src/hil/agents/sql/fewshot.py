"""Few-shot memory for the SQL agent: question -> SQL pairs that a human vouched for, and the
retrieval that picks the ones most like a new question.

Only vouched-for pairs get in (an approved SQL whose answer was not rejected, an answer marked
correct, or a curated import); "the query returned rows" is not evidence that it was right.
Retrieval is TF-IDF cosine over the questions' content words, scoped to one connection, and
prefers examples with different SQL shapes so that three near-copies do not crowd out the rest.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from hil.errors import ConfigError
from hil.examples import Example, Recall, ScoredExample

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({
    "the", "a", "an", "of", "in", "on", "at", "for", "to", "and", "or", "by", "with", "from", "what", "which",
    "who", "is", "are", "was", "were", "do", "does", "did", "that", "this", "there", "their", "me", "give",
    "show", "list", "tell", "please", "can", "you", "i", "it", "its", "be", "all",
})
_COMPARED = re.compile(r"(\w+)\s*(?:=|LIKE)\s*('(?:[^']|'')*'|\"[^\"]*\")", re.I)
_PLACEHOLDER = re.compile(r"<[a-z0-9_]+>")
_LITERAL = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|\b\d+(?:\.\d+)?\b")


def terms(text: str) -> list[str]:
    """Content words, plural 's' dropped; a ``<placeholder>`` stays one term."""
    out = _PLACEHOLDER.findall(text.lower())
    for w in _WORD.findall(_PLACEHOLDER.sub(" ", text.lower()).replace("_", " ")):
        if w in _STOP:
            continue
        out.append(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w)
    return out


def question_terms(e: Example) -> list[str]:
    """The example question's terms with the values its SQL filters on as placeholders: "biggest
    city in nebraska" teaches how to find the biggest city in a <state_name>, not anything about
    Nebraska. A new question is masked the same way before it is compared
    (:meth:`hil.agents.sql.values.ValueIndex.mask`)."""
    question = template(e)[0]
    values = {t for lit in _LITERAL.findall(e.sql) for t in terms(lit.strip("'\""))}
    return [t for t in terms(question) if t not in values]


_KEYWORDS = frozenset({"select", "from", "where", "and", "or", "not", "in", "as", "on", "join", "inner", "left",
                       "outer", "group", "by", "order", "having", "limit", "desc", "asc", "distinct", "count", "max",
                       "min", "sum", "avg", "is", "null", "like", "between", "union", "exists", "case", "when",
                       "then", "else", "end", "alias0", "alias1", "alias2", "alias3"})


def sql_terms(sql: str) -> list[str]:
    """The names a query uses (tables and columns, split on _), without its values and keywords:
    a question about "population density" should find examples that read ``density``."""
    names = _WORD.findall(_LITERAL.sub(" ", sql).lower().replace("_", " "))
    return list(dict.fromkeys(t for t in terms(" ".join(names)) if t not in _KEYWORDS and not t.isdigit()))


def with_pairs(words: list[str]) -> list[str]:
    """The words and each pair of neighbours: "population of the state with the largest area"
    and "area of the largest state" share their words but not their pairs."""
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def sql_shape(sql: str) -> str:
    """The SQL with its literals masked and spacing normalised: same shape, same lesson."""
    return " ".join(_LITERAL.sub("?", sql).lower().split())


def rank(question: str, examples: Iterable[Example], k: int, min_score: float = 0.05) -> list[ScoredExample]:
    """The ``k`` examples whose questions are most like ``question``, at most one per SQL shape."""
    pool = list(examples)
    if not pool or k <= 0:
        return []
    docs = [Counter(with_pairs(question_terms(e)) + sql_terms(e.sql)) for e in pool]
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.keys())
    n = len(pool)

    def weights(tf: Counter[str]) -> dict[str, float]:
        return {t: (1 + math.log(c)) * math.log(1 + n / (1 + df.get(t, 0))) for t, c in tf.items()}

    query = weights(Counter(with_pairs(terms(question))))
    qnorm = math.sqrt(sum(v * v for v in query.values())) or 1.0
    scored: list[tuple[float, int]] = []
    for i, d in enumerate(docs):
        w = weights(d)
        dot = sum(v * w.get(t, 0.0) for t, v in query.items())
        if dot <= 0:
            continue
        score = dot / (qnorm * (math.sqrt(sum(v * v for v in w.values())) or 1.0))
        if score >= min_score:
            scored.append((score, i))
    scored.sort(key=lambda x: (-x[0], x[1]))
    chosen: list[ScoredExample] = []
    shapes: set[str] = set()
    for score, i in scored:
        shape = sql_shape(pool[i].sql)
        if shape in shapes:
            continue
        shapes.add(shape)
        chosen.append(ScoredExample(pool[i], score))
        if len(chosen) == k:
            break
    return chosen


def same_question(question: str, shots: list[ScoredExample]) -> ScoredExample | None:
    """A remembered example for this very question (case, spacing and end punctuation aside)."""
    def norm(text: str) -> str:
        return " ".join(text.lower().split()).rstrip("?.! ")
    return next((s for s in shots if norm(s.example.question) == norm(question)), None)


def template(e: Example) -> tuple[str, str]:
    """The example as a template: each value that both its question and its SQL name becomes a
    placeholder named after its column (``how big is <state_name>``), so that a model reuses the
    query's shape with the new question's values instead of copying the old ones."""
    question, sql = e.question, e.sql
    for m in _COMPARED.finditer(e.sql):
        column, value = m.group(1), m.group(2)[1:-1]
        word = re.compile(rf"(?<!\w){re.escape(value)}(?!\w)", re.I)
        if len(value) < 2 or not word.search(question):
            continue
        slot = f"<{column.lower()}>"
        question = word.sub(slot, question)
        sql = sql.replace(m.group(2), f"'{slot}'")
    return question, sql


def plain_sql(sql: str, dialect: str) -> str:
    """The SQL in the plainest spelling: identifiers lower-cased, aliases dropped where a table
    is used once, qualifiers dropped when only one table is read. Examples written by other
    hands (``CITYalias0.CITY_NAME``) then look like the schema the model is shown."""
    try:
        tree = normalize_identifiers(sqlglot.parse_one(sql, read=dialect), dialect=dialect)
    except (SqlglotError, ValueError):
        return sql
    tables = list(tree.find_all(exp.Table))
    uses = Counter(t.name.lower() for t in tables)
    renamed: dict[str, str] = {}
    for t in tables:
        if t.alias and uses[t.name.lower()] == 1:
            renamed[t.alias.lower()] = t.name
            t.set("alias", None)
    single = len(uses) == 1 and len(tables) == 1
    for col in tree.find_all(exp.Column):
        if col.table and single:
            col.set("table", None)
        elif col.table and col.table.lower() in renamed:
            col.set("table", exp.to_identifier(renamed[col.table.lower()]))
    return tree.sql(dialect=dialect)


def render(examples: list[ScoredExample], dialect: str = "sqlite") -> str:
    """Examples for a prompt, most similar first, in plain SQL with values as placeholders."""
    out = []
    for s in examples:
        e = s.example
        question, sql = template(Example(e.id, e.connection, e.question, plain_sql(e.sql, dialect), e.source))
        out.append(f"Question: {question}\nSQL: {sql}")
    return "\n\n".join(out)


def placeholders(sql: str) -> list[str]:
    """Placeholders a draft copied from a template instead of filling them in."""
    return _PLACEHOLDER.findall(sql)


def read_curated(path: str | Path) -> list[tuple[str, str]]:
    """(question, sql) pairs from a curated file: JSON Lines or a JSON list of
    ``{"question": ..., "sql": ...}`` objects. Errors name the line and what is missing."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such file", hint="give a .jsonl or .json file of {question, sql} objects")
    text = p.read_text(encoding="utf-8")
    try:
        items: list[tuple[int, Any]] = list(enumerate(json.loads(text), 1)) if text.lstrip().startswith("[") else [
            (n, json.loads(line)) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    except json.JSONDecodeError as err:
        raise ConfigError(f"{p}: not valid JSON: {err.msg} (line {err.lineno})") from None
    pairs = []
    for n, item in items:
        if not isinstance(item, dict) or not all(isinstance(item.get(f), str) and item[f].strip()
                                                 for f in ("question", "sql")):
            raise ConfigError(f"{p}: entry {n}: expected an object with non-empty \"question\" and \"sql\" strings")
        pairs.append((item["question"].strip(), item["sql"].strip().rstrip(";")))
    return pairs


def recall_from(entries: Callable[[str], Iterable[Example]]) -> Recall:
    """A recall function over a connection's stored examples (``entries(connection)``)."""
    def recall(connection: str, question: str, k: int) -> list[ScoredExample]:
        return rank(question, entries(connection), k) if k > 0 else []
    return recall


def in_memory(examples: list[Example]) -> Recall:
    """A recall function over a fixed list (evaluation seeds one from a training split)."""
    def recall(connection: str, question: str, k: int) -> list[ScoredExample]:
        return rank(question, (e for e in examples if e.connection == connection), k)
    return recall

