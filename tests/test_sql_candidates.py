"""Candidate queries: the draft, the schema alone and a second sample, chosen by their results when
reads run unattended, offered as alternatives when a human approves reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.agents.sql.candidates import Candidate, agree, alternatives, choose_by_result
from hil.agents.sql.drafting import extract_sql
from hil.events import EventType
from hil.services.policies import PolicyService
from hil.services.runs import RunService
from hil.store import Store
from hil.store.example_repo import ExampleRepo
from tests.conftest import Script
from tests.helpers import setup_run

TOP3 = "SELECT vehicle_id FROM vehicles ORDER BY vehicle_id LIMIT 3"
BOTTOM3 = "SELECT vehicle_id FROM vehicles ORDER BY vehicle_id DESC LIMIT 3"
NONE = "SELECT vehicle_id FROM vehicles WHERE vehicle_id = 'VH-none'"


@pytest.fixture(autouse=True)
def three_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_SQL_CANDIDATES", "3")


def _run(store: Store, workspace: Path, script: Script, answers: list[str], **approval: bool
         ) -> tuple[RunService, str]:
    """A run whose scripted model answers the SQL calls in order (the last answer repeats); one
    remembered example, so the draft's prompt differs from the schema-only one."""
    ExampleRepo(store, "default").add("fleet", "Which vehicles overheat most?",
                                      "SELECT vehicle_id FROM fault_events LIMIT 1", "import")
    calls: list[str] = []

    def sql(prompt: str) -> dict[str, str]:
        calls.append(prompt)
        return {"sql": answers[min(len(calls) - 1, len(answers) - 1)]}

    script.responses["sql"] = sql
    service, worker, run_id = setup_run(store, workspace, "Which vehicles overheat most often?",
                                        approval__plan=False, **{f"approval__{k}": v for k, v in approval.items()})
    worker.run_once(run_id)
    return service, run_id


def _payload(service: RunService, run_id: str, type: str) -> dict[str, object]:
    return next(e.payload for e in service.events(run_id) if e.type == type)


def test_when_draft_and_schema_only_agree_no_third_draft_is_made(store: Store, workspace: Path,
                                                                  script: Script) -> None:
    service, run_id = _run(store, workspace, script, [TOP3, TOP3], sql_read=False)
    chosen = _payload(service, run_id, EventType.SQL_CANDIDATES)
    assert [c["source"] for c in chosen["candidates"]] == ["draft", "schema only"]  # type: ignore[index,union-attr]
    assert (chosen["chosen"], chosen["agreeing"], chosen["support"]) == ("draft", 2, 2.0)
    assert len(script.prompts("sql")) == 2 and service.get(run_id).status == "succeeded"
    # the schema-only draft saw neither the example nor anything but the schema and the question
    draft_prompt, plain_prompt = script.prompts("sql")
    assert "Which vehicles overheat most?" in draft_prompt and "Which vehicles overheat most?" not in plain_prompt
    assert "CREATE TABLE vehicles" in plain_prompt and "Which vehicles overheat most often?" in plain_prompt


def test_a_disagreement_is_settled_by_a_second_sample(store: Store, workspace: Path, script: Script) -> None:
    service, run_id = _run(store, workspace, script, [TOP3, BOTTOM3, BOTTOM3], sql_read=False)
    chosen = _payload(service, run_id, EventType.SQL_CANDIDATES)
    assert [c["source"] for c in chosen["candidates"]] == ["draft", "schema only", "second sample"]  # type: ignore[index,union-attr]
    assert (chosen["chosen"], chosen["agreeing"]) == ("schema only", 2)
    assert _payload(service, run_id, EventType.SQL_DRAFTED)["content"]["sql"] == BOTTOM3  # type: ignore[index]
    executed = _payload(service, run_id, EventType.SQL_EXECUTED)
    assert executed["sql"] == BOTTOM3 and service.get(run_id).status == "succeeded"


