"""Cancellation: a running query stops when its run is cancelled, not at its timeout."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import duckdb
import pytest

from hil.connectors import connect
from hil.engine.worker import Worker
from hil.errors import QueryFailed
from hil.events import EventType
from hil.services.runs import RunService
from hil.store import Store
from hil.workflows import SqlConnection, Workflow
from tests.conftest import Script
from tests.helpers import apply_workflow

SLOW = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) "
              "SELECT count(*) FROM c",
    "duckdb": "SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b",
}


def _db(tmp_path: Path, engine: str) -> SqlConnection:
    path = tmp_path / f"t.{engine}"
    db = sqlite3.connect(path) if engine == "sqlite" else duckdb.connect(str(path))
    db.execute("CREATE TABLE t (x INTEGER)")
    db.commit()
    db.close()
    return SqlConnection(name="t", engine=engine, path=str(path))


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_setting_cancel_stops_a_running_query(tmp_path: Path, engine: str) -> None:
    conn = connect(_db(tmp_path, engine), timeout_s=60)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    with pytest.raises(QueryFailed, match="cancelled"):
        conn.execute_read(SLOW[engine], cancel=cancel)
    assert conn.execute_read("SELECT 41 + 1").rows == [[42]]  # the connection is still usable
    conn.close()


def test_cancelling_a_run_stops_its_query(sqlite_store: Store, tmp_path: Path, script: Script) -> None:
    cfg = _db(tmp_path, "sqlite")
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "count"}]}
    script.responses["sql"] = {"sql": SLOW["sqlite"]}
    service = RunService(sqlite_store, "default")
    apply_workflow(service.store, Workflow.model_validate({"name": "slow", "connections": [cfg.model_dump()],
                                                    "steps": ["sql"], "approval": {"plan": False, "sql_read": False}}))
    run_id = service.create_run("slow", "How many numbers are there?")

    def cancel_when_the_query_runs() -> None:
        for _ in range(200):
            if any(e.type == EventType.SQL_DRAFTED for e in service.events(run_id)):
                time.sleep(0.3)
                service.cancel(run_id)
                return
            time.sleep(0.05)

    threading.Thread(target=cancel_when_the_query_runs, daemon=True).start()
    started = time.monotonic()
    Worker(sqlite_store, model="scripted:test", lease_seconds=0.6).run_once(run_id)
    assert time.monotonic() - started < 20  # the query's timeout is 30 s; it stopped long before
    assert service.get(run_id).status == "cancelled"
    assert service.events(run_id)[-1].type == EventType.RUN_CANCELLED
