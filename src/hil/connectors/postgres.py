"""Postgres: read-only transactions with statement_timeout; errors name their cause."""

from __future__ import annotations

import re
import threading
from typing import Any

import psycopg

from hil.connectors.base import Column, Connector, Table
from hil.errors import ConnectionFailed, QueryFailed
from hil.secrets import redact_url as redact_dsn
from hil.workflows import SqlConnection

# (cause, pattern in libpq's message, hint); the first match wins, so order matters.
_CAUSES = [
    ("invalid_dsn", re.compile(r"invalid integer value|invalid connection option|missing \"=\"|invalid uri|"
                               r"invalid sslmode|invalid percent-encoded"),
     "write the DSN as postgresql://user:password@host:port/database"),
    ("authentication_failed", re.compile(r"password authentication failed|authentication failed|no password supplied"),
     "check the user name and password in the DSN"),
    ("database_missing", re.compile(r"database \"[^\"]+\" does not exist"),
     "create the database or fix the database name at the end of the DSN"),
    ("permission_denied", re.compile(r"permission denied|not permitted to log in|no pg_hba.conf entry"),
     "grant the user CONNECT on the database (and SELECT on its tables), or use another user"),
    ("host_unreachable", re.compile(r"connection refused|could not connect|timeout expired|no such file|"
                                    r"could not translate host name|network is unreachable|no route to host"),
     "check the host and port, and that the server is running and accepts TCP connections"),
]


def describe_connect_error(err: psycopg.OperationalError) -> tuple[str, str, str | None]:
    """(cause code, one-line description, hint) for a failed connection attempt."""
    text = str(err).strip()
    low = text.lower()
    for cause, pattern, hint in _CAUSES:
        if pattern.search(low):
            detail = next((line.split("FATAL:", 1)[-1].strip() for line in text.splitlines() if "FATAL" in line),
                          text.splitlines()[0].strip() if text else cause)
            return cause, f"{cause.replace('_', ' ')}: {detail}", hint
    return "connection_failed", text.splitlines()[0] if text else "connection failed", None


class PostgresConnector(Connector):
    dialect = "postgres"

    def __init__(self, cfg: SqlConnection, timeout_s: float = 30.0):
        super().__init__(cfg, timeout_s)
        try:
            self.conn = psycopg.connect(cfg.dsn or "", connect_timeout=5, autocommit=False)
        except psycopg.OperationalError as err:
            cause, message, hint = describe_connect_error(err)
            raise ConnectionFailed(f"connection {cfg.name!r}: {message}", hint=hint,
                                   details={"cause": cause, "dsn": redact_dsn(cfg.dsn or "")}) from None
        except psycopg.ProgrammingError as err:  # a malformed DSN
            raise ConnectionFailed(f"connection {cfg.name!r}: invalid DSN: {err}", hint="use postgresql://user:"
                                   "password@host:port/database", details={"cause": "invalid_dsn"}) from None
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
