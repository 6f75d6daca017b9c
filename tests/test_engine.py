"""The run engine on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hil.agents import planner
from hil.engine.runner import content_hash
from hil.engine.worker import Worker
from hil.errors import ApprovalConflict, IdempotencyConflict, InvalidDecision
from hil.events import EventType
from hil.store import Store
from hil.store.run_repo import RunRepo
from hil.store.scoped import ALL_TENANTS
from tests.conftest import Script
from tests.helpers import approve_all, approve_plan_then_pending, count, pending, setup_run, types


def test_full_run_parks_at_each_gate_and_answers_from_rows(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace)
    worker.run_once(run_id)
    assert service.get(run_id).status == "awaiting_approval"
    assert pending(service, run_id).kind == "plan"
    assert approve_all(service, worker, run_id) == "succeeded"
    view = service.view(run_id)
    rows = view.state.steps["sql"].output["rows"]  # type: ignore[index]
    assert len(rows) == 5
    assert rows[0][0] in view.state.answer["text"]  # type: ignore[index]
    assert view.state.answer["citations"][0]["title"] == "Cooling System Manual"  # type: ignore[index]
    seqs = [e.seq for e in view.events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert types(service, run_id)[-1] == EventType.RUN_FINISHED
    assert view.run.workflow_version == 1


def test_rejected_sql_is_redrafted_with_the_message(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace)
    first = approve_plan_then_pending(service, worker, run_id)
    assert "severity" not in first.content["sql"]
    service.decide(first.id, "reject", message="only count critical codes", content_hash_seen=first.content_hash)
    worker.run_once(run_id)
    second = pending(service, run_id)
    assert "severity = 'critical'" in second.content["sql"]
    assert "only count critical codes" in script.prompts("sql")[-1]
    assert first.content["sql"] in script.prompts("sql")[-1]
    assert count(service, run_id, EventType.SQL_DRAFTED) == 2


def test_edit_keeps_original_and_edited(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace)
    sql = approve_plan_then_pending(service, worker, run_id)
    edited_sql = "SELECT vehicle_id FROM vehicles ORDER BY vehicle_id LIMIT 2"
    service.decide(sql.id, "edit", content={"sql": edited_sql, "connection": "fleet"}, content_hash_seen=sql.content_hash)
    assert approve_all(service, worker, run_id) == "succeeded"
    events = service.events(run_id)
    decided = [e.payload for e in events if e.type == EventType.APPROVAL_DECIDED][-1]
    requested = next(e.payload for e in events if e.type == EventType.APPROVAL_REQUESTED
                     and e.payload["approval_id"] == decided["approval_id"])
    assert requested["content"]["sql"] == sql.content["sql"]  # what was proposed, stored once in the log
    assert decided["content_hash"] == requested["content_hash"] == sql.content_hash and "original" not in decided
    assert decided["edited"]["sql"] == edited_sql
    executed = [e.payload for e in service.events(run_id) if e.type == EventType.SQL_EXECUTED]
    assert executed[0]["sql"] == edited_sql and executed[0]["sample_rows"] == [["VH-1001"], ["VH-1002"]]


def test_edit_to_a_write_is_refused(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace, approval__plan=False)
    worker.run_once(run_id)
    sql = pending(service, run_id)
    with pytest.raises(InvalidDecision, match="refused"):
        service.decide(sql.id, "edit", content={"sql": "DELETE FROM vehicles"}, content_hash_seen=sql.content_hash)
    assert service.approval(sql.id).status == "pending"


def test_same_decision_twice_is_accepted_once_and_other_decisions_conflict(store: Store, workspace: Path,
                                                                           script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace)
    worker.run_once(run_id)
    plan = pending(service, run_id)
    first = service.decide(plan.id, "approve", content_hash_seen=plan.content_hash)
    again = service.decide(plan.id, "approve", content_hash_seen=plan.content_hash)
    assert first.decided_at == again.decided_at
    assert count(service, run_id, EventType.APPROVAL_DECIDED) == 1
    with pytest.raises(ApprovalConflict, match="no longer pending"):
        service.decide(plan.id, "reject", message="no", content_hash_seen=plan.content_hash)


def test_stale_content_hash_conflicts_and_viewer_cannot_decide(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace)
    worker.run_once(run_id)
    plan = pending(service, run_id)
    with pytest.raises(ApprovalConflict, match="changed"):
        service.decide(plan.id, "approve", content_hash_seen=content_hash({"steps": []}))
    with pytest.raises(InvalidDecision, match="may not decide"):
        service.decide(plan.id, "approve", content_hash_seen=plan.content_hash, role="viewer")
    with pytest.raises(InvalidDecision, match="needs a message"):
        service.decide(plan.id, "reject", content_hash_seen=plan.content_hash)


def test_rejected_plan_is_redrafted_with_the_message(store: Store, workspace: Path, script: Script) -> None:
    script.responses["plan"] = lambda p: {"steps": [{"agent": "rag", "purpose": "manual only"}]} if "no SQL" in p \
        else {"steps": [{"agent": "sql", "purpose": "x"}, {"agent": "rag", "purpose": "y"}]}
    service, worker, run_id = setup_run(store, workspace, approval__sql_read=False)
    worker.run_once(run_id)
    plan = pending(service, run_id)
    service.decide(plan.id, "reject", message="no SQL, just the manual", content_hash_seen=plan.content_hash)
    worker.run_once(run_id)
    revised = pending(service, run_id)
    assert revised.content == {"steps": [{"agent": "rag", "purpose": "manual only"}]}
    assert EventType.PLAN_REVISED in types(service, run_id)
    assert approve_all(service, worker, run_id) == "succeeded"
    assert "sql" not in service.view(run_id).state.steps


def test_the_plan_prompt_ends_with_the_question_and_is_the_same_before_it(store: Store, workspace: Path,
                                                                          script: Script) -> None:
    """What a second question's plan reads anew is its own words: the workflow's instructions, the
    tools and the reply format come first (the prompt cache holds them), a reviewer's message too."""
    service, worker, first = setup_run(store, workspace, "Which vehicles overheat most?")
    second = service.create_run("fleet", "How many drivers hold a CE licence?")
    worker.run_once(first)
    worker.run_once(second)
    one, two = script.prompts("plan")
    assert one.endswith("Question: Which vehicles overheat most?")
    assert two.endswith("Question: How many drivers hold a CE licence?")
    assert one.removesuffix("Which vehicles overheat most?") == two.removesuffix("How many drivers hold a CE licence?")
    plan = pending(service, second)
    service.decide(plan.id, "reject", message="no SQL, just the manual", content_hash_seen=plan.content_hash)
    worker.run_once(second)
    redo = script.prompts("plan")[-1]
    assert redo.index("Reply with the plan") < redo.index("no SQL, just the manual") < redo.index(
        "Question: How many drivers hold a CE licence?")


