"""DuckDB: read_only connection, external access off, configuration locked."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import duckdb

from hil.connectors.base import Column, Connector, Explained, Table, file_stamp
from hil.errors import ConnectionFailed, QueryFailed
from hil.workflows import SqlConnection

TEXT_TYPES = ("VARCHAR", "TEXT")
# One row over the catalog that ``tables()`` reads: columns, comments, keys and each table's
# estimated size (which follows inserts and deletes).
_FINGERPRINT = """
SELECT md5(coalesce(string_agg(x, '|' ORDER BY x), '')) FROM (
  SELECT concat_ws(':', 'c', table_name, column_index, column_name, data_type, coalesce(comment, '')) AS x
  FROM duckdb_columns() WHERE schema_name = 'main' AND NOT internal
  UNION ALL
  SELECT concat_ws(':', 't', table_name, estimated_size, coalesce(comment, ''))
  FROM duckdb_tables() WHERE schema_name = 'main'
  UNION ALL
  SELECT concat_ws(':', 'v', view_name, coalesce(comment, ''))
  FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal
  UNION ALL
  SELECT concat_ws(':', 'k', table_name, constraint_type, constraint_column_names::VARCHAR,
                   coalesce(referenced_table, ''), coalesce(referenced_column_names::VARCHAR, ''))
  FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY'))"""


_ESTIMATE = re.compile(r"~([\d,]+) rows?", re.IGNORECASE)


# A process has one DuckDB database per file, and its configuration, once locked, cannot be given
# again: a second connect() to an open file fails. So each file is opened once (read-only, external
# access off, configuration locked) and every connector gets a cursor of it (a connection of its
# own to the same database); the file is closed with its last connector.
_files: dict[str, tuple[duckdb.DuckDBPyConnection, int]] = {}
_files_lock = threading.Lock()


def _attach(key: str) -> duckdb.DuckDBPyConnection:
    """A connection of its own to the file ``key`` (its resolved path)."""
    with _files_lock:
        base, users = _files.get(key, (None, 0))
        if base is None:
            base = duckdb.connect(key, read_only=True,
                                  config={"enable_external_access": False, "autoload_known_extensions": False,
                                          "autoinstall_known_extensions": False})
            base.execute("SET lock_configuration = true")
        _files[key] = (base, users + 1)
        return base.cursor()


def _detach(key: str, conn: duckdb.DuckDBPyConnection) -> None:
    conn.close()
    with _files_lock:
        base, users = _files[key]
        if users > 1:
            _files[key] = (base, users - 1)
        else:
            del _files[key]
            base.close()


class DuckDBConnector(Connector):
    dialect = "duckdb"

    def __init__(self, cfg: SqlConnection, timeout_s: float = 30.0):
        super().__init__(cfg, timeout_s)
        path = Path(cfg.path or "")
        if not path.is_file():
            raise ConnectionFailed(f"connection {cfg.name!r}: DuckDB file not found: {path}",
                                   subject=f"connection {cfg.name!r}", details={"cause": "file_not_found"})
        try:
            self._file = str(path.resolve())  # the key it was opened under, closed under the same
            self.conn = _attach(self._file)
        except duckdb.Error as err:
            raise ConnectionFailed(f"connection {cfg.name!r}: cannot open {path}: {err}",
                                   subject=f"connection {cfg.name!r}", details={"cause": "cannot_open"}) from None
        self._lock = threading.Lock()
        self.path = path

    def fingerprint(self) -> str:
        """A hash over the catalog, plus the file's and its log's size and time (an UPDATE changes
        values without changing any size the catalog shows)."""
        with self._lock:
            try:
                row = self.conn.execute(_FINGERPRINT).fetchone()
            except duckdb.Error as err:
                raise QueryFailed(str(err).splitlines()[0]) from None
        return f"{row[0] if row else ''}:{file_stamp(self.path, self.path.with_name(self.path.name + '.wal'))}"

    def tables(self) -> list[Table]:
        with self._lock:
            rows = self.conn.execute(
                "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
                "WHERE schema_name = 'main' AND NOT internal ORDER BY table_name, column_index").fetchall()
            comments = dict(self.conn.execute(
                "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main' UNION ALL "
                "SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal").fetchall())
        by_table: dict[str, list[Column]] = {}
        for t, c, ty, comment in rows:
            by_table.setdefault(t, []).append(Column(c, ty, comment=comment))
        with self._lock:
            fks = self.conn.execute(
                "SELECT table_name, constraint_column_names, referenced_table, referenced_column_names "
                "FROM duckdb_constraints() WHERE constraint_type = 'FOREIGN KEY'").fetchall()
            keys = {(t, c) for t, cols in self.conn.execute(
                "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
                "WHERE constraint_type = 'PRIMARY KEY' AND schema_name = 'main'").fetchall() for c in cols}
        for table, cols in by_table.items():
            for c in cols:
                c.primary_key = (table, c.name) in keys
        for table, columns, ref_table, ref_columns in fks:
            for col, ref_col in zip(columns, ref_columns, strict=False):
                for c in by_table.get(table, []):
                    if c.name == col:
                        c.references = f"{ref_table}({ref_col})"
        out = []
        for name, cols in by_table.items():
            with self._lock:
                count = self.conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()
            for c in cols:
                if c.type.upper() in TEXT_TYPES:
                    c.samples = self._samples(name, c.name)
            out.append(Table(name, cols, int(count[0]) if count else None, comments.get(name)))
        return out

    def create_statements(self) -> list[tuple[str, str]]:
        with self._lock:
            rows = self.conn.execute("SELECT table_name, sql FROM duckdb_tables() WHERE schema_name = 'main' "
                                     "ORDER BY table_name").fetchall()
        return [(str(name), str(sql).strip()) for name, sql in rows]

    def _execute(self, sql: str, limit: int) -> tuple[list[str], list[tuple[Any, ...]], bool]:
        with self._lock:
            timer = threading.Timer(self.timeout_s, self.conn.interrupt)
            timer.start()
            try:
                cur = self.conn.execute(sql)
                rows = cur.fetchmany(limit + 1)
                columns = [d[0] for d in cur.description or []]
            except duckdb.InterruptException:
                raise QueryFailed(f"the query ran longer than {self.timeout_s:g} s and was stopped") from None
            except duckdb.Error as err:
                raise QueryFailed(str(err).splitlines()[0]) from None
            finally:
                timer.cancel()
        return columns, rows[:limit], len(rows) > limit

    def _explain(self, sql: str) -> Explained:
        """EXPLAIN's physical plan; the top operator's "~N rows" is the planner's estimate."""
        _, rows, _ = self._execute(f"EXPLAIN {sql}", 10)
        plan = "\n".join(str(r[1]) for r in rows if len(r) > 1).strip()
        found = _ESTIMATE.search(plan)
        estimated = int(found.group(1).replace(",", "")) if found else None
        return Explained(plan, estimated, "planner" if estimated is not None else "none")

    def interrupt(self) -> None:
        self.conn.interrupt()

    def close(self) -> None:
        _detach(self._file, self.conn)
