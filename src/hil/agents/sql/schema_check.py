"""Checks a drafted query against the connection's schema before anyone is asked to approve it.

The guard decides whether a statement may run; this decides whether it can: every table must
exist and every column must resolve. Each problem comes with a hint a model can act on (the
table that does have the column, and how to join it), because "column not found" alone makes
small models repeat the same query.
"""

from __future__ import annotations

import difflib
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.qualify import qualify

from hil.agents.sql.repair import compared_with, string_literals
from hil.connectors.base import Table

_UNKNOWN_COLUMN = re.compile(r"(?:Unknown column: |Column ')([\w$]+)")
# What the engines say when a column or table is missing at run time.
_RUNTIME_COLUMN = re.compile(
    r"(?:does not have a column named \"([\w$]+)\"|no such column: (?:\w+\.)?([\w$]+)"
    r"|column \"?(?:\w+\.)?([\w$]+)\"? does not exist|Referenced column \"([\w$]+)\" not found)", re.I)


def _by_name(tables: list[Table]) -> dict[str, Table]:
    return {t.name.lower(): t for t in tables}


def join_hint(have: Table, want: Table) -> str | None:
    """How to join ``want`` onto ``have``, from a foreign key in either direction."""
    for a, b in ((have, want), (want, have)):
        for c in a.columns:
            if c.references and c.references.split("(")[0].lower() == b.name.lower():
                ref_col = c.references.split("(")[1].rstrip(")")
                return f"JOIN {want.name} ON {a.name}.{c.name} = {b.name}.{ref_col}"
    return None


def column_hint(column: str, used: list[str], tables: list[Table]) -> str:
    """Where a missing column really is, and how to reach it from the tables the query uses."""
    by_name = _by_name(tables)
    owners = [t for t in tables if any(c.name.lower() == column.lower() for c in t.columns)]
    used_tables = [by_name[u.lower()] for u in used if u.lower() in by_name]
    if not owners:
        names = {c.name: f"{t.name}.{c.name}" for t in reversed(used_tables + tables) for c in t.columns}
        close = [names[n] for n in difflib.get_close_matches(column, list(names), n=3, cutoff=0.6)]
        return f"no table has a column {column!r}" + (f"; did you mean {', '.join(close)}?" if close else "")
    where = ", ".join(t.name for t in owners)
    in_use = [t.name for t in used_tables if t in owners]
    if in_use:  # the table is in the query, but not in the (sub)query where the column is used
        return (f"column {column!r} is in {', '.join(in_use)}, but it is used in a part of the query (a subquery "
                f"or a join condition) where {', '.join(in_use)} is not in FROM")
    joins = [h for o in owners for u in used_tables if o is not u and (h := join_hint(u, o))]
    msg = f"column {column!r} is not in {', '.join(t.name for t in used_tables) or 'those tables'}; it is in {where}"
    return msg + (f" ({joins[0]})" if joins else "")


def schema_problems(sql: str, dialect: str, tables: list[Table]) -> list[str]:
    """Problems that would make ``sql`` fail on this schema, or pair every row with every row of
    a table; empty when it should run as written.

    Only what can be decided for sure is reported: unknown tables, columns that resolve in no
    table in scope and are not an output alias, and a JOIN whose condition names only other
    tables. Anything the checker cannot understand passes, and the engine has the last word.
    """
    if not tables:
        return []
    sql = string_literals(sql, dialect, tables)[0]  # "Boston" is text on SQLite when it names nothing
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return []  # the guard reports parse errors
    by_name = _by_name(tables)
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    used = [t.name for t in tree.find_all(exp.Table) if t.name and not t.args.get("db")]
    problems = []
    for name in dict.fromkeys(used):
        if name.lower() not in by_name and name.lower() not in ctes:
            close = difflib.get_close_matches(name.lower(), list(by_name), n=3, cutoff=0.6)
            problems.append(f"table {name!r} does not exist" + (f"; did you mean {', '.join(close)}?" if close else ""))
    if problems:
        return problems
    problems = _qualified_column_problems(tree, by_name, tables) or _unjoined_problems(tree, by_name)
    if problems:
        return problems
    schema: dict[str, object] = {t.name: {c.name: c.type or "text" for c in t.columns} for t in tables}
    try:
        qualify(tree.copy(), schema=schema, dialect=dialect, validate_qualify_columns=True)
    except OptimizeError as err:
        m = _UNKNOWN_COLUMN.search(str(err))
        aliases = {a.alias.lower() for a in tree.find_all(exp.Alias)}
        if m and m.group(1).lower() not in aliases:
            real = [u for u in used if u.lower() not in ctes]
            problems.append(column_hint(m.group(1), real, tables))
    except (SqlglotError, KeyError, ValueError, AttributeError):
        pass
    return problems


