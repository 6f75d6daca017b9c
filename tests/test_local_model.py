"""The real embedded model (Qwen2.5-Coder-1.5B through xllamacpp), end to end. Serialised and
slow by nature; `make test` assembles the model first."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from hil.engine.worker import Worker
from hil.models.llm import resolve
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
    assert view.run.status == "succeeded", [e.payload for e in view.events if e.type == "run.failed"]
    sql = view.state.steps["sql"].output or {}
    assert sql["rows"], sql
    assert view.state.answer and view.state.answer["text"].strip()
