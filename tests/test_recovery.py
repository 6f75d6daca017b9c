"""Crash safety: a run awaiting approval survives kill -9 of the process that drove it, and
1,000 parked runs hold no threads or tasks."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hil.engine.worker import Worker
from hil.events import EventType
from hil.services.runs import RunService
from hil.store import Store
from hil.store.scoped import ALL_TENANTS
from hil.workflows import load_workflow_file
from tests.conftest import DEFAULT_RESPONSES, Script, write_script_file
from tests.helpers import apply_workflow

HIL = str(Path(sys.executable).parent / "hil")


def _wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def test_parked_run_survives_kill_9_and_completes_without_repeating_steps(store: Store, workspace: Path,
                                                                          tmp_path: Path) -> None:
    responses = {"plan": DEFAULT_RESPONSES["plan"],
                 "sql": {"sql": "SELECT vehicle_id FROM vehicles ORDER BY vehicle_id LIMIT 3"},
                 "answer": "VH-1001 leads. Check the coolant level first [1]."}
    model = write_script_file(tmp_path / "script.json", responses)
    env = {**os.environ, "HIL_DATABASE_URL": store.url}
    subprocess.run([HIL, "workflows", "apply", str(workspace)], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([HIL, "ask", "--workflow", "fleet", "--model", model, "Top vehicles?"], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    service = RunService(store, "default")
    # approve the plan in the terminal, then leave the SQL approval waiting
    _wait_for(lambda: any(r.status == "awaiting_approval" for r in service.list_runs()))
    assert proc.stdin is not None
    proc.stdin.write(b"a\n")
    proc.stdin.flush()
    run_id = service.list_runs()[0].id
    _wait_for(lambda: len(service.approvals(run_id=run_id, status=None)) == 2
              and service.get(run_id).status == "awaiting_approval")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    result = subprocess.run([HIL, "runs", "resume", run_id[:8], "--yes", "--model", model], env=env,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    view = service.view(run_id)
    assert view.run.status == "succeeded"
    started = [e.step for e in view.events if e.type == EventType.STEP_STARTED]
    assert started == ["planner", "rag", "sql", "reasoner", "responder"]  # retrieval runs first
    assert sum(e.type == EventType.PLAN_DRAFTED for e in view.events) == 1
    assert sum(e.type == EventType.SQL_DRAFTED for e in view.events) == 1
    assert [e.seq for e in view.events] == list(range(1, len(view.events) + 1))
    assert "VH-1001" in (view.state.answer or {}).get("text", "")


def test_a_thousand_parked_runs_hold_no_threads_or_tasks(sqlite_store: Store, workspace: Path,
                                                         script: Script) -> None:
    service = RunService(sqlite_store, "default")
    apply_workflow(service.store, load_workflow_file(workspace))
    worker = Worker(sqlite_store, model="scripted:test", lease_seconds=30)

    def extra_threads(before: set[threading.Thread]) -> list[str]:
        """Threads started since ``before``, except the test's own asyncio.to_thread pool."""
        return [t.name for t in threading.enumerate() if t not in before and not t.name.startswith("asyncio_")]

    async def scenario() -> tuple[list[str], int, int]:
        worker.start(threads=2, poll_seconds=0.05)
        await asyncio.to_thread(service.count_by_status)  # the loop's default executor exists from now on
        await asyncio.sleep(0.2)
        threads_before, tasks_before = set(threading.enumerate()), len(asyncio.all_tasks())

        def create() -> None:
            for i in range(1000):
                service.create_run("fleet", f"question {i}")
        await asyncio.to_thread(create)
        deadline = time.time() + 600
        while time.time() < deadline:
            counts = await asyncio.to_thread(service.count_by_status)
            if counts.get("awaiting_approval") == 1000:
                break
            await asyncio.sleep(0.5)
        settle = time.time() + 10  # a lease renewer may still be winding down; under load that takes a moment
        while extra_threads(threads_before) and time.time() < settle:
            await asyncio.sleep(0.1)
        return extra_threads(threads_before), tasks_before, len(asyncio.all_tasks())

    try:
        extra, tasks_before, tasks_after = asyncio.run(scenario())
    finally:
        worker.stop()
    assert service.count_by_status() == {"awaiting_approval": 1000}
    # no growth is the invariant: no thread and no task is left holding a parked run
    assert extra == []
    assert tasks_after <= tasks_before
    assert len(service.pending_approvals()) == 1000


@pytest.mark.parametrize("dead_worker", ["hil-crashed"])
def test_serve_style_pool_recovers_a_run_whose_worker_died(sqlite_store: Store, workspace: Path, script: Script,
                                                           dead_worker: str) -> None:
    from hil.store.run_repo import RunRepo

    wf = load_workflow_file(workspace)
    wf.approval.plan = False
    wf.approval.sql_read = False
    service = RunService(sqlite_store, "default")
    apply_workflow(service.store, wf)
    run_id = service.create_run("fleet", "Which vehicles overheat most?")
    assert RunRepo(sqlite_store, ALL_TENANTS).claim(dead_worker, lease_seconds=0.2) is not None
    worker = Worker(sqlite_store, model="scripted:test", lease_seconds=5)
    worker.start(threads=1, poll_seconds=0.05)
    try:
        _wait_for(lambda: service.get(run_id).status == "succeeded", timeout=30)
    finally:
        worker.stop()
