"""Filters and limits the question does not ask for.

Small models add what their prompt suggests rather than what the question says: a
``WHERE date <= date('now')`` because the prompt mentioned today's date, a ``LIMIT 1`` or
``LIMIT 10`` on a list or a per-group average. The question's own words decide:

- date arithmetic is suggested only when the question has a time expression;
- a condition on the current date is removed when the question has none;
- a LIMIT stays only when the question asks for a number of rows or for the single most/least.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from hil.agents.sql.result_check import literal_filters
from hil.connectors.base import Table

# A time the question is about, not a word like "year" in "ordered by year of opening".
_UNIT = r"(days?|weeks?|months?|quarters?|years?|hours?|decades?)"
_TIME = re.compile(
    r"\b(today|yesterday|tomorrow|tonight|now|currently|recent|recently|ago|so far|to date|year to date|ytd|mtd|"
    r"overdue|upcoming|"
    rf"(last|past|next|previous|coming|this|current|within)\s+(\d+\s+|few\s+|several\s+|\w+\s+)?{_UNIT}|"
    rf"\d+\s+{_UNIT}|(since|until|till|before|after|during|between|from|in)\s+((early|late|mid)\s+)?"
    r"(january|february|march|april|may|june|july|august|september|october|november|december|(19|20)\d\d|"
    r"last|this|next|the\s+(last|past|first))|"
    r"(january|february|march|april|june|july|august|september|october|november|december)\s+(\d{1,2}|(19|20)\d\d)|"
    r"(19|20)\d\d)\b", re.I)
# "the single largest", "the most", "the top": a question about one row (or N rows when it says N).
_SUPERLATIVE = re.compile(
    r"\b(most|least|top|best|worst|first|last|highest|lowest|largest|smallest|biggest|greatest|fewest|longest|"
    r"shortest|oldest|youngest|newest|latest|earliest|maximum|minimum|max|min|\w{3,}est)\b", re.I)
_NOT_SUPERLATIVE = frozenset({"interest", "interested", "request", "forest", "contest", "harvest", "suggest",
                              "guest", "west", "rest", "test", "manifest", "protest", "invest", "honest"})
# A time counted back from today ("in the last 90 days", "this month", "yesterday"): its query compares
# a date with the current date. Not "the most recent" (an ORDER BY) or a year by its number (a literal).
_RELATIVE = re.compile(rf"\b(today|yesterday|so far|to date|year to date|ago|(last|past|this|current)\s+"
                       r"((\d+|few|several|two|three|four|five|six|seven|eight|nine|ten|twelve|fiscal|calendar)\s+)?"
                       rf"{_UNIT})\b", re.I)
_DATE_LITERAL = re.compile(r"'\d{4}-\d\d")
_QUOTED = re.compile(r"'([^']+)'")  # a value the notes name, as in "faults with d.system = 'cooling'"
_EACH = re.compile(r"\b(for each|each|per)\b", re.I)  # not "every": "for every company" often means over all
_NOW = re.compile(r"\b(now|current_date|current_timestamp|localtimestamp|today|getdate|sysdate)\b", re.I)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "twenty": 20, "a dozen": 12, "dozen": 12}


def has_time_expression(question: str) -> bool:
    return bool(_TIME.search(question))


def asks_for_one(question: str) -> bool:
    """The question asks for the single most/least/first of something ("in the last 90 days" is a time,
    not a superlative)."""
    untimed = _TIME.sub(" ", question)
    return any(m.group(0).lower() not in _NOT_SUPERLATIVE for m in _SUPERLATIVE.finditer(untimed))


def asks_for_count(question: str, n: int) -> bool:
    """The question names ``n`` (as digits or a word) as a number of rows."""
    if re.search(rf"(?<![\d.]){n}(?![\d.])", question):
        return True
    return any(v == n and re.search(rf"\b{w}\b", question, re.I) for w, v in _NUMBER_WORDS.items())


def drop_unasked_limit(sql: str, dialect: str, question: str) -> tuple[str, str | None]:
    """Remove ``LIMIT k`` unless the question asks for k rows, or k is 1 and it asks for the most/least.

    Without ORDER BY a LIMIT keeps arbitrary rows; with ORDER BY on a question that asks for all
    of them ("sort the names by age", "average distance per type") it silently loses rows."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return sql, None
    limit = tree.args.get("limit")
    if not isinstance(tree, exp.Select) or not isinstance(limit, exp.Limit) or limit.expression is None:
        return sql, None
    text = limit.expression.sql()
    if not text.isdigit():
        return sql, None
    n = int(text)
    ordered = tree.args.get("order") is not None
    if asks_for_count(question, n) or (ordered and asks_for_one(question)):
        return sql, None
    tree.set("limit", None)
    why = "without ORDER BY it keeps arbitrary rows" if not ordered else "the question does not ask for that many rows"
    return tree.sql(dialect=dialect), f"removed LIMIT {n}: {why}"


