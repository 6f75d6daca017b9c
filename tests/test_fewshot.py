"""The SQL few-shot memory: what may enter it, how examples are recalled, and that the drafts,
events and approval card show which examples a draft followed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil.agents.sql.fewshot import in_memory, placeholders, rank, read_curated, recall_from, render, template
from hil.errors import ConfigError, InvalidDecision
from hil.events import EventType
from hil.examples import Example
from hil.services.runs import RunService
from hil.store import Store
from hil.store.example_repo import ExampleRepo
from tests.conftest import Script
from tests.helpers import approve_all, pending, setup_run


def ex(i: int, question: str, sql: str, connection: str = "geo") -> Example:
    return Example(id=f"e{i}", connection=connection, question=question, sql=sql, source="import")


POOL = [
    ex(1, "what is the biggest city in nebraska",
       "SELECT city_name FROM city WHERE state_name = 'nebraska' ORDER BY population DESC LIMIT 1"),
    ex(2, "what is the biggest city in wyoming",
       "SELECT city_name FROM city WHERE state_name = 'wyoming' ORDER BY population DESC LIMIT 1"),
    ex(3, "what is the population of arizona", "SELECT population FROM state WHERE state_name = 'arizona'"),
    ex(4, "which state has the most rivers", "SELECT traverse FROM river GROUP BY traverse ORDER BY count(*) DESC LIMIT 1"),
    ex(5, "what is the biggest city in arizona", "SELECT 1", connection="other"),
]


def test_recall_prefers_the_same_kind_of_question_not_the_same_value() -> None:
    best = rank("what is the biggest city in arizona", POOL[:4], k=3)
    # e3 shares only the value "arizona", which its SQL filters on: that is no lesson for this question
    assert [s.example.id for s in best] == ["e1"]  # e2 has the same SQL shape as e1, so it is left out
    assert 0 < best[0].score <= 1


def test_recall_is_scoped_to_the_connection() -> None:
    recall = in_memory(POOL)
    assert [s.example.id for s in recall("other", "biggest city in arizona", 3)] == ["e5"]
    assert "e5" not in [s.example.id for s in recall("geo", "biggest city in arizona", 3)]
    assert recall("geo", "completely unrelated words", 3) == []


def test_examples_are_shown_as_templates_and_copied_placeholders_are_caught() -> None:
    question, sql = template(POOL[0])
    assert question == "what is the biggest city in <state_name>"
    assert "state_name = '<state_name>'" in sql and "nebraska" not in sql
    assert "Question: what is the biggest city in <state_name>" in render(rank("biggest city in ohio", POOL, 1))
    assert placeholders("SELECT x FROM city WHERE state_name = '<state_name>'") == ["<state_name>"]
    assert placeholders("SELECT x FROM city WHERE state_name = 'ohio'") == []


def test_curated_files_are_checked_entry_by_entry(tmp_path: Path) -> None:
    good = tmp_path / "ok.jsonl"
    good.write_text('{"question": "how many cities", "sql": "SELECT count(*) FROM city;"}\n\n'
                    '{"question": "list states", "sql": "SELECT state_name FROM state"}\n')
    assert read_curated(good) == [("how many cities", "SELECT count(*) FROM city"),
                                  ("list states", "SELECT state_name FROM state")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "a", "sql": "SELECT 1"}\n{"question": "b"}\n')
    with pytest.raises(ConfigError, match="entry 2: expected an object"):
        read_curated(bad)
    broken = tmp_path / "broken.json"
    broken.write_text('[{"question": "a", "sql": ')
    with pytest.raises(ConfigError, match="not valid JSON"):
        read_curated(broken)


def _examples(store: Store) -> list[Example]:
    return ExampleRepo(store, "default").entries()


def test_sql_a_human_approved_is_remembered_and_shown_next_time(store: Store, workspace: Path,
                                                               script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace)
    assert approve_all(service, worker, run_id) == "succeeded"
    [learned] = _examples(store)
    assert (learned.connection, learned.source, learned.run_id) == ("fleet", "approved", run_id)
    assert learned.question == "Which vehicles overheat most?" and "fault_events" in learned.sql

    follow = service.create_run("fleet", "Which vehicles overheat the most often?")
    worker.run_once(follow)
    plan = pending(service, follow)
    service.decide(plan.id, "approve", content_hash_seen=plan.content_hash)
    worker.run_once(follow)
    drafted = next(e for e in service.events(follow) if e.type == EventType.SQL_DRAFTED)
    assert [x["id"] for x in drafted.payload["examples"]] == [learned.id]
    requested = [e for e in service.events(follow) if e.type == EventType.APPROVAL_REQUESTED][-1]
    assert requested.payload["examples"][0]["question"] == learned.question
    assert service.view(follow).state.draft(drafted.payload["draft_id"]).basis[0]["id"] == learned.id  # type: ignore[union-attr]
    prompt = script.prompts("sql")[-1]
    assert "Question: Which vehicles overheat most?" in prompt and "Approved queries for earlier questions" in prompt


def test_the_same_question_asked_again_reuses_the_vouched_query_without_a_model_call(
        store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace)
    assert approve_all(service, worker, run_id) == "succeeded"
    [learned] = _examples(store)
    calls = len(script.prompts("sql"))
    again = service.create_run("fleet", "which vehicles  overheat most")  # case, spacing and "?" aside
    assert approve_all(service, worker, again) == "succeeded"
    drafted = next(e.payload for e in service.events(again) if e.type == EventType.SQL_DRAFTED)
    assert drafted["reused"] is True and drafted["content"]["sql"] == learned.sql
    assert len(script.prompts("sql")) == calls  # no model call drafted it
    # another question, however close, is drafted by the model
    other = service.create_run("fleet", "Which vehicles overheat least?")
    assert approve_all(service, worker, other) == "succeeded"
    assert "reused" not in next(e.payload for e in service.events(other) if e.type == EventType.SQL_DRAFTED)
    assert len(script.prompts("sql")) > calls


def test_a_remembered_query_that_no_longer_fits_the_schema_is_not_reused(store: Store, workspace: Path,
                                                                        script: Script) -> None:
    ExampleRepo(store, "default").add("fleet", "Which vehicles overheat most?",
                                      "SELECT vehicle_id FROM fault_events ORDER BY overheat_score DESC", "import")
    service, worker, run_id = setup_run(store, workspace)
    assert approve_all(service, worker, run_id) == "succeeded"
    drafted = next(e.payload for e in service.events(run_id) if e.type == EventType.SQL_DRAFTED)
    assert "reused" not in drafted and script.prompts("sql")


def test_auto_approved_sql_is_not_remembered_until_marked_correct(store: Store, workspace: Path,
                                                                  script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace, approval__plan=False, approval__sql_read=False)
    worker.run_once(run_id)
    assert service.get(run_id).status == "succeeded"
    assert _examples(store) == []  # rows came back, but nobody vouched for the SQL
    result = service.feedback(run_id, correct=True, comment="matches the workshop log")
    assert result["examples_added"] == 1
    assert [e.source for e in _examples(store)] == ["feedback"]
    assert service.events(run_id)[-1].type == EventType.RUN_FEEDBACK


def test_an_answer_marked_wrong_unteaches_its_sql(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace)
    approve_all(service, worker, run_id)
    assert len(_examples(store)) == 1
    assert service.feedback(run_id, correct=False, comment="counts the wrong codes")["examples_removed"] == 1
    assert _examples(store) == []


def test_feedback_needs_a_finished_run(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace)
    worker.run_once(run_id)  # parked on the plan
    with pytest.raises(InvalidDecision, match="no answer to judge"):
        service.feedback(run_id, correct=True)


def test_examples_can_be_listed_and_deleted(store: Store) -> None:
    repo = ExampleRepo(store, "default")
    a = repo.add("geo", "how many states", "SELECT count(*) FROM state;", "import")
    assert repo.add("geo", "how many states", "SELECT count(*) FROM state", "import").id == a.id  # no duplicate
    repo.add("other", "how many rivers", "SELECT count(*) FROM river", "import")
    assert [e.question for e in repo.entries("geo")] == ["how many states"]
    assert [s.example.id for s in recall_from(repo.entries)("geo", "how many states are there", 3)] == [a.id]
    repo.remove(a.id[:8])
    assert repo.entries("geo") == [] and len(repo.entries()) == 1


def test_run_service_records_feedback_event_payload(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace, approval__plan=False, approval__sql_read=False)
    worker.run_once(run_id)
    service.feedback(run_id, correct=False, comment="wrong period")
    event = service.events(run_id)[-1]
    assert event.payload["correct"] is False and event.payload["comment"] == "wrong period"
    assert isinstance(RunService(store, "default").view(run_id).state.answer, dict)


def test_examples_and_feedback_from_the_command_line(tmp_path: Path, workspace: Path) -> None:
    from tests.cli_helpers import assert_clean_error, hil
    from tests.conftest import write_script_file

    curated = tmp_path / "curated.jsonl"
    curated.write_text('{"question": "how many vehicles", "sql": "SELECT count(*) FROM vehicles"}\n'
                       '{"question": "list depots", "sql": "SELECT DISTINCT depot FROM vehicles"}\n')
    done = hil("examples", "import", "fleet", str(curated))
    assert done.returncode == 0 and "imported 2 examples" in done.stdout, done.stderr
    listed = json.loads(hil("examples", "list", "--connection", "fleet", "--json").stdout)
    assert {e["question"] for e in listed} == {"how many vehicles", "list depots"}
    assert {e["source"] for e in listed} == {"import"}
    assert hil("examples", "remove", listed[0]["id"][:8]).returncode == 0
    assert len(json.loads(hil("examples", "list", "--json").stdout)) == 1
    assert_clean_error(hil("examples", "remove", "nope"), "no example 'nope'")
    hostile = tmp_path / "hostile.jsonl"
    hostile.write_text('{"question": "x", "sql": "DELETE FROM vehicles"}\n')
    assert_clean_error(hil("examples", "import", "fleet", str(hostile)), "entry 1", "refused")

    model = write_script_file(tmp_path / "model.json", {
        "plan": {"steps": [{"agent": "sql", "purpose": "count cooling faults"}]},
        "sql": {"sql": "SELECT count(*) AS faults FROM fault_events"},
        "answer": "There are many faults."})
    assert hil("workflows", "apply", str(workspace)).returncode == 0
    asked = hil("ask", "--workflow", "fleet", "--model", model, "--yes", "--json", "How many faults?")
    assert asked.returncode == 0, asked.stderr
    run_id = json.loads(asked.stdout)["run_id"]
    marked = hil("runs", "feedback", run_id[:8], "--correct", "--comment", "checked by hand")
    assert marked.returncode == 0 and "1 SQL example(s) remembered" in marked.stdout, marked.stderr
    assert any(e["source"] == "feedback" for e in json.loads(hil("examples", "list", "--json").stdout))
    unmarked = hil("runs", "feedback", run_id, "--wrong")
    assert unmarked.returncode == 0 and "1 SQL example(s) from this run forgotten" in unmarked.stdout


def test_a_human_reviewer_sees_one_draft_and_no_query_runs_before_approval(store: Store, workspace: Path,
                                                                           script: Script) -> None:
    ExampleRepo(store, "default").add("fleet", "Which vehicles overheat most?", "SELECT vehicle_id FROM fault_events", "import")
    service, worker, run_id = setup_run(store, workspace, "Which vehicles overheat most often?", approval__plan=False)
    worker.run_once(run_id)
    types = [e.type for e in service.events(run_id)]
    assert EventType.SQL_CANDIDATES not in types and EventType.SQL_EXECUTED not in types
    assert len(script.prompts("sql")) == 1
