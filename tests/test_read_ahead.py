"""Reading ahead: while a run waits for a person, the model is given the start of the next model
call's prompt, and that call's prompt starts exactly with it (else the cache would not hold it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.engine.read_ahead import ReadAhead, upcoming
from hil.engine.state import DraftState, RunState
from hil.models import scripted
from hil.models.local import as_before
from hil.services.runs import RunService
from hil.store import Store
from tests.conftest import Script
from tests.helpers import pending, setup_run

QUESTION = "Which vehicles overheat most, and what does the manual say to check first?"


def _plan(script: Script) -> None:
    """The planner names the query first; the plan runs retrieval first all the same."""
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "count cooling faults per vehicle"},
                                          {"agent": "rag", "purpose": "what the manual says about overheating"}]}


def _decide(service: RunService, run_id: str) -> None:
    a = pending(service, run_id)
    service.decide(a.id, "approve", content_hash_seen=a.content_hash)


def test_the_sql_prompt_is_read_while_the_plan_waits_and_the_answer_prompt_while_the_query_does(
        store: Store, workspace: Path, script: Script) -> None:
    _plan(script)
    service, worker, run_id = setup_run(store, workspace, QUESTION)
    before = len(scripted.read_ahead("test"))
    worker.run_once(run_id)  # parks at the plan
    worker.runner.reading.wait(30)
    reads = scripted.read_ahead("test")[before:]
    assert [r[0] for r in reads] == ["sql"]  # rag calls no model: the SQL agent's prompt is the next one
    assert [s["agent"] for s in pending(service, run_id).content["steps"]] == ["rag", "sql"]
    assert not script.prompts("sql")  # read only: no draft was made
    _decide(service, run_id)
    worker.run_once(run_id)  # drafts the SQL and parks at it
    worker.runner.reading.wait(30)
    reads = scripted.read_ahead("test")[before:]
    assert [r[0] for r in reads] == ["sql", "answer"]
    _decide(service, run_id)
    worker.run_once(run_id)
    assert service.get(run_id).status == "succeeded"

    # each call's prompt starts with what was read ahead for it: its system prompt, then the read text
    assert not any(r.as_before for r in reads)
    for purpose, (_, system, text, _as_before) in zip(("sql", "answer"), reads, strict=True):
        said, read = script.prompts(purpose)[0], system + "\n" + text
        assert said.startswith(read), (purpose, next((i, said[i - 80:i + 80], read[i - 80:i + 80])
                                                     for i in range(len(read)) if said[i:i + 1] != read[i:i + 1]))
    sql_read, answer_read = reads[0][2], reads[1][2]
    assert "count cooling faults per vehicle" in sql_read and QUESTION in sql_read
    # the answer's read holds the passages but not the query's rows: those come with the decision
    assert "check the coolant level first" in answer_read and "VH-" not in answer_read
    assert "VH-" in script.prompts("answer")[0].removeprefix(reads[1][1] + "\n" + answer_read)


def test_without_retrieval_only_the_sql_prompt_is_read_ahead_and_none_when_turned_off(
        store: Store, workspace: Path, script: Script, monkeypatch: pytest.MonkeyPatch) -> None:
    # no passages: at the query's approval the answer's prompt holds nothing new before the rows
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "count cooling faults per vehicle"}]}
    service, worker, run_id = setup_run(store, workspace, QUESTION)
    before = len(scripted.read_ahead("test"))
    for _ in range(2):
        worker.run_once(run_id)
        worker.runner.reading.wait(30)
        _decide(service, run_id)
    worker.run_once(run_id)
    assert service.get(run_id).status == "succeeded"
    assert [r[0] for r in scripted.read_ahead("test")[before:]] == ["sql"]  # at the plan only

    monkeypatch.setenv("HIL_MODEL_READ_AHEAD", "0")
    service, worker, run_id = setup_run(store, workspace, QUESTION + " Again.")
    before = len(scripted.read_ahead("test"))
    worker.run_once(run_id)
    worker.runner.reading.wait(30)
    assert scripted.read_ahead("test")[before:] == []


def test_a_question_asked_again_reads_the_answer_prompt_as_it_was(store: Store, workspace: Path,
                                                                  script: Script) -> None:
    """Its approved query is reused without a model call, and the answer's whole prompt is likely
    the one made the first time: the model is asked to read that one whole (reading only its start
    would cut its cache short), and nothing before the query."""
    _plan(script)
    for attempt in range(2):
        service, worker, run_id = setup_run(store, workspace, QUESTION)
        before = len(scripted.read_ahead("test"))
        worker.run_once(run_id)
        for _ in range(2):
            worker.runner.reading.wait(30)
            _decide(service, run_id)
            worker.run_once(run_id)
        assert service.get(run_id).status == "succeeded"
        read = [(r.purpose, r.as_before) for r in scripted.read_ahead("test")[before:]]
        assert read == ([("sql", False), ("answer", False)] if attempt == 0 else [("answer", True)]), attempt
    sql_drafted = [e for e in service.events(run_id) if e.type == "sql.drafted"]
    assert sql_drafted[-1].payload.get("reused") is True


def test_upcoming_steps_come_from_the_pending_plan_at_the_plan_and_from_the_approved_one_after() -> None:
    state = RunState("r")
    plan = {"steps": [{"agent": "rag", "purpose": "docs"}, {"agent": "sql", "purpose": "count"}]}
    state.step("planner").drafts.append(DraftState("d1", "plan", plan, True))
    assert upcoming(state, "planner") == [("rag", "docs"), ("sql", "count"), ("reasoner", ""), ("responder", "")]
    state.step("planner").output = plan
    assert upcoming(state, "sql") == [("reasoner", ""), ("responder", "")]


def test_one_read_at_a_time_and_a_failing_read_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    import threading

    reading, release, ran = ReadAhead(), threading.Event(), []
    assert reading.start(release.wait, "first")
    assert not reading.start(lambda: ran.append(1), "second")  # the model is busy: this one is skipped
    release.set()
    reading.wait(5)

    def fails() -> None:
        raise RuntimeError("runtime went away")

    assert reading.start(fails, "third")
    reading.wait(5)
    assert ran == [] and "reading ahead failed" in caplog.text


def test_as_before_is_the_latest_call_that_continues_the_start_read() -> None:
    system = {"role": "system", "content": "persona"}
    first = [system, {"role": "user", "content": "rules passages rows one question"}]
    second = [system, {"role": "user", "content": "rules passages rows two question"}]
    other = [{"role": "system", "content": "another persona"}, {"role": "user", "content": "rules passages rows"}]
    start = [system, {"role": "user", "content": "rules passages"}]
    assert as_before([first, second, other], start) == second  # the latest one that starts so
    assert as_before([first], start) == first
    assert as_before([other], start) == start  # another system prompt: not the same call
    assert as_before([], start) == start
    assert as_before([first], [system, {"role": "user", "content": "rules other passages"}])[1]["content"] == \
        "rules other passages"