def drop_unasked_date_filters(sql: str, dialect: str, question: str) -> tuple[str, str | None]:
    """Remove WHERE conditions on the current date when the question names no time at all."""
    if has_time_expression(question) or not _NOW.search(sql):
        return sql, None
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return sql, None
    removed: list[str] = []
    for where in list(tree.find_all(exp.Where)):
        parts = list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]
        keep = [p for p in parts if not _NOW.search(p.sql(dialect=dialect))]
        if len(keep) == len(parts):
            continue
        removed += [p.sql(dialect=dialect) for p in parts if p not in keep]
        if keep:
            where.set("this", exp.and_(*keep, copy=False))
        else:
            where.pop()
    if not removed:
        return sql, None
    return tree.sql(dialect=dialect), f"removed {' AND '.join(removed)}: the question names no time"


def label_groups(sql: str, dialect: str) -> tuple[str, str | None]:
    """``SELECT avg(x) FROM t GROUP BY k`` answers "per k" only with k in it: when every selected
    value is an aggregate, the grouping columns are selected too, first."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return sql, None
    group = tree.args.get("group")
    if not isinstance(tree, exp.Select) or group is None or not tree.expressions:
        return sql, None
    if not all(e.find(exp.AggFunc) for e in tree.expressions):
        return sql, None
    keys = [g for g in group.expressions if isinstance(g, exp.Column)]
    if not keys or len(keys) != len(group.expressions):
        return sql, None
    tree.set("expressions", [k.copy() for k in keys] + list(tree.expressions))
    return tree.sql(dialect=dialect), f"selected {', '.join(k.sql(dialect=dialect) for k in keys)}: the rows are per group"


def break_ties(sql: str, dialect: str) -> tuple[str, str | None]:
    """DuckDB reads in parallel, so rows that tie on the ORDER BY come back in any order, and under a
    LIMIT which of them make the cut changes from run to run. The grouping columns, appended to the
    ORDER BY, make the answer the same every time. SQLite and PostgreSQL run one plan in one order."""
    if dialect != "duckdb":
        return sql, None
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return sql, None
    group, order = tree.args.get("group"), tree.args.get("order")
    if not isinstance(tree, exp.Select) or group is None or order is None:
        return sql, None
    ordered = {o.this.sql(dialect=dialect).lower() for o in order.expressions}
    keys = [g for g in group.expressions if isinstance(g, exp.Column) and g.sql(dialect=dialect).lower() not in ordered]
    if not keys or any(isinstance(g, exp.Literal) for g in group.expressions):
        return sql, None
    order.set("expressions", list(order.expressions) + [exp.Ordered(this=k.copy()) for k in keys])
    return tree.sql(dialect=dialect), f"ties ordered by {', '.join(k.sql(dialect=dialect) for k in keys)}: the same rows every time"


def ungrouped_per_group(question: str, sql: str, dialect: str) -> str | None:
    """Feedback when the question asks for a value per group ("for each product", "per depot") and the
    query aggregates with no GROUP BY: one number where the question wants one per group."""
    if not _EACH.search(question):
        return None
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return None
    if not isinstance(tree, exp.Select) or tree.args.get("group"):
        return None
    if any(e.find(exp.AggFunc) for e in tree.expressions):
        return "the question asks for a value per group, but the query aggregates everything into one row (no GROUP BY)"
    return None


def untimed(question: str, sql: str, dialect: str, tables: list[Table]) -> str | None:
    """Feedback when the question counts back from today ("last month") and the query compares no
    date: it answers for all time. Only on a schema with date or time columns, and not when the
    phrase is a column's name ("the first year and last year of each party")."""
    asked = _RELATIVE.search(question)
    if asked is None or _NOW.search(sql) or _DATE_LITERAL.search(sql):
        return None
    columns = {c.name.lower(): c.type for t in tables for c in t.columns}
    dated = {name for name, type_ in columns.items() if re.search(r"date|time", type_, re.I)}
    if not dated or "_".join(asked.group(0).lower().split()) in columns:
        return None
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return None
    for condition in [*tree.find_all(exp.Where), *tree.find_all(exp.Having)]:
        if any(c.name.lower() in dated for c in condition.find_all(exp.Column)):
            return None
    return (f"the question asks about {asked.group(0)!r} but the query has no condition on a date: add one to "
            "WHERE, counted back from today's date")


