"""Writes: only on a connection that allows them, always behind an approval that shows the
exact statement and its estimated impact, executed once, inside a transaction, as an event."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest

from hil.connectors import connect
from hil.connectors.base import Connector
from hil.connectors.guard import check_write
from hil.connectors.writes import estimate_impact, execute_write
from hil.engine.worker import Worker
from hil.errors import QueryFailed, QueryRefused
from hil.events import EventType
from hil.services.runs import RunService
from hil.services.workflows import WorkflowService
from hil.store import Store
from hil.workflows import SqlConnection, Workflow
from tests.conftest import Script
from tests.helpers import apply_workflow, pending
from tests.pg import PostgresServer

SETUP = ("CREATE TABLE vehicles (id TEXT PRIMARY KEY, depot TEXT, services INTEGER CHECK (services < 10))",
         "INSERT INTO vehicles VALUES ('VH-1', 'north', 1), ('VH-2', 'north', 2), ('VH-3', 'south', 9)")


@pytest.fixture(params=["sqlite", "duckdb", "postgres"])
def writable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlConnection]:
    engine = request.param
    if engine == "postgres":
        pg: PostgresServer = request.getfixturevalue("postgres")
        dsn = pg.create_database(f"writes_{abs(hash(tmp_path)) % 10**8}")
        with psycopg.connect(dsn, autocommit=True) as db:
            for stmt in SETUP:
                db.execute(stmt)
        yield SqlConnection(name="fleet", engine="postgres", dsn=dsn, read_only=False)
        return
    path = tmp_path / f"fleet.{engine}"
    db = sqlite3.connect(path) if engine == "sqlite" else duckdb.connect(str(path))
    for stmt in SETUP:
        db.execute(stmt)
    db.commit()
    db.close()
    yield SqlConnection(name="fleet", engine=engine, path=str(path), read_only=False)


def rows(cfg: SqlConnection) -> list[list[object]]:
    conn: Connector = connect(cfg)
    try:
        return conn.execute_read("SELECT id, depot, services FROM vehicles ORDER BY id").rows
    finally:
        conn.close()


def test_impact_is_counted_with_the_statements_own_where(writable: SqlConnection) -> None:
    conn = connect(writable)
    try:
        update = estimate_impact(conn, "UPDATE vehicles SET depot = 'east' WHERE depot = 'north'")
        assert (update["verb"], update["rows"], update["table"]) == ("UPDATE", 2, "vehicles")
        assert update["summary"] == "UPDATE would change 2 rows of vehicles"
        assert estimate_impact(conn, "DELETE FROM vehicles")["rows"] == 3
        assert estimate_impact(conn, "INSERT INTO vehicles (id, depot, services) VALUES ('VH-4', 'x', 0), "
                                     "('VH-5', 'x', 0)")["summary"] == "INSERT would add 2 rows to vehicles"
        assert estimate_impact(conn, "INSERT INTO vehicles SELECT id || 'b', depot, 0 FROM vehicles "
                                     "WHERE services > 1")["rows"] == 2
        assert estimate_impact(conn, "DROP TABLE vehicles")["summary"] == "DROP removes vehicles and its 3 rows"
        assert estimate_impact(conn, "CREATE TABLE notes (t TEXT)")["rows"] is None
    finally:
        conn.close()
    assert len(rows(writable)) == 3  # estimating changed nothing


def test_an_approved_write_runs_in_a_transaction(writable: SqlConnection) -> None:
    done = execute_write(writable, "UPDATE vehicles SET services = services + 1 WHERE depot = 'north'")
    assert (done["verb"], done["rows_affected"]) == ("UPDATE", 2)
    assert [r[2] for r in rows(writable)] == [2, 3, 9]
    # VH-3 would break the CHECK: the whole statement is rolled back, VH-1 and VH-2 included
    with pytest.raises(QueryFailed):
        execute_write(writable, "UPDATE vehicles SET services = services + 1")
    assert [r[2] for r in rows(writable)] == [2, 3, 9]


def test_writes_stay_as_guarded_as_reads(writable: SqlConnection) -> None:
    for bad in ("INSERT INTO vehicles SELECT * FROM read_csv('/etc/passwd')", "DELETE FROM vehicles; DROP TABLE x",
                "ATTACH 'other.db' AS o", "COPY vehicles TO '/tmp/out.csv'", "PRAGMA writable_schema = 1",
                "SET search_path = evil", "UPDATE vehicles SET depot = pg_read_file('/etc/passwd')"):
        with pytest.raises(QueryRefused):
            execute_write(writable, bad)
    read_only = writable.model_copy(update={"read_only": True})
    with pytest.raises(QueryRefused, match="read-only"):
        execute_write(read_only, "DELETE FROM vehicles")
    assert len(rows(writable)) == 3
    assert check_write("delete from vehicles where id = 'VH-1';", "sqlite") == ("delete from vehicles where id = 'VH-1'",
                                                                                 "DELETE")


@pytest.fixture
def fleet_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.sqlite"
    db = sqlite3.connect(path)
    for stmt in SETUP:
        db.execute(stmt)
    db.commit()
    db.close()
    return path


def _service(store: Store, path: Path, read_only: bool) -> RunService:
    wf = Workflow.model_validate({
        "name": "ops", "steps": ["sql"], "approval": {"plan": False, "sql_read": False},
        "connections": [{"name": "fleet", "engine": "sqlite", "path": str(path), "read_only": read_only}]})
    service = RunService(store, "default")
    apply_workflow(service.store, wf)
    return service


def _ask(store: Store, path: Path, script: Script, sql: str, question: str,
         read_only: bool = False) -> tuple[RunService, Worker, str]:
    """A one-step SQL run whose model drafts ``sql``, driven until it parks or ends."""
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": question}]}
    script.responses["sql"] = {"sql": sql}
    service = _service(store, path, read_only=read_only)
    run_id = service.create_run("ops", question)
    worker = Worker(store, model="scripted:test")
    worker.run_once(run_id)
    return service, worker, run_id


def services(path: Path) -> list[object]:
    return [r[2] for r in rows(SqlConnection(name="f", engine="sqlite", path=str(path)))]


def test_a_write_waits_for_a_human_even_when_reads_do_not(store: Store, fleet_sqlite: Path, script: Script) -> None:
    service, worker, run_id = _ask(store, fleet_sqlite, script,
                                   "UPDATE vehicles SET services = services + 1 WHERE depot = 'north'",
                                   "Record a service for every north depot vehicle")
    approval = pending(service, run_id)
    assert approval.kind == "sql_write"
    assert approval.content["impact"]["summary"] == "UPDATE would change 2 rows of vehicles"
    assert "allows changes" in script.prompts("sql")[0]
    assert services(fleet_sqlite) == [1, 2, 9]

    service.decide(approval.id, "approve", content_hash_seen=approval.content_hash)
    worker.run_once(run_id)
    assert service.get(run_id).status == "succeeded"
    [written] = [e.payload for e in service.events(run_id) if e.type == EventType.SQL_WRITE_EXECUTED]
    assert written["rows_affected"] == 2 and written["sql"] == approval.content["sql"]
    assert services(fleet_sqlite) == [2, 3, 9]


def test_a_write_is_executed_once_even_if_the_step_runs_again(store: Store, fleet_sqlite: Path,
                                                             script: Script) -> None:
    from hil.agents.base import StepContext
    from hil.agents.sql.agent import SqlAgent
    from hil.engine.runner import StepRunner
    from hil.engine.worker import default_llm_factory

    service = _service(store, fleet_sqlite, read_only=False)
    run_id = service.create_run("ops", "Record a service")
    runner = StepRunner(store, "w1", default_llm_factory("scripted:test"))
    with store.write() as conn:  # the runner's idempotency keys are per run and step
        runner.repo.set_status(conn, run_id, "running")
    wf = WorkflowService(service.store, "default").get("ops").definition
    ctx = StepContext(run_id=run_id, question="q", workflow=wf, step="sql", purpose="", outputs={},
                      emit=lambda *_: None, llm_factory=lambda: None, once=runner._once(run_id, "sql"))  # type: ignore[arg-type,return-value]
    content = {"sql": "UPDATE vehicles SET services = services + 1 WHERE id = 'VH-1'", "connection": "fleet",
               "write": True}
    first = SqlAgent().execute(ctx, content)
    again = SqlAgent().execute(ctx, content)  # e.g. a worker that lost its lease after the write
    assert first["rows"] == again["rows"] == [[1]]
    assert services(fleet_sqlite)[0] == 2  # once, not twice


def test_a_read_only_connection_never_drafts_a_write(store: Store, fleet_sqlite: Path, script: Script) -> None:
    service, _worker, run_id = _ask(store, fleet_sqlite, script, "DELETE FROM vehicles", "Delete every vehicle",
                                    read_only=True)
    assert service.get(run_id).status == "failed"
    retried = [e.payload["error"] for e in service.events(run_id) if e.type == EventType.STEP_RETRIED]
    assert retried and all("only read-only SELECT" in r for r in retried)
    assert "allows changes" not in script.prompts("sql")[0]
    assert len(services(fleet_sqlite)) == 3


def test_an_edited_write_gets_a_fresh_impact(store: Store, fleet_sqlite: Path, script: Script) -> None:
    service, worker, run_id = _ask(store, fleet_sqlite, script, "UPDATE vehicles SET services = 0",
                                   "Reset service counters")
    approval = pending(service, run_id)
    assert approval.content["impact"]["rows"] == 3
    decided = service.decide(approval.id, "edit", content={"sql": "UPDATE vehicles SET services = 0 WHERE id = 'VH-3'",
                                                           "connection": "fleet"},
                             content_hash_seen=approval.content_hash)
    assert decided.edited is not None and decided.edited["impact"]["rows"] == 1 and decided.edited["write"] is True
    worker.run_once(run_id)
    assert services(fleet_sqlite) == [1, 2, 0]
