"""Drafted SQL is checked against the real schema before a human sees it, with hints that say
where a missing column really is."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hil.agents.sql.agent import introspect
from hil.agents.sql.schema_check import runtime_hint, schema_problems
from hil.connectors import connect
from hil.errors import QueryFailed
from hil.events import EventType
from hil.store import Store
from hil.workflows import SqlConnection
from tests.conftest import Script
from tests.helpers import approve_all, setup_run

COOLING = ("SELECT f.vehicle_id, count(*) AS n FROM fault_events f JOIN dtc_codes d ON d.code = f.code "
           "WHERE d.system = 'cooling' AND f.occurred_at >= CURRENT_DATE - INTERVAL 90 DAY "
           "GROUP BY ALL HAVING n > 1 ORDER BY n DESC LIMIT 5")


@pytest.fixture
def fleet_tables(fleet_db: Path) -> list:  # type: ignore[type-arg]
    return introspect(SqlConnection(name="fleet", engine="duckdb", path=str(fleet_db)))


def test_a_valid_query_has_no_problems(fleet_tables: list) -> None:  # type: ignore[type-arg]
    assert schema_problems(COOLING, "duckdb", fleet_tables) == []
    cte = ("WITH x AS (SELECT f.vehicle_id, d.severity FROM fault_events f JOIN dtc_codes d ON d.code = f.code) "
           "SELECT vehicle_id, count(*) AS c FROM x WHERE severity = 'critical' GROUP BY vehicle_id ORDER BY c")
    assert schema_problems(cte, "duckdb", fleet_tables) == []


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT f.vehicle_id FROM fault_events f WHERE f.system = 'cooling'",
     "column 'system' is not in fault_events; it is in dtc_codes "
     "(JOIN dtc_codes ON fault_events.code = dtc_codes.code); fault_events has fault_id, vehicle_id, code, occurred_at, "
     "odometer_km, cleared"),
    ("SELECT DISTINCT v.system FROM fault_events v JOIN dtc_codes d ON d.code = v.code",
     "v.system: fault_events has no column 'system'; it is in dtc_codes, so write d.system"),
    ("SELECT vehicle_id FROM fault_events WHERE system = 'cooling'",
     "column 'system' is not in fault_events; it is in dtc_codes "
     "(JOIN dtc_codes ON fault_events.code = dtc_codes.code)"),
    ("SELECT count(*) FROM fault_event", "table 'fault_event' does not exist; did you mean fault_events?"),
    ("SELECT severty FROM dtc_codes", "no table has a column 'severty'; did you mean dtc_codes.severity?"),
])
def test_problems_name_where_the_thing_really_is(fleet_tables: list, sql: str, expected: str) -> None:  # type: ignore[type-arg]
    assert schema_problems(sql, "duckdb", fleet_tables) == [expected]


def test_engine_errors_about_columns_get_the_same_hint(tmp_path: Path) -> None:
    path = tmp_path / "shop.sqlite"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE customers (id INTEGER PRIMARY KEY, region TEXT);"
                     "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), "
                     "total REAL);")
    db.close()
    cfg = SqlConnection(name="shop", engine="sqlite", path=str(path))
    sql = "SELECT o.id FROM orders o WHERE o.region = 'north'"
    conn = connect(cfg)
    with pytest.raises(QueryFailed) as err:
        conn.execute_read(sql)
    conn.close()
    hint = runtime_hint(err.value.message, sql, "sqlite", introspect(cfg))
    assert hint == ("column 'region' is not in orders; it is in customers "
                    "(JOIN customers ON orders.customer_id = customers.id)")


def test_the_reviewer_only_sees_sql_that_fits_the_schema(sqlite_store: Store, workspace: Path,
                                                         script: Script) -> None:
    def sql(prompt: str) -> dict[str, str]:
        if "it is in dtc_codes" in prompt:
            return {"sql": COOLING}
        return {"sql": "SELECT vehicle_id, count(*) AS n FROM fault_events WHERE system = 'cooling' GROUP BY 1"}

    script.responses["sql"] = sql
    service, worker, run_id = setup_run(sqlite_store, workspace, approval__plan=False)
    worker.run_once(run_id)
    drafts = [e for e in service.events(run_id) if e.type == EventType.SQL_DRAFTED]
    # the join the check names is added without another model call
    assert [d.payload["content"]["sql"] for d in drafts] == [
        "SELECT vehicle_id, COUNT(*) AS n FROM fault_events JOIN dtc_codes ON fault_events.code = dtc_codes.code "
        "WHERE dtc_codes.system = 'cooling' GROUP BY 1"]
    assert len(script.prompts("sql")) == 1
    retried = [e.payload for e in service.events(run_id) if e.type == EventType.STEP_RETRIED]
    assert retried[0]["reason"] == "repaired"
    assert retried[0]["fixes"] == ["system: joined dtc_codes on fault_events.code = dtc_codes.code"]
    assert approve_all(service, worker, run_id) == "succeeded"


def test_an_unrepairable_draft_is_redrafted_with_the_reason(sqlite_store: Store, workspace: Path,
                                                            script: Script) -> None:
    def sql(prompt: str) -> dict[str, str]:
        if "no table has a column 'colour'" in prompt:
            return {"sql": COOLING}
        return {"sql": "SELECT vehicle_id, colour FROM fault_events"}

    script.responses["sql"] = sql
    service, worker, run_id = setup_run(sqlite_store, workspace, "Which vehicles overheat most in the last 90 days?",
                                        approval__plan=False)
    worker.run_once(run_id)
    drafts = [e for e in service.events(run_id) if e.type == EventType.SQL_DRAFTED]
    assert [d.payload["content"]["sql"] for d in drafts] == [COOLING]
    retried = [e.payload for e in service.events(run_id) if e.type == EventType.STEP_RETRIED]
    assert retried[0]["reason"] == "invalid_sql" and "colour" in retried[0]["error"]
    assert approve_all(service, worker, run_id) == "succeeded"


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT f.vehicle_id FROM fault_events AS f JOIN dtc_codes AS d ON f.code = f.code WHERE d.system = 'cooling'",
     "JOIN dtc_codes AS d ON f.code = f.code: the condition does not mention d, so every row is paired with every "
     "row of dtc_codes; join it on a column of d (JOIN dtc_codes ON fault_events.code = dtc_codes.code)"),
    ("SELECT v.vehicle_id FROM vehicles v JOIN fault_events f ON v.vehicle_id = v.vehicle_id",
     "JOIN fault_events AS f ON v.vehicle_id = v.vehicle_id: the condition does not mention f, so every row is "
     "paired with every row of fault_events; join it on a column of f "
     "(JOIN fault_events ON fault_events.vehicle_id = vehicles.vehicle_id)"),
])
def test_a_join_whose_condition_ignores_the_joined_table_is_a_problem(fleet_tables: list, sql: str,  # type: ignore[type-arg]
                                                                       expected: str) -> None:
    assert schema_problems(sql, "duckdb", fleet_tables) == [expected]


@pytest.mark.parametrize("sql", [
    "SELECT f.vehicle_id FROM fault_events f JOIN dtc_codes d ON d.code = f.code",
    "SELECT f.vehicle_id FROM fault_events f JOIN dtc_codes ON dtc_codes.code = f.code",
    "SELECT f.vehicle_id FROM fault_events f JOIN dtc_codes d ON 1 = 1",  # a deliberate cross join
    "SELECT f.vehicle_id FROM fault_events f JOIN dtc_codes d USING (code)",
    "SELECT f.vehicle_id FROM fault_events f CROSS JOIN dtc_codes d",
])
def test_joins_that_name_the_joined_table_or_mean_a_cross_join_pass(fleet_tables: list, sql: str) -> None:  # type: ignore[type-arg]
    assert schema_problems(sql, "duckdb", fleet_tables) == []
