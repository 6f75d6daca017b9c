"""The dry run of a SQL approval: each engine's EXPLAIN and an estimated row count, through the
read-only guard, for the drafted statement or a reviewer's edit; writes never run; the approval
and the run are left as they were."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from fastapi.testclient import TestClient

from hil.connectors import connect
from hil.connectors.base import Connector
from hil.errors import QueryFailed, QueryRefused
from hil.server.app import create_app
from hil.store import Store
from hil.workflows import SqlConnection
from tests.conftest import Script
from tests.pg import PostgresServer
from tests.test_api_auth import Tenant, make_tenant
from tests.test_hostile_sql import HOSTILE

SETUP = ("CREATE TABLE vehicles (id TEXT PRIMARY KEY, depot TEXT, km INTEGER)",
         "INSERT INTO vehicles VALUES ('VH-1', 'north', 100), ('VH-2', 'north', 200), ('VH-3', 'south', 300), "
         "('VH-4', 'east', 400), ('VH-5', 'north', 500)")
PER_DEPOT = "SELECT depot, count(*) AS vehicles FROM vehicles GROUP BY depot ORDER BY depot"


def _fill(engine: str, target: str) -> None:
    if engine == "postgres":
        with psycopg.connect(target, autocommit=True) as db:
            for stmt in SETUP:
                db.execute(stmt)
        return
    db = sqlite3.connect(target) if engine == "sqlite" else duckdb.connect(target)
    for stmt in SETUP:
        db.execute(stmt)
    db.commit()
    db.close()


@pytest.fixture(params=["sqlite", "duckdb", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> SqlConnection:
    engine = request.param
    if engine == "postgres":
        pg: PostgresServer = request.getfixturevalue("postgres")
        dsn = pg.create_database(f"dry_{abs(hash(tmp_path)) % 10**8}")
        _fill(engine, dsn)
        return SqlConnection(name="fleet", engine="postgres", dsn=dsn)
    path = tmp_path / f"fleet.{engine}"
    _fill(engine, str(path))
    return SqlConnection(name="fleet", engine=engine, path=str(path))


def _count(cfg: SqlConnection) -> int:
    conn = connect(cfg)
    try:
        return int(conn.execute_read("SELECT count(*) FROM vehicles").rows[0][0])
    finally:
        conn.close()


def test_each_engine_explains_a_read_and_estimates_its_rows(database: SqlConnection) -> None:
    conn = connect(database)
    try:
        explained = conn.explain(PER_DEPOT)
        filtered = conn.explain("SELECT id FROM vehicles WHERE depot = 'north'")
    finally:
        conn.close()
    words = {"sqlite": "SCAN", "duckdb": "SEQ_SCAN", "postgres": "Seq Scan"}[database.engine]
    assert words.lower().replace("_", " ") in explained.plan.lower().replace("_", " "), explained.plan
    assert explained.estimated_rows is not None and explained.estimated_rows > 0
    if database.engine == "sqlite":  # no estimate in SQLite's plan: counted, read-only
        assert (explained.estimate, explained.estimated_rows, filtered.estimated_rows) == ("count", 3, 3)
    else:
        assert explained.estimate == filtered.estimate == "planner"
    assert explained.to_dict()["plan"] == explained.plan


@pytest.mark.parametrize("sql", ["DELETE FROM vehicles", "SELECT 1; DROP TABLE vehicles",
                                 "UPDATE vehicles SET km = 0", "CREATE TABLE x AS SELECT * FROM vehicles"])
def test_nothing_but_a_read_is_explained(database: SqlConnection, sql: str) -> None:
    conn = connect(database)
    try:
        with pytest.raises(QueryRefused):
            conn.explain(sql)
    finally:
        conn.close()
    assert _count(database) == 5


@pytest.fixture(scope="module", params=["sqlite", "duckdb", "postgres"])
def explainer(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connector]:
    engine = request.param
    if engine == "postgres":
        pg: PostgresServer = request.getfixturevalue("postgres")
        dsn = pg.create_database(f"dry_hostile_{id(request) % 10**8}")
        _fill(engine, dsn)
        cfg = SqlConnection(name="fleet", engine="postgres", dsn=dsn)
    else:
        path = tmp_path_factory.mktemp(engine) / f"fleet.{engine}"
        _fill(engine, str(path))
        cfg = SqlConnection(name="fleet", engine=engine, path=str(path))
    conn = connect(cfg, timeout_s=5)
    yield conn
    conn.close()


@pytest.mark.parametrize("sql", HOSTILE)
def test_a_dry_run_refuses_every_hostile_statement_and_changes_nothing(explainer: Connector, sql: str) -> None:
    with pytest.raises((QueryRefused, QueryFailed)):
        explainer.explain(sql)
    assert explainer.execute_read("SELECT count(*), sum(km) FROM vehicles").rows == [[5, 1500]]


# -- the route --

def _wait_pending(client: TestClient, t: Tenant, run_id: str, kind: str) -> dict[str, Any]:
    for _ in range(400):
        found = client.get(f"/api/v1/approvals?run={run_id}", headers=t.as_("viewer")).json()
        if found and found[0]["kind"] == kind:
            return dict(found[0])
        time.sleep(0.05)
    raise AssertionError(f"no pending {kind} approval for run {run_id}")


@pytest.fixture
def acme(store: Store, script: Script, hil_home: Path) -> Iterator[tuple[TestClient, Tenant, dict[str, Path]]]:
    data = hil_home / "data" / "acme"
    data.mkdir(parents=True)
    files = {"sqlite": data / "fleet.db", "duckdb": data / "fleet.duckdb", "writable": data / "ops.db"}
    for engine, path in files.items():
        _fill("duckdb" if engine == "duckdb" else "sqlite", str(path))
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "count vehicles per depot"}]}
    script.responses["sql"] = lambda prompt: {
        "sql": "UPDATE vehicles SET km = km + 1 WHERE depot = 'north'" if "allows changes" in prompt else PER_DEPOT}
    with TestClient(create_app(store, workers=1, model="scripted:test", auth=True)) as client:
        yield client, make_tenant(store, "acme"), files


def _workflow(client: TestClient, t: Tenant, name: str, engine: str, path: Path, read_only: bool = True) -> None:
    r = client.post("/api/v1/workflows", headers=t.as_("admin"), json={
        "name": name, "steps": ["sql"], "approval": {"plan": False, "sql_read": True},
        "connections": [{"name": "fleet", "engine": engine, "path": str(path), "read_only": read_only}]})
    assert r.status_code == 201, r.text


def _ask(client: TestClient, t: Tenant, workflow: str, kind: str) -> tuple[str, dict[str, Any]]:
    run = client.post("/api/v1/runs", headers=t.as_("operator"), json={"workflow": workflow, "question": "Per depot?"})
    assert run.status_code == 201, run.text
    return run.json()["id"], _wait_pending(client, t, run.json()["id"], kind)


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_the_dry_run_route_explains_the_drafted_sql_and_an_edit_and_changes_nothing(
        acme: tuple[TestClient, Tenant, dict[str, Path]], engine: str) -> None:
    client, t, files = acme
    _workflow(client, t, "fleet", engine, files[engine])
    run_id, approval = _ask(client, t, "fleet", "sql_read")
    before = client.get(f"/api/v1/runs/{run_id}", headers=t.as_("viewer")).json()
    url = f"/api/v1/approvals/{approval['id']}/dry-run"

    drafted = client.post(url, headers=t.as_("operator"))
    assert drafted.status_code == 200, drafted.text
    out = drafted.json()
    assert (out["kind"], out["engine"], out["connection"], out["edited"]) == ("sql_read", engine, "fleet", False)
    assert out["sql"] == approval["content"]["sql"] and out["plan"] and out["impact"] is None
    if engine == "sqlite":
        assert (out["estimate"], out["estimated_rows"]) == ("count", 3)
    else:
        assert out["estimate"] == "planner" and out["estimated_rows"] >= 1

    edit = "SELECT id FROM vehicles WHERE depot = 'north'"
    edited = client.post(url, headers=t.as_("operator"), json={"sql": edit}).json()
    assert edited["edited"] is True and edited["sql"] == edit and edited["plan"]
    if engine == "sqlite":
        assert edited["estimated_rows"] == 3

    # an edit that writes, or is not SQL, is refused by the guard with its reason
    refused = client.post(url, headers=t.as_("operator"), json={"sql": "DELETE FROM vehicles"})
    assert refused.status_code == 422 and "read-only" in refused.json()["error"]["message"]
    garbage = client.post(url, headers=t.as_("operator"), json={"sql": "SELEC nothing FROM"})
    assert garbage.status_code == 422
    assert client.post(url, headers=t.as_("operator"), json={"sql": "  "}).status_code == 422
    # operator or higher; unknown approvals are 404
    assert client.post(url, headers=t.as_("viewer")).status_code == 403
    assert client.post(url, headers=t.as_("approver")).status_code == 200
    assert client.post("/api/v1/approvals/nope/dry-run", headers=t.as_("operator")).status_code == 404

    after = client.get(f"/api/v1/runs/{run_id}", headers=t.as_("viewer")).json()
    assert after["last_seq"] == before["last_seq"] and after["status"] == "awaiting_approval"
    [still] = after["pending_approvals"]
    assert still["content_hash"] == approval["content_hash"] and still["status"] == "pending"
    assert _count(SqlConnection(name="f", engine=engine, path=str(files[engine]))) == 5


def test_a_write_is_never_run_by_its_dry_run_only_counted(acme: tuple[TestClient, Tenant, dict[str, Path]]) -> None:
    client, t, files = acme
    _workflow(client, t, "ops", "sqlite", files["writable"], read_only=False)
    _, approval = _ask(client, t, "ops", "sql_write")
    out = client.post(f"/api/v1/approvals/{approval['id']}/dry-run", headers=t.as_("operator"))
    assert out.status_code == 200, out.text
    body = out.json()
    assert body["kind"] == "sql_write" and (body["estimated_rows"], body["estimate"]) == (3, "count")
    assert body["impact"]["summary"] == "UPDATE would change 3 rows of vehicles"
    assert "SCAN" in body["plan"]  # the plan of the read-only count, not of the write
    conn = sqlite3.connect(files["writable"])
    assert conn.execute("SELECT sum(km) FROM vehicles").fetchone()[0] == 1500
    conn.close()


def test_a_plan_has_no_dry_run(acme: tuple[TestClient, Tenant, dict[str, Path]]) -> None:
    client, t, files = acme
    r = client.post("/api/v1/workflows", headers=t.as_("admin"), json={
        "name": "planned", "steps": ["sql"],
        "connections": [{"name": "fleet", "engine": "sqlite", "path": str(files["sqlite"])}]})
    assert r.status_code == 201, r.text
    _, approval = _ask(client, t, "planned", "plan")
    r = client.post(f"/api/v1/approvals/{approval['id']}/dry-run", headers=t.as_("operator"))
    assert r.status_code == 422 and "only sql_read and sql_write" in r.json()["error"]["details"]["hint"]


def test_the_run_detail_shows_each_drafts_examples_and_value_alignments(
        acme: tuple[TestClient, Tenant, dict[str, Path]], script: Script) -> None:
    client, t, files = acme
    script.responses["sql"] = {"sql": "SELECT id FROM vehicles WHERE depot = 'NORTH'"}
    _workflow(client, t, "fleet", "sqlite", files["sqlite"])
    run_id, approval = _ask(client, t, "fleet", "sql_read")
    assert approval["content"]["sql"] == "SELECT id FROM vehicles WHERE depot = 'north'"
    drafts = client.get(f"/api/v1/runs/{run_id}", headers=t.as_("viewer")).json()["drafts"]
    [draft] = [d for d in drafts if d["kind"] == "sql_read"]
    assert draft["adjustments"] == ["'NORTH' is stored as 'north'"]
    assert draft["examples"] == []
