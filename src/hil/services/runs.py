"""Runs, their events, approvals, threads and artifacts: what the CLI and the server call.

Reads come from the run's event log through the projections; changes go through the engine's
run control. The caller's role is checked here, so no entry point can skip it."""

from __future__ import annotations

from typing import Any

from hil.engine.control import Decision, RunControl
from hil.engine.projections import RunView, approval_public, artifacts, load_view, run_detail, run_public, thread_turn
from hil.errors import NotFound
from hil.events import Event
from hil.services.dry_run import dry_run
from hil.store.db import Store
from hil.store.run_repo import TERMINAL_STATUSES, Approval, Run, RunFilter, RunRepo
from hil.store.scoped import TenantScoped, _AllTenants
from hil.store.workflow_repo import WorkflowRepo

__all__ = ["TERMINAL_STATUSES", "Approval", "Decision", "Run", "RunFilter", "RunService", "RunView", "approval_public", "run_public"]


class RunService(TenantScoped):
    """The runs of one tenant; ``ALL_TENANTS`` only for readiness counts and the event hub."""

    cross_tenant = True

    def __init__(self, store: Store, tenant: str | _AllTenants):
        super().__init__(store, tenant)
        self._runs = RunRepo(store, tenant)
        self._workflows = WorkflowRepo(store, tenant)
        self._control = RunControl(store, tenant)

    # -- asking --
    def create_run(self, workflow: str, question: str, *, thread_id: str | None = None,
                   user: str | None = None, thread_must_exist: bool = False) -> str:
        """A new run of the workflow's latest version; ``thread_id`` groups it with earlier turns
        (with ``thread_must_exist``, a thread nobody started yet is a 404)."""
        if thread_id and thread_must_exist and not self._runs.list_runs(thread_id=thread_id, limit=1):
            raise NotFound(f"no thread {thread_id!r}", hint="omit thread_id to start a new conversation")
        return self._control.create_run(workflow, question, thread_id=thread_id, user=user)

    # -- reading --
    def get(self, run_id: str) -> Run:
        return self._runs.get(run_id)

    def find(self, id_or_prefix: str) -> Run:
        """By id or an unambiguous prefix of it (as `hil runs list` prints)."""
        return self._runs.find(id_or_prefix)

    def list_runs(self, *, limit: int = 50, status: str | None = None, where: RunFilter | None = None,
                  workflow: str | None = None) -> list[Run]:
        if workflow:
            base = where or RunFilter()
            where = RunFilter(**{**base.__dict__, "workflow_id": self._workflows.get(workflow).id})
        return self._runs.list_runs(limit=limit, status=status, where=where)

    def workflow_names(self) -> dict[str, str]:
        return {w.id: w.name for w in self._workflows.list_all()}

    def count_by_status(self) -> dict[str, int]:
        return self._runs.count_by_status()

    def view(self, run_id: str) -> RunView:
        return load_view(self._runs, run_id)

    def events(self, run_id: str, after: int = 0) -> list[Event]:
        return self._runs.events(run_id, after)

    def new_events(self, cursors: dict[str, int]) -> dict[str, list[Event]]:
        """Events after each run's seq in ``cursors`` (what live subscribers have not seen yet)."""
        return self._runs.new_events(cursors)

    def events_since(self, ts: float) -> list[Event]:
        """The tenant's events at or after ``ts``, in time order."""
        return self._runs.events_since(ts)

    def detail(self, run_id: str) -> dict[str, Any]:
        """The run as the API and `hil ask --json` show it."""
        view = self.view(run_id)
        name = self._workflows.get(view.run.workflow_id, view.run.workflow_version).name
        return run_detail(view, name, self.pending_approvals(run_id))

    def artifacts(self, run_id: str) -> dict[str, tuple[str, bytes]]:
        return artifacts(self.view(run_id))

    def thread(self, thread_id: str) -> list[dict[str, Any]]:
        """Every turn of a conversation, oldest first."""
        found = sorted(self._runs.list_runs(thread_id=thread_id, limit=500), key=lambda r: r.created_at)
        if not found:
            raise NotFound(f"no thread {thread_id!r}")
        return [thread_turn(r, self._runs.events(r.id)) for r in found]

    # -- approvals --
    def approval(self, approval_id: str) -> Approval:
        return self._runs.get_approval(approval_id)

    def approvals(self, *, run_id: str | None = None, status: str | None = "pending", kind: str | None = None,
                  workflow: str | None = None) -> list[Approval]:
        workflow_id = self._workflows.get(workflow).id if workflow else None
        return self._runs.approvals(run_id=run_id, status=status, kind=kind, workflow_id=workflow_id)

    def pending_approvals(self, run_id: str | None = None) -> list[Approval]:
        return self._runs.approvals(run_id=run_id, status="pending")

    def decide(self, approval_id: str, decision: Decision, *, content_hash_seen: str,
               content: dict[str, Any] | None = None, message: str | None = None,
               user: str = "local", role: str = "approver") -> Approval:
        """Approve, edit, reject or respond; the role is checked by the run control."""
        return self._control.decide(approval_id, decision, content_hash_seen=content_hash_seen, content=content,
                                    message=message, user=user, role=role)

    def dry_run(self, approval_id: str, sql: str | None = None, *, user: str = "local",
                restricted: bool = False) -> dict[str, Any]:
        """The engine's plan and estimated rows for a SQL approval's statement, or a reviewer's edit
        of it; nothing is written and the approval stays as it is."""
        return dry_run(self.store, self.owner, self._runs.get_approval(approval_id), sql, user=user,
                       restricted=restricted)

    # -- changes --
    def cancel(self, run_id: str, user: str = "local") -> bool:
        self._runs.get(run_id)  # 404 outside the tenant
        return self._control.cancel(run_id, user)

    def feedback(self, run_id: str, correct: bool, comment: str | None = None, user: str = "local") -> dict[str, Any]:
        return self._control.feedback(run_id, correct, comment, user)

    def expire_approvals(self, now: float | None = None) -> int:
        """Apply each overdue approval's configured outcome (the workers do this on every poll)."""
        return self._control.expire_approvals(now)
