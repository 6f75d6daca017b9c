"""Postgres: read-only transactions with statement_timeout; errors name their cause."""

from __future__ import annotations

import threading
from typing import Any

import psycopg

from hil.connectors.base import Column, Connector, Table
from hil.errors import ConnectionFailed, QueryFailed
from hil.workflows import SqlConnection


def describe_connect_error(err: psycopg.OperationalError) -> str:
    text = str(err).strip()
    low = text.lower()
    if "password authentication failed" in low or "authentication failed" in low:
        return "authentication failed"
    if "does not exist" in low and "database" in low:
        return "database missing"
    if "permission denied" in low:
        return "permission denied"
    if "connection refused" in low or "could not connect" in low or "timeout" in low or "no such file" in low:
        return "host unreachable"
    return text.splitlines()[0] if text else "connection failed"


class PostgresConnector(Connector):
    dialect = "postgres"

    def __init__(self, cfg: SqlConnection, timeout_s: float = 30.0):
        super().__init__(cfg, timeout_s)
        try:
            self.conn = psycopg.connect(cfg.dsn or "", connect_timeout=5, autocommit=False)
        except psycopg.OperationalError as err:
            raise ConnectionFailed(f"connection {cfg.name!r}: {describe_connect_error(err)}") from None
        self.conn.read_only = True
        self._lock = threading.Lock()

    def tables(self) -> list[Table]:
        with self._lock:
            rows = self.conn.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position").fetchall()
            self.conn.rollback()
        by_table: dict[str, list[Column]] = {}
        for t, c, ty in rows:
            by_table.setdefault(t, []).append(Column(c, ty))
        out = []
        for name, cols in by_table.items():
            for c in cols:
                if c.type in ("text", "character varying"):
                    c.samples = self._samples(name, c.name)
            out.append(Table(name, cols))
        return out

    def _execute(self, sql: str, limit: int) -> tuple[list[str], list[tuple[Any, ...]], bool]:
        with self._lock:
            try:
                with self.conn.cursor() as cur:
                    cur.execute(f"SET LOCAL statement_timeout = {int(self.timeout_s * 1000)}")
                    cur.execute(sql.encode())
                    rows = cur.fetchmany(limit + 1)
                    columns = [d.name for d in cur.description or []]
            except psycopg.errors.QueryCanceled:
                raise QueryFailed(f"the query ran longer than {self.timeout_s:g} s and was stopped") from None
            except psycopg.Error as err:
                raise QueryFailed(str(err).strip().splitlines()[0]) from None
            finally:
                self.conn.rollback()
        return columns, rows[:limit], len(rows) > limit

    def close(self) -> None:
        self.conn.close()
