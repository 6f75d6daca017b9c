"""Checks a query's result against its question, so a wrong query is redrafted before a human
or the reasoner builds on it.

Two failures are common and cheap to notice: an empty result because a filter value is spelled
differently from the stored one ('Texas' against 'texas', 'Critical' against 'critical'), and a
result whose shape does not fit the question (many rows for "how many ...?"). Each check returns
feedback a model can act on, or None.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from hil.connectors.base import Connector, Table

log = logging.getLogger(__name__)

EMPTY = "the query returned no rows"
WRONG_SHAPE = "the result does not fit the question"
_EXPECTS_EMPTY = re.compile(r"\b(any|is there|are there|whether|if any|ever|exist|exists)\b", re.I)
_COUNT_QUESTION = re.compile(r"\b(how many|number of|count of|total number)\b", re.I)
# "what is the longest river ...", "which city is the smallest ...": a superlative before a noun, with no
# "of" or possessive between the question word and it ("what is the length OF the longest river" asks
# for a number) and none after the noun ("the youngest student's age").
_SUPERLATIVE_THING = re.compile(r"\b(?:what|which)\b(?:(?!\bof\b|'s\b)[^?])*?\b(?:most|least|\w+est)\s+([a-z_]+)\b"
                                r"(?!'s|\s+of\b)(?:\s+([a-z_]+))?", re.I)
_PER_GROUP = re.compile(r"\b(each|every|per|by|for all|respectively|breakdown|group)\b", re.I)


def expects_rows(question: str) -> bool:
    """False when an empty answer is a plausible answer to the question ("are there any ...")."""
    return not _EXPECTS_EMPTY.search(question)


def literal_filters(sql: str, dialect: str, tables: list[Table]) -> list[tuple[str, str, str]]:
    """(table, column, value) for each ``column = 'text'`` or ``column IN ('text', ...)`` filter
    whose column can be traced to a table of the schema."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return []
    known = {t.name.lower(): t for t in tables}
    aliases: dict[str, str] = {}
    for t in tree.find_all(exp.Table):
        if t.name.lower() in known:
            aliases[(t.alias or t.name).lower()] = known[t.name.lower()].name
    found: list[tuple[str, str, str]] = []

    def add(column: exp.Column, literal: Any) -> None:
        if not (isinstance(literal, exp.Literal) and literal.is_string):
            return
        owner = aliases.get(column.table.lower()) if column.table else None
        if owner is None:  # unqualified: the one table in scope that has the column
            owners = [n for n in dict.fromkeys(aliases.values())
                      if any(c.name.lower() == column.name.lower() for c in known[n.lower()].columns)]
            owner = owners[0] if len(owners) == 1 else None
        if owner is not None:
            found.append((owner, column.name, literal.this))

    for node in tree.find_all(exp.EQ):
        left, right = node.left, node.right
        if isinstance(left, exp.Column):
            add(left, right)
        elif isinstance(right, exp.Column):
            add(right, left)
    for member in tree.find_all(exp.In):
        if isinstance(member.this, exp.Column):
            for item in member.expressions:
                add(member.this, item)
    return list(dict.fromkeys(found))


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def align_literals(conn: Connector, sql: str, tables: list[Table]) -> tuple[str, list[str]]:
    """Rewrite text filters whose value is stored with other case or spacing ('Texas' -> 'texas')
    when exactly one stored value matches; returns the SQL and a note per change.

    Small models capitalise names whatever the data says, and feedback rarely changes that;
    the database can settle the spelling with certainty, so the agent does it itself."""
    fixes: dict[str, str] = {}
    for table, column, value in literal_filters(sql, conn.dialect, tables)[:8]:
        col, tab = f'"{column}"', f'"{table}"'
        try:
            if conn.execute_read(f"SELECT 1 FROM {tab} WHERE {col} = {_quote(value)} LIMIT 1", limit=1).rows:
                continue
            same = conn.execute_read(f"SELECT DISTINCT {col} FROM {tab} WHERE lower(trim(CAST({col} AS TEXT))) = "
                                     f"{_quote(value.strip().lower())} LIMIT 2", limit=2).rows
        except Exception:
            log.debug("aligning %r in %s.%s failed", value, table, column, exc_info=True)
            continue
        if len(same) == 1 and isinstance(same[0][0], str):
            fixes[value] = same[0][0]
    if not fixes:
        return sql, []
    tree = sqlglot.parse_one(sql, read=conn.dialect)

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Literal) and node.is_string and node.this in fixes:
            return exp.Literal.string(fixes[node.this])
        return node

    fixed = tree.transform(swap).sql(dialect=conn.dialect)
    return fixed, [f"{old!r} is stored as {new!r}" for old, new in fixes.items()]


