"""Small helpers shared by the engine tests."""

from __future__ import annotations

from pathlib import Path

from hil.engine.worker import Worker
from hil.events import EventType
from hil.services import DEFAULT_TENANT, Store
from hil.services.runs import Approval, RunService
from hil.services.workflows import WorkflowService
from hil.store.workflow_repo import StoredWorkflow
from hil.workflows import Workflow, load_workflow_file


def apply_workflow(store: Store, wf: Workflow) -> StoredWorkflow:
    """Store a workflow in the default tenant, as `hil workflows apply` does."""
    return WorkflowService(store, DEFAULT_TENANT).apply(wf)[0]


def setup_run(store: Store, workflow_file: Path, question: str = "Which vehicles overheat most?",
              **overrides: object) -> tuple[RunService, Worker, str]:
    wf = load_workflow_file(workflow_file)
    for key, value in overrides.items():
        target = wf
        *path, last = key.split("__")
        for p in path:
            target = getattr(target, p)
        setattr(target, last, value)
    service = RunService(store, "default")
    apply_workflow(service.store, wf)
    run_id = service.create_run(wf.name, question)
    return service, Worker(store, model="scripted:test", lease_seconds=30), run_id


def pending(service: RunService, run_id: str) -> Approval:
    items = service.pending_approvals(run_id)
    assert len(items) == 1, items
    return items[0]


def approve_plan_then_pending(service: RunService, worker: Worker, run_id: str) -> Approval:
    """Drive the run to its plan approval, approve it, and return the next pending approval."""
    worker.run_once(run_id)
    plan = pending(service, run_id)
    service.decide(plan.id, "approve", content_hash_seen=plan.content_hash)
    worker.run_once(run_id)
    return pending(service, run_id)


def approve_all(service: RunService, worker: Worker, run_id: str) -> str:
    for _ in range(20):
        worker.run_once(run_id)
        run = service.get(run_id)
        if run.status != "awaiting_approval":
            return run.status
        a = pending(service, run_id)
        service.decide(a.id, "approve", content_hash_seen=a.content_hash)
    raise AssertionError("run did not finish")


def types(service: RunService, run_id: str) -> list[str]:
    return [e.type for e in service.events(run_id)]


def count(service: RunService, run_id: str, type: EventType, step: str | None = None) -> int:
    return sum(1 for e in service.events(run_id) if e.type == type and (step is None or e.step == step))
