"""Hot statements, compiled once for SQLite's own driver.

On SQLite, executing an already-compiled SQLAlchemy statement still costs about 80 µs of Python
(execution context, result metadata, type processors) around a 5–10 µs query; a run's park and
resume execute some 25 of them. :class:`Prepared` keeps the SQLAlchemy statement (the one
PostgreSQL runs, and the one that defines the SQL) and, for SQLite, its text and the few type
conversions its parameters and columns need (JSON, booleans), and runs it on the driver cursor
inside the caller's transaction. Results answer the same calls as SQLAlchemy's (``first``,
``one``, ``all``, ``scalar``, ``rowcount``) with rows whose fields are read by name."""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from hil.store.db import compact_json

_SQLITE = sqlite.dialect(paramstyle="named")
Convert = Callable[[Any], Any]


def _encoder(t: sa.types.TypeEngine[Any]) -> Convert | None:
    if isinstance(t, sa.JSON):
        return compact_json
    if isinstance(t, sa.Boolean):
        return lambda v: None if v is None else int(bool(v))
    return None


def _decoder(t: sa.types.TypeEngine[Any]) -> Convert | None:
    if isinstance(t, sa.JSON):
        return lambda v: None if v is None else json.loads(v)
    if isinstance(t, sa.Boolean):
        return lambda v: None if v is None else bool(v)
    return None


class _Rows:
    """The rows of one execution, answering like a SQLAlchemy result."""

    def __init__(self, rows: list[Any], rowcount: int):
        self._rows, self.rowcount = rows, rowcount

    def all(self) -> list[Any]:
        return self._rows

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise sa.exc.NoResultFound("no row") if not self._rows else sa.exc.MultipleResultsFound("rows")
        return self._rows[0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None


class Prepared:
    """A statement with its SQLite text, built once; ``on(conn, params)`` runs it in ``conn``'s
    transaction. Statements with expanding parameters (``IN`` lists) go through SQLAlchemy."""

    def __init__(self, stmt: Any):
        self.stmt = stmt
        compiled = stmt.compile(dialect=_SQLITE)
        self.direct = not any(b.expanding for b in compiled.binds.values())
        self.sql = str(compiled)
        # values written into the statement itself (``status == "running"``) are parameters too
        self._fixed = {name: b.value for name, b in compiled.binds.items() if not b.required and name.isidentifier()}
        self._encode = {name: f for name, b in compiled.binds.items() if (f := _encoder(b.type)) is not None}
        columns = list(getattr(stmt, "exported_columns", ()) or ())
        self._decode = [(i, f) for i, c in enumerate(columns) if (f := _decoder(c.type)) is not None]
        self._row: Any = namedtuple("Row", [c.key for c in columns], rename=True) if columns else None  # type: ignore[misc]

    def on(self, conn: sa.Connection, params: Mapping[str, Any] | None = None) -> Any:
        params = params or {}
        if not self.direct or conn.dialect.name != "sqlite":
            return conn.execute(self.stmt, dict(params))
        params = {**self._fixed, **params}
        if self._encode:
            params = {k: (self._encode[k](v) if k in self._encode else v) for k, v in params.items()}
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cur.execute(self.sql, params)
            raw = cur.fetchall() if self._row is not None else []
            rows = []
            for r in raw:
                if self._decode:
                    r = list(r)
                    for i, f in self._decode:
                        r[i] = f(r[i])
                rows.append(self._row._make(r) if self._row is not None else r)
            return _Rows(rows, cur.rowcount)
        finally:
            cur.close()
