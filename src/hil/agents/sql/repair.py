"""Deterministic repairs of a drafted query, applied before another model call is spent on it.

The schema check already knows what is wrong with a draft that names a column in the wrong case
or spelling (``item_type`` for ``ItemType``), reads a column from the wrong table of a join, or
needs a table nobody joined. A 1.5B model told so tends to repeat the mistake; the agent makes the
fix itself and says what it changed:

- a double-quoted token that is no identifier in scope is a string literal (SQLite reads
  ``WHERE city = "Boston"`` that way);
- a table name is respelled to the one table it nearly matches;
- a column is respelled to the column in scope it nearly matches, or to the one column that is
  its name with a prefix (``first_name`` for ``staff_first_name``);
- ``alias.column`` moves to the joined table that has the column;
- a column found only in tables outside the query gets the one of them a foreign key reaches
  from the query's tables joined along that key;
- (DuckDB, PostgreSQL) a selected column neither grouped nor aggregated is grouped by too;
- a table joined only to pass a key on to the next join, multiplying what is counted, is
  dropped (:mod:`hil.agents.sql.fanout`).

Every repair is conservative: when more than one fix is possible, nothing is changed.
"""

from __future__ import annotations

import difflib
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from hil.agents.sql.fanout import drop_bridges
from hil.connectors.base import Table

_SPELLING = re.compile(r"[^a-z0-9]")


def _key(name: str) -> str:
    """A name as compared for respelling: case, underscores and spaces ignored."""
    return _SPELLING.sub("", name.lower())


def _nearest(name: str, candidates: list[str], cutoff: float = 0.8) -> str | None:
    """The one candidate ``name`` is a misspelling of, or None when none or several fit."""
    same = list(dict.fromkeys(c for c in candidates if _key(c) == _key(name)))
    if len(same) == 1:
        return same[0]
    if same:
        return None
    keyed = {_key(c): c for c in candidates}
    close = difflib.get_close_matches(_key(name), list(keyed), n=2, cutoff=cutoff)
    if len(close) == 1 or (len(close) == 2 and difflib.SequenceMatcher(None, _key(name), close[0]).ratio()
                           > difflib.SequenceMatcher(None, _key(name), close[1]).ratio() + 0.1):
        return keyed[close[0]]
    return None


def _prefixed(name: str, candidates: list[str]) -> str | None:
    """The one candidate that is ``name`` with a prefix (``first_name`` for ``staff_first_name``):
    schemas often repeat the table's name in its columns, and small models drop it."""
    key = _key(name)
    if len(key) < 4:
        return None
    found = list(dict.fromkeys(c for c in candidates if _key(c).endswith(key) and _key(c) != key))
    return found[0] if len(found) == 1 else None


def _has(table: Table, column: str) -> bool:
    return any(c.name.lower() == column.lower() for c in table.columns)


def _scope(select: exp.Select, by_name: dict[str, Table]) -> dict[str, Table]:
    """alias (or table name) -> table, for the tables in this SELECT's own FROM and JOINs."""
    found: dict[str, Table] = {}
    sources = [select.args.get("from_") or select.args.get("from"), *(select.args.get("joins") or [])]
    for src in sources:
        if src is None:
            continue
        t = src.this if isinstance(src, (exp.From, exp.Join)) else src
        if isinstance(t, exp.Table) and t.name.lower() in by_name:
            found[(t.alias or t.name).lower()] = by_name[t.name.lower()]
    return found


def _spelt(select: exp.Select, key: str) -> str:
    """A scope key (lower-cased alias or table name) as the query spells it."""
    return next((t.alias or t.name for t in select.find_all(exp.Table) if (t.alias or t.name).lower() == key), key)


def _joined_using(select: exp.Select, name: str) -> bool:
    """``JOIN t USING (depot)`` makes ``depot`` one column."""
    return any(name.lower() in {u.name.lower() for u in j.args.get("using") or []}
               for j in select.args.get("joins") or [])


def _all_scope(tree: exp.Expr, by_name: dict[str, Table]) -> dict[str, Table]:
    found: dict[str, Table] = {}
    for t in tree.find_all(exp.Table):
        if t.name.lower() in by_name:
            found[(t.alias or t.name).lower()] = by_name[t.name.lower()]
    return found


