"""Runs, their append-only event log, approvals and idempotency keys."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from hil.errors import NotFound
from hil.events import Event
from hil.store import run_statements as sql
from hil.store.db import compact_json
from hil.store.scoped import TenantScoped
from hil.store.tables import approvals, idempotency_keys, run_events, runs

RUNNABLE = sql.RUNNABLE
T = TypeVar("T")
ACTIVE_STATUSES = ("queued", "running", "awaiting_approval")
TERMINAL_STATUSES = ("succeeded", "failed", "cancelled", "expired")


@dataclass(frozen=True)
class Run:
    id: str
    workflow_id: str
    workflow_version: int
    tenant_id: str
    question: str
    status: str
    thread_id: str | None
    created_by: str | None
    created_at: float
    updated_at: float
    last_seq: int
    lease_owner: str | None
    lease_expires_at: float | None


@dataclass(frozen=True)
class Approval:
    id: str
    run_id: str
    step: str
    kind: str
    draft_id: str
    status: str
    content: dict[str, Any]
    content_hash: str
    created_at: float
    expires_at: float | None
    on_expiry: str
    decision: str | None
    edited: dict[str, Any] | None
    message: str | None
    decided_by: str | None
    decided_role: str | None
    decided_at: float | None


def _run(row: Any) -> Run:
    return Run(**{f: getattr(row, f) for f in Run.__dataclass_fields__})


def _approval(row: Any) -> Approval:
    return Approval(**{f: getattr(row, f) for f in Approval.__dataclass_fields__})


_EVENT_IDS = uuid.UUID("6f1c1f0e-5b1e-4c55-9a57-0d6a9b3e6e11")


def event_id(run_id: str, seq: int) -> str:
    """An event's globally unique id: a name-based UUID of its run and its place in the run's log."""
    return str(uuid.uuid5(_EVENT_IDS, f"{run_id}/{seq}"))


def _event(row: Any) -> Event:  # rows the store wrote: built without validating them again
    return Event.model_construct(id=event_id(row.run_id, row.seq), run_id=row.run_id, seq=row.seq, type=row.type,
                                 ts=datetime.fromtimestamp(row.ts, UTC), step=row.step, agent=row.agent,
                                 payload=row.payload or {})


# (type, payload, step, agent) of an event to append
NewEvent = tuple[str, dict[str, Any], str | None, str | None]

@dataclass(frozen=True)
class RunFilter:
    """What `GET /runs` and `hil runs list` may filter on; ``before`` is a pagination cursor."""

    workflow_id: str | None = None
    status: str | None = None
    user: str | None = None
    since: float | None = None
    until: float | None = None
    text: str | None = None
    thread_id: str | None = None
    before: tuple[float, str] | None = None  # (created_at, id) of the last run already seen


class RunRepo(TenantScoped):
    """Runs of one tenant; ``ALL_TENANTS`` sees every tenant's runs (workers, expiry, the event hub)."""

    cross_tenant = True

    def _mine(self) -> sa.ColumnElement[bool]:
        return self.mine(runs.c.tenant_id)

    # -- runs --
    def create(self, conn: sa.Connection, *, workflow_id: str, workflow_version: int, question: str,
               thread_id: str | None, created_by: str | None, tenant: str) -> str:
        run_id = str(uuid.uuid4())
        now = time.time()
        sql.P_INSERT_RUN.on(conn, {
            "id": run_id, "workflow_id": workflow_id, "workflow_version": workflow_version, "tenant_id": tenant,
            "question": question, "status": RUNNABLE, "thread_id": thread_id, "created_by": created_by,
            "created_at": now, "updated_at": now, "last_seq": 0, "lease_owner": None, "lease_expires_at": None})
        return run_id

    def get(self, run_id: str, conn: sa.Connection | None = None) -> Run:
        if conn is None:
            with self.store.read() as c:
                return self.get(run_id, c)
        q = sql.P_RUN if self.tenant is None else sql.P_RUN_IN_TENANT
        row = q.on(conn, {"run": run_id, "tenant": self.tenant}).first()
        if row is None:
            raise NotFound(f"unknown run {run_id!r}", hint="list runs with `hil runs list`")
        return _run(row)

    def find(self, prefix: str) -> Run:
        """A run by id or unambiguous id prefix (as printed by `hil runs list`)."""
        with self.store.read() as conn:
            rows = conn.execute(sa.select(runs).where(runs.c.id.like(prefix.replace("%", "") + "%"), self._mine())
                                .limit(2)).all()
        if len(rows) != 1:
            raise NotFound(f"{'ambiguous' if rows else 'unknown'} run id {prefix!r}",
                           hint="list runs with `hil runs list`")
        return _run(rows[0])

    def list_runs(self, *, limit: int = 50, status: str | None = None, thread_id: str | None = None,
                  where: RunFilter | None = None) -> list[Run]:
        """Newest first; ties on ``created_at`` are broken by id so a cursor never skips a run."""
        f = where or RunFilter()
        q = sa.select(runs).where(self._mine()).order_by(runs.c.created_at.desc(), runs.c.id.desc()).limit(limit)
        status, thread_id = status or f.status, thread_id or f.thread_id
        if status:
            q = q.where(runs.c.status == status)
        if thread_id:
            q = q.where(runs.c.thread_id == thread_id)
        if f.workflow_id:
            q = q.where(runs.c.workflow_id == f.workflow_id)
        if f.user:
            q = q.where(runs.c.created_by == f.user)
        if f.since is not None:
            q = q.where(runs.c.created_at >= f.since)
        if f.until is not None:
            q = q.where(runs.c.created_at < f.until)
        if f.text:
            pattern = "%" + f.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            q = q.where(sa.func.lower(runs.c.question).like(pattern, escape="\\"))
        if f.before is not None:
            at, run_id = f.before
            q = q.where(sa.or_(runs.c.created_at < at, sa.and_(runs.c.created_at == at, runs.c.id < run_id)))
        with self.store.read() as conn:
            return [_run(r) for r in conn.execute(q)]

    def count_by_status(self) -> dict[str, int]:
        with self.store.read() as conn:
            rows = conn.execute(sa.select(runs.c.status, sa.func.count()).where(self._mine())
                                .group_by(runs.c.status)).all()
        return {r[0]: r[1] for r in rows}

    def set_status(self, conn: sa.Connection, run_id: str, status: str, *, release: bool = False,
                   only_if: tuple[str, ...] | None = None) -> bool:
        now = time.time()
        if release and not only_if:
            return bool(sql.P_RELEASE.on(conn, {"run": run_id, "new_status": status, "at": now}).rowcount == 1)
        if only_if and not release:
            changed = sql.status_if(tuple(only_if)).on(conn, {"run": run_id, "new_status": status, "at": now})
            return bool(changed.rowcount == 1)
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if release:
            values.update(lease_owner=None, lease_expires_at=None)
        q = runs.update().where(runs.c.id == run_id).values(**values)
        if only_if:
            q = q.where(runs.c.status.in_(only_if))
        return conn.execute(q).rowcount == 1

    def claim(self, worker_id: str, lease_seconds: float, run_id: str | None = None) -> tuple[Run, bool] | None:
        """Lease one runnable run: queued, or running with an expired lease (its worker died).

        Returns the run and whether it is a recovery of an expired lease."""
        claimed = self.claim_and_read(worker_id, lease_seconds, run_id, lambda _conn, _run: None)
        return None if claimed is None else claimed[:2]

    def claim_and_read(self, worker_id: str, lease_seconds: float, run_id: str | None,
                       read: Callable[[sa.Connection, Run], T]) -> tuple[Run, bool, T] | None:
        """:meth:`claim`, and ``read`` what the worker needs of the leased run in the same
        transaction (its log and policy: one round trip, not two)."""
        now = time.time()
        one = run_id is not None
        params = {"now": now, "run": run_id}
        if not one:  # a named run is expected to be runnable: no need to look first
            with self.store.read() as conn:
                # Look before taking the write lock: an idle worker must not write (every write wakes
                # the other workers, which would then write in turn: a busy loop on an idle server).
                if sql.P_RUNNABLE_ANY.on(conn, params).first() is None:
                    return None
        with self.store.write(durable=False) as conn:  # a lease lost to a power loss is taken again
            q = sql.P_RUNNABLE_ONE if one else sql.P_RUNNABLE_ANY
            if self.store.is_sqlite:
                row = q.on(conn, params).first()
            else:
                row = conn.execute(q.stmt.with_for_update(skip_locked=True), params).first()
            if row is None:
                return None
            leased = _run(sql.P_LEASE.on(conn, {"run": row.id, "owner": worker_id, "expires": now + lease_seconds,
                                                "now": now}).one())
            return leased, row.status == "running", read(conn, leased)

    def renew(self, run_id: str, worker_id: str, lease_seconds: float) -> bool:
        with self.store.write(durable=False) as conn:
            return conn.execute(runs.update().where(
                runs.c.id == run_id, runs.c.lease_owner == worker_id, runs.c.status == "running"
            ).values(lease_expires_at=time.time() + lease_seconds)).rowcount == 1

    def owns(self, conn: sa.Connection, run_id: str, worker_id: str) -> bool:
        row = sql.P_OWNER.on(conn, {"id": run_id}).first()
        return row is not None and row.status == "running" and row.lease_owner == worker_id

    # -- events --
    def append(self, conn: sa.Connection, run_id: str, type: str, payload: dict[str, Any] | None = None, *,
               step: str | None = None, agent: str | None = None) -> Event:
        """Append one event; the row lock taken by the UPDATE keeps ``seq`` gap-free per run."""
        seq = self.append_many(conn, run_id, [(type, payload or {}, step, agent)])
        assert seq is not None  # no owner condition: the run row is there or the UPDATE raises
        return Event.model_construct(id=event_id(run_id, seq), run_id=run_id, seq=seq, type=str(type),
                                     ts=datetime.now(UTC), step=step, agent=agent, payload=payload or {})

    def append_many(self, conn: sa.Connection, run_id: str, items: list[NewEvent],
                    owner: str | None = None) -> int | None:
        """Append events in order with one seq bump and one multi-row insert; the first one's seq.
        With ``owner``, only while that worker holds the run's lease (status running): None, and
        nothing written, when it does not. The UPDATE's row lock keeps ``seq`` gap-free per run on
        both engines."""
        ts = time.time()
        params = {"run": run_id, "n": len(items), "owner": owner}
        if self.store.is_sqlite:  # every step of every run comes here: straight to the driver, same transaction
            cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            found = cur.execute(sql.SQLITE_BUMP if owner is None else sql.SQLITE_BUMP_OWNED, params).fetchone()
            last = found[0] if found else None
        else:
            last = conn.execute(sql.BUMP if owner is None else sql.BUMP_OWNED, params).scalar()
        if last is None:
            if owner is None:
                raise NotFound(f"unknown run {run_id!r}")
            return None
        first = int(last) - len(items) + 1
        rows = [{"run_id": run_id, "seq": first + n, "type": str(t), "ts": ts, "step": step, "agent": agent,
                 "payload": p} for n, (t, p, step, agent) in enumerate(items)]
        if self.store.is_sqlite:
            cur.executemany(sql.SQLITE_INSERT, [{**r, "payload": compact_json(r["payload"])} for r in rows])
        else:
            conn.execute(sql.INSERT_EVENT, rows)
        return first

    def events(self, run_id: str, after: int = 0, conn: sa.Connection | None = None,
               types: tuple[str, ...] | None = None) -> list[Event]:
        """The run's events after seq ``after``, in order; only those of ``types`` when given."""
        if conn is None:
            with self.store.read() as c:
                return self.events(run_id, after, c, types)
        if types is None:
            rows = sql.P_EVENTS.on(conn, {"id": run_id, "after": after}).all()
        else:
            rows = sql.events_of(tuple(types)).on(conn, {"id": run_id, "after": after}).all()
        return [_event(r) for r in rows]

    def new_events(self, cursors: dict[str, int], batch: int = 400) -> dict[str, list[Event]]:
        """For each run, its events after the given seq: first the runs that moved (one cheap IN
        query), then their new events, ``batch`` runs per query."""
        found: dict[str, list[Event]] = {r: [] for r in cursors}
        with self.store.read() as conn:
            ids = list(cursors)
            moved: list[tuple[str, int]] = []
            for i in range(0, len(ids), batch):
                rows = conn.execute(sa.select(runs.c.id, runs.c.last_seq).where(runs.c.id.in_(ids[i:i + batch]),
                                                                                 self._mine()))
                moved += [(r.id, cursors[r.id]) for r in rows if r.last_seq > cursors[r.id]]
            for i in range(0, len(moved), batch):
                cond = sa.or_(*[sa.and_(run_events.c.run_id == r, run_events.c.seq > c) for r, c in moved[i:i + batch]])
                for row in conn.execute(sa.select(run_events).where(cond)
                                        .order_by(run_events.c.run_id, run_events.c.seq)):
                    found[row.run_id].append(_event(row))
        return found

    def events_since(self, ts: float) -> list[Event]:
        """Every event of the tenant's runs at or after ``ts``, in time order."""
        q = (sa.select(run_events).join(runs, runs.c.id == run_events.c.run_id)
             .where(self._mine(), run_events.c.ts >= ts)
             .order_by(run_events.c.ts, run_events.c.run_id, run_events.c.seq))
        with self.store.read() as conn:
            return [_event(row) for row in conn.execute(q)]

    # -- approvals --
    def create_approval(self, conn: sa.Connection, *, run_id: str, step: str, kind: str, draft_id: str,
                        content: dict[str, Any], content_hash: str, expires_at: float | None,
                        on_expiry: str) -> Approval:
        existing = sql.P_APPROVAL_OF_DRAFT.on(conn, {"draft": draft_id}).first()
        if existing is not None:
            return _approval(existing)
        made = Approval(id=str(uuid.uuid4()), run_id=run_id, step=step, kind=kind, draft_id=draft_id, status="pending",
                        content=content, content_hash=content_hash, created_at=time.time(), expires_at=expires_at,
                        on_expiry=on_expiry, decision=None, edited=None, message=None, decided_by=None,
                        decided_role=None, decided_at=None)
        sql.P_INSERT_APPROVAL.on(conn, made.__dict__)
        return made

    def get_approval(self, approval_id: str, conn: sa.Connection | None = None) -> Approval:
        if conn is None:
            with self.store.read() as c:
                return self.get_approval(approval_id, c)
        q = sql.P_APPROVAL if self.tenant is None else sql.P_APPROVAL_IN_TENANT
        row = q.on(conn, {"approval": approval_id, "tenant": self.tenant}).first()
        if row is None:
            raise NotFound(f"unknown approval {approval_id!r}")
        return _approval(row)

    def _approvals(self) -> sa.Select[Any]:
        q = sa.select(approvals)
        if self.tenant is not None:
            q = q.join(runs, runs.c.id == approvals.c.run_id).where(runs.c.tenant_id == self.tenant)
        return q

    def approvals(self, *, run_id: str | None = None, status: str | None = None, kind: str | None = None,
                  workflow_id: str | None = None, conn: sa.Connection | None = None) -> list[Approval]:
        if conn is None:
            with self.store.read() as c:
                return self.approvals(run_id=run_id, status=status, kind=kind, workflow_id=workflow_id, conn=c)
        q = self._approvals().order_by(approvals.c.created_at)
        if run_id:
            q = q.where(approvals.c.run_id == run_id)
        if status:
            q = q.where(approvals.c.status == status)
        if kind:
            q = q.where(approvals.c.kind == kind)
        if workflow_id:
            q = q.where(approvals.c.run_id.in_(sa.select(runs.c.id).where(runs.c.workflow_id == workflow_id)))
        return [_approval(r) for r in conn.execute(q)]

    def record_decision(self, conn: sa.Connection, approval_id: str, *, status: str, decision: str,
                        edited: dict[str, Any] | None, message: str | None, user: str | None,
                        role: str | None) -> float | None:
        """Decide a pending approval; the time it was decided, or None when it was not pending."""
        at = time.time()
        done = sql.P_DECIDE.on(conn, {"approval": approval_id, "new_status": status, "decision_": decision,
                                      "edited_": edited, "message_": message, "user": user, "role": role,
                                      "at": at}).rowcount == 1
        return at if done else None

    def expired_approvals(self, now: float) -> list[Approval]:
        with self.store.read() as conn:
            rows = conn.execute(sql.OVERDUE, {"now": now}).all()
        return [_approval(r) for r in rows]

    # -- idempotency keys --
    def begin_action(self, conn: sa.Connection, key: str, run_id: str) -> tuple[str, Any]:
        """Record that an action is about to run. Returns (status, result) of an earlier record,
        or ("new", None) when this is the first time."""
        row = conn.execute(sa.select(idempotency_keys).where(idempotency_keys.c.key == key)).first()
        if row is not None:
            return row.status, row.result
        conn.execute(idempotency_keys.insert().values(key=key, run_id=run_id, status="started",
                                                      created_at=time.time()))
        return "new", None

    def finish_action(self, conn: sa.Connection, key: str, result: Any) -> None:
        conn.execute(idempotency_keys.update().where(idempotency_keys.c.key == key)
                     .values(status="done", result=result))