def test_without_a_majority_the_draft_wins(store: Store, workspace: Path, script: Script) -> None:
    other = "SELECT vehicle_id FROM vehicles ORDER BY vehicle_id LIMIT 2"
    service, run_id = _run(store, workspace, script, [TOP3, BOTTOM3, other], sql_read=False)
    chosen = _payload(service, run_id, EventType.SQL_CANDIDATES)
    assert (chosen["chosen"], chosen["agreeing"]) == ("draft", 1)


def test_agreeing_empty_results_lose_to_one_with_rows(store: Store, workspace: Path, script: Script) -> None:
    service, run_id = _run(store, workspace, script, [NONE, TOP3, NONE], sql_read=False)
    chosen = _payload(service, run_id, EventType.SQL_CANDIDATES)
    assert chosen["chosen"] == "schema only"
    assert [c["result_rows"] for c in chosen["candidates"]] == [0, 3, 0]  # type: ignore[index,union-attr]


UNFIT = "SELECT vehicle_id FROM vehicles ORDER BY mileage LIMIT 3"  # no such column: the model corrects it


def test_a_human_approving_reads_gets_alternatives_and_nothing_runs_first(store: Store, workspace: Path,
                                                                         script: Script) -> None:
    service, run_id = _run(store, workspace, script, [UNFIT, TOP3, BOTTOM3])
    types = [e.type for e in service.events(run_id)]
    assert EventType.SQL_CANDIDATES not in types and EventType.SQL_EXECUTED not in types
    drafted = _payload(service, run_id, EventType.SQL_DRAFTED)
    assert drafted["content"]["sql"] == TOP3  # type: ignore[index]
    assert drafted["alternatives"] == [{"source": "schema only", "sql": BOTTOM3}]
    assert service.get(run_id).status == "awaiting_approval"


def test_a_draft_that_fits_at_once_goes_to_the_approver_without_another_model_call(
        store: Store, workspace: Path, script: Script) -> None:
    service, run_id = _run(store, workspace, script, [TOP3, BOTTOM3])
    drafted = _payload(service, run_id, EventType.SQL_DRAFTED)
    assert drafted["content"]["sql"] == TOP3 and "alternatives" not in drafted  # type: ignore[index]
    assert len(script.prompts("sql")) == 1
    assert service.get(run_id).status == "awaiting_approval"


def test_the_same_query_written_differently_is_no_alternative(store: Store, workspace: Path, script: Script) -> None:
    service, run_id = _run(store, workspace, script, [UNFIT, TOP3, TOP3.lower().replace(" ", "  ")])
    assert "alternatives" not in _payload(service, run_id, EventType.SQL_DRAFTED)


def test_a_tenant_gate_on_reads_keeps_candidates_from_running(store: Store, workspace: Path,
                                                              script: Script) -> None:
    """The workflow says reads run unattended, the tenant says they wait: nothing runs before a human."""
    PolicyService(store, "default").apply({"gates": [
        {"name": "reads-wait", "action": "sql_read", "approval": "required"}]})
    service, run_id = _run(store, workspace, script, [TOP3, BOTTOM3], sql_read=False)
    types = [e.type for e in service.events(run_id)]
    assert EventType.SQL_CANDIDATES not in types and EventType.SQL_EXECUTED not in types
    assert service.get(run_id).status == "awaiting_approval"


