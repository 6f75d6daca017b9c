"""The plain prompt first: on a database the agent knows only by its schema, with reads unattended,
the database's own CREATE TABLEs and the question draft first; that draft is taken only when it
passes every check untouched and returns rows, else the full agent drafts as before."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from hil.agents.sql.drafting import plain_system
from hil.agents.sql.knowledge import plain_schema
from hil.agents.sql.question_fit import ungrouped_per_group
from hil.agents.sql.result_check import thing_answered_with_a_number
from hil.connectors import connect
from hil.connectors.base import Column, Table, render_plain
from hil.events import EventType
from hil.services.runs import RunService
from hil.store import Store
from hil.store.example_repo import ExampleRepo
from hil.workflows import SqlConnection
from tests.conftest import Script
from tests.helpers import setup_run

TOP3 = "SELECT vehicle_id FROM vehicles ORDER BY vehicle_id LIMIT 3"
NONE = "SELECT vehicle_id FROM vehicles WHERE vehicle_id = 'VH-none'"
QUESTION = "List the first three vehicles by id"


@pytest.fixture(autouse=True)
def three_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_SQL_CANDIDATES", "3")


def _run(store: Store, workspace: Path, script: Script, answers: list[str], **overrides: object
         ) -> tuple[RunService, str]:
    """A run whose scripted model answers the SQL calls in order (the last answer repeats)."""
    calls: list[str] = []

    def sql(prompt: str) -> dict[str, str]:
        calls.append(prompt)
        return {"sql": answers[min(len(calls) - 1, len(answers) - 1)]}

    script.responses["sql"] = sql
    service, worker, run_id = setup_run(store, workspace, QUESTION, approval__plan=False,
                                        **{"approval__sql_read": False, **overrides})
    worker.run_once(run_id)
    return service, run_id


def _events(service: RunService, run_id: str, type: str) -> list[dict[str, object]]:
    return [e.payload for e in service.events(run_id) if e.type == type]


def test_a_clean_plain_draft_is_taken_with_one_model_call(store: Store, workspace: Path, script: Script) -> None:
    service, run_id = _run(store, workspace, script, [TOP3])
    assert service.get(run_id).status == "succeeded"
    (prompt,) = script.prompts("sql")
    assert prompt.startswith(plain_system("duckdb"))
    assert "CREATE TABLE vehicles" in prompt and f"-- {QUESTION}" in prompt
    assert "values:" not in prompt and "LIMIT N" not in prompt  # no samples, no rows rule: the plain form
    (chosen,) = _events(service, run_id, EventType.SQL_CANDIDATES)
    assert chosen["chosen"] == "plain" and chosen["candidates"][0]["result_rows"] == 3  # type: ignore[index]
    assert _events(service, run_id, EventType.SQL_EXECUTED)[0]["sql"] == TOP3
    assert not _events(service, run_id, EventType.STEP_RETRIED)


@pytest.mark.parametrize(("plain", "why"), [
    (NONE, "the query returned no rows"),
    ("SELECT avg(model_year) FROM vehicles WHERE vehicle_id = 'VH-none'", "the query returned no rows"),  # NULL
    ("SELECT Vehicle_Idd FROM vehicles ORDER BY 1 LIMIT 3", "needs repair"),  # repairable, so not untouched
    ("SELECT colour FROM vehicles", "colour"),  # a column the schema does not have
    ("SELECT * FROM nowhere", "nowhere"),
])
def test_a_plain_draft_that_needs_anything_hands_over_to_the_full_agent(
        store: Store, workspace: Path, script: Script, plain: str, why: str) -> None:
    service, run_id = _run(store, workspace, script, [plain, TOP3])
    (passed_over,) = _events(service, run_id, EventType.STEP_RETRIED)[:1]
    assert passed_over["reason"] == "plain_not_taken" and passed_over["source"] == "plain"
    assert why in str(passed_over["error"])
    plain_prompt, full_prompt, *_ = script.prompts("sql")
    assert plain_prompt.startswith(plain_system("duckdb")) and not full_prompt.startswith(plain_system("duckdb"))
    assert "LIMIT N" in full_prompt  # the agent's own prompt, rules and all
    chosen = _events(service, run_id, EventType.SQL_CANDIDATES)[-1]
    assert chosen["chosen"] != "plain" and service.get(run_id).status == "succeeded"
    assert _events(service, run_id, EventType.SQL_EXECUTED)[0]["sql"] == TOP3


def test_a_plain_draft_answering_which_thing_with_a_number_is_not_taken(
        store: Store, workspace: Path, script: Script) -> None:
    calls: list[str] = []
    newest = "SELECT vehicle_id FROM vehicles ORDER BY model_year DESC, vehicle_id LIMIT 1"

    def sql(prompt: str) -> dict[str, str]:
        calls.append(prompt)
        return {"sql": "SELECT max(model_year) FROM vehicles" if len(calls) == 1 else newest}

    script.responses["sql"] = sql
    service, worker, run_id = setup_run(store, workspace, "Which is the newest vehicle?", approval__plan=False,
                                        approval__sql_read=False)
    worker.run_once(run_id)
    passed_over = _events(service, run_id, EventType.STEP_RETRIED)[0]
    assert passed_over["reason"] == "plain_not_taken"
    assert "asks which vehicle, but the query returned only numbers" in str(passed_over["error"])
    assert _events(service, run_id, EventType.SQL_EXECUTED)[0]["sql"] == newest


@pytest.mark.parametrize(("question", "rows", "flagged"), [
    ("what is the smallest city in arkansas", [[3]], True),
    ("Which is the longest river?", [[1200.5]], True),
    ("what is the smallest city in arkansas", [["little rock"]], False),  # the thing itself
    ("what is the smallest city in arkansas", [], False),  # nothing to judge
    ("what is the length of the longest river", [[1200]], False),  # asks for the length OF it
    ("What is the youngest student's age?", [[18]], False),  # the thing's attribute
    ("What is the oldest student age?", [[18]], False),  # a column of the table follows the noun
    ("Which students have the most pets?", [[3]], False),  # 'pets' is no table
    ("How many rivers are there?", [[5]], False),
])
def test_a_question_for_the_most_something_thing_wants_the_thing(question: str, rows: list[list[object]],
                                                                  flagged: bool) -> None:
    tables = [Table("city", [Column("population", "int")]), Table("river", [Column("length", "int")]),
              Table("student", [Column("age", "int")])]
    assert (thing_answered_with_a_number(question, ["x"], rows, tables) is not None) is flagged


@pytest.mark.parametrize(("question", "sql", "flagged"), [
    ("For each product name, show its average price.", "SELECT avg(price) FROM products", True),
    ("What is the average price per depot?", "SELECT max(price), min(price) FROM products", True),
    ("For each product name, show its average price.", "SELECT name, avg(price) FROM products GROUP BY name", False),
    ("What is the average price of all products?", "SELECT avg(price) FROM products", False),  # no group asked for
    ("What are the minimum and maximum price for every product?", "SELECT min(price), max(price) FROM products",
     False),  # "every" often means all of them together
    ("List each product's name.", "SELECT name FROM products", False),  # nothing aggregated
    ("Names of each product priced above average", "SELECT name FROM products WHERE price > "
     "(SELECT avg(price) FROM products)", False),  # the aggregate is in a subquery
])
def test_a_question_per_group_wants_a_group_by(question: str, sql: str, flagged: bool) -> None:
    assert (ungrouped_per_group(question, sql, "sqlite") is not None) is flagged


@pytest.mark.parametrize("setup", ["example", "instructions", "approved reads", "turned off", "one candidate"])
def test_the_plain_prompt_is_not_tried_when_the_agent_knows_more_or_a_human_approves(
        store: Store, workspace: Path, script: Script, monkeypatch: pytest.MonkeyPatch, setup: str) -> None:
    overrides: dict[str, object] = {}
    if setup == "example":
        ExampleRepo(store, "default").add("fleet", "List the first vehicles", TOP3, "import")
    elif setup == "instructions":
        overrides["instructions"] = "A vehicle's id is its fleet number."
    elif setup == "approved reads":
        overrides["approval__sql_read"] = True
    elif setup == "turned off":
        monkeypatch.setenv("HIL_SQL_PLAIN_FIRST", "0")
    else:
        monkeypatch.setenv("HIL_SQL_CANDIDATES", "1")
    service, run_id = _run(store, workspace, script, [TOP3], **overrides)
    assert not any(p.startswith(plain_system("duckdb")) for p in script.prompts("sql"))
    assert all(c["chosen"] != "plain" for c in _events(service, run_id, EventType.SQL_CANDIDATES))


def test_the_plain_schema_is_the_databases_own_text_in_its_order(tmp_path: Path) -> None:
    db = tmp_path / "shop.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE zeta (id INTEGER PRIMARY KEY,   name TEXT)")  # spacing kept as written
    con.execute("CREATE TABLE alpha (id INTEGER, zeta_id INTEGER REFERENCES zeta(id))")
    con.close()
    conn = connect(SqlConnection(name="shop", engine="sqlite", path=str(db)))
    try:
        tables = conn.tables()
        assert plain_schema(conn, tables) == ("CREATE TABLE zeta (id INTEGER PRIMARY KEY,   name TEXT);\n\n"
                                              "CREATE TABLE alpha (id INTEGER, zeta_id INTEGER REFERENCES zeta(id));")
        assert plain_schema(conn, [t for t in tables if t.name == "alpha"]).startswith("CREATE TABLE alpha")
    finally:
        conn.close()
    ddb = tmp_path / "shop.duckdb"
    with duckdb.connect(str(ddb)) as d:
        d.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, label VARCHAR)")  # DuckDB quotes a keyword
    conn = connect(SqlConnection(name="shop2", engine="duckdb", path=str(ddb)))
    try:
        assert plain_schema(conn, conn.tables()) == 'CREATE TABLE items(id INTEGER PRIMARY KEY, "label" VARCHAR);'
    finally:
        conn.close()


def test_without_stored_text_the_plain_schema_is_rendered_from_the_tables() -> None:
    tables = [Table("trips", [Column("id", "integer", primary_key=True),
                              Column("vehicle", "text", references="vehicles(id)", samples=["VH-1"])], 12,
                    "every trip")]
    assert render_plain(tables) == ("CREATE TABLE trips (\n  id integer PRIMARY KEY,\n"
                                    "  vehicle text REFERENCES vehicles(id)\n);")
