"""Rows behind aggregates: when an approved query counts, sums or averages, fetch a bounded
sample of the rows it aggregated, for its top groups, so the reasoner and the reviewer can see
what a number is made of ("VH-1012: 6 faults" next to the six fault rows).

The sample queries are derived from the approved one: the same FROM, joins and WHERE, plus
one equality per GROUP BY key, without the aggregation. They go through the same guard and
read-only connection as every query.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from hil.connectors.base import Connector

log = logging.getLogger(__name__)

TOP_GROUPS = 3
ROWS_PER_GROUP = 5


def aggregates(tree: object) -> bool:
    return isinstance(tree, exp.Select) and (tree.args.get("group") is not None or any(
        isinstance(e.unalias(), exp.AggFunc) for e in tree.expressions))


def sample_queries(sql: str, dialect: str, columns: list[str], rows: list[list[Any]],
                   top: int = TOP_GROUPS, per_group: int = ROWS_PER_GROUP) -> list[tuple[dict[str, Any], str]]:
    """(group key, query) pairs that fetch the rows behind the first ``top`` result rows; empty
    when the query does not aggregate or is too complex to take apart safely."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return []
    if not isinstance(tree, exp.Select) or not aggregates(tree) or tree.find(exp.Subquery) is not None:
        return []
    base: exp.Select = tree.copy()
    group = base.args.get("group")
    keys = list(group.expressions) if group is not None else []
    for arg in ("group", "having", "order", "limit", "offset", "distinct"):
        base.set(arg, None)
    base.set("expressions", [exp.Star()])
    if not keys:  # a single aggregate over the filtered rows: show some of them
        return [({}, base.limit(per_group).sql(dialect=dialect))]
    # each group key must be an output column, to know its value in the result rows
    selected = {e.unalias().sql(dialect=dialect): i for i, e in enumerate(tree.expressions)}
    aliases = {e.alias.lower(): i for i, e in enumerate(tree.expressions) if e.alias}
    positions = []
    for key in keys:
        pos = selected.get(key.sql(dialect=dialect))
        if pos is None and isinstance(key, exp.Column):
            pos = aliases.get(key.name.lower())
            key = tree.expressions[pos].unalias() if pos is not None else key
        if pos is None or pos >= len(columns):
            return []
        positions.append((key, pos))
    out = []
    for row in rows[:top]:
        where: list[exp.Expression] = []
        label: dict[str, Any] = {}
        for key, pos in positions:
            value = row[pos]
            label[columns[pos]] = value
            where.append(exp.Is(this=key.copy(), expression=exp.Null()) if value is None
                         else exp.EQ(this=key.copy(), expression=_literal(value)))
        query: exp.Select = base.copy()
        for condition in where:
            query = query.where(condition, copy=False)
        out.append((label, query.limit(per_group).sql(dialect=dialect)))
    return out


def _literal(value: Any) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def rows_behind(conn: Connector, sql: str, columns: list[str], rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Run the sample queries; a sample that fails is reported, never fatal."""
    out = []
    for label, query in sample_queries(sql, conn.dialect, columns, rows):
        try:
            result = conn.execute_read(query, limit=ROWS_PER_GROUP).to_dict()
            out.append({"group": label, "sql": query, "columns": result["columns"], "rows": result["rows"]})
        except Exception as err:  # noqa: BLE001 - evidence is extra; the approved result stands
            log.info("rows behind group %s could not be fetched: %s", label, err)
            out.append({"group": label, "sql": query, "error": str(getattr(err, "message", err))})
    return out
