"""Rows behind aggregates: an approved aggregate also brings a bounded sample of the rows of its
top groups, as an event and into the reasoner's brief."""

from __future__ import annotations

from pathlib import Path

from hil.agents.sql.evidence import ROWS_PER_GROUP, TOP_GROUPS, sample_queries
from hil.events import EventType
from hil.store import Store
from tests.conftest import Script
from tests.helpers import approve_all, setup_run


def test_sample_queries_keep_the_filters_and_pin_each_group() -> None:
    sql = ("SELECT f.vehicle_id, count(*) AS faults FROM fault_events f JOIN dtc_codes d ON d.code = f.code "
           "WHERE d.system = 'cooling' GROUP BY f.vehicle_id HAVING count(*) > 1 ORDER BY faults DESC LIMIT 5")
    queries = sample_queries(sql, "duckdb", ["vehicle_id", "faults"], [["VH-1", 6], ["VH-2", 5], ["VH-3", 4], ["VH-4", 2]])
    assert [label for label, _ in queries] == [{"vehicle_id": "VH-1"}, {"vehicle_id": "VH-2"}, {"vehicle_id": "VH-3"}]
    first = queries[0][1]
    assert "d.system = 'cooling'" in first and "f.vehicle_id = 'VH-1'" in first
    assert "GROUP BY" not in first and "HAVING" not in first and first.endswith(f"LIMIT {ROWS_PER_GROUP}")
    # grouped by an alias, with a NULL group
    by_alias = sample_queries("SELECT region AS r, sum(a) FROM t GROUP BY r", "sqlite", ["r", "s"], [[None, 1]])
    assert by_alias == [({"r": None}, "SELECT * FROM t WHERE region IS NULL LIMIT 5")]
    # an aggregate without groups shows some of the rows it counted
    assert sample_queries("SELECT count(*) FROM t WHERE x = 1", "sqlite", ["n"], [[3]]) == [
        ({}, "SELECT * FROM t WHERE x = 1 LIMIT 5")]
    # a CTE stays with the query that uses it
    assert sample_queries("WITH c AS (SELECT 1 AS a) SELECT a, count(*) FROM c GROUP BY a", "sqlite", ["a", "n"],
                          [[1, 1]]) == [({"a": 1}, "WITH c AS (SELECT 1 AS a) SELECT * FROM c WHERE a = 1 LIMIT 5")]
    # nothing to take apart: plain selects, subqueries, and group keys that are not in the output
    assert sample_queries("SELECT a FROM t", "sqlite", ["a"], [[1]]) == []
    assert sample_queries("SELECT a, count(*) FROM t WHERE a IN (SELECT b FROM u) GROUP BY a", "sqlite", ["a", "n"],
                          [[1, 1]]) == []
    assert sample_queries("SELECT count(*) FROM t GROUP BY a", "sqlite", ["n"], [[1]]) == []


def test_the_run_shows_the_rows_behind_the_counts(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace)
    assert approve_all(service, worker, run_id) == "succeeded"
    events = service.events(run_id)
    [behind] = [e.payload for e in events if e.type == EventType.SQL_ROWS_BEHIND_AGGREGATE]
    executed = next(e.payload for e in events if e.type == EventType.SQL_EXECUTED)
    top = [r[0] for r in executed["sample_rows"][:TOP_GROUPS]]
    assert [g["group"]["vehicle_id"] for g in behind["groups"]] == top
    for group, (vehicle, faults) in zip(behind["groups"], executed["sample_rows"], strict=False):
        assert 0 < len(group["rows"]) <= min(ROWS_PER_GROUP, faults)
        vid = group["columns"].index("vehicle_id")
        system = group["columns"].index("system")
        assert {r[vid] for r in group["rows"]} == {vehicle} and {r[system] for r in group["rows"]} == {"cooling"}
    brief = service.view(run_id).state.steps["reasoner"].output["brief"]  # type: ignore[index]
    assert f"SQL rows behind vehicle_id = {top[0]}" in brief
