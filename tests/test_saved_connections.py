"""A workflow's connection may name a connection saved with `hil connections add`: it is checked
when the workflow is stored, looked up each time a run starts (its sealed DSN never reaches a
definition, an event or a response), and a run over it is driven to its answer."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hil.server.app import create_app
from hil.services import Store
from hil.services.connections import ConnectionService
from hil.services.workflows import WorkflowService
from hil.workflows import SqlConnection, Workflow
from tests.api_helpers import drive, parse_sse
from tests.cli_helpers import assert_clean_error, hil
from tests.conftest import Script, write_script_file
from tests.pg import PostgresServer


@pytest.fixture
def client(store: Store, script: Script) -> Iterator[TestClient]:
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "answer"}]}
    script.responses["sql"] = {"sql": "SELECT sum(amount) AS total FROM sales"}
    script.responses["answer"] = "Sales total 42."
    with TestClient(create_app(store, workers=1, model="scripted:test")) as c:
        yield c


def _sales(tmp_path: Path) -> Path:
    path = tmp_path / "sales.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE sales (region TEXT, amount INTEGER)")
        db.executemany("INSERT INTO sales VALUES (?, ?)", [("north", 30), ("south", 12)])
    return path


def _workflow(connection: dict[str, Any], approve_sql: bool = False) -> dict[str, Any]:
    return {"name": "sales", "steps": ["sql"], "connections": [connection],
            "approval": {"plan": False, "sql_read": approve_sql}}


def test_a_run_over_a_saved_connection_reaches_its_answer(client: TestClient, store: Store, tmp_path: Path) -> None:
    ConnectionService(store, "default").add(SqlConnection(name="shop", engine="sqlite", path=str(_sales(tmp_path))))
    created = client.post("/api/v1/workflows", json=_workflow({"saved": "shop"}, approve_sql=True))
    assert created.status_code == 201, created.text
    assert created.json()["definition"]["connections"][0] == {
        "name": "shop", "saved": "shop", "engine": None, "path": None, "dsn": None, "read_only": True}
    run = client.post("/api/v1/runs", json={"workflow": "sales", "question": "What are total sales?"}).json()
    done = drive(client, run["id"])  # the SQL waits for a human, who approves it
    assert done["status"] == "succeeded", done["error"]
    assert done["rows"] == [[42]]
    events = parse_sse(client.get(f"/api/v1/runs/{run['id']}/events").text.splitlines())
    sql = next(m["data"] for m in events if m.get("event") == "sql.executed")
    assert sql["payload"]["connection"] == "shop"


def test_a_saved_postgres_dsn_stays_sealed(client: TestClient, store: Store, script: Script,
                                           postgres: PostgresServer) -> None:
    dsn = postgres.create_database(f"sv{int(time.time() * 1000) % 10**9}")
    ConnectionService(store, "default").add(SqlConnection(name="warehouse", engine="postgres", dsn=dsn))
    client.post("/api/v1/workflows", json=_workflow({"name": "wh", "saved": "warehouse"})).raise_for_status()
    script.responses["sql"] = {"sql": "SELECT 40 + 2 AS answer"}
    run = client.post("/api/v1/runs", json={"workflow": "sales", "question": "What is 40 + 2?"}).json()
    done = drive(client, run["id"], decide=False)
    assert done["status"] == "succeeded", done["error"]
    assert done["rows"] == [[42]]
    shown = " ".join([str(done), client.get(f"/api/v1/runs/{run['id']}/events").text,
                      client.get("/api/v1/workflows/sales").text])
    assert dsn not in shown and ":hil@" not in shown


def test_an_unknown_saved_connection_is_refused_where_the_workflow_is_stored(
        client: TestClient, tmp_path: Path) -> None:
    put = client.post("/api/v1/workflows", json=_workflow({"saved": "nope"}))
    assert put.status_code == 422
    assert put.json()["error"]["details"]["errors"] == [{
        "loc": "connections[0].saved",
        "msg": "no saved connection named 'nope' (see `hil connections list`; save it with `hil connections add`)"}]
    file = tmp_path / "sales.yaml"
    file.write_text("name: sales\nsteps: [sql]\nconnections:\n  - saved: nope\n")
    assert_clean_error(hil("workflows", "apply", str(file)), "connections[0].saved: no saved connection named 'nope'",
                       "hil connections list")


@pytest.mark.parametrize(("connection", "message"), [
    ({"name": "db", "saved": "shop", "dsn": "postgresql://x@h/db"},
     "saved and dsn are both given: a saved connection brings its own engine and location; leave out dsn"),
    ({"name": "db", "saved": "shop", "engine": "sqlite", "path": "x.db"}, "saved and engine and path are both given"),
    ({"name": "db", "path": "x.db"}, "engine is missing: give engine (duckdb, sqlite or postgres) with its path or "
                                     "dsn, or saved: the name of a connection saved with `hil connections add`"),
])
def test_saved_or_inline_not_both(connection: dict[str, Any], message: str) -> None:
    from hil.errors import WorkflowInvalid

    with pytest.raises(WorkflowInvalid) as err:
        WorkflowService.validate(_workflow(connection))
    assert err.value.args[0].startswith("connections[0]: " + message), err.value.args[0]


def test_a_saved_connection_removed_later_fails_the_run_clearly(client: TestClient, store: Store,
                                                                 tmp_path: Path) -> None:
    service = ConnectionService(store, "default")
    service.add(SqlConnection(name="shop", engine="sqlite", path=str(_sales(tmp_path))))
    WorkflowService(store, "default").apply(Workflow.model_validate(_workflow({"saved": "shop"})))
    service.remove("shop")
    run = client.post("/api/v1/runs", json={"workflow": "sales", "question": "What are total sales?"}).json()
    done = drive(client, run["id"], decide=False)
    assert done["status"] == "failed"
    assert "connection 'shop' of workflow 'sales' names the saved connection 'shop', which does not exist" in \
        done["error"]["error"]


def test_the_cli_applies_and_asks_over_a_saved_connection(sqlite_store: Store, tmp_path: Path) -> None:
    db = _sales(tmp_path)
    assert hil("connections", "add", "shop", "--engine", "sqlite", "--path", str(db)).returncode == 0
    file = tmp_path / "sales.yaml"
    file.write_text("name: sales\nsteps: [sql]\nconnections:\n  - saved: shop\n")
    applied = hil("workflows", "apply", str(file))
    assert applied.returncode == 0, applied.stderr
    assert "saved: shop" in hil("workflows", "show", "sales").stdout
    model = write_script_file(tmp_path / "s.json", {"plan": {"steps": [{"agent": "sql", "purpose": "total"}]},
                                                    "sql": {"sql": "SELECT sum(amount) AS total FROM sales"},
                                                    "answer": "Sales total 42."})
    asked = hil("ask", "--workflow", "sales", "--model", model, "--yes", "--json", "What are total sales?")
    assert asked.returncode == 0, asked.stderr
    data = json.loads(asked.stdout)
    assert data["status"] == "succeeded" and data["rows"] == [[42]]