def test_one_candidate_setting_makes_one_draft(store: Store, workspace: Path, script: Script,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_SQL_CANDIDATES", "1")
    service, run_id = _run(store, workspace, script, [TOP3, BOTTOM3], sql_read=False)
    assert len(script.prompts("sql")) == 1
    assert EventType.SQL_CANDIDATES not in [e.type for e in service.events(run_id)]


def test_choice_by_result_weights() -> None:
    rows = ((repr((1,)), 1),)
    ok = Candidate("draft", "q1", result=rows, rows=1)
    empty = Candidate("schema only", "q2", result=(), rows=0)
    failed = Candidate("second sample", "q3", error="no such column")
    assert choose_by_result([empty, ok, failed], expects_rows=True) == (1, 1.0)
    assert choose_by_result([empty, ok, Candidate("x", "q4", result=(), rows=0)], expects_rows=True)[0] == 1
    # a question that may have no answer: an empty result is a full vote
    assert choose_by_result([empty, ok, Candidate("x", "q4", result=(), rows=0)], expects_rows=False) == (0, 2.0)
    assert choose_by_result([failed, Candidate("y", None)], expects_rows=True) == (0, 0.0)
    assert agree([ok, Candidate("b", "q5", result=rows, rows=1)], True)
    assert not agree([ok, empty], True) and not agree([empty, Candidate("b", "q", result=(), rows=0)], True)


def test_alternatives_are_distinct_and_valid() -> None:
    cands = [Candidate("draft", "SELECT a FROM t"), Candidate("schema only", "select  a from T"),
             Candidate("second sample", "SELECT b FROM t"), Candidate("bad", None)]
    assert alternatives("SELECT a FROM t", cands, "sqlite") == [{"source": "second sample", "sql": "SELECT b FROM t"}]


@pytest.mark.parametrize("answer,sql", [
    ("```sql\nSELECT a FROM t;\n```", "SELECT a FROM t"),
    ('{"sql": "SELECT a FROM t WHERE b = \'x;y\'"}', "SELECT a FROM t WHERE b = 'x;y'"),
    ("Here it is:\nSELECT count(*) FROM t; -- and more", "SELECT count(*) FROM t"),
    ("```\nWITH x AS (SELECT 1) SELECT * FROM x\n```\nThis counts.", "WITH x AS (SELECT 1) SELECT * FROM x"),
    ("```sql\nUPDATE t SET a = 1 WHERE id = 2\n```", "UPDATE t SET a = 1 WHERE id = 2"),
    ("```sql\nSELECT a FROM t", "SELECT a FROM t"),  # cut off at the token limit
    ("I cannot answer that.", None),
])
def test_the_query_is_read_from_the_answer(answer: str, sql: str | None) -> None:
    assert extract_sql(answer) == sql



def test_when_every_try_of_the_draft_fails_the_schema_only_prompt_rescues_the_step(
        store: Store, workspace: Path, script: Script) -> None:
    """Unattended, a draft that never fits the schema does not fail the run while another prompt fits."""
    def sql(prompt: str) -> dict[str, str]:
        full = "Which vehicles overheat most?" in prompt  # the example is shown only in the full prompt
        return {"sql": "SELECT no_such_column FROM vehicles" if full else TOP3}

    ExampleRepo(store, "default").add("fleet", "Which vehicles overheat most?",
                                      "SELECT vehicle_id FROM fault_events LIMIT 1", "import")
    script.responses["sql"] = sql
    service, worker, run_id = setup_run(store, workspace, "Which vehicles overheat most often?",
                                        approval__plan=False, approval__sql_read=False)
    worker.run_once(run_id)
    retried = [e.payload for e in service.events(run_id) if e.type == EventType.STEP_RETRIED]
    assert [r["reason"] for r in retried][-1] == "rescued" and retried[-1]["source"] == "schema only"
    assert _payload(service, run_id, EventType.SQL_EXECUTED)["sql"] == TOP3
    assert service.get(run_id).status == "succeeded"


def test_the_prompt_puts_the_schema_first_and_a_date_hint_only_with_a_time_and_no_number_to_copy() -> None:
    from hil.agents.sql.drafting import Brief, prompt

    timed = prompt(Brief("duckdb", "CREATE TABLE drivers (hired_on DATE);", "How many drivers were hired in the last year?",
                         feedback="A reviewer rejected this SQL: ... The reviewer's instruction: only active ones"))
    assert timed.startswith("CREATE TABLE drivers") and "INTERVAL n DAY" in timed and "90" not in timed
    assert timed.index("-- Question:") < timed.index("only active ones") < timed.index("Return only the columns")
    assert "Today's date" not in prompt(Brief("duckdb", "CREATE TABLE d (x INT);", "How many drivers are there?"))