def test_the_plan_prompt_shows_which_tools_questions_need_for_the_tools_the_workflow_has(
        store: Store, workspace: Path, script: Script) -> None:
    """Examples of another domain, after the tools and before the question (the cache holds them)."""
    _service, worker, run_id = setup_run(store, workspace, "Which vehicles overheat most?")
    worker.run_once(run_id)
    [prompt] = script.prompts("plan")
    assert prompt.index("Tools:") < prompt.index("Examples:") < prompt.index("Reply with the plan")
    assert '"What does the returns policy say about damaged items?": rag' in prompt
    assert '"Which 3 products sold the most, and what does the catalogue say about them?": sql, rag' in prompt
    assert planner.examples(["planner", "sql", "reasoner", "responder"]) == ""  # one tool: nothing to choose


def test_a_search_the_model_plans_for_what_the_query_finds_is_dropped(store: Store, workspace: Path,
                                                                      script: Script) -> None:
    """The documents asked for the very rows the query counts add only other figures to quote; a
    search that asks for something more (the policy) stays; a plan redone after a reviewer's message
    and a person's edit are kept as written."""
    redundant = {"steps": [
        {"agent": "sql", "purpose": "To count the number of critical fault codes per depot in the last month"},
        {"agent": "rag", "purpose": "To find the critical fault codes and their corresponding depots"}]}
    script.responses["plan"] = lambda p: redundant if "depots" in p else {"steps": [
        {"agent": "sql", "purpose": "To find vehicles with a critical code open"},
        {"agent": "rag", "purpose": "To retrieve the safety policy for a critical code"}]}
    service, worker, run_id = setup_run(store, workspace, "Which depots had the most critical fault codes last month?")
    worker.run_once(run_id)
    plan = pending(service, run_id)
    assert [s["agent"] for s in plan.content["steps"]] == ["sql"]
    drafted = next(e.payload for e in service.events(run_id) if e.type == EventType.PLAN_DRAFTED)
    assert drafted["left_out"] == [{"agent": "rag", "purpose": redundant["steps"][1]["purpose"],
                                    "why": "it asks for nothing the query does not find"}]
    service.decide(plan.id, "reject", message="search the documents too", content_hash_seen=plan.content_hash)
    worker.run_once(run_id)
    revised = pending(service, run_id)
    assert [s["agent"] for s in revised.content["steps"]] == ["rag", "sql"]
    service.decide(revised.id, "edit", content=redundant, content_hash_seen=revised.content_hash)
    worker.run_once(run_id)
    assert set(service.view(run_id).state.steps) >= {"sql", "rag"}  # the person's plan, as edited
    other = service.create_run("fleet", "Which vehicles have a critical code open, and what must happen to them?")
    worker.run_once(other)
    assert [s["agent"] for s in pending(service, other).content["steps"]] == ["rag", "sql"]


