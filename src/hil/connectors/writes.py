"""Writes: only on a connection that allows them, only after a human approved the exact
statement and its estimated impact, once, inside a transaction.

The impact is measured with the statement's own target and WHERE, as a read-only count
(``UPDATE t SET ... WHERE w`` -> ``SELECT count(*) FROM t WHERE w``), so the reviewer sees
"would change 3 rows of vehicles" before anything changes.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from hil.connectors.base import Connector
from hil.connectors.guard import check_write
from hil.errors import QueryFailed, QueryRefused
from hil.workflows import SqlConnection


def _target(tree: exp.Expr) -> exp.Table | None:
    if isinstance(tree, exp.Drop):
        return tree.find(exp.Table)
    target = tree.this
    if isinstance(target, exp.Schema):  # INSERT INTO t (a, b), CREATE TABLE t (...)
        target = target.this
    return target if isinstance(target, exp.Table) else None


def estimate_impact(conn: Connector, sql: str) -> dict[str, Any]:
    """What the write would do: its verb, target table and the number of rows it would touch
    (None for schema changes, or when the count cannot be derived)."""
    text, verb = check_write(sql, conn.dialect)
    tree = sqlglot.parse_one(text, read=conn.dialect)
    table = _target(tree)
    name = table.sql(dialect=conn.dialect) if table is not None else None
    count_sql: str | None = None
    rows: int | None = None
    if isinstance(tree, (exp.Update, exp.Delete)) and table is not None:
        where = tree.args.get("where")
        count_sql = f"SELECT count(*) FROM {name}" + (f" {where.sql(dialect=conn.dialect)}" if where else "")
    elif isinstance(tree, exp.Insert):
        source = tree.expression
        if isinstance(source, exp.Values):
            rows = len(source.expressions)
        elif isinstance(source, exp.Query):
            count_sql = f"SELECT count(*) FROM ({source.sql(dialect=conn.dialect)}) AS rows_to_insert"
    elif isinstance(tree, exp.Drop) and table is not None and str(tree.args.get("kind", "")).upper() == "TABLE":
        count_sql = f"SELECT count(*) FROM {name}"
    if count_sql is not None:
        try:
            rows = int(conn.execute_read(count_sql, limit=1).rows[0][0])
        except (QueryFailed, QueryRefused, IndexError, TypeError, ValueError):
            rows = None
    if verb in ("CREATE", "ALTER"):
        summary = f"{verb} changes the schema of {name or 'the database'}"
    elif verb == "DROP":
        summary = f"DROP removes {name}" + (f" and its {rows} rows" if rows is not None else "")
    else:
        action = {"INSERT": "add", "UPDATE": "change", "DELETE": "delete"}[verb]
        summary = f"{verb} would {action} {rows if rows is not None else 'an unknown number of'} rows " \
                  f"{'to' if verb == 'INSERT' else 'of'} {name}"
    return {"verb": verb, "table": name, "rows": rows, "count_sql": count_sql, "summary": summary}


def execute_write(cfg: SqlConnection, sql: str, timeout_s: float = 30.0) -> dict[str, Any]:
    """Run one approved write in a transaction; returns rows affected and time taken. Callers
    make it run once (the engine wraps it in an idempotency key)."""
    if cfg.read_only:
        raise QueryRefused(f"connection {cfg.name!r} is read-only",
                           hint="set read_only: false on the connection in the workflow to allow approved writes")
    dialect = {"duckdb": "duckdb", "sqlite": "sqlite", "postgres": "postgres"}[cfg.kind]
    text, verb = check_write(sql, dialect)
    start = time.perf_counter()
    if cfg.engine == "sqlite":
        rows = _sqlite_write(Path(cfg.path or ""), text, timeout_s)
    elif cfg.engine == "duckdb":
        rows = _duckdb_write(Path(cfg.path or ""), text)
    else:
        rows = _postgres_write(cfg.dsn or "", text, timeout_s)
    return {"verb": verb, "rows_affected": rows, "elapsed_ms": round((time.perf_counter() - start) * 1000, 2)}


def _sqlite_authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None) -> int:
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH, sqlite3.SQLITE_PRAGMA):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in {"load_extension", "readfile", "writefile"}:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _sqlite_write(path: Path, sql: str, timeout_s: float) -> int:
    if not path.is_file():
        raise QueryFailed(f"SQLite file not found: {path}")
    con = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
    try:
        con.set_authorizer(_sqlite_authorizer)
        con.execute("BEGIN IMMEDIATE")
        try:
            rows = con.execute(sql).rowcount
            con.execute("COMMIT")
        except sqlite3.Error as err:
            con.execute("ROLLBACK")
            raise QueryFailed(str(err)) from None
        return max(rows, 0)
    finally:
        con.close()


def _duckdb_write(path: Path, sql: str) -> int:
    import duckdb

    if not path.is_file():
        raise QueryFailed(f"DuckDB file not found: {path}")
    try:
        con = duckdb.connect(str(path), config={"enable_external_access": False,
                                                "autoload_known_extensions": False,
                                                "autoinstall_known_extensions": False})
    except duckdb.Error as err:
        raise QueryFailed(f"cannot open {path} for writing: {str(err).splitlines()[0]}") from None
    try:
        con.execute("SET lock_configuration = true")
        con.begin()
        try:
            result = con.execute(sql).fetchall()
            con.commit()
        except duckdb.Error as err:
            con.rollback()
            raise QueryFailed(str(err).splitlines()[0]) from None
        # DML returns one row with the count; DDL returns nothing
        return int(result[0][0]) if result and result[0] and isinstance(result[0][0], int) else 0
    finally:
        con.close()


def _postgres_write(dsn: str, sql: str, timeout_s: float) -> int:
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=5, autocommit=False) as con, con.transaction(), con.cursor() as cur:
            cur.execute(f"SET LOCAL statement_timeout = {int(timeout_s * 1000)}")
            cur.execute(sql.encode())
            return max(cur.rowcount, 0)
    except psycopg.Error as err:
        raise QueryFailed(str(err).strip().splitlines()[0]) from None
