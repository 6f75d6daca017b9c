"""Run control: the state changes a run goes through outside a worker — created, decided,
cancelled, expired, judged. Deciding never runs agents: it records the decision and makes the
run runnable again; a worker picks it up. The services call this; tenants are checked there and
by the scope this object is built with."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Literal

import sqlalchemy as sa

from hil.agents import registry
from hil.engine.gating import policy_for, statement_class
from hil.engine.learning import approved_pairs
from hil.engine.state import FOLDED_EVENTS, fold
from hil.errors import ApprovalConflict, InvalidDecision, PolicyRefused
from hil.events import EventType
from hil.hashing import content_hash
from hil.policy import audit
from hil.policy.rules import DecideRequest, Verdict
from hil.store.audit_repo import AuditRepo
from hil.store.connection_repo import ConnectionRepo
from hil.store.db import Store
from hil.store.example_repo import ExampleRepo
from hil.store.policy_repo import PolicyRepo, StoredPolicy
from hil.store.run_repo import TERMINAL_STATUSES, Approval, Run, RunRepo
from hil.store.scoped import TenantScoped, _AllTenants
from hil.store.secret_repo import SecretRepo
from hil.store.workflow_repo import WorkflowRepo
from hil.workflows import Workflow

Decision = Literal["approve", "edit", "reject", "respond"]
DECISION_STATUS = {"approve": "approved", "edit": "edited", "reject": "rejected", "respond": "responded"}


class RunControl(TenantScoped):
    """Run changes within one tenant; ``ALL_TENANTS`` for workers and approval expiry."""

    cross_tenant = True

    def __init__(self, store: Store, tenant: str | _AllTenants):
        super().__init__(store, tenant)
        self.runs = RunRepo(store, tenant)
        self.workflows = WorkflowRepo(store, tenant)

    def create_run(self, workflow: str, question: str, *, thread_id: str | None = None,
                   user: str | None = None) -> str:
        if not question.strip():
            raise InvalidDecision("the question is empty")
        with self.store.write() as conn:  # one transaction: the workflow as it is now, the run, its first event
            stored = self.workflows.get(workflow, conn=conn)
            run_id = self.runs.create(conn, workflow_id=stored.id, workflow_version=stored.version,
                                      question=question, thread_id=thread_id, created_by=user,
                                      tenant=self.owner)
            self.runs.append(conn, run_id, EventType.RUN_CREATED, {
                "question": question, "workflow": stored.name, "workflow_id": stored.id,
                "workflow_version": stored.version, "thread_id": thread_id, "user": user})
        return run_id

    def decide(self, approval_id: str, decision: Decision, *, content_hash_seen: str,
               content: dict[str, Any] | None = None, message: str | None = None,
               user: str = "local", role: str = "approver") -> Approval:
        """Record a human decision. The same decision twice is accepted once; a decision on an
        approval that is no longer pending, or on content other than what is pending, is refused."""
        if decision not in DECISION_STATUS:
            raise InvalidDecision(f"unknown decision {decision!r}", hint="use approve, edit, reject or respond")
        with self.store.read() as conn:  # what is decided, on which run, under which tenant policy: one read
            approval = self.runs.get_approval(approval_id, conn)
            run = self.runs.get(approval.run_id, conn)
            tenant_policy = PolicyRepo(self.store, run.tenant_id).current(conn)
        definition = WorkflowRepo(self.store, run.tenant_id).get(run.workflow_id, run.workflow_version).definition
        definition = ConnectionRepo(self.store, run.tenant_id).looked_up(definition)  # the saved engines
        edited: dict[str, Any] | None = None
        if decision == "edit":
            if content is None:
                raise InvalidDecision("an edit needs the edited content")
            wf = SecretRepo(self.store, run.tenant_id).resolved(definition, user)  # an edited write is estimated on it
            edited = registry.get(approval.step).validate_edit(wf, approval.kind, content)
        verdict = self._allowed(approval, run, definition, edited, user, role, tenant_policy)
        if decision in ("reject", "respond") and not (message or "").strip():
            raise InvalidDecision(f"{decision} needs a message", hint="say what should change")
        if decision == "respond" and approval.kind != "clarification":
            raise InvalidDecision("respond answers a clarification; use reject with a message to ask for changes")
        with self.store.write() as conn:
            current = self.runs.get_approval(approval_id, conn)
            if current.status != "pending":
                if (current.decision == decision and current.edited == edited and current.message == message
                        and current.content_hash == content_hash_seen):
                    return current  # the same decision sent twice: accepted once
                raise ApprovalConflict(f"approval {approval_id} is no longer pending (it is {current.status})")
            if current.content_hash != content_hash_seen:
                raise ApprovalConflict("the content changed since it was shown; reload and decide again",
                                       details={"content_hash": current.content_hash})
            if decision in ("approve", "edit") and verdict.approvers > 1:
                endorsers = self._endorsers(conn, current)
                if user in endorsers:
                    raise ApprovalConflict(f"{user} has approved already; this needs {verdict.approvers} distinct "
                                           "approvers", hint="ask another approver to decide")
                if len(endorsers) + 1 < verdict.approvers:  # one more yes; the draft waits for the next
                    self.runs.append(conn, current.run_id, EventType.APPROVAL_ENDORSED, {
                        "approval_id": approval_id, "draft_id": current.draft_id, "kind": current.kind,
                        "user": user, "role": role, "approvers": [*endorsers, user], "needed": verdict.approvers,
                        "rule": verdict.rule}, step=current.step)
                    AuditRepo(self.store, run.tenant_id).append(conn, user, "approval.endorse", f"run {run.id}", {
                        "approval_id": approval_id, "needed": verdict.approvers, "so_far": len(endorsers) + 1})
                    return current
            at = self.runs.record_decision(conn, approval_id, status=DECISION_STATUS[decision], decision=decision,
                                           edited=edited, message=message, user=user, role=role)
            payload: dict[str, Any] = {"approval_id": approval_id, "draft_id": current.draft_id, "kind": current.kind,
                                       "decision": decision, "content_hash": current.content_hash, "edited": edited,
                                       "message": message, "user": user, "role": role}
            if edited is not None:
                payload["edited_hash"] = content_hash(edited)
            payload["rule"] = verdict.rule
            self.runs.append(conn, current.run_id, EventType.APPROVAL_DECIDED, payload, step=current.step)
            self.runs.set_status(conn, current.run_id, "queued", only_if=("awaiting_approval",))
            audited = AuditRepo(self.store, run.tenant_id)
            record = audited.append(conn, user, f"approval.{decision}", f"run {current.run_id}", {
                "approval_id": approval_id, "kind": current.kind, "role": role, "content_hash": current.content_hash,
                "edited_hash": payload.get("edited_hash"), "message": message})
        audit.checkpoint(audited, record)  # a signed head after every decision
        return replace(current, status=DECISION_STATUS[decision], decision=decision, edited=edited, message=message,
                       decided_by=user, decided_role=role, decided_at=at)

    def _allowed(self, approval: Approval, run: Run, definition: Workflow, edited: dict[str, Any] | None,
                 user: str, role: str, tenant_policy: StoredPolicy | None = None) -> Verdict:
        """The policy's verdict on this decider; a refusal is audited, then raised naming its rule."""
        policy = policy_for(self.store, run.tenant_id, definition, tenant_policy)
        statement = statement_class(approval.kind, [approval.content, edited], definition)
        verdict = policy.decide(DecideRequest(approval.kind, statement, user, role, run.created_by))
        if not verdict.allowed:
            AuditRepo(self.store, run.tenant_id).record(user, "approval.refused", f"run {run.id}", {
                "approval_id": approval.id, "kind": approval.kind, "role": role, "rule": verdict.rule})
            who = f"role {role!r}" if verdict.rule in ("lower-roles-do-not-decide", "default-deny") else user
            raise PolicyRefused(f"{who} may not decide this approval: {verdict.reason} (rule {verdict.rule})",
                                hint="ask another approver" if verdict.rule != "lower-roles-do-not-decide"
                                else "approvals need the approver role")
        return verdict

    def _endorsers(self, conn: sa.Connection, approval: Approval) -> list[str]:
        return [e.payload["user"] for e in self.runs.events(approval.run_id, conn=conn)
                if e.type == EventType.APPROVAL_ENDORSED and e.payload.get("approval_id") == approval.id]

    def feedback(self, run_id: str, correct: bool, comment: str | None = None, user: str = "local") -> dict[str, Any]:
        """Record a user's verdict on a finished run's answer and update the SQL few-shot memory:
        a correct answer teaches its SQL (approved by a human or not); a wrong one un-teaches
        whatever the run taught."""

        run = self.runs.get(run_id)
        if run.status != "succeeded":
            raise InvalidDecision(f"run {run_id} has no answer to judge (it is {run.status})",
                                  hint="feedback is for runs that finished with an answer")
        examples = ExampleRepo(self.store, run.tenant_id)
        removed = added = 0
        if correct:
            state = fold(run_id, self.runs.events(run_id, types=FOLDED_EVENTS))
            for connection, sql in approved_pairs(state, human_only=False):
                examples.add(connection, run.question, sql, "feedback", run_id=run_id)
                added += 1
        else:
            removed = examples.forget_run(run_id)
        payload = {"correct": correct, "comment": comment, "user": user, "examples_added": added,
                   "examples_removed": removed}
        with self.store.write() as conn:
            self.runs.append(conn, run_id, EventType.RUN_FEEDBACK, payload)
            AuditRepo(self.store, run.tenant_id).append(conn, user, "run.feedback", f"run {run_id}", payload)
        return payload

    def cancel(self, run_id: str, user: str = "local") -> bool:
        with self.store.write() as conn:
            run = self.runs.get(run_id, conn)
            if run.status in TERMINAL_STATUSES:
                return False
            for a in self.runs.approvals(run_id=run_id, status="pending", conn=conn):
                self.runs.record_decision(conn, a.id, status="cancelled", decision="cancel", edited=None,
                                          message=None, user=user, role=None)
            self.runs.append(conn, run_id, EventType.RUN_CANCELLED, {"user": user})
            self.runs.set_status(conn, run_id, "cancelled", release=True)
            AuditRepo(self.store, run.tenant_id).append(conn, user, "run.cancel", f"run {run_id}")
            return True

    def expire_approvals(self, now: float | None = None) -> int:
        """Apply each overdue approval's configured outcome: reject expires the run, approve lets it go on."""
        count = 0
        for a in self.runs.expired_approvals(now or time.time()):
            approved = False
            if a.on_expiry == "approve":
                try:
                    approved = self.decide(a.id, "approve", content_hash_seen=a.content_hash, user="system:expiry",
                                           role="admin").status == "approved"
                except ApprovalConflict:
                    continue
                except PolicyRefused:  # e.g. DDL is never approved automatically: it expires instead
                    approved = False
            if not approved:
                with self.store.write() as conn:
                    if not self.runs.record_decision(conn, a.id, status="expired", decision="expire", edited=None,
                                                     message="approval expired", user="system:expiry", role=None):
                        continue
                    self.runs.append(conn, a.run_id, EventType.APPROVAL_EXPIRED, {"approval_id": a.id}, step=a.step)
                    self.runs.append(conn, a.run_id, EventType.RUN_EXPIRED, {"reason": "approval expired"})
                    self.runs.set_status(conn, a.run_id, "expired", release=True)
                    tenant = self.runs.get(a.run_id, conn).tenant_id
                    AuditRepo(self.store, tenant).append(conn, "system:expiry", "approval.expire", f"run {a.run_id}",
                                                         {"approval_id": a.id, "kind": a.kind})
            count += 1
        return count