def test_execution_error_redrafts_with_the_error(store: Store, workspace: Path, script: Script) -> None:
    script.responses["sql"] = lambda p: {"sql": "SELECT count(*) AS n FROM vehicles"} if "no_such_table" in p \
        else {"sql": "SELECT * FROM no_such_table"}
    service, worker, run_id = setup_run(store, workspace, approval__plan=False, approval__sql_read=False)
    worker.run_once(run_id)
    assert service.get(run_id).status == "succeeded"
    retried = [e.payload for e in service.events(run_id) if e.type == EventType.STEP_RETRIED]
    assert len(retried) == 1 and "no_such_table" in retried[0]["error"]
    assert service.view(run_id).state.steps["sql"].output["rows"] == [[180]]  # type: ignore[index]


def test_a_redraft_does_not_repeat_any_query_that_failed_before(store: Store, workspace: Path, script: Script,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Greedy decoding, given much the same prompt, came back to the query that failed two drafts
    before (and so on until the step gave up): a query any earlier draft tried is sampled again."""
    monkeypatch.setenv("HIL_SQL_CANDIDATES", "1")
    fails_a = "SELECT CAST(make AS INTEGER) AS n FROM vehicles"  # runs into a conversion error
    fails_b = "SELECT CAST(model AS INTEGER) AS n FROM vehicles"
    works = "SELECT count(*) AS n FROM vehicles"
    answers = iter([fails_a, fails_b, fails_a, works])
    script.responses["sql"] = lambda _prompt: {"sql": next(answers)}
    service, worker, run_id = setup_run(store, workspace, approval__plan=False)
    worker.run_once(run_id)
    drafted = []
    for _ in range(3):
        approval = pending(service, run_id)
        drafted.append(approval.content["sql"])
        service.decide(approval.id, "approve", content_hash_seen=approval.content_hash)
        worker.run_once(run_id)
    assert drafted == [fails_a, fails_b, works]
    assert service.get(run_id).status == "succeeded"


def test_cancel_stops_a_parked_run(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace)
    worker.run_once(run_id)
    assert service.cancel(run_id)
    assert service.get(run_id).status == "cancelled"
    assert service.approvals(run_id=run_id, status=None)[0].status == "cancelled"
    assert not worker.run_once(run_id)
    assert not service.cancel(run_id)


@pytest.mark.parametrize("outcome", ["reject", "approve"])
def test_approval_expiry_applies_the_configured_outcome(store: Store, workspace: Path, script: Script,
                                                        outcome: str) -> None:
    service, worker, run_id = setup_run(store, workspace, approval__expire_after_seconds=1,
                                        approval__on_expiry=outcome, approval__sql_read=False)
    worker.run_once(run_id)
    assert service.expire_approvals(now=time.time() + 5) == 1
    if outcome == "reject":
        assert service.get(run_id).status == "expired"
        assert types(service, run_id)[-1] == EventType.RUN_EXPIRED
    else:
        assert service.get(run_id).status == "queued"
        worker.run_once(run_id)
        assert service.get(run_id).status == "succeeded"


def test_expired_lease_resumes_from_last_finished_step(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace, approval__plan=False)
    worker.run_once(run_id)  # planner finished, SQL drafted and parked
    sql = pending(service, run_id)
    service.decide(sql.id, "approve", content_hash_seen=sql.content_hash)
    repo = RunRepo(store, ALL_TENANTS)
    claimed = repo.claim("dead-worker", lease_seconds=0.01)  # a worker that dies right after claiming
    assert claimed is not None and claimed[0].id == run_id
    time.sleep(0.05)
    worker.run_once()
    assert service.get(run_id).status == "succeeded"
    assert count(service, run_id, EventType.STEP_STARTED, "planner") == 1
    assert count(service, run_id, EventType.SQL_DRAFTED) == 1
    assert len(script.prompts("plan")) == 1
    resumed = [e.payload for e in service.events(run_id) if e.type == EventType.RUN_RESUMED]
    assert resumed[-1]["recovered"] is True


def test_side_effects_run_once_per_idempotency_key(store: Store, workspace: Path, script: Script) -> None:
    from hil.engine.runner import StepRunner
    from hil.engine.worker import default_llm_factory

    _service, _worker, run_id = setup_run(store, workspace)
    runner = StepRunner(store, "w1", default_llm_factory("scripted:test"))
    calls: list[int] = []
    once = runner._once(run_id, "sql")
    assert once("write-1", lambda: calls.append(1) or {"rows": 3}) == {"rows": 3}
    assert once("write-1", lambda: calls.append(1) or {"rows": 3}) == {"rows": 3}
    assert calls == [1]
    repo = RunRepo(store, ALL_TENANTS)
    with store.write() as conn:  # an action that started and never recorded its outcome (a crash)
        repo.begin_action(conn, f"{run_id}:sql:write-2", run_id)
    with pytest.raises(IdempotencyConflict):
        once("write-2", lambda: calls.append(2))
    assert calls == [1]


def test_concurrent_appends_keep_seq_gap_free(store: Store, workspace: Path, script: Script) -> None:
    import threading

    service, _worker, run_id = setup_run(store, workspace)
    repo = RunRepo(store, ALL_TENANTS)

    def append_many() -> None:
        for i in range(25):
            with store.write() as conn:
                repo.append(conn, run_id, "test.event", {"i": i})

    threads = [threading.Thread(target=append_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = [e.seq for e in service.events(run_id)]
    assert seqs == list(range(1, 102))


def test_follow_up_in_a_thread_sees_the_previous_answer(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace, approval__plan=False, approval__sql_read=False)
    worker.run_once(run_id)
    follow = service.create_run("fleet", "And what about the second one?", thread_id="t1")
    with store.write() as conn:
        from hil.store.tables import runs
        conn.execute(runs.update().where(runs.c.id == run_id).values(thread_id="t1"))
    worker.run_once(follow)
    assert service.get(follow).status == "succeeded"
    first, second = script.prompts("plan")
    assert "Which vehicles overheat most?" in second
    # the earlier turn follows what every question shares, so the follow-up reads only what is new
    shared = first.removesuffix("Question: Which vehicles overheat most?")
    assert second.startswith(shared) and second.index("Earlier in this conversation") == len(shared)


def test_idle_workers_do_not_write(sqlite_store: Store) -> None:
    """Every write wakes the workers; an idle worker that wrote would wake the others, which would
    write in turn: a busy loop on an idle server."""
    worker = Worker(sqlite_store, model="scripted:test")
    before = sqlite_store.generation()
    worker.start(threads=2, poll_seconds=0.05)
    try:
        time.sleep(0.5)  # ten polls each
        assert sqlite_store.generation() == before
    finally:
        worker.stop()
