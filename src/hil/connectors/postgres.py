"""Postgres: read-only transactions with statement_timeout; errors name their cause."""

from __future__ import annotations

import re
import threading
from typing import Any

import psycopg

from hil.connectors.base import Column, Connector, Explained, Table
from hil.errors import ConnectionFailed, QueryFailed
from hil.secrets import redact_url as redact_dsn
from hil.secrets import scrub
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


_COLUMNS = """
SELECT c.table_name, c.column_name, c.data_type,
       col_description(format('%I.%I', c.table_schema, c.table_name)::regclass, c.ordinal_position::int)
FROM information_schema.columns c
WHERE c.table_schema = 'public' ORDER BY c.table_name, c.ordinal_position"""
_FOREIGN_KEYS = """
SELECT cl.relname, att.attname, fcl.relname, fatt.attname
FROM pg_constraint con
JOIN pg_class cl ON cl.oid = con.conrelid
JOIN pg_namespace n ON n.oid = cl.relnamespace
JOIN pg_class fcl ON fcl.oid = con.confrelid
CROSS JOIN LATERAL unnest(con.conkey, con.confkey) AS k(col, fcol)
JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = k.col
JOIN pg_attribute fatt ON fatt.attrelid = con.confrelid AND fatt.attnum = k.fcol
WHERE con.contype = 'f' AND n.nspname = 'public'"""
_PRIMARY_KEYS = """
SELECT cl.relname, att.attname
FROM pg_constraint con
JOIN pg_class cl ON cl.oid = con.conrelid
JOIN pg_namespace n ON n.oid = cl.relnamespace
JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY(con.conkey)
WHERE con.contype = 'p' AND n.nspname = 'public'"""
_RELATIONS = """
SELECT cl.relname, obj_description(cl.oid, 'pg_class'),
       CASE WHEN cl.relkind IN ('r', 'p', 'm') THEN cl.reltuples::bigint END
FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace
WHERE n.nspname = 'public' AND cl.relkind IN ('r', 'p', 'v', 'm')"""

# One query over the catalog rows that ``tables()`` reads for the public schema: every column with
# its type and whether this user may see it (information_schema shows only those), the keys,
# and the comments. Row estimates are left out: they move with every ANALYZE of a busy table,
# and rebuilding the value index that often would cost more than slightly stale samples.
_FINGERPRINT = """
SELECT md5(coalesce(string_agg(x, '|' ORDER BY x), '')) FROM (
  SELECT format('c:%s:%s:%s:%s:%s:%s', cl.relname, cl.relkind, a.attnum, a.attname,
                format_type(a.atttypid, a.atttypmod),
                has_column_privilege(cl.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES')) AS x
  FROM pg_attribute a JOIN pg_class cl ON cl.oid = a.attrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
  WHERE n.nspname = 'public' AND cl.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT format('k:%s:%s:%s:%s:%s', cl.relname, con.contype, con.conkey, con.confrelid::regclass, con.confkey)
  FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
  WHERE n.nspname = 'public' AND con.contype IN ('p', 'f')
  UNION ALL
  SELECT format('d:%s:%s:%s', cl.relname, d.objsubid, md5(d.description))
  FROM pg_description d JOIN pg_class cl ON cl.oid = d.objoid JOIN pg_namespace n ON n.oid = cl.relnamespace
  WHERE d.classoid = 'pg_class'::regclass AND n.nspname = 'public') s"""


_ESTIMATE = re.compile(r"\brows=(\d+)")