def _qualified_column_problems(tree: exp.Expr, by_name: dict[str, Table], tables: list[Table]) -> list[str]:
    """``alias.column`` where the aliased table has no such column: name the table, where the
    column really is, and what the aliased table does have."""
    aliases: dict[str, Table] = {}
    spelled: dict[str, str] = {}
    for t in tree.find_all(exp.Table):
        if t.name.lower() in by_name:
            aliases[(t.alias or t.name).lower()] = by_name[t.name.lower()]
            spelled[(t.alias or t.name).lower()] = t.alias or t.name
    problems = []
    for col in tree.find_all(exp.Column):
        table = aliases.get(col.table.lower()) if col.table else None
        if table is None or any(c.name.lower() == col.name.lower() for c in table.columns):
            continue
        in_query = [(a, t) for a, t in aliases.items() if t is not table
                    and any(c.name.lower() == col.name.lower() for c in t.columns)]
        if in_query and compared_with(col, spelled[in_query[0][0]]):  # moving it would compare it with itself
            alias, owner = in_query[0]
            problem = (f"{col.table}.{col.name}: {table.name} has no column {col.name!r}, so the condition cannot "
                       f"match {spelled[alias]}.{col.name}; join {table.name} on a column it has "
                       f"({', '.join(c.name for c in table.columns)})")
        elif in_query:
            alias, owner = in_query[0]
            problem = (f"{col.table}.{col.name}: {table.name} has no column {col.name!r}; it is in {owner.name}, "
                       f"so write {spelled[alias]}.{col.name}")
        else:
            problem = (column_hint(col.name, [table.name], tables)
                       + f"; {table.name} has {', '.join(c.name for c in table.columns)}")
        if problem not in problems:
            problems.append(problem)
    return problems


def runtime_hint(error: str, sql: str, dialect: str, tables: list[Table]) -> str | None:
    """A hint for an engine error about a missing column, naming where that column is."""
    m = _RUNTIME_COLUMN.search(error)
    if not m or not tables:
        return None
    column = next(g for g in m.groups() if g)
    try:
        used = [t.name for t in sqlglot.parse_one(sql, read=dialect).find_all(exp.Table)]
    except SqlglotError:
        used = []
    return column_hint(column, used, tables)


def _unjoined_problems(tree: exp.Expr, by_name: dict[str, Table]) -> list[str]:
    """``JOIN b ON a.x = a.y``: a condition that never names the joined table pairs each row with
    every row of it (a small model writes this when it loses track of its aliases). A condition
    without columns (``ON 1 = 1``, a deliberate cross join) or with unqualified ones passes."""
    tables = {(t.alias or t.name).lower(): t for t in tree.find_all(exp.Table) if t.name}
    problems = []
    for join in tree.find_all(exp.Join):
        on, joined = join.args.get("on"), join.this
        if on is None or not isinstance(joined, exp.Table):
            continue
        columns = list(on.find_all(exp.Column))
        if not columns or any(not c.table for c in columns):
            continue
        named = {joined.name.lower(), (joined.alias or joined.name).lower()}
        if named & {c.table.lower() for c in columns}:
            continue
        alias = joined.alias or joined.name
        problem = (f"JOIN {joined.name}{f' AS {joined.alias}' if joined.alias else ''} ON {on.sql()}: the "
                   f"condition does not mention {alias}, so every row is paired with every row of {joined.name}")
        others = [by_name[t.name.lower()] for a, t in tables.items() if a not in named and t.name.lower() in by_name]
        target = by_name.get(joined.name.lower())
        hints = [h for o in others if target is not None and (h := join_hint(o, target))]
        problems.append(problem + (f"; join it on a column of {alias} ({hints[0]})" if hints
                                   else f"; join it on a column of {alias}"))
    return problems