def question_problems(sql: str, dialect: str, tables: list[Table], asked: str, notes: str) -> list[str]:
    """What the query gets wrong about the question's scope: a time it leaves out (:func:`untimed`)
    and filters the question does not ask for (:func:`filters_from_context`). ``asked`` is the
    question with a reviewer's instruction, when there is one: the plan's wording of the step is
    not the question (a planner copies terms from the notes into it)."""
    missing = untimed(asked, sql, dialect, tables)
    if missing is not None:
        return [missing]
    return filters_from_context(sql, dialect, tables, asked, notes) if notes else []


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower().replace("_", " ")) if len(w) >= 3}


_DEFINES = re.compile(r"\b(?:are|is|means?|refers? to|counts? as)\b", re.I)


def _terms_defined_by(context: str, value: str) -> list[set[str]]:
    """The terms the notes define with this value: in a note sentence that names the value after
    "are", "is" or "means", the words before it ("Overheating-related faults are those with
    system = 'cooling'" defines overheating-related faults)."""
    terms = []
    for sentence in re.split(r"(?<=[.;])\s+", context):
        at = sentence.lower().find(value.lower())
        verb = _DEFINES.search(sentence)
        if at >= 0 and verb is not None and verb.start() < at and (term := _words(sentence[:verb.start()])):
            terms.append(term)
    return terms


def filters_from_context(sql: str, dialect: str, tables: list[Table], question: str, context: str) -> list[str]:
    """Text filters whose value the workflow's notes (or examples) name but the question does not:
    the notes are context for every question, not a template for this one. A filter the notes
    define a term of the question by (the question says "overheating-related", the notes say what
    that is) is asked for."""
    noted = _words(context)
    found = []
    for table, column, value in literal_filters(sql, dialect, tables):
        words = _words(value)
        if words and words & noted and not _asked_for(value, question, context):
            found.append(f"{table}.{column} = '{value}' is not asked for by the question (it comes from the notes); "
                         "filter only on what the question names")
    return found


def purpose_in_scope(purpose: str, question: str, notes: str) -> str:
    """The plan's wording of the step without its sentences that name a value of the notes the
    question does not ask for: a planner copies the notes' filters into it ("We then filter the
    results to faults with a system of 'cooling'" for "which depots had the most critical fault
    codes?"), and the SQL model follows the purpose rather than the question."""
    unasked = [v for v in dict.fromkeys(_QUOTED.findall(notes)) if _words(v) and not _asked_for(v, question, notes)]
    if not unasked:
        return purpose
    sentences = re.split(r"(?<=[.;!?])\s+", purpose)
    kept = [s for s in sentences if not any(re.search(rf"(?<!\w){re.escape(v)}(?!\w)", s, re.I) for v in unasked)]
    return " ".join(kept).strip()


def _asked_for(value: str, question: str, notes: str) -> bool:
    """The question names the value (a word of it, or its stem), or a term the notes define by it."""
    asked = _words(question)
    stems = {w[:5] for w in asked}
    if any(w in asked or w[:5] in stems for w in _words(value)):
        return True
    return any(all(w[:5] in stems for w in term) for term in _terms_defined_by(notes, value))
