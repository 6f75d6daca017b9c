"""A step's start is written with the step's next write when the step is instant, and on its own,
within a fraction of a second, when it is not: clients see a long step as started while it runs,
and a run of quick steps costs one transaction, not one per step."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hil.agents import registry
from hil.agents.base import Agent, StepContext
from hil.engine import late_write
from hil.engine.worker import Worker
from hil.events import EventType
from hil.services import Store
from hil.services.runs import RunService
from hil.workflows import parse_workflow
from tests.conftest import Script
from tests.helpers import apply_workflow

release = threading.Event()


class Waiting(Agent):
    name = "waiting_step"
    role = "step"
    description = "Returns once the test lets it."

    def execute(self, ctx: StepContext, content: dict[str, Any] | None) -> dict[str, Any]:
        assert release.wait(10), "the test never let the step finish"
        return {"text": "done"}


@pytest.fixture
def waiting(script: Script) -> Iterator[None]:
    registry.register(Waiting)
    script.responses["plan"] = {"steps": [{"agent": "waiting_step", "purpose": "wait"}]}
    release.clear()
    yield
    release.set()
    registry.unregister("waiting_step")


def _start(store: Store) -> tuple[RunService, Worker, str]:
    apply_workflow(store, parse_workflow({"name": "late", "steps": ["waiting_step"],
                                          "approval": {"plan": False, "sql_read": False}}))
    service = RunService(store, "default")
    return service, Worker(store, model="scripted:test"), service.create_run("late", "wait for it")


def _of_step(service: RunService, run_id: str, step: str) -> dict[str, float]:
    return {str(e.type): e.ts.timestamp() for e in service.events(run_id) if e.step == step}


def test_an_instant_steps_start_is_written_with_its_end(store: Store, waiting: None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(late_write, "DELAY", 30.0)  # the first run in a process imports what it needs on the way
    release.set()
    service, worker, run_id = _start(store)
    worker.run_once(run_id)
    assert service.get(run_id).status == "succeeded"
    times = _of_step(service, run_id, "waiting_step")
    assert times[EventType.STEP_STARTED] == times[EventType.STEP_FINISHED]  # one append
    planner = _of_step(service, run_id, "planner")
    assert planner[EventType.STEP_STARTED] == planner[EventType.PLAN_DRAFTED]  # with its first event


def test_a_long_steps_start_is_visible_while_it_runs(store: Store, waiting: None) -> None:
    service, worker, run_id = _start(store)
    driving = threading.Thread(target=worker.run_once, args=(run_id,))
    driving.start()
    try:
        deadline = time.monotonic() + 5
        while EventType.STEP_STARTED not in _of_step(service, run_id, "waiting_step"):
            assert time.monotonic() < deadline, "the running step's start was never written"
            time.sleep(0.01)
        assert EventType.STEP_FINISHED not in _of_step(service, run_id, "waiting_step")
        assert service.get(run_id).status == "running"
    finally:
        release.set()
        driving.join(10)
    times = _of_step(service, run_id, "waiting_step")
    assert times[EventType.STEP_FINISHED] > times[EventType.STEP_STARTED]
    assert [e.seq for e in service.events(run_id)] == list(range(1, len(service.events(run_id)) + 1))
    assert service.get(run_id).status == "succeeded"