def drop_unordered_limit(sql: str, dialect: str, question: str) -> tuple[str, str | None]:
    """Remove a LIMIT that has no ORDER BY, unless the question asks for that many rows.

    Such a LIMIT keeps arbitrary rows: small models add ``LIMIT 1`` to list questions ("which
    states border Iowa?") and the answer silently loses rows. The connection's row limit still
    bounds the result."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return sql, None
    limit = tree.args.get("limit")
    if not isinstance(tree, exp.Select) or limit is None or tree.args.get("order") is not None:
        return sql, None
    count = limit.expression.sql() if isinstance(limit, exp.Limit) and limit.expression else ""
    if count and re.search(rf"(?<!\d){re.escape(count)}(?!\d)", question):
        return sql, None
    tree.set("limit", None)
    return tree.sql(dialect=dialect), f"removed LIMIT {count}: without ORDER BY it keeps arbitrary rows"


def empty_result_hint(conn: Connector, sql: str, tables: list[Table]) -> str:
    """Why a query may have returned nothing: each text filter whose value is not stored as
    written, with the stored values that look like it."""
    notes = []
    for table, column, value in literal_filters(sql, conn.dialect, tables)[:6]:
        col, tab = f'"{column}"', f'"{table}"'
        try:
            exact = conn.execute_read(f"SELECT 1 FROM {tab} WHERE {col} = {_quote(value)} LIMIT 1", limit=1)
            if exact.rows:
                continue
            core = value.strip().strip("%")
            like = conn.execute_read(
                f"SELECT DISTINCT {col} FROM {tab} WHERE lower(CAST({col} AS TEXT)) LIKE {_quote('%' + core.lower() + '%')} "
                f"LIMIT 5", limit=5)
        except Exception:
            log.debug("looking up values like %r in %s.%s failed", value, table, column, exc_info=True)
            continue
        similar = [str(r[0]) for r in like.rows]
        if similar:
            notes.append(f"{value!r} does not occur in {table}.{column}; stored values like it: "
                         + ", ".join(repr(s) for s in similar))
        else:
            notes.append(f"no value like {value!r} occurs in {table}.{column}")
    return "; ".join(notes)


def shape_problem(question: str, columns: list[str], rows: list[list[Any]]) -> str | None:
    """Feedback when the result cannot be the answer's shape, else None."""
    if _COUNT_QUESTION.search(question) and not _PER_GROUP.search(question) and len(rows) > 1:
        return (f"the question asks for a single count, but the query returned {len(rows)} rows "
                f"({', '.join(columns)}); use COUNT(...) to return one number")
    return None


def thing_answered_with_a_number(question: str, columns: list[str], rows: list[list[Any]],
                                 tables: list[Table]) -> str | None:
    """Feedback when the question asks which thing is the most something ("what is the smallest city")
    and the result holds only numbers (``SELECT MIN(population)``): the thing's value, not the thing."""
    m = _SUPERLATIVE_THING.search(question)
    if not m or not rows:
        return None
    noun, after = m.group(1).lower(), (m.group(2) or "").lower()
    table = next((t for t in tables if t.name.lower() in {noun, f"{noun}s", f"{noun}es", noun.removesuffix("s")}), None)
    if table is None or any(after and after in c.name.lower() for c in table.columns):
        return None  # not a table, or one of its columns follows: "the oldest student age" asks for the age
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rows[0]):
        return (f"the question asks which {noun}, but the query returned only numbers ({', '.join(columns)}); "
                f"return the {noun} itself")
    return None
