"""The real embedded model (Qwen2.5-Coder-1.5B through xllamacpp), end to end. Serialised and
slow by nature; `make test` assembles the model first."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from hil.engine.worker import Worker
from hil.models.llm import resolve
from hil.models.local import CallStats
from hil.services.runs import RunService
from hil.store import Store
from hil.workflows import load_workflow_file
from tests.helpers import apply_workflow

pytestmark = pytest.mark.local_model


class Answer(BaseModel):
    vehicle_ids: list[str]


def test_structured_output_is_schema_constrained() -> None:
    llm = resolve("local:qwen2.5-coder-1.5b", max_tokens=80)
    out = llm.structured("test", "Reply in JSON.", "List the vehicle ids VH-1001 and VH-1002.", Answer)
    assert out.vehicle_ids and all(v.startswith("VH-") for v in out.vehicle_ids)


def test_streamed_text_arrives_in_pieces() -> None:
    llm = resolve("local:qwen2.5-coder-1.5b", max_tokens=40)
    deltas: list[str] = []
    text = llm.text("test", "Be brief.", "Name three colours.", on_delta=deltas.append)
    assert len(deltas) > 1 and "".join(deltas) == text


def test_a_simple_question_end_to_end(sqlite_store: Store, workspace: Path) -> None:
    wf = load_workflow_file(workspace)
    wf.approval.plan = False
    wf.approval.sql_read = False
    wf.steps = ["sql"]
    service = RunService(sqlite_store, "default")
    apply_workflow(service.store, wf)
    run_id = service.create_run("fleet", "How many vehicles are there in each depot?")
    Worker(sqlite_store, model="local:qwen2.5-coder-1.5b").run_once(run_id)
    view = service.view(run_id)
    assert view.run.status == "succeeded", [(e.type, e.payload) for e in view.events
                                            if e.type in ("run.failed", "step.retried")]
    sql = view.state.steps["sql"].output or {}
    assert sql["rows"], sql
    assert view.state.answer and view.state.answer["text"].strip()


def test_a_prompt_that_starts_like_the_last_one_prefills_only_the_rest(workspace: Path) -> None:
    """Same schema, another question: llama.cpp's prompt cache holds the shared prefix."""
    from hil.agents.sql.drafting import Brief, prompt, system
    from hil.connectors import connect
    from hil.connectors.base import render_schema
    from hil.models.local import runtime

    conn = connect(load_workflow_file(workspace).connection())
    try:
        schema = render_schema(conn.tables())
    finally:
        conn.close()
    llm = resolve("local:qwen2.5-coder-1.5b", max_tokens=4)
    rt = runtime("qwen2.5-coder-1.5b")
    for question in ("How many vehicles are there?", "Which depot has the most drivers?"):
        llm.text("sql", system("duckdb"), prompt(Brief("duckdb", schema, question)))
    first, second = list(rt.calls)[-2:]
    assert first.prompt_tokens + first.cached_tokens > 300
    assert second.prompt_tokens <= 0.3 * (first.prompt_tokens + first.cached_tokens), (first, second)
    assert second.cached_tokens > 0


def test_a_call_of_another_kind_in_between_does_not_evict_a_prompts_prefix() -> None:
    """The answer's system prompt stays cached while the SQL agent's calls run: one slot per kind."""
    from hil.models.local import runtime

    llm = resolve("local:qwen2.5-coder-1.5b", max_tokens=4)
    rt = runtime("qwen2.5-coder-1.5b")
    persona = "You are a fleet analyst answering maintenance leads. " * 12  # a long, stable system prompt
    # evidence far longer than the shared part, as in a real answer: the host-memory cache does not
    # bring back a prompt that shares under a quarter of its tokens; the answer's own slot keeps it
    llm.text("answer", persona, "Evidence: " + " ".join(f"VH-{i} has {i % 7} faults." for i in range(80)))
    llm.text("sql", "You are a DuckDB expert.", "CREATE TABLE t (a INT);\n-- How many rows are there?")
    llm.text("answer", persona, "Evidence: depot East has 9 faults. Question: which depot?")
    first, _sql, again = list(rt.calls)[-3:]
    assert first.prompt_tokens + first.cached_tokens > 800
    assert again.cached_tokens >= 100, (first, again)  # the persona, not prefilled again


def test_a_prompt_read_ahead_is_not_read_again_by_its_call() -> None:
    """What the runner does while a person reviews: the model reads the answer's rules and
    passages; the call after the decision reads only the rows and the question."""
    from hil.models.local import runtime

    llm = resolve("local:qwen2.5-coder-1.5b", max_tokens=4)
    rt = runtime("qwen2.5-coder-1.5b")
    system = "You are a fleet analyst. Answer only from the evidence.  "  # the call strips it: so must the read
    passages = "Evidence:\n" + "\n".join(f"[{i}] Manual section {i}: check the coolant level, then the radiator cap "
                                          f"and hose {i}." for i in range(1, 30)) + "\n\n"
    assert llm.read_ahead("answer", system, passages)
    llm.text("answer", system, passages + "Rows: VH-1042 | 7\n\nQuestion: which vehicle and what to check?")
    ahead, call = list(rt.calls)[-2:]
    assert ahead.purpose == "answer, ahead" and ahead.prompt_tokens + ahead.cached_tokens > 400
    # all of it but the chat template's end of turn, which the read had after the passages
    assert call.cached_tokens >= ahead.prompt_tokens + ahead.cached_tokens - 8, (ahead, call)
    assert call.prompt_tokens < 40, (ahead, call)  # the rows and the question only


def test_a_prompt_read_ahead_as_before_is_the_whole_prompt_of_the_last_such_call() -> None:
    """A question asked again: the answer's start is read "as before", so the model reads the whole
    prompt the last answer with that start had, and the call after the decision reads nothing new."""
    from hil.models.local import runtime

    llm = resolve("local:qwen2.5-coder-1.5b", max_tokens=4)
    rt = runtime("qwen2.5-coder-1.5b")
    system = "You are a depot analyst. Answer only from the evidence."
    passages = "Evidence:\n" + "\n".join(f"[{i}] Policy clause {i}: a critical code takes the vehicle out of "
                                          f"service until clause {i} is met." for i in range(1, 20)) + "\n\n"
    asked = passages + "Rows: Central | 17\n\nQuestion: which depot had the most critical codes?"
    llm.text("answer", system, asked)
    llm.text("answer", system, "Rows: East | 3\n\nQuestion: and the least?")  # another answer takes the slot
    assert llm.read_ahead("answer", system, passages, as_before=True)
    llm.text("answer", system, asked)
    ahead, call = list(rt.calls)[-2:]
    assert ahead.prompt_tokens + ahead.cached_tokens > 350  # the passages and the rows and question after them
    assert call.prompt_tokens <= 8, (ahead, call)


def test_call_stats_are_read_from_the_runtime_timings() -> None:
    stats = CallStats.of("sql", {"cache_n": 324, "prompt_n": 10, "prompt_ms": 87.4, "predicted_n": 5,
                                 "predicted_ms": 550.8})
    assert stats == CallStats("sql", 10, 324, 5, 87.4, 550.8)
    assert CallStats.of("sql", None) is None and CallStats.of("sql", {"n": 1}) is None
