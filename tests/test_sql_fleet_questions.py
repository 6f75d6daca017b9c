"""The fleet questions in bench/fleet-sql (brake services, trips, drivers, depots, maintenance costs,
time ranges): every gold query runs on the demo database, and with reads approved by a human no run
of them ends failed, even when the model never writes SQL that fits the schema."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from hil.evals import benchmarks
from hil.events import EventType
from hil.store import Store
from tests.conftest import Script
from tests.helpers import pending, setup_run

FLEET = Path(__file__).resolve().parents[1] / "bench" / "fleet-sql"


def test_the_fleet_questions_load_and_every_gold_query_runs(fleet_db: Path) -> None:
    bench = benchmarks.load(FLEET, database=fleet_db)
    assert bench.engine == "duckdb" and len(bench.items) >= 20
    assert not any("overheat" in i.question.lower() or "cooling" in i.gold[0] for i in bench.items)
    with duckdb.connect(str(fleet_db), read_only=True) as db:
        for item in bench.items:
            db.execute(item.gold[0]).fetchall()  # raises when a gold query does not fit the schema
    assert benchmarks.database_of(FLEET) == "demo"


@pytest.mark.parametrize("item", benchmarks.load_questions(FLEET, Path(__file__)).items, ids=lambda i: i.id)
def test_with_approvals_on_an_unfixable_draft_reaches_the_human(item: benchmarks.Item, sqlite_store: Store,
                                                                 workspace: Path, script: Script) -> None:
    script.responses["sql"] = {"sql": "SELECT vehicle_colour, count(*) FROM vehicles GROUP BY 1"}  # never valid
    service, worker, run_id = setup_run(sqlite_store, workspace, item.question, approval__plan=False,
                                        approval__sql_read=True)
    worker.run_once(run_id)
    assert service.get(run_id).status == "awaiting_approval"
    approval = pending(service, run_id)
    drafted = [e.payload for e in service.events(run_id) if e.type == EventType.SQL_DRAFTED][-1]
    assert drafted["content"]["sql"] == "SELECT vehicle_colour, count(*) FROM vehicles GROUP BY 1"
    assert "vehicle_colour" in drafted["unresolved"]["problems"]
    if item.id != "brake-depot-6m":
        return
    # the approver fixes it in seconds, and the run goes on
    service.decide(approval.id, "edit", content_hash_seen=approval.content_hash,
                   content={"sql": item.gold[0], "connection": "fleet"})
    worker.run_once(run_id)
    assert service.get(run_id).status != "failed"
    executed = [e.payload for e in service.events(run_id) if e.type == EventType.SQL_EXECUTED]
    assert executed and executed[0]["sql"] == item.gold[0]
