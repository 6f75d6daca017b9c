"""Self-correction: values spelled unlike the stored ones are aligned, an unexpected empty result
and a result of the wrong shape are redrafted once with feedback, and every attempt is an event."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hil.agents.sql.agent import introspect
from hil.agents.sql.result_check import (
    align_literals,
    empty_result_hint,
    expects_rows,
    literal_filters,
    shape_problem,
)
from hil.connectors import connect
from hil.engine.worker import Worker
from hil.events import EventType
from hil.services.runs import RunService
from hil.store import Store
from hil.workflows import SqlConnection, Workflow
from tests.conftest import Script
from tests.helpers import apply_workflow


@pytest.fixture
def geo(tmp_path: Path) -> Path:
    path = tmp_path / "geo.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE state (state_name TEXT, population INT, capital TEXT)")
    db.execute("CREATE TABLE city (city_name TEXT, state_name TEXT, population INT)")
    # 60 states: too many distinct names for the schema's sample values, as in a real database
    db.executemany("INSERT INTO state VALUES (?, ?, ?)",
                   [("texas", 14_000_000, "austin"), ("new mexico", 1_300_000, "santa fe")]
                   + [(f"state {i}", i * 1000, f"capital {i}") for i in range(58)])
    db.executemany("INSERT INTO city VALUES (?, ?, ?)", [("houston", "texas", 1_600_000), ("austin", "texas", 345_000),
                                                         ("albuquerque", "new mexico", 330_000)])
    db.commit()
    db.close()
    return path


def cfg(path: Path) -> SqlConnection:
    return SqlConnection(name="geo", engine="sqlite", path=str(path))


def test_filters_are_traced_to_their_tables(geo: Path) -> None:
    tables = introspect(cfg(geo))
    sql = ("SELECT c.city_name FROM city AS c JOIN state s ON s.state_name = c.state_name "
           "WHERE s.capital = 'Austin' AND c.state_name IN ('Texas', 'Ohio') AND population > 5")
    assert literal_filters(sql, "sqlite", tables) == [("state", "capital", "Austin"), ("city", "state_name", "Texas"),
                                                     ("city", "state_name", "Ohio")]


def test_values_are_aligned_with_the_stored_spelling(geo: Path) -> None:
    conn = connect(cfg(geo))
    tables = introspect(cfg(geo))
    sql, fixes = align_literals(conn, "SELECT population FROM state WHERE state_name = 'New Mexico '", tables)
    assert "'new mexico'" in sql and fixes == ["'New Mexico ' is stored as 'new mexico'"]
    # a value with no case-insensitive twin is left for the engine (and the empty-result check)
    unchanged = "SELECT population FROM state WHERE state_name = 'Atlantis'"
    assert align_literals(conn, unchanged, tables) == (unchanged, [])
    hint = empty_result_hint(conn, "SELECT * FROM city WHERE city_name = 'Houston TX' OR state_name = 'mexico'", tables)
    assert "no value like 'Houston TX' occurs in city.city_name" in hint
    assert "'mexico' does not occur in city.state_name; stored values like it: 'new mexico'" in hint
    conn.close()


def test_question_shapes() -> None:
    assert not expects_rows("Are there any cities in Atlantis?")
    assert expects_rows("What is the biggest city in Texas?")
    assert shape_problem("How many cities are in Texas?", ["city_name"], [["houston"], ["austin"]])
    assert shape_problem("How many cities does each state have?", ["state", "n"], [["a", 1], ["b", 2]]) is None
    assert shape_problem("How many cities are in Texas?", ["n"], [[2]]) is None


def _workflow(path: Path) -> Workflow:
    return Workflow.model_validate({"name": "geo", "connections": [cfg(path).model_dump()], "steps": ["sql"],
                                    "approval": {"plan": False, "sql_read": False}})


def _run(store: Store, path: Path, question: str) -> tuple[RunService, str]:
    service = RunService(store, "default")
    apply_workflow(service.store, _workflow(path))
    run_id = service.create_run("geo", question)
    Worker(store, model="scripted:test").run_once(run_id)
    return service, run_id


def test_an_empty_result_is_redrafted_once_with_the_stored_values(sqlite_store: Store, geo: Path,
                                                                  script: Script) -> None:
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "largest city"}]}
    script.responses["sql"] = lambda prompt: {"sql": "SELECT city_name FROM city WHERE state_name = 'Tex' "
                                                     "ORDER BY population DESC LIMIT 1"
                                              if "returned no rows" not in prompt else
                                              "SELECT city_name FROM city WHERE state_name = 'texas' "
                                              "ORDER BY population DESC LIMIT 1"}
    service, run_id = _run(sqlite_store, geo, "What is the largest city in Tex?")
    assert service.get(run_id).status == "succeeded"
    retried = [e.payload for e in service.events(run_id) if e.type == EventType.STEP_RETRIED]
    assert len(retried) == 1 and "stored values like it: 'texas'" in retried[0]["error"]
    executed = [e.payload for e in service.events(run_id) if e.type == EventType.SQL_EXECUTED]
    assert [p["row_count"] for p in executed] == [0, 1]
    assert "returned no rows" in script.prompts("sql")[1]


def test_a_persistent_empty_result_is_accepted_after_one_redraft(sqlite_store: Store, geo: Path,
                                                                 script: Script) -> None:
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "largest city"}]}
    script.responses["sql"] = lambda prompt: {"sql": "SELECT city_name FROM city WHERE population > 99000000"
                                              + (" " if "returned no rows" in prompt else "")}
    service, run_id = _run(sqlite_store, geo, "Which cities have more than 99 million people?")
    assert service.get(run_id).status == "succeeded"
    drafts = [e for e in service.events(run_id) if e.type == EventType.SQL_DRAFTED]
    assert len(drafts) == 2  # one redraft, then the empty answer stands


def test_a_list_for_a_count_question_is_redrafted(sqlite_store: Store, geo: Path, script: Script) -> None:
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "count cities"}]}
    script.responses["sql"] = lambda prompt: {"sql": "SELECT count(*) AS n FROM city WHERE state_name = 'texas'"
                                              if "single count" in prompt else
                                              "SELECT city_name FROM city WHERE state_name = 'texas'"}
    service, run_id = _run(sqlite_store, geo, "How many cities are in texas?")
    assert service.get(run_id).status == "succeeded"
    retried = [e.payload for e in service.events(run_id) if e.type == EventType.STEP_RETRIED]
    assert "asks for a single count, but the query returned 2 rows" in retried[0]["error"]
    assert service.view(run_id).state.steps["sql"].output["rows"] == [[2]]  # type: ignore[index]


def test_a_draft_with_the_wrong_case_is_fixed_before_approval(sqlite_store: Store, geo: Path, script: Script) -> None:
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "capital"}]}
    script.responses["sql"] = {"sql": "SELECT capital FROM state WHERE state_name = 'Texas'"}
    service, run_id = _run(sqlite_store, geo, "What is the capital of Texas?")
    drafted = next(e.payload for e in service.events(run_id) if e.type == EventType.SQL_DRAFTED)
    assert drafted["content"]["sql"] == "SELECT capital FROM state WHERE state_name = 'texas'"
    assert drafted["adjustments"] == ["'Texas' is stored as 'texas'"]
    assert service.view(run_id).state.steps["sql"].output["rows"] == [["austin"]]  # type: ignore[index]


def test_a_limit_without_order_is_dropped_unless_the_question_asks_for_that_many() -> None:
    from hil.agents.sql.result_check import drop_unordered_limit

    sql, note = drop_unordered_limit("SELECT state_name FROM border_info WHERE border = 'iowa' LIMIT 1", "sqlite",
                                     "which states border iowa")
    assert sql == "SELECT state_name FROM border_info WHERE border = 'iowa'" and note and "arbitrary" in note
    ordered = "SELECT city_name FROM city ORDER BY population DESC LIMIT 1"
    assert drop_unordered_limit(ordered, "sqlite", "biggest city") == (ordered, None)
    asked = "SELECT city_name FROM city LIMIT 10"
    assert drop_unordered_limit(asked, "sqlite", "show me 10 cities") == (asked, None)


def test_stored_values_are_found_and_masked(geo: Path) -> None:
    from hil.agents.sql.knowledge import knowledge

    conn = connect(cfg(geo))
    try:
        _tables, values = knowledge(conn)
    finally:
        conn.close()
    found = {(m.text, m.table, m.column) for m in values.find("Which cities are in New Mexico or in Texas?")}
    assert ("new mexico", "state", "state_name") in found and ("texas", "city", "state_name") in found
    # a word that names a table or column is not taken for a value, even if a column holds it
    assert all(m.text != "cities" for m in values.find("Which cities are in New Mexico?"))
    assert values.mask("how big is new mexico") == "how big is <state_name>"
    assert values.mask("what is the capital of texas") == "what is the capital of <state_name>"