class PostgresConnector(Connector):
    dialect = "postgres"

    def __init__(self, cfg: SqlConnection, timeout_s: float = 30.0):
        super().__init__(cfg, timeout_s)
        try:
            self.conn = psycopg.connect(cfg.dsn or "", connect_timeout=5, autocommit=False)
        except psycopg.OperationalError as err:
            cause, message, hint = describe_connect_error(err)
            raise ConnectionFailed(f"connection {cfg.name!r}: {scrub(message, cfg.dsn)}", hint=hint,
                                   subject=f"connection {cfg.name!r}",
                                   details={"cause": cause, "dsn": redact_dsn(cfg.dsn or "")}) from None
        except psycopg.ProgrammingError as err:  # a malformed DSN
            raise ConnectionFailed(f"connection {cfg.name!r}: invalid DSN: {scrub(str(err), cfg.dsn)}",
                                   subject=f"connection {cfg.name!r}",
                                   hint="use postgresql://user:"
                                   "password@host:port/database", details={"cause": "invalid_dsn"}) from None
        self.conn.read_only = True
        self._lock = threading.Lock()

    def fingerprint(self) -> str:
        with self._lock:
            try:
                row = self.conn.execute(_FINGERPRINT).fetchone()
            except psycopg.Error as err:
                raise QueryFailed(str(err).strip().splitlines()[0]) from None
            finally:
                self._end()
        return str(row[0]) if row else ""

    def alive(self) -> bool:
        """One round trip, as a pool's pre-ping: an idle link may have been dropped while the model
        drafted (idle_session_timeout, a restarted server, a NAT that forgot the connection)."""
        if self.conn.broken or self.conn.closed:
            return False
        with self._lock:
            try:
                self.conn.execute("SELECT 1")
            except psycopg.Error:
                return False
            finally:
                self._end()
        return True

    def _end(self) -> None:
        """End the read's transaction. A lost link has none to end; the error that lost it is the
        one to report (a QueryFailed, so the step redrafts on a new connection)."""
        if not self.conn.broken and not self.conn.closed:
            self.conn.rollback()

    def tables(self) -> list[Table]:
        """Tables and views of the public schema: columns, foreign keys, comments, row counts
        (the planner's estimate when the table was analysed, else an exact count)."""
        with self._lock:
            try:
                rows = self.conn.execute(_COLUMNS).fetchall()
                fks = self.conn.execute(_FOREIGN_KEYS).fetchall()
                keys = {(t, c) for t, c in self.conn.execute(_PRIMARY_KEYS)}
                about = {name: (comment, estimate) for name, comment, estimate in self.conn.execute(_RELATIONS)}
            finally:
                self._end()
        refs = {(t, c): f"{rt}({rc})" for t, c, rt, rc in fks}
        by_table: dict[str, list[Column]] = {}
        for t, c, ty, comment in rows:
            by_table.setdefault(t, []).append(Column(c, ty, references=refs.get((t, c)), comment=comment,
                                                     primary_key=(t, c) in keys))
        out = []
        for name, cols in by_table.items():
            comment, estimate = about.get(name, (None, None))
            # views have no estimate and are not counted: counting one runs it
            count = None if estimate is None else int(estimate) if estimate >= 0 else self._count(name)
            for c in cols:
                if c.type in ("text", "character varying"):
                    c.samples = self._samples(name, c.name)
            out.append(Table(name, cols, count, comment))
        return out

    def _count(self, table: str) -> int | None:
        try:
            _, rows, _ = self._execute(f'SELECT count(*) FROM "{table}"', 1)
        except QueryFailed:
            return None
        return int(rows[0][0])

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
                self._end()
        return columns, rows[:limit], len(rows) > limit

    def _explain(self, sql: str) -> Explained:
        """EXPLAIN (never ANALYZE: nothing runs) in a read-only transaction; the top node's
        ``rows=N`` is the planner's estimate."""
        _, rows, _ = self._execute(f"EXPLAIN {sql}", 1000)
        plan = "\n".join(str(r[0]) for r in rows)
        found = _ESTIMATE.search(plan)
        estimated = int(found.group(1)) if found else None
        return Explained(plan, estimated, "planner" if estimated is not None else "none")

    def interrupt(self) -> None:
        self.conn.cancel_safe()

    def close(self) -> None:
        self.conn.close()