def string_literals(sql: str, dialect: str, tables: list[Table]) -> tuple[str, list[str]]:
    """SQLite only: ``"Boston"`` that names no column, table or alias in scope becomes ``'Boston'``."""
    if dialect != "sqlite" or '"' not in sql:
        return sql, []
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return sql, []
    by_name = {t.name.lower(): t for t in tables}
    scope = _all_scope(tree, by_name)
    known = {c.name.lower() for t in scope.values() for c in t.columns}
    known |= {a.alias.lower() for a in tree.find_all(exp.Alias)} | set(scope)
    known |= {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    changed: list[str] = []

    def swap(node: exp.Expression) -> exp.Expression:
        if (isinstance(node, exp.Column) and not node.table and isinstance(node.this, exp.Identifier)
                and node.this.quoted and node.name.lower() not in known):
            changed.append(node.name)
            return exp.Literal.string(node.name)
        return node

    fixed = tree.transform(swap)
    if not changed:
        return sql, []
    return fixed.sql(dialect=dialect), [f'"{v}" read as the text \'{v}\'' for v in changed]


def _join_path(have: dict[str, Table], want: Table) -> tuple[str, Table, str, str] | None:
    """(alias in the query, its table, its column, want's column) joining ``want`` along a foreign key."""
    options = []
    for alias, t in have.items():
        for c in t.columns:
            if c.references and c.references.split("(")[0].lower() == want.name.lower():
                options.append((alias, t, c.name, c.references.split("(")[1].rstrip(")")))
        for c in want.columns:
            if c.references and c.references.split("(")[0].lower() == t.name.lower():
                options.append((alias, t, c.references.split("(")[1].rstrip(")"), c.name))
    return options[0] if len(options) == 1 else None


def complete_group_by(sql: str, dialect: str) -> tuple[str, list[str]]:
    """DuckDB and PostgreSQL refuse a selected column that is neither grouped nor aggregated (SQLite
    takes any row's value); grouping by it too is what the query means when it grouped by the
    row's key, and the only way it runs otherwise."""
    if dialect == "sqlite":
        return sql, []
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return sql, []
    notes: list[str] = []
    for select in tree.find_all(exp.Select):
        group = select.args.get("group")
        if group is None or group.args.get("all"):  # DuckDB's GROUP BY ALL groups by every plain column already
            continue
        projections = list(select.expressions)
        grouped: set[str] = set()  # names (unqualified) and texts of what is grouped, positions resolved
        for g in group.expressions:
            if isinstance(g, exp.Literal) and g.is_int and 1 <= int(g.this) <= len(projections):
                g = projections[int(g.this) - 1]
            grouped |= {g.sql(dialect=dialect).lower(), g.alias_or_name.lower()}
            if isinstance(g, exp.Alias):
                grouped |= {g.this.sql(dialect=dialect).lower(), g.this.alias_or_name.lower()}
        for e in projections:
            col = e.this if isinstance(e, exp.Alias) else e
            if not isinstance(col, exp.Column) or isinstance(col.this, exp.Star):
                continue
            if {col.sql(dialect=dialect).lower(), col.name.lower(), e.alias_or_name.lower()} & grouped:
                continue
            group.append("expressions", col.copy())
            grouped |= {col.sql(dialect=dialect).lower(), col.name.lower()}
            notes.append(f"grouped by {col.sql(dialect=dialect)} too: it is selected without an aggregate")
    return (tree.sql(dialect=dialect), notes) if notes else (sql, [])


def repair(sql: str, dialect: str, tables: list[Table], question: str = "") -> tuple[str, list[str]]:
    """The draft with every fix the schema makes certain applied, and a note per fix (``question``:
    what the query answers, for the fixes that depend on what it names)."""
    sql, notes = string_literals(sql, dialect, tables)
    sql, grouped = complete_group_by(sql, dialect)
    notes += grouped
    fixed = len(notes)
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return sql, notes
    by_name = {t.name.lower(): t for t in tables}
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    for t in list(tree.find_all(exp.Table)):
        if t.name and t.name.lower() not in by_name and t.name.lower() not in ctes and not t.args.get("db"):
            real = _nearest(t.name, [x.name for x in tables])
            if real:
                notes.append(f"table {t.name} -> {real}")
                t.set("this", exp.to_identifier(real))
    aliases = {a.alias.lower() for a in tree.find_all(exp.Alias)}
    everywhere = _all_scope(tree, by_name)
    for select in list(tree.find_all(exp.Select)):
        scope = _scope(select, by_name)
        if not scope:
            continue
        for col in [c for c in select.find_all(exp.Column) if c.find_ancestor(exp.Select) is select]:
            if isinstance(col.this, exp.Star):
                continue
            note = _fix_column(select, col, scope, everywhere, aliases, tables)
            if note:
                notes.append(note)
    notes += drop_bridges(tree, by_name, dialect, question)
    if len(notes) == fixed:
        return sql, notes
    return tree.sql(dialect=dialect), list(dict.fromkeys(notes))  # a column fixed in SELECT and GROUP BY: one note


def _fix_column(select: exp.Select, col: exp.Column, scope: dict[str, Table], everywhere: dict[str, Table],
                aliases: set[str], tables: list[Table]) -> str | None:
    name = col.name
    if col.table:
        table = scope.get(col.table.lower())
        if table is None or _has(table, name):
            return None
        owners = [a for a, t in scope.items() if _has(t, name)]
        if len(owners) == 1:  # read from the wrong table of the join
            right = _spelt(select, owners[0])
            if compared_with(col, right):  # `t.id = d.id` would become `d.id = d.id`: the join is wrong, not t
                return None
            note = f"{col.table}.{name} -> {right}.{name}"
            col.set("table", exp.to_identifier(right))
            return note
        columns = [c.name for c in table.columns]
        real = _nearest(name, columns) or _prefixed(name, columns)
        if real:
            col.set("this", exp.to_identifier(real))
            return f"{name} -> {real}"
        if owners:
            return None
        return _join_home(select, col, scope, tables)  # f.system where only dtc_codes has system
    owners = [a for a, t in scope.items() if _has(t, name)]
    if len(owners) > 1 and name.lower() not in aliases and not _joined_using(select, name):
        # every engine refuses a column two joined tables have; the first table in FROM is the
        # query's subject, and the note tells the approver which one was taken
        first = _spelt(select, owners[0])
        col.set("table", exp.to_identifier(first))
        return f"{name} -> {first}.{name} (it is in {', '.join(_spelt(select, o) for o in owners)})"
    if owners or name.lower() in aliases or any(_has(t, name) for t in everywhere.values()):
        return None  # resolves here (maybe through a join made above), or in an enclosing query
    in_scope = list(dict.fromkeys(c.name for t in scope.values() for c in t.columns))
    real = _nearest(name, in_scope) or _prefixed(name, in_scope)
    if real:
        col.set("this", exp.to_identifier(real))
        return f"{name} -> {real}"
    return _join_home(select, col, scope, tables)


def compared_with(col: exp.Column, table: str) -> bool:
    """The column is compared with the same column of ``table`` (a join condition)."""
    parent = col.parent
    if not isinstance(parent, exp.EQ):
        return False
    other = parent.expression if parent.this is col else parent.this
    return (isinstance(other, exp.Column) and other.name.lower() == col.name.lower()
            and other.table.lower() == table.lower())


def _join_home(select: exp.Select, col: exp.Column, scope: dict[str, Table], tables: list[Table]) -> str | None:
    """The one table outside the query that has the column and is one foreign key away from it,
    joined along that key, and the column read from it ("depot" is in drivers, trips and vehicles;
    only vehicles is joined to fault_events by a key)."""
    name = col.name
    homes = [t for t in tables if _has(t, name) and t not in scope.values()]
    paths = [(home, path) for home in homes if (path := _join_path(scope, home)) is not None]
    if len(paths) != 1:
        return None
    joined, (alias, have, own_col, their_col) = paths[0]
    alias = have.name if alias == have.name.lower() else alias
    for other in select.find_all(exp.Column):  # qualify what the join would make ambiguous
        if not other.table and other is not col and other.find_ancestor(exp.Select) is select:
            found = [a for a, t in scope.items() if _has(t, other.name)]
            if len(found) == 1 and _has(joined, other.name):
                other.set("table", exp.to_identifier(found[0]))
    new = joined.name
    select.join(exp.Table(this=exp.to_identifier(new)), on=exp.EQ(
        this=exp.column(own_col, table=alias), expression=exp.column(their_col, table=new)), copy=False)
    col.set("table", exp.to_identifier(new))
    scope[new.lower()] = joined  # the next column of that table reads it from the join made here
    return f"{name}: joined {new} on {alias}.{own_col} = {new}.{their_col}"
