"""The connector interface, shared result type and the factory."""

from __future__ import annotations

import datetime as dt
import decimal
import threading
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hil.connectors.guard import check_read_only
from hil.errors import QueryFailed
from hil.pii import looks_personal
from hil.workflows import SqlConnection


@dataclass
class Column:
    name: str
    type: str
    samples: list[str] = field(default_factory=list)
    references: str | None = None  # "table(column)" of a foreign key
    comment: str | None = None
    primary_key: bool = False


@dataclass
class Table:
    name: str
    columns: list[Column]
    row_count: int | None = None
    comment: str | None = None


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    elapsed_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "rows": self.rows, "truncated": self.truncated,
                "row_count": len(self.rows), "elapsed_ms": round(self.elapsed_ms, 2)}


@dataclass
class Explained:
    """A read's plan as the engine explains it, without running it, and how many rows it expects.
    ``estimate`` says where the number comes from: ``planner`` (the engine's own estimate) or
    ``count`` (counted read-only, for an engine whose plan has no estimate)."""

    plan: str
    estimated_rows: int | None
    estimate: str
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan, "estimated_rows": self.estimated_rows, "estimate": self.estimate,
                "elapsed_ms": round(self.elapsed_ms, 2)}


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def file_stamp(*files: Path) -> str:
    """Size and modification time of a database file and its write-ahead log: they change when
    rows are written, which a schema signature alone does not show."""
    parts = []
    for f in files:
        try:
            st = f.stat()
        except OSError:  # no log file: nothing to stamp
            parts.append("-")
            continue
        parts.append(f"{st.st_size}.{st.st_mtime_ns}")
    return "/".join(parts)


def render_schema(tables: list[Table]) -> str:
    """CREATE TABLE statements, with sample values of low-cardinality text columns as comments."""
    out = []
    for t in tables:
        cols = []
        for i, c in enumerate(t.columns):
            ref = (" PRIMARY KEY" if c.primary_key else "") + (f" REFERENCES {c.references}" if c.references else "")
            comma = "," if i < len(t.columns) - 1 else ""
            notes = ([_one_line(c.comment)] if c.comment else []) + (
                [f"values: {', '.join(repr(s) for s in c.samples)}"] if c.samples else [])
            note = f"  -- {'; '.join(notes)}" if notes else ""
            cols.append(f"  {c.name} {c.type}{ref}{comma}{note}")
        about = ([_one_line(t.comment)] if t.comment else []) + (
            [f"{t.row_count} rows"] if t.row_count is not None else [])
        rows = f"  -- {'; '.join(about)}" if about else ""
        out.append(f"CREATE TABLE {t.name} ({rows}\n" + "\n".join(cols) + "\n);")
    return "\n".join(out)


def render_plain(tables: list[Table]) -> str:
    """CREATE TABLE statements with names, types and keys only: no comments, samples or row counts."""
    out = []
    for t in tables:
        cols = [f"  {c.name} {c.type}" + (" PRIMARY KEY" if c.primary_key else "")
                + (f" REFERENCES {c.references}" if c.references else "") for c in t.columns]
        out.append(f"CREATE TABLE {t.name} (\n" + ",\n".join(cols) + "\n);")
    return "\n\n".join(out)


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class Connector(ABC):
    dialect: str
    SAMPLE_DISTINCT_MAX = 12

    def __init__(self, cfg: SqlConnection, timeout_s: float = 30.0):
        self.cfg = cfg
        self.timeout_s = timeout_s

    @abstractmethod
    def tables(self) -> list[Table]: ...

    @abstractmethod
    def fingerprint(self) -> str:
        """A cheap signature (a few ms, one query) of what :meth:`tables` describes: it changes when
        the schema changes, so whatever is cached from ``tables()`` can be keyed on it."""

    def create_statements(self) -> list[tuple[str, str]]:
        """(table, its CREATE TABLE statement as the database stores it), in the database's order;
        empty where the engine keeps no such text (the caller renders one from :meth:`tables`)."""
        return []

    @abstractmethod
    def _execute(self, sql: str, limit: int) -> tuple[list[str], list[tuple[Any, ...]], bool]: ...

    def alive(self) -> bool:
        """Whether the link still works, checked before an open connection is used again: engines
        on a server override it; a local file's connection does not go away."""
        return True

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def interrupt(self) -> None:  # noqa: B027 - engines that can stop a running query override it
        """Stop the statement running on this connection, from another thread."""

    def execute_read(self, sql: str, limit: int = 200, cancel: threading.Event | None = None) -> QueryResult:
        """Run one read-only statement: classified by the guard, then run in the engine's
        read-only mode with a row limit and a timeout. Setting ``cancel`` stops it."""
        checked = check_read_only(sql, self.dialect)
        start = time.perf_counter()
        finished = threading.Event()
        if cancel is not None:
            threading.Thread(target=self._interrupt_on, args=(cancel, finished), daemon=True).start()
        try:
            columns, rows, truncated = self._execute(checked, limit)
        except QueryFailed:
            if cancel is not None and cancel.is_set():
                raise QueryFailed("the query was cancelled") from None
            raise
        finally:
            finished.set()
        elapsed = (time.perf_counter() - start) * 1000
        return QueryResult(columns, [[jsonable(v) for v in r] for r in rows], truncated, elapsed)

    def explain(self, sql: str) -> Explained:
        """The engine's plan for one read-only statement and its estimated row count. The
        statement passes the same guard as :meth:`execute_read`; only its EXPLAIN runs, in the
        engine's read-only mode."""
        checked = check_read_only(sql, self.dialect)
        start = time.perf_counter()
        explained = self._explain(checked)
        explained.elapsed_ms = (time.perf_counter() - start) * 1000
        return explained

    @abstractmethod
    def _explain(self, sql: str) -> Explained: ...

    def _interrupt_on(self, cancel: threading.Event, finished: threading.Event) -> None:
        while not finished.is_set():
            if cancel.wait(0.05):
                if not finished.is_set():
                    self.interrupt()
                return

    def schema_text(self) -> str:
        return render_schema(self.tables())

    def validate(self) -> dict[str, Any]:
        """Prove the connection works for reading: a trivial query, then the tables it can see."""
        start = time.perf_counter()
        self.execute_read("SELECT 1 AS ok", limit=1)
        tables = self.tables()
        return {"engine": self.cfg.engine, "tables": len(tables), "columns": sum(len(t.columns) for t in tables),
                "elapsed_ms": round((time.perf_counter() - start) * 1000, 1)}

    def _samples(self, table: str, column: str) -> list[str]:
        try:
            _, rows, _ = self._execute(
                f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL LIMIT '
                f"{self.SAMPLE_DISTINCT_MAX + 1}", self.SAMPLE_DISTINCT_MAX + 1)
        except Exception:  # noqa: BLE001 - samples are a hint, never a failure
            return []
        if len(rows) > self.SAMPLE_DISTINCT_MAX or any(len(str(r[0])) > 40 for r in rows):
            return []
        if any(looks_personal(column, str(r[0])) for r in rows):
            return []  # personal data is never a schema hint in a prompt
        return sorted(str(r[0]) for r in rows)
