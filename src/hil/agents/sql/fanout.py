"""A join that only passes a key on, and multiplies every count by it.

Small models reach a table through a sibling that shares its key::

    FROM vehicles v JOIN trips t ON v.vehicle_id = t.vehicle_id
    JOIN fault_events f ON t.vehicle_id = f.vehicle_id

``trips`` gives nothing but ``vehicle_id``, which ``vehicles`` already has; since a vehicle has
many trips, each fault is counted once per trip (a vehicle with 20 faults and 250 trips shows
5,000). The repair joins the next table to the key's source directly and drops the bridge.

It applies only where the harm is certain: an aggregate that counts or adds rows (COUNT, SUM,
AVG, not DISTINCT, MIN or MAX), an inner join whose table is read only through the one key
column of its ON clause and is used to join another table on that same column, and a key column
that is not the bridge's whole primary key (a unique key multiplies nothing). A table joined to
filter (``students JOIN has_pet``) with nothing joined through it is left alone.

Under a DISTINCT count the bridge multiplies nothing, but it still keeps only the rows it has a
match for (vehicles that made a trip) and makes the database join every trip to every fault: it
is dropped too when the question does not name the bridge's table (a question about "students
with pets" asks for the ``has_pet`` match). Left in an approved query, it is also copied into
the queries that follow it as an example.
"""

from __future__ import annotations

import re

from sqlglot import exp

from hil.connectors.base import Table

_MULTIPLIED = (exp.Count, exp.Sum, exp.Avg)


def _counts_rows(select: exp.Select) -> bool:
    for agg in select.find_all(*_MULTIPLIED):
        if agg.find_ancestor(exp.Select) is not select:
            continue
        if isinstance(agg.this, exp.Distinct):
            continue
        return True
    return False


def _key_pair(on: exp.Expression | None, alias: str) -> tuple[exp.Column, exp.Column] | None:
    """(the bridge's column, the other side) of an ON clause that is one equality of columns."""
    if not isinstance(on, exp.EQ):
        return None
    left, right = on.this, on.expression
    if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
        return None
    if left.table.lower() == alias and right.table and right.table.lower() != alias:
        return left, right
    if right.table.lower() == alias and left.table and left.table.lower() != alias:
        return right, left
    return None


def _uniquely_keyed(table: Table, column: str) -> bool:
    keys = [c.name.lower() for c in table.columns if c.primary_key]
    return keys == [column.lower()]


def _counts_distinct(select: exp.Select) -> bool:
    return any(isinstance(agg.this, exp.Distinct) for agg in select.find_all(*_MULTIPLIED)
               if agg.find_ancestor(exp.Select) is select)


def _named(table: str, question: str) -> bool:
    """The question names the table: a word of its name, plural or not ("trips": "trip")."""
    words = {w.rstrip("s") for w in re.findall(r"[a-z0-9]+", question.lower())}
    return any(w.rstrip("s") in words for w in table.lower().split("_") if len(w) > 2)


def drop_bridges(tree: exp.Expr, by_name: dict[str, Table], dialect: str, question: str = "") -> list[str]:
    """Drops every bridge join in ``tree`` (changed in place); a note per dropped join. With the
    ``question``, also under a DISTINCT count, for a bridge whose table it does not name."""
    notes: list[str] = []
    for select in list(tree.find_all(exp.Select)):
        counts = _counts_rows(select)
        if not counts and not (question and _counts_distinct(select)):
            continue
        for join in list(select.args.get("joins") or []):
            if not counts and _named(join.this.name, question):
                continue
            note = _drop_bridge(select, join, by_name, dialect, counts)
            if note:
                notes.append(note)
    return notes


def _drop_bridge(select: exp.Select, join: exp.Join, by_name: dict[str, Table], dialect: str,
                 counts: bool) -> str | None:
    table = join.this
    if (not isinstance(table, exp.Table) or table.name.lower() not in by_name or join.side
            or join.kind.upper() not in ("", "INNER") or join.args.get("using")):
        return None
    alias = (table.alias or table.name).lower()
    pair = _key_pair(join.args.get("on"), alias)
    if pair is None:
        return None
    key, source = pair
    schema = by_name[table.name.lower()]
    if _uniquely_keyed(schema, key.name):
        return None
    own = {id(c) for c in join.find_all(exp.Column)}
    uses = [c for c in select.find_all(exp.Column) if id(c) not in own and c.find_ancestor(exp.Select) is select
            and c.table.lower() == alias]
    if not uses or any(c.name.lower() != key.name.lower() for c in uses):
        return None  # the bridge gives something of its own, or nothing is joined through it
    if not all(_in_later_join_on(select, join, c) for c in uses):
        return None
    names = {c.name.lower() for c in schema.columns}
    if any(not c.table and c.name.lower() in names for c in select.find_all(exp.Column)
           if c.find_ancestor(exp.Select) is select):
        return None  # an unqualified column might be the bridge's
    for c in uses:
        c.replace(source.copy())
    join.pop()
    spelt = table.alias or table.name
    return (f"dropped the join of {table.name}{'' if spelt == table.name else ' ' + spelt}: it only passed "
            f"{key.name} on, which {source.sql(dialect=dialect)} already gives, and would have "
            + ("counted each row once per matching row of " if counts else
               "joined each row to every matching row of ") + table.name)


def _in_later_join_on(select: exp.Select, bridge: exp.Join, column: exp.Column) -> bool:
    joins = list(select.args.get("joins") or [])
    later = joins[joins.index(bridge) + 1:]
    return any(column.find_ancestor(exp.Join) is j for j in later)
