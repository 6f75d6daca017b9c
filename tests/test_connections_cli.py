"""`hil connections` and `hil sql` as a user meets them: saved connections with secrets kept
out of sight, and ad-hoc queries through the agent's own guard."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import duckdb

from hil.store import open_store
from tests.cli_helpers import assert_clean_error, hil
from tests.pg import PostgresServer


def test_sql_on_a_duckdb_database_refuses_file_readers(tmp_path: Path) -> None:
    db = tmp_path / "fleet.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE vehicles (vehicle_id TEXT, depot TEXT); "
                "INSERT INTO vehicles VALUES ('VH-1', 'North'), ('VH-2', 'North'), ('VH-3', 'South')")
    con.close()
    assert hil("connections", "add", "fleet", "--engine", "duckdb", "--path", str(db)).returncode == 0
    assert_clean_error(hil("sql", "fleet", "SELECT * FROM read_csv('/etc/passwd')"), "read_csv", "not allowed")
    assert_clean_error(hil("sql", "fleet", "DROP TABLE vehicles"), "read-only")
    done = hil("sql", "fleet", "SELECT depot, count(*) AS n FROM vehicles GROUP BY depot ORDER BY n DESC", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["columns"] == ["depot", "n"] and data["rows"] == [["North", 2], ["South", 1]]
    assert data["truncated"] is False
    limited = json.loads(hil("sql", "fleet", "SELECT * FROM vehicles", "--limit", "2", "--json").stdout)
    assert limited["row_count"] == 2 and limited["truncated"] is True


def test_connections_lifecycle_and_errors(tmp_path: Path) -> None:
    db = tmp_path / "shop.sqlite"
    sqlite3.connect(db).executescript("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL);")
    assert hil("connections", "add", "shop", "--engine", "sqlite", "--path", str(db)).returncode == 0
    assert_clean_error(hil("connections", "add", "shop", "--engine", "sqlite", "--path", str(db)), "already exists")
    tested = hil("connections", "test", "shop")
    assert tested.returncode == 0 and "1 tables, 2 columns" in tested.stdout
    listed = json.loads(hil("connections", "list", "--json").stdout)
    assert listed == [{"name": "shop", "engine": "sqlite", "location": str(db)}]
    assert hil("connections", "remove", "shop").returncode == 0
    assert_clean_error(hil("sql", "shop", "SELECT 1"), "no connection named 'shop'")
    assert_clean_error(hil("connections", "add", "x", "--engine", "oracle", "--path", "a.db"), "engine")
    assert_clean_error(hil("connections", "add", "x", "--engine", "sqlite", "--path", str(tmp_path / "none.db")),
                       "file not found")


def test_a_postgres_password_is_stored_encrypted_and_never_shown(postgres: PostgresServer, hil_home: Path) -> None:
    dsn = postgres.create_database("warehouse")
    assert hil("connections", "add", "wh", "--engine", "postgres", "--dsn", dsn).returncode == 0
    listed = hil("connections", "list", "--json").stdout
    assert ":hil@" not in listed and "***" in listed
    raw = open_store().engine.connect().exec_driver_sql("SELECT dsn_encrypted FROM connections").scalar_one()
    assert "hil@" not in raw and dsn not in raw
    assert hil("connections", "test", "wh").returncode == 0
    assert json.loads(hil("sql", "wh", "SELECT 40 + 2 AS answer", "--json").stdout)["rows"] == [[42]]
    (hil_home / "secret.key").write_bytes(b"z" * 44)  # a different (invalid) key cannot read it
    assert_clean_error(hil("connections", "test", "wh"), "secret")
