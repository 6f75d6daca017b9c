"""SQLite: mode=ro URI plus an authorizer that denies ATTACH, writes and pragmas that change state."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from hil.connectors.base import Column, Connector, Explained, Table, file_stamp
from hil.errors import ConnectionFailed, QueryFailed
from hil.workflows import SqlConnection

# Pragmas that only describe the schema; the introspection needs them, and they change nothing.
_READ_PRAGMAS = {"table_info", "table_xinfo", "table_list", "foreign_key_list", "index_list", "index_info"}
# Read without a value (``PRAGMA schema_version``) it is the schema's change counter; with one it
# would set it, which the authorizer denies (arg2 holds the value).
_COUNTER_PRAGMAS = {"schema_version"}
_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}


def _authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None) -> int:
    if action in _ALLOWED:
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in {"load_extension", "readfile", "writefile"}:
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _READ_PRAGMAS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _COUNTER_PRAGMAS and arg2 is None:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


class SQLiteConnector(Connector):
    dialect = "sqlite"

    def __init__(self, cfg: SqlConnection, timeout_s: float = 30.0):
        super().__init__(cfg, timeout_s)
        path = Path(cfg.path or "")
        if not path.is_file():
            raise ConnectionFailed(f"connection {cfg.name!r}: SQLite file not found: {path}",
                                   subject=f"connection {cfg.name!r}", details={"cause": "file_not_found"})
        try:
            self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as err:
            raise ConnectionFailed(f"connection {cfg.name!r}: cannot open {path}: {err}",
                                   subject=f"connection {cfg.name!r}", details={"cause": "cannot_open"}) from None
        self.conn.set_authorizer(_authorizer)
        self._lock = threading.Lock()
        self.path = path

    def fingerprint(self) -> str:
        """The schema's change counter (every CREATE, ALTER or DROP bumps it), plus the file's and
        its write-ahead log's size and time, so that row counts and sample values follow written rows."""
        with self._lock:
            try:
                version = self.conn.execute("PRAGMA schema_version").fetchone()[0]
            except sqlite3.Error as err:
                raise QueryFailed(str(err)) from None
        return f"{version}:{file_stamp(self.path, self.path.with_name(self.path.name + '-wal'))}"

    def tables(self) -> list[Table]:
        with self._lock:
            names = [r[0] for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name")]
            info = {n: self.conn.execute(f'PRAGMA table_info("{n}")').fetchall() for n in names}
            fks = {n: self.conn.execute(f'PRAGMA foreign_key_list("{n}")').fetchall() for n in names}
        out = []
        for n in names:
            # foreign_key_list rows: id, seq, table, from, to, ...; "to" is NULL for the primary key
            refs = {r[3]: f"{r[2]}({r[4] or self._primary_key(info.get(r[2], []))})" for r in fks[n]}
            cols = [Column(r[1], r[2] or "TEXT", references=refs.get(r[1]), primary_key=bool(r[5])) for r in info[n]]
            with self._lock:
                count = self.conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]
            for c in cols:
                if "CHAR" in c.type.upper() or "TEXT" in c.type.upper():
                    c.samples = self._samples(n, c.name)
            out.append(Table(n, cols, int(count)))
        return out

    def create_statements(self) -> list[tuple[str, str]]:
        with self._lock:
            rows = self.conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL "
                                     "AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
        return [(str(name), str(sql).strip() + ";") for name, sql in rows]

    @staticmethod
    def _primary_key(table_info: list[tuple[Any, ...]]) -> str:
        return next((r[1] for r in table_info if r[5]), "rowid")  # column 5 of table_info: pk position

    def _execute(self, sql: str, limit: int) -> tuple[list[str], list[tuple[Any, ...]], bool]:
        deadline = time.monotonic() + self.timeout_s
        with self._lock:
            self.conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
            try:
                cur = self.conn.execute(sql)
                rows = cur.fetchmany(limit + 1)
                columns = [d[0] for d in cur.description or []]
            except sqlite3.OperationalError as err:
                if "interrupted" in str(err):
                    late = time.monotonic() > deadline
                    raise QueryFailed(f"the query ran longer than {self.timeout_s:g} s and was stopped" if late
                                      else "the query was interrupted") from None
                raise QueryFailed(str(err)) from None
            except sqlite3.Error as err:
                raise QueryFailed(str(err)) from None
            finally:
                self.conn.set_progress_handler(None, 0)
        return columns, rows[:limit], len(rows) > limit

    def _explain(self, sql: str) -> Explained:
        """EXPLAIN QUERY PLAN, indented by its tree. SQLite's plan carries no row estimate, so the
        rows are counted (read-only, within the query timeout)."""
        _, rows, _ = self._execute(f"EXPLAIN QUERY PLAN {sql}", 1000)
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, _unused, detail in rows:
            depth[int(node)] = depth.get(int(parent), -1) + 1
            lines.append("  " * depth[int(node)] + str(detail))
        try:
            counted = self._execute(f"SELECT count(*) FROM ({sql}) AS dry_run", 1)[1]
            estimated: int | None = int(counted[0][0])
        except QueryFailed:
            estimated = None
        return Explained("\n".join(lines), estimated, "count" if estimated is not None else "none")

    def interrupt(self) -> None:
        self.conn.interrupt()

    def close(self) -> None:
        self.conn.close()
