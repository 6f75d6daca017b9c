"""The agent repairs what the schema makes certain before it spends another model call: spelling
and case of identifiers, a column read from the wrong table of a join, a table nobody joined, and
SQLite's double-quoted text literals."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hil.agents.sql.repair import complete_group_by, repair, string_literals
from hil.agents.sql.schema_check import schema_problems
from hil.connectors.base import Column, Table

ITEMS = Table("Items", [Column("ItemId", "INTEGER", primary_key=True), Column("ItemType", "TEXT"),
                        Column("Price", "REAL")])
ORDERS = Table("Orders", [Column("OrderId", "INTEGER", primary_key=True),
                          Column("ItemId", "INTEGER", references="Items(ItemId)"), Column("placed_on", "TEXT"),
                          Column("city", "TEXT")])
TABLES = [ITEMS, ORDERS]
ROWS = ("CREATE TABLE Items (ItemId INTEGER PRIMARY KEY, ItemType TEXT, Price REAL);"
        "CREATE TABLE Orders (OrderId INTEGER PRIMARY KEY, ItemId INTEGER REFERENCES Items(ItemId), placed_on TEXT, "
        "city TEXT);"
        "INSERT INTO Items VALUES (1, 'pen', 2.5), (2, 'ink', 4.0);"
        "INSERT INTO Orders VALUES (10, 1, '2024-01-02', 'Boston'), (11, 2, '2024-02-03', 'Austin');")


@pytest.fixture
def db(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "shop.sqlite")
    conn.executescript(ROWS)
    return conn


def fixed(sql: str) -> tuple[str, list[str]]:
    out, notes = repair(sql, "sqlite", TABLES)
    assert schema_problems(out, "sqlite", TABLES) == [], out
    return out, notes


def test_identifier_spelling_goes_to_the_nearest_column_in_scope(db: sqlite3.Connection) -> None:
    sql = "SELECT item_type, avg(price) FROM Items GROUP BY item_type"
    assert schema_problems(sql, "sqlite", TABLES)  # the check rejects it ...
    out, notes = fixed(sql)  # ... and the repair makes it run
    assert notes == ["item_type -> ItemType"]  # fixed in SELECT and GROUP BY, said once
    assert sorted(db.execute(out).fetchall()) == [("ink", 4.0), ("pen", 2.5)]


def test_a_misspelt_table_is_respelt() -> None:
    out, notes = fixed("SELECT count(*) FROM order")
    assert "Orders" in out and notes == ["table order -> Orders"]


def test_a_column_read_from_the_wrong_table_of_a_join_moves_to_the_one_that_has_it(db: sqlite3.Connection) -> None:
    out, notes = fixed("SELECT o.ItemType FROM Orders AS o JOIN Items AS i ON o.ItemId = i.ItemId WHERE o.city = 'Boston'")
    assert notes == ["o.ItemType -> i.ItemType"]
    assert db.execute(out).fetchall() == [("pen",)]


def test_a_join_condition_is_not_turned_into_a_column_compared_with_itself() -> None:
    # Items has no OrderId: moving i.OrderId to o would join every order to every item (o.OrderId = o.OrderId)
    sql = "SELECT i.ItemType FROM Orders AS o JOIN Items AS i ON i.OrderId = o.OrderId"
    out, notes = repair(sql, "sqlite", TABLES)
    assert notes == [] and out == sql
    # the model is told instead, and not to write the same column on both sides
    [problem] = schema_problems(out, "sqlite", TABLES)
    assert "join Items on a column it has (ItemId, ItemType, Price)" in problem and "so write" not in problem


def test_a_column_two_joined_tables_have_is_read_from_the_first(db: sqlite3.Connection) -> None:
    sql = "SELECT ItemId, count(*) FROM Items JOIN Orders ON Items.ItemId = Orders.ItemId GROUP BY ItemId"
    with pytest.raises(sqlite3.OperationalError, match="ambiguous"):
        db.execute(sql)
    out, notes = fixed(sql)
    assert notes == ["ItemId -> Items.ItemId (it is in Items, Orders)"]
    assert sorted(db.execute(out).fetchall()) == [(1, 1), (2, 1)]
    # USING makes it one column: nothing to fix
    using = "SELECT ItemId FROM Items JOIN Orders USING (ItemId)"
    assert repair(using, "sqlite", TABLES) == (using, [])


def test_a_column_read_from_a_table_that_lacks_it_joins_the_one_that_has_it(db: sqlite3.Connection) -> None:
    out, notes = fixed("SELECT o.OrderId FROM Orders AS o WHERE o.ItemType = 'ink' AND o.Price > 1")
    assert notes == ["ItemType: joined Items on o.ItemId = Items.ItemId", "o.Price -> Items.Price"]  # joined once
    assert out.count("JOIN") == 1 and db.execute(out).fetchall() == [(11,)]


def test_a_missing_join_is_added_along_the_foreign_key(db: sqlite3.Connection) -> None:
    out, notes = fixed("SELECT OrderId FROM Orders WHERE ItemType = 'ink'")
    assert notes == ["ItemType: joined Items on Orders.ItemId = Items.ItemId"]
    assert db.execute(out).fetchall() == [(11,)]


def test_of_the_tables_that_have_a_column_the_one_a_key_reaches_is_joined(db: sqlite3.Connection) -> None:
    # City is in Orders, which a key reaches from Items, and in Stores, which no key reaches
    stores = Table("Stores", [Column("StoreId", "INTEGER", primary_key=True), Column("city", "TEXT")])
    sql = "SELECT ItemType FROM Items WHERE city = 'Boston'"
    out, notes = repair(sql, "sqlite", [*TABLES, stores])
    assert notes == ["city: joined Orders on Items.ItemId = Orders.ItemId"]
    assert db.execute(out).fetchall() == [("pen",)]
    # two tables a key reaches: nothing is guessed
    shipments = Table("Shipments", [Column("ItemId", "INTEGER", references="Items(ItemId)"), Column("city", "TEXT")])
    assert repair(sql, "sqlite", [*TABLES, shipments]) == (sql, [])


def test_a_column_named_without_its_tables_prefix_gets_it_back() -> None:
    staff = Table("Staff", [Column("staff_id", "INTEGER", primary_key=True), Column("staff_first_name", "TEXT"),
                            Column("staff_last_name", "TEXT")])
    out, notes = repair("SELECT s.first_name FROM Staff AS s WHERE last_name = 'Ada'", "sqlite", [staff])
    assert notes == ["first_name -> staff_first_name", "last_name -> staff_last_name"]
    assert schema_problems(out, "sqlite", [staff]) == []
    # "name" ends two columns: nothing is guessed
    assert repair("SELECT name FROM Staff", "sqlite", [staff]) == ("SELECT name FROM Staff", [])


def test_a_selected_column_neither_grouped_nor_aggregated_is_grouped_on_duckdb(tmp_path: Path) -> None:
    import duckdb

    db = duckdb.connect(str(tmp_path / "f.duckdb"))
    db.execute("CREATE TABLE drivers (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE trips (driver_id INTEGER, km INTEGER);"
               "INSERT INTO drivers VALUES (1, 'Ada'), (2, 'Bo'); INSERT INTO trips VALUES (1, 5), (1, 7), (2, 3)")
    sql = "SELECT d.name FROM drivers AS d JOIN trips AS t ON t.driver_id = d.id GROUP BY d.id ORDER BY sum(t.km) DESC"
    with pytest.raises(duckdb.Error, match="GROUP BY"):
        db.execute(sql)
    out, notes = complete_group_by(sql, "duckdb")
    assert notes == ["grouped by d.name too: it is selected without an aggregate"]
    assert db.execute(out).fetchall() == [("Ada",), ("Bo",)]
    assert complete_group_by(sql, "sqlite") == (sql, [])  # SQLite runs it as it is
    for grouped in ("SELECT d.name, count(*) FROM drivers AS d GROUP BY 1",  # by position
                    "SELECT d.name AS who, count(*) FROM drivers AS d GROUP BY who",  # by alias
                    "SELECT name, count(*) FROM drivers AS d GROUP BY d.name"):  # qualified once
        assert complete_group_by(grouped, "duckdb") == (grouped, [])


def test_nothing_is_guessed_when_the_fix_is_not_certain() -> None:
    sql = "SELECT colour FROM Items"  # nothing like it anywhere
    assert repair(sql, "sqlite", TABLES) == (sql, [])
    ok = "SELECT ItemType FROM Items WHERE Price > (SELECT avg(Price) FROM Items)"
    assert repair(ok, "sqlite", TABLES) == (ok, [])


def test_double_quoted_text_is_a_literal_on_sqlite_unless_it_names_a_column(db: sqlite3.Connection) -> None:
    sql = 'SELECT "OrderId" FROM Orders WHERE city = "Boston"'
    assert schema_problems(sql, "sqlite", TABLES) == []  # not "no column Boston"
    out, notes = string_literals(sql, "sqlite", TABLES)
    assert "'Boston'" in out and '"OrderId"' in out and notes == ['"Boston" read as the text \'Boston\'']
    assert db.execute(out).fetchall() == [(10,)]
    assert string_literals(sql, "postgres", TABLES) == (sql, [])  # only SQLite reads them so


def test_a_join_qualifies_the_columns_it_would_make_ambiguous(db: sqlite3.Connection) -> None:
    out, _ = fixed("SELECT ItemId FROM Orders WHERE ItemType = 'pen'")
    assert "Orders.ItemId" in out and db.execute(out).fetchall() == [(1,)]


def test_the_best_rejected_draft_that_runs_is_kept_rather_than_nothing(tmp_path: Path) -> None:
    from hil.agents.sql.agent import best_candidate
    from hil.connectors import connect
    from hil.workflows import SqlConnection

    path = tmp_path / "shop.sqlite"
    sqlite3.connect(path).executescript(ROWS)
    conn = connect(SqlConnection(name="shop", engine="sqlite", path=str(path)))
    try:
        fails = {"sql": "SELECT colour FROM Items", "problems": 1}
        runs = {"sql": "SELECT ItemType FROM Items", "problems": 2}
        template = {"sql": "SELECT ItemType FROM Items WHERE ItemType = '<item_type>'", "problems": 1,
                    "placeholder": True}
        assert best_candidate(conn, [fails, template, runs]) is runs
        assert best_candidate(conn, [fails, template]) is None
    finally:
        conn.close()


FLEET = ("CREATE TABLE vehicles (vehicle_id TEXT PRIMARY KEY, depot TEXT);"
         "CREATE TABLE trips (trip_id INTEGER PRIMARY KEY, vehicle_id TEXT REFERENCES vehicles(vehicle_id), depot TEXT);"
         "CREATE TABLE faults (fault_id INTEGER PRIMARY KEY, vehicle_id TEXT REFERENCES vehicles(vehicle_id), code TEXT);"
         "INSERT INTO vehicles VALUES ('VH-1', 'North'), ('VH-2', 'South');"
         "INSERT INTO trips VALUES (1, 'VH-1', 'North'), (2, 'VH-1', 'North'), (3, 'VH-1', 'North'), (4, 'VH-2', 'South');"
         "INSERT INTO faults VALUES (1, 'VH-1', 'P0217'), (2, 'VH-1', 'P0118'), (3, 'VH-2', 'P0217');")


def _fleet(tmp_path: Path) -> tuple[sqlite3.Connection, list[Table]]:
    from hil.connectors.sqlite import SQLiteConnector
    from hil.workflows import SqlConnection

    path = tmp_path / "fleet.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(FLEET)
    conn.commit()
    return conn, SQLiteConnector(SqlConnection(name="fleet", engine="sqlite", path=str(path))).tables()


def test_a_join_that_only_passes_a_key_on_is_dropped_so_counts_are_not_multiplied(tmp_path: Path) -> None:
    db, tables = _fleet(tmp_path)
    sql = ("SELECT v.vehicle_id, COUNT(f.code) AS n FROM vehicles AS v JOIN trips AS t ON v.vehicle_id = t.vehicle_id "
           "JOIN faults AS f ON t.vehicle_id = f.vehicle_id GROUP BY v.vehicle_id ORDER BY v.vehicle_id")
    assert db.execute(sql).fetchall() == [("VH-1", 6), ("VH-2", 1)]  # each fault once per trip
    out, notes = repair(sql, "sqlite", tables)
    assert notes == ["dropped the join of trips t: it only passed vehicle_id on, which v.vehicle_id already gives, "
                     "and would have counted each row once per matching row of trips"]
    assert "trips" not in out
    assert db.execute(out).fetchall() == [("VH-1", 2), ("VH-2", 1)]
    assert schema_problems(out, "sqlite", tables) == []


def test_a_join_that_gives_something_or_cannot_multiply_a_count_is_kept(tmp_path: Path) -> None:
    _db, tables = _fleet(tmp_path)
    kept = [
        # a filter: nothing is joined through trips (how many vehicles made a trip, counted per trip)
        "SELECT COUNT(*) FROM vehicles AS v JOIN trips AS t ON t.vehicle_id = v.vehicle_id",
        # trips gives a column of its own
        "SELECT t.depot, COUNT(*) FROM vehicles AS v JOIN trips AS t ON t.vehicle_id = v.vehicle_id "
        "JOIN faults AS f ON f.vehicle_id = t.vehicle_id GROUP BY t.depot",
        # counted once whatever the join repeats
        "SELECT COUNT(DISTINCT f.fault_id) FROM vehicles AS v JOIN trips AS t ON t.vehicle_id = v.vehicle_id "
        "JOIN faults AS f ON f.vehicle_id = t.vehicle_id",
        # no aggregate: rows, not a count
        "SELECT f.code FROM vehicles AS v JOIN trips AS t ON t.vehicle_id = v.vehicle_id "
        "JOIN faults AS f ON f.vehicle_id = t.vehicle_id",
        # an outer join keeps what it keeps
        "SELECT COUNT(*) FROM vehicles AS v LEFT JOIN trips AS t ON t.vehicle_id = v.vehicle_id "
        "JOIN faults AS f ON f.vehicle_id = t.vehicle_id",
        # joined on its own primary key: one row at most, nothing multiplied
        "SELECT COUNT(*) FROM faults AS f JOIN vehicles AS v ON v.vehicle_id = f.vehicle_id "
        "JOIN trips AS t ON t.vehicle_id = v.vehicle_id",
    ]
    for sql in kept:
        assert repair(sql, "sqlite", tables) == (sql, []), sql


def test_under_a_distinct_count_a_bridge_the_question_does_not_name_is_dropped(tmp_path: Path) -> None:
    """It multiplies nothing there, but keeps only the vehicles that made a trip (VH-3 made none) and
    joins every trip to every fault; a question that names trips asks for that match."""
    db, tables = _fleet(tmp_path)
    db.executescript("INSERT INTO vehicles VALUES ('VH-3', 'East'); INSERT INTO faults VALUES (4, 'VH-3', 'P0118');")
    sql = ("SELECT v.vehicle_id, COUNT(DISTINCT f.code) AS n FROM vehicles AS v JOIN trips AS t "
           "ON v.vehicle_id = t.vehicle_id JOIN faults AS f ON t.vehicle_id = f.vehicle_id GROUP BY v.vehicle_id "
           "ORDER BY v.vehicle_id")
    assert db.execute(sql).fetchall() == [("VH-1", 2), ("VH-2", 1)]
    out, notes = repair(sql, "sqlite", tables, "Which vehicles had the most distinct fault codes?")
    assert notes == ["dropped the join of trips t: it only passed vehicle_id on, which v.vehicle_id already gives, "
                     "and would have joined each row to every matching row of trips"]
    assert db.execute(out).fetchall() == [("VH-1", 2), ("VH-2", 1), ("VH-3", 1)]
    assert repair(sql, "sqlite", tables, "How many fault codes did vehicles that made trips have?") == (sql, [])
    assert repair(sql, "sqlite", tables) == (sql, [])  # the question not known: left as it was
