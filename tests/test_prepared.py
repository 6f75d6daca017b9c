"""Prepared statements run on SQLite's driver and answer exactly as SQLAlchemy does, on both engines."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa

from hil.store import Store
from hil.store.prepared import Prepared

meta = sa.MetaData()
things = sa.Table("prepared_things", meta,
                  sa.Column("id", sa.String(36), primary_key=True),
                  sa.Column("n", sa.Integer, nullable=False),
                  sa.Column("x", sa.Float, nullable=True),
                  sa.Column("flag", sa.Boolean, nullable=False),
                  sa.Column("doc", sa.JSON, nullable=True),
                  sa.Column("kind", sa.String(16), nullable=False))

INSERT = Prepared(things.insert())
BY_ID = Prepared(sa.select(things).where(things.c.id == sa.bindparam("id")))
OF_KIND = Prepared(sa.select(things.c.id, things.c.doc).where(things.c.kind == "a").order_by(things.c.n))  # a fixed value
BUMP = Prepared(things.update().where(things.c.id == sa.bindparam("key")).values(n=things.c.n + 1)
                .returning(things.c.n, things.c.doc))
FLIP = Prepared(things.update().where(things.c.flag.is_(True)).values(flag=False))
IN_LIST = Prepared(sa.select(things.c.id).where(things.c.kind.in_(sa.bindparam("kinds", expanding=True)))
                   .order_by(things.c.id))

ROWS: list[dict[str, Any]] = [
    {"id": "one", "n": 1, "x": 1.5, "flag": True, "doc": {"a": [1, "é"], "b": None}, "kind": "a"},
    {"id": "two", "n": 2, "x": None, "flag": False, "doc": None, "kind": "b"},
    {"id": "three", "n": 3, "x": -2.0, "flag": True, "doc": [1, 2], "kind": "a"},
]


@pytest.fixture
def table(store: Store) -> Store:
    meta.create_all(store.engine)
    with store.write() as conn:
        for row in ROWS:
            INSERT.on(conn, row)
    return store


def test_rows_read_back_with_their_types(table: Store) -> None:
    with table.read() as conn:
        got = BY_ID.on(conn, {"id": "one"}).one()
        missing = BY_ID.on(conn, {"id": "nope"}).first()
        same = conn.execute(BY_ID.stmt, {"id": "one"}).one()
    assert (got.id, got.n, got.x, got.flag, got.doc, got.kind) == ("one", 1, 1.5, True, {"a": [1, "é"], "b": None}, "a")
    assert tuple(got) == tuple(same)  # as SQLAlchemy reads it
    assert missing is None


def test_values_written_into_the_statement_are_bound(table: Store) -> None:
    with table.read() as conn:
        rows = OF_KIND.on(conn).all()
    assert [(r.id, r.doc) for r in rows] == [("one", {"a": [1, "é"], "b": None}), ("three", [1, 2])]


def test_update_returning_and_rowcount(table: Store) -> None:
    with table.write() as conn:
        assert BUMP.on(conn, {"key": "two"}).one() == (3, None)
        assert BUMP.on(conn, {"key": "nope"}).first() is None
        assert FLIP.on(conn).rowcount == 2
    with table.read() as conn:
        assert [BY_ID.on(conn, {"id": i}).one().flag for i in ("one", "two", "three")] == [False, False, False]
        assert BY_ID.on(conn, {"id": "two"}).one().n == 3


def test_expanding_lists_go_through_sqlalchemy(table: Store) -> None:
    assert not IN_LIST.direct
    with table.read() as conn:
        assert [r.id for r in IN_LIST.on(conn, {"kinds": ["a"]}).all()] == ["one", "three"]


def test_a_missing_parameter_is_an_error_not_a_null(table: Store) -> None:
    with table.read() as conn, pytest.raises((sa.exc.StatementError, sqlite3.ProgrammingError)) as err:
        BY_ID.on(conn, {})
    assert "id" in str(err.value)
