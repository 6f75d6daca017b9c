"""The read-only promise, attacked: every hostile statement is refused (or fails without effect)
on DuckDB, SQLite and a real PostgreSQL server, with a message that says why.

Layer one is the guard (statement classification); layer two is each engine's own read-only
mode, tested here by sending writes straight to the engine, past the guard."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest

from hil.connectors import Connector, connect
from hil.errors import QueryFailed, QueryRefused
from hil.workflows import SqlConnection
from tests.pg import PostgresServer

HOSTILE = [
    # DML and DDL, plain and disguised
    "DELETE FROM items",
    "delete from items where 1=1",
    "UPDATE items SET name = 'x'",
    "INSERT INTO items VALUES (99, 'evil')",
    "DROP TABLE items",
    "drop /* sneaky */ table items",
    "CREATE TABLE stolen AS SELECT * FROM items",
    "ALTER TABLE items ADD COLUMN pwned INTEGER",
    "TRUNCATE items",
    "TRUNCATE TABLE items",
    "CREATE VIEW v AS SELECT 1",
    "CREATE INDEX i ON items(name)",
    "MERGE INTO items USING items AS s ON items.id = s.id WHEN MATCHED THEN DELETE",
    "REPLACE INTO items VALUES (1, 'x')",
    "WITH gone AS (DELETE FROM items RETURNING *) SELECT * FROM gone",
    "WITH x AS (SELECT 1) UPDATE items SET name = 'x'",
    "WITH x AS (SELECT 1) INSERT INTO items SELECT 5, 'x' FROM x",
    "SELECT 1; DROP TABLE items",
    "SELECT * FROM items; DELETE FROM items",
    "SELECT 1;\n-- harmless\nUPDATE items SET name = 'x'",
    "SELECT * INTO copy_of_items FROM items",
    "-- comment first\nDELETE FROM items",
    "/* block */ InSeRt InTo items VALUES (7, 'x')",
    # transactions and sessions
    "BEGIN; DELETE FROM items; COMMIT",
    "COMMIT",
    "SET ROLE postgres",
    "RESET ROLE",
    "SET search_path = evil",
    "RESET ALL",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    "SET enable_external_access = true",
    # files, extensions, other databases
    "COPY items TO '/tmp/hil-stolen.csv'",
    "COPY items FROM '/etc/passwd'",
    "EXPORT DATABASE '/tmp/hil-export'",
    "ATTACH DATABASE '/tmp/hil-other.db' AS other",
    "ATTACH '/tmp/hil-other.duckdb' AS other",
    "DETACH DATABASE other",
    "PRAGMA writable_schema = ON",
    "PRAGMA journal_mode = DELETE",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SELECT load_extension('/tmp/evil.so')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM read_parquet('/tmp/x.parquet')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_ls_dir('/')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT * FROM dblink('host=evil', 'DROP TABLE items') AS t(x int)",
    "SELECT readfile('/etc/passwd')",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT pg_sleep(3600)",
    "CALL pg_catalog.do_something()",
    "VACUUM",
    "VACUUM items",
    "ANALYZE items",
    "GRANT ALL ON items TO PUBLIC",
    "CHECKPOINT",
    "DO $$ BEGIN DELETE FROM items; END $$",
]


def _make_items_sqlite(path: Path) -> None:
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT); "
                     "INSERT INTO items VALUES (1, 'a'), (2, 'b');")
    db.close()


def _make_items_duckdb(path: Path) -> None:
    db = duckdb.connect(str(path))
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO items VALUES (1, 'a'), (2, 'b')")
    db.close()


@pytest.fixture(scope="module", params=["duckdb", "sqlite", "postgres"])
def engine_conn(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connector]:
    engine = request.param
    if engine == "postgres":
        pg: PostgresServer = request.getfixturevalue("postgres")
        dsn = pg.create_database(f"hostile_{id(request)}")
        with psycopg.connect(dsn, autocommit=True) as db:
            db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT); "
                       "INSERT INTO items VALUES (1, 'a'), (2, 'b')")
        cfg = SqlConnection(name="t", engine="postgres", dsn=dsn)
    else:
        path = tmp_path_factory.mktemp(engine) / f"items.{engine}"
        (_make_items_duckdb if engine == "duckdb" else _make_items_sqlite)(path)
        cfg = SqlConnection(name="t", engine=engine, path=str(path))
    conn = connect(cfg, timeout_s=5)
    yield conn
    conn.close()


def _intact(conn: Connector) -> None:
    result = conn.execute_read("SELECT id, name FROM items ORDER BY id")
    assert result.columns == ["id", "name"] and result.rows == [[1, "a"], [2, "b"]]


def test_the_corpus_is_large_and_distinct() -> None:
    assert len(HOSTILE) >= 40 and len(set(HOSTILE)) == len(HOSTILE)


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_statement_is_refused_with_a_reason(engine_conn: Connector, sql: str) -> None:
    with pytest.raises((QueryRefused, QueryFailed)) as err:
        engine_conn.execute_read(sql)
    assert len(err.value.message) > 10, err.value.message
    _intact(engine_conn)


@pytest.mark.parametrize("sql", ["DELETE FROM items", "UPDATE items SET name = 'x'",
                                 "INSERT INTO items VALUES (3, 'c')", "DROP TABLE items",
                                 "CREATE TABLE t2 (x INTEGER)"])
def test_the_engine_itself_refuses_writes_past_the_guard(engine_conn: Connector, sql: str) -> None:
    with pytest.raises(QueryFailed):
        engine_conn._execute(sql, 10)  # layer two alone: no guard in front
    _intact(engine_conn)
