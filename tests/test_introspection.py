"""Introspection on every engine: tables and views, column types, foreign keys, row counts,
comments and sample values, and how they reach the prompt."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest

from hil.agents.sql.linking import select_tables
from hil.connectors import connect
from hil.connectors.base import Column, Table, render_schema
from hil.workflows import SqlConnection
from tests.pg import PostgresServer

DDL = [
    "CREATE TABLE depots (depot_id INTEGER PRIMARY KEY, region TEXT)",
    "CREATE TABLE vehicles (vehicle_id TEXT PRIMARY KEY, depot_id INTEGER REFERENCES depots(depot_id), "
    "odometer_km INTEGER)",
    "INSERT INTO depots VALUES (1, 'north'), (2, 'south')",
    "INSERT INTO vehicles VALUES ('VH-1', 1, 100), ('VH-2', 1, 200), ('VH-3', 2, 300)",
    "CREATE VIEW north_vehicles AS SELECT v.vehicle_id FROM vehicles v JOIN depots d USING (depot_id) "
    "WHERE d.region = 'north'",
]
COMMENTS = ["COMMENT ON TABLE vehicles IS 'Buses and vans in service'",
            "COMMENT ON COLUMN vehicles.odometer_km IS 'Distance driven since commissioning'"]


@pytest.fixture(params=["sqlite", "duckdb", "postgres"])
def tables(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, list[Table]]]:
    engine = request.param
    if engine == "postgres":
        pg: PostgresServer = request.getfixturevalue("postgres")
        dsn = pg.create_database(f"intro_{abs(hash(tmp_path)) % 10**8}")
        with psycopg.connect(dsn, autocommit=True) as db:
            for stmt in [*DDL, *COMMENTS, "ANALYZE"]:
                db.execute(stmt)
        cfg = SqlConnection(name="fleet", engine="postgres", dsn=dsn)
    else:
        path = tmp_path / f"fleet.{engine}"
        db = sqlite3.connect(path) if engine == "sqlite" else duckdb.connect(str(path))
        for stmt in DDL + (COMMENTS if engine == "duckdb" else []):
            db.execute(stmt)
        db.commit()
        db.close()
        cfg = SqlConnection(name="fleet", engine=engine, path=str(path))
    conn = connect(cfg)
    try:
        yield engine, conn.tables()
    finally:
        conn.close()


def test_tables_views_keys_counts_and_samples(tables: tuple[str, list[Table]]) -> None:
    engine, found = tables
    by_name = {t.name: t for t in found}
    assert set(by_name) == {"depots", "vehicles", "north_vehicles"}
    vehicles = by_name["vehicles"]
    assert [c.name for c in vehicles.columns] == ["vehicle_id", "depot_id", "odometer_km"]
    assert {c.name: c.references for c in vehicles.columns}["depot_id"] == "depots(depot_id)"
    assert [c.name for c in vehicles.columns if c.primary_key] == ["vehicle_id"]
    assert "vehicle_id TEXT PRIMARY KEY" in render_schema([vehicles]).replace("VARCHAR", "TEXT").replace("text", "TEXT")
    assert vehicles.row_count == 3 and by_name["depots"].row_count == 2
    assert by_name["depots"].columns[1].samples == ["north", "south"]
    if engine != "sqlite":  # SQLite has no comments
        assert vehicles.comment == "Buses and vans in service"
        assert vehicles.columns[2].comment == "Distance driven since commissioning"
        schema = render_schema([vehicles])
        assert "-- Buses and vans in service; 3 rows" in schema
        assert "odometer_km" in schema and "-- Distance driven since commissioning" in schema


def test_comments_help_choose_tables_when_the_schema_is_large() -> None:
    decoys = [Table(f"t{n}", [Column(f"c{k}", "TEXT") for k in range(10)]) for n in range(100)]
    fleet = Table("vh", [Column("odo", "INTEGER", comment="Distance driven in km")], comment="Buses and vans")
    chosen = select_tables("how far have the buses driven", [*decoys, fleet], budget_chars=1500)
    assert chosen[0].name == "vh"  # named only in its comments
