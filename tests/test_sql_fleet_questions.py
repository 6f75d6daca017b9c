"""The fleet questions in bench/fleet-sql (brake services, trips, drivers, depots, maintenance costs,
time ranges): every gold query runs on the demo database, and with reads approved by a human no run
of them ends failed, even when the model never writes SQL that fits the schema."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from hil.agents.sql.question_fit import break_ties
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


def test_the_question_outranks_the_workflow_notes(sqlite_store: Store, workspace: Path, script: Script) -> None:
    """A draft that filters on what the notes describe (overheating) rather than what was asked (brake
    services) is redrafted with the reason."""
    brake = ("SELECT v.depot, count(*) AS n FROM maintenance_events m JOIN vehicles v ON v.vehicle_id = m.vehicle_id "
             "WHERE m.event_type = 'brake_service' GROUP BY v.depot ORDER BY n DESC LIMIT 1")

    def sql(prompt: str) -> dict[str, str]:
        if "is not asked for by the question" in prompt:
            return {"sql": brake}
        return {"sql": "SELECT f.vehicle_id, count(*) AS n FROM fault_events f JOIN dtc_codes d ON d.code = f.code "
                       "WHERE d.system = 'cooling' GROUP BY 1 ORDER BY n DESC LIMIT 1"}

    script.responses["sql"] = sql
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "brake services per depot"}]}
    notes = "Overheating-related faults are those with d.system = 'cooling'."
    service, worker, run_id = setup_run(sqlite_store, workspace, "Which depot had the most brake services?",
                                        approval__plan=False, approval__sql_read=True, instructions=notes)
    worker.run_once(run_id)
    drafted = [e.payload for e in service.events(run_id) if e.type == EventType.SQL_DRAFTED][-1]
    assert drafted["content"]["sql"] == break_ties(brake, "duckdb")[0]  # its ties ordered by the group
    assert "Background notes" in script.prompts("sql")[0] and len(script.prompts("sql")) == 2


def test_unattended_a_draft_nothing_can_fix_fails_the_run(sqlite_store: Store, workspace: Path, script: Script) -> None:
    script.responses["sql"] = {"sql": "SELECT vehicle_colour, count(*) FROM vehicles GROUP BY 1"}
    service, worker, run_id = setup_run(sqlite_store, workspace, "How many vehicles of each colour?",
                                        approval__plan=False, approval__sql_read=False)
    worker.run_once(run_id)
    assert service.get(run_id).status == "failed"


CRITICAL_ALL_TIME = ("SELECT v.depot, count(*) AS n FROM fault_events f JOIN vehicles v ON v.vehicle_id = f.vehicle_id "
                     "JOIN dtc_codes d ON d.code = f.code WHERE d.severity = 'critical' GROUP BY v.depot "
                     "ORDER BY n DESC")
CRITICAL_LAST_MONTH = CRITICAL_ALL_TIME.replace(
    "WHERE d.severity = 'critical'",
    "WHERE d.severity = 'critical' AND f.occurred_at >= CURRENT_DATE - INTERVAL 1 MONTH")


def test_a_time_the_query_leaves_out_is_redrafted(sqlite_store: Store, workspace: Path, script: Script) -> None:
    """"last month" in the question and no date in the query: a count over all time answers another
    question, so the draft is redone with the reason."""
    script.responses["sql"] = lambda prompt: {
        "sql": CRITICAL_LAST_MONTH if "has no condition on a date" in prompt else CRITICAL_ALL_TIME}
    service, worker, run_id = setup_run(sqlite_store, workspace, "Which depots had the most critical fault codes "
                                        "last month?", approval__plan=False, approval__sql_read=True)
    worker.run_once(run_id)
    drafted = [e.payload for e in service.events(run_id) if e.type == EventType.SQL_DRAFTED][-1]
    assert drafted["content"]["sql"] == break_ties(CRITICAL_LAST_MONTH, "duckdb")[0]
    retried = [e.payload for e in service.events(run_id) if e.type == EventType.STEP_RETRIED]
    assert "the question asks about 'last month'" in retried[0]["error"] and len(script.prompts("sql")) == 2


def test_a_filter_only_the_plan_names_is_not_asked_for(sqlite_store: Store, workspace: Path, script: Script) -> None:
    """The planner copied the notes' 'cooling' into the step's purpose; the question never says it."""
    cooling = CRITICAL_LAST_MONTH.replace("WHERE ", "WHERE d.system = 'cooling' AND ")
    script.responses["sql"] = lambda prompt: {
        "sql": CRITICAL_LAST_MONTH if "is not asked for by the question" in prompt else cooling}
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "count critical cooling faults (system = "
                                                                     "'cooling') per depot last month"}]}
    notes = "Overheating-related faults are those with d.system = 'cooling'."
    service, worker, run_id = setup_run(sqlite_store, workspace, "Which depots had the most critical fault codes "
                                        "last month?", approval__plan=False, approval__sql_read=True,
                                        instructions=notes)
    worker.run_once(run_id)
    drafted = [e.payload for e in service.events(run_id) if e.type == EventType.SQL_DRAFTED][-1]
    assert "cooling" not in drafted["content"]["sql"] and len(script.prompts("sql")) == 2
    # nor does the plan's wording reach the SQL model: the notes are there as notes, not as the purpose
    assert "What this query must find" not in script.prompts("sql")[0]


def test_a_filter_the_reviewer_asks_for_is_asked_for(sqlite_store: Store, workspace: Path, script: Script) -> None:
    """A reviewer's instruction counts as the question does: the filter it asks for is not flagged."""
    cooling = CRITICAL_LAST_MONTH.replace("WHERE ", "WHERE d.system = 'cooling' AND ")
    script.responses["sql"] = lambda prompt: {"sql": cooling if "reviewer's instruction" in prompt
                                              else CRITICAL_LAST_MONTH}
    notes = "Overheating-related faults are those with d.system = 'cooling'."
    service, worker, run_id = setup_run(sqlite_store, workspace, "Which depots had the most critical fault codes "
                                        "last month?", approval__plan=False, approval__sql_read=True,
                                        instructions=notes)
    worker.run_once(run_id)
    first = pending(service, run_id)
    service.decide(first.id, "reject", content_hash_seen=first.content_hash, message="only the cooling faults")
    worker.run_once(run_id)
    drafted = [e.payload for e in service.events(run_id) if e.type == EventType.SQL_DRAFTED][-1]
    assert drafted["content"]["sql"] == break_ties(cooling, "duckdb")[0]
    assert len(script.prompts("sql")) == 2  # not sent back for the reviewer's own filter
