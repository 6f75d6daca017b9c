"""The step runner: drives one leased run from its last finished step until it finishes, fails
or parks on an approval. Everything it learns and does is appended to the run's event log, so a
run can be resumed by any worker from the log alone."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from hil import datadirs, dbhosts, settings
from hil.agents import registry
from hil.agents.base import Agent, Draft, StepContext
from hil.agents.sql.fewshot import recall_from
from hil.engine.driver import drive_step
from hil.engine.gating import gate_draft, policy_for
from hil.engine.late_write import LateWrite
from hil.engine.learning import approved_pairs
from hil.engine.projections import thread_turn
from hil.engine.read_ahead import FINAL_STEPS, ReadAhead, upcoming
from hil.engine.state import FOLDED_EVENTS, DraftState, RunState, StepState, fold
from hil.errors import HilError, IdempotencyConflict
from hil.events import EventType
from hil.hashing import content_hash
from hil.knowledge.retrieval import Retriever
from hil.models.llm import LLM
from hil.policy import mcp_access
from hil.policy.document import InForce
from hil.store.audit_repo import AuditRepo
from hil.store.auth_repo import AuthRepo
from hil.store.db import Store
from hil.store.example_repo import ExampleRepo
from hil.store.policy_repo import PolicyRepo, StoredPolicy
from hil.store.run_repo import NewEvent, Run, RunRepo
from hil.store.scoped import ALL_TENANTS
from hil.store.secret_repo import SecretRepo
from hil.store.workflow_repo import StoredWorkflow, WorkflowRepo

AUDITED_EVENTS = (EventType.SQL_EXECUTED, EventType.SQL_WRITE_EXECUTED, EventType.TOOL_CALLED)
log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """The run was cancelled, expired or leased by another worker: stop quietly."""


class Parked(Exception):
    """The run waits for a human; the worker lets go of it."""


class StepRunner:
    def __init__(self, store: Store, worker_id: str, llm_factory: Callable[[StoredWorkflow], LLM],
                 restricted: bool = False):
        self.store = store
        self.restricted = restricted  # files must lie in the run's tenant's data roots (server with auth)
        self.repo = RunRepo(store, ALL_TENANTS)  # every tenant's runs: what a tenant sees is scoped by the run's tenant
        self.workflows = WorkflowRepo(store, ALL_TENANTS)
        self.worker_id = worker_id
        self.llm_factory = llm_factory
        self._policies: dict[str, InForce] = {}  # run id -> the policy it is governed by, while it is driven
        # run id -> events written with the run's next write (a step's end goes with the next step's
        # start; a step's start with its first event, or by the timer when it is not instant)
        self._pending: dict[str, list[NewEvent]] = {}
        self._pending_lock = threading.Lock()  # the timer writes from its own thread
        self.late = LateWrite(self._flush)
        self._tenants: dict[str, str] = {}  # run id -> its tenant, while it is driven
        self.reading = ReadAhead()  # the model reads the next prompt while a person decides

    # -- event helpers (every append checks that this worker still owns the run) --
    def _emit(self, run_id: str, type: str, payload: dict[str, Any], step: str | None = None,
              agent: str | None = None) -> None:
        """Append an event now, with whatever was deferred before it, in one transaction."""
        self._defer(run_id, type, payload, step, agent)
        self._flush(run_id)

    def _defer(self, run_id: str, type: str, payload: dict[str, Any], step: str | None = None,
               agent: str | None = None) -> None:
        """Write an event with the run's next write: used where the next write follows at once."""
        with self._pending_lock:
            self._pending.setdefault(run_id, []).append((type, payload, step, agent))

    def _flush(self, run_id: str) -> None:
        if self._pending.get(run_id):
            with self.store.write(durable=False) as conn:  # progress: synced with the run's next milestone
                self._append(conn, run_id)

    def _append(self, conn: sa.Connection, run_id: str, *more: NewEvent) -> None:
        """Append what is deferred and ``more`` in the caller's transaction, while this worker owns the run."""
        with self._pending_lock:
            items = self._pending.pop(run_id, []) + list(more)
        self.late.disarm(run_id)
        if not items:
            if not self.repo.owns(conn, run_id, self.worker_id):
                raise LeaseLost(run_id)
            return
        if self.repo.append_many(conn, run_id, items, owner=self.worker_id) is None:
            raise LeaseLost(run_id)
        for type, payload, _step, _agent in items:
            if type in AUDITED_EVENTS:  # what ran against a database or a tool is audited with its event
                subject = payload.get("connection") or f"{payload.get('server')}/{payload.get('tool')}"
                AuditRepo(self.store, self._tenants[run_id]).append(conn, f"run:{run_id}", str(type), str(subject),
                                                                    _audited(payload))

    def _emitter(self, run_id: str, step: str) -> Callable[[str, dict[str, Any]], None]:
        def emit(type: str, payload: dict[str, Any]) -> None:
            self._emit(run_id, type, payload, step=step, agent=step)
        return emit

    def _once(self, run_id: str, step: str) -> Callable[[str, Callable[[], Any]], Any]:
        def once(key: str, action: Callable[[], Any]) -> Any:
            full = f"{run_id}:{step}:{key}"
            with self.store.write() as conn:
                status, result = self.repo.begin_action(conn, full, run_id)
            if status == "done":
                return result
            if status == "started":
                raise IdempotencyConflict(f"action {key!r} started before an interruption and its outcome is "
                                          "unknown; it will not run twice", hint="check the target, then re-ask")
            result = action()
            with self.store.write() as conn:
                self.repo.finish_action(conn, full, result)
            return result
        return once

    # -- the run --
    def read(self, conn: sa.Connection, run: Run) -> tuple[RunState, StoredPolicy]:
        """What driving a run starts from: its state folded from the log (not deltas or results)
        and its tenant's policy; the worker reads it in the transaction that leases the run."""
        return (fold(run.id, self.repo.events(run.id, conn=conn, types=FOLDED_EVENTS)),
                PolicyRepo(self.store, run.tenant_id).current(conn))

    def execute(self, run_id: str, recovered: bool = False, cancelled: threading.Event | None = None,
                run: Run | None = None, loaded: tuple[RunState, StoredPolicy] | None = None) -> None:
        """Drive the run (``run``: its row as the lease returned it, ``loaded``: what :meth:`read`
        read with it); ``cancelled`` is set by the lease keeper when the run is cancelled or taken
        over, so a long query can be stopped instead of running to its timeout."""
        cancelled = cancelled or threading.Event()
        run = run or self.repo.get(run_id)
        stored = self.workflows.get(run.workflow_id, run.workflow_version)  # parsed once per process
        if loaded is None:
            with self.store.read() as conn:
                loaded = self.read(conn, run)
        state, tenant_policy = loaded
        self._tenants[run_id] = run.tenant_id
        examples, knowledge = ExampleRepo(self.store, run.tenant_id), Retriever(self.store, run.tenant_id)
        try:
            self._defer(run_id, EventType.RUN_RESUMED if state.started else EventType.RUN_STARTED,
                        {"worker": self.worker_id, "recovered": recovered})
            # references (secret://, env://) become values here, in memory only: never in an event
            definition = SecretRepo(self.store, run.tenant_id).resolved(stored.definition, f"run:{run_id}")
            policy = policy_for(self.store, run.tenant_id, definition, tenant_policy)
            definition = definition.model_copy(update={"row_limit": policy.row_limit})  # capped by the tenant
            self._policies[run_id] = replace(policy, workflow=definition)
            reads_unattended = not policy.gate("sql_read", "read")[1].needs_approval
            dbhosts.check(definition.dsns(), self.restricted)
            mcp_access.check(definition, self.restricted)  # the settings may have changed since it was stored
            if self.restricted:  # checked again where the files are opened: a symlink may have moved
                datadirs.check(definition.files(), AuthRepo(self.store).tenant_name(run.tenant_id))
            history = self._thread_history(run)
            llm_cache: list[LLM] = []

            def llm() -> LLM:
                if not llm_cache:
                    llm_cache.append(self.llm_factory(stored))
                return llm_cache[0]

            outputs: dict[str, dict[str, Any]] = {}

            def context(name: str, purpose: str, notes: dict[str, Any], live: bool = True) -> StepContext:
                # a context that is not live (to read ahead) emits nothing and runs no action
                return StepContext(run_id=run_id, question=run.question, workflow=definition, step=name,
                                   purpose=purpose, outputs=dict(outputs) if not live else outputs, history=history,
                                   llm_factory=llm, emit=self._emitter(run_id, name) if live else _silent,
                                   once=self._once(run_id, name) if live else _no_action,
                                   recall=recall_from(examples.entries), retrieve=knowledge.retrieve, notes=notes,
                                   cancelled=cancelled, reads_unattended=reads_unattended)

            index = 0
            while True:
                names = ["planner"] + [s["agent"] for s in state.plan()] + list(FINAL_STEPS)
                if index >= len(names):
                    break
                name = names[index]
                purpose = next((s["purpose"] for s in state.plan() if s["agent"] == name), "")
                st = state.step(name)
                if not st.finished:
                    ctx = context(name, purpose, {"failures": [d.failed_with for d in st.drafts if d.failed_with]})
                    if not st.started:  # with the previous step's end, and this one's first write (late_write)
                        self._defer(run_id, EventType.STEP_STARTED, {"index": index, "purpose": purpose},
                                    step=name, agent=name)
                        self.late.arm(run_id)
                        st.started = True
                    try:
                        output = self._drive_step(run_id, stored, registry.get(name), st, ctx)
                    finally:  # whatever the step held (an agent's database connection) ends with it
                        ctx.close()
                    self._defer(run_id, EventType.STEP_FINISHED, {"output": output}, step=name, agent=name)
                    st.finished, st.output = True, output
                outputs[name] = st.output or {}
                index += 1
            self._finish(run, state, outputs.get("responder", {}))
        except Parked:
            log.info("run %s waits for a human", run_id)
            if st.drafts:
                self._read_ahead(run_id, state, name, lambda step, purpose: context(step, purpose, {}, live=False),
                                 as_before=st.drafts[-1].repeats_approved)
        except LeaseLost:
            log.info("run %s was cancelled, expired or taken over; this worker lets go", run_id)
        except HilError as err:
            log.warning("run %s failed: %s: %s", run_id, err.code, err.message)
            self._fail(run_id, state, err.code, err.public_message)
        except Exception as err:
            log.exception("run %s failed unexpectedly", run_id)
            self._fail(run_id, state, "internal_error", f"{type(err).__name__}: {err}")
        finally:
            self._policies.pop(run_id, None)
            with self._pending_lock:
                self._pending.pop(run_id, None)
            self.late.disarm(run_id)
            self._tenants.pop(run_id, None)

    def _read_ahead(self, run_id: str, state: RunState, parked_at: str,
                    context: Callable[[str, str], StepContext], as_before: bool = False) -> None:
        """While a person decides, the model reads the next model step's prompt (:mod:`read_ahead`)."""
        if not settings.get_int("HIL_MODEL_READ_AHEAD"):
            return
        # only agents that have a prompt to give: no thread is started where none would read
        steps = [(step, purpose) for step, purpose in upcoming(state, parked_at)
                 if type(registry.get(step)).read_ahead is not Agent.read_ahead]
        if not steps:
            return

        def read() -> None:
            for step, purpose in steps:
                ctx = context(step, purpose)
                try:
                    prompt = registry.get(step).read_ahead(ctx)
                finally:  # the step's database connection is not kept while the model reads
                    ctx.close()
                if prompt is not None:
                    ctx.llm.read_ahead(prompt.purpose, prompt.system, prompt.text, as_before=as_before)
                    return

        self.reading.start(read, f"read-ahead-{run_id[:8]}")

    def _drive_step(self, run_id: str, stored: StoredWorkflow, agent: Agent, st: StepState,
                    ctx: StepContext) -> dict[str, Any]:
        return drive_step(agent, st, ctx, _RunHooks(self, run_id, stored), settings.get_int("HIL_MAX_DRAFTS"))

    def _retried(self, run_id: str, st: StepState, d: DraftState, message: str) -> None:
        self._emit(run_id, EventType.STEP_RETRIED, {"reason": "execution_error", "error": message,
                                                    "draft_id": d.draft_id}, step=st.name, agent=st.name)

    def _record_draft(self, run_id: str, st: StepState, draft: Draft, attempt: int) -> DraftState:
        request, verdict = gate_draft(self._policies[run_id], st.name, draft)  # the policy decides, not the agent
        d = DraftState(str(uuid.uuid4()), draft.kind, draft.content, verdict.needs_approval,
                       basis=list(draft.extra.get("examples") or []), repeats_approved=draft.repeats_approved)
        self._defer(run_id, draft.event_type, {"draft_id": d.draft_id, "kind": draft.kind, "content": draft.content,
                                               "summary": draft.summary, "needs_approval": verdict.needs_approval,
                                               "attempt": attempt, **draft.extra}, step=st.name, agent=st.name)
        self._defer(run_id, EventType.POLICY_DECIDED, {"draft_id": d.draft_id, **verdict.payload(request)},
                    step=st.name, agent=st.name)
        if not verdict.needs_approval:  # recorded before it runs; a draft that waits is written with its approval
            self._flush(run_id)
        st.drafts.append(d)
        return d

    def _park(self, run_id: str, stored: StoredWorkflow, st: StepState, d: DraftState) -> None:
        policy = stored.definition.approval
        expiry = self._policies[run_id].expire_after_seconds  # the workflow's, else the tenant's
        expires = time.time() + expiry if expiry else None
        with self.store.write() as conn:  # the draft, its approval and the parked status: one transaction
            approval = self.repo.create_approval(conn, run_id=run_id, step=st.name, kind=d.kind, draft_id=d.draft_id,
                                                 content=d.content, content_hash=content_hash(d.content),
                                                 expires_at=expires, on_expiry=policy.on_expiry)
            requested: list[NewEvent] = []
            if d.approval_id is None:
                requested.append((EventType.APPROVAL_REQUESTED, {
                    "approval_id": approval.id, "draft_id": d.draft_id, "kind": d.kind, "content": d.content,
                    "content_hash": approval.content_hash, "expires_at": expires,
                    "decisions": ["approve", "edit", "reject"] + (["respond"] if d.kind == "clarification" else []),
                    "examples": d.basis}, st.name, st.name))
            self._append(conn, run_id, *requested)  # raises LeaseLost (and rolls back) when the run is not ours
            d.approval_id = approval.id
            self.repo.set_status(conn, run_id, "awaiting_approval", release=True)
        raise Parked(run_id)

    def _finish(self, run: Run, state: RunState, answer: dict[str, Any]) -> None:
        with self.store.write() as conn:  # the last step's end, the run's end and its status: one transaction
            self._append(conn, run.id, (EventType.RUN_FINISHED, {"status": "succeeded", "answer": answer.get("text")},
                                        None, None))
            self.repo.set_status(conn, run.id, "succeeded", release=True)
        self._learn(run, state)

    def _learn(self, run: Run, state: RunState) -> None:
        """Remember the SQL a human approved, for the SQL agent's few-shot memory (from the state
        this worker holds: the log is not read again)."""
        for connection, sql in approved_pairs(state):
            ExampleRepo(self.store, run.tenant_id).add(connection, run.question, sql, "approved", run_id=run.id)

    def _fail(self, run_id: str, state: RunState, code: str, message: str) -> None:
        step = next((n for n, s in state.steps.items() if s.started and not s.finished), None)
        ended: list[NewEvent] = [(EventType.STEP_FAILED, {"error": message, "code": code}, step, step)] if step else []
        ended.append((EventType.RUN_FAILED, {"error": message, "code": code}, None, None))
        try:
            with self.store.write() as conn:
                self._append(conn, run_id, *ended)
                self.repo.set_status(conn, run_id, "failed", release=True)
        except LeaseLost:
            return

    def _thread_history(self, run: Run) -> list[dict[str, Any]]:
        """The earlier turns of the run's thread, within its own tenant only."""
        if not run.thread_id:
            return []
        history = []
        earlier = RunRepo(self.store, run.tenant_id).list_runs(thread_id=run.thread_id, limit=20)
        for r in sorted(earlier, key=lambda r: r.created_at):
            if r.created_at >= run.created_at:
                continue
            history.append(thread_turn(r, self.repo.events(r.id)))
        return history


class _RunHooks:
    """The runner's side of the step driver: every draft and retry is an event; a draft that needs
    a human parks the run."""

    def __init__(self, runner: StepRunner, run_id: str, stored: StoredWorkflow):
        self.runner, self.run_id, self.stored = runner, run_id, stored

    def record(self, st: StepState, draft: Draft, attempt: int) -> DraftState:
        return self.runner._record_draft(self.run_id, st, draft, attempt)

    def await_decision(self, st: StepState, d: DraftState) -> None:
        self.runner._park(self.run_id, self.stored, st, d)

    def retried(self, st: StepState, d: DraftState, message: str) -> None:
        self.runner._retried(self.run_id, st, d, message)


def _silent(_type: str, _payload: dict[str, Any]) -> None:
    """Reading ahead emits nothing."""


def _no_action(key: str, _action: Callable[[], Any]) -> Any:
    raise RuntimeError(f"reading ahead must not run an action ({key})")


def _audited(payload: dict[str, Any]) -> dict[str, Any]:
    """The audit keeps what ran and how much it touched, not the rows it returned."""
    return {k: payload.get(k) for k in ("sql", "row_count", "rows_affected", "verb", "elapsed_ms", "arguments",
                                        "read_only") if k in payload}
