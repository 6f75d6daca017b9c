"""The run repository's hot statements, built once: on SQLite, building a statement costs more than
running it. Each takes its values as bound parameters; the ones run on every step, park and
resume are :class:`~hil.store.prepared.Prepared` (straight to SQLite's driver)."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa

from hil.store.prepared import Prepared
from hil.store.tables import approvals, run_events, runs

RUNNABLE = "queued"

BUMP = (runs.update().where(runs.c.id == sa.bindparam("run"))
         .values(last_seq=runs.c.last_seq + sa.bindparam("n", type_=sa.Integer)).returning(runs.c.last_seq))
BUMP_OWNED = (runs.update().where(runs.c.id == sa.bindparam("run"), runs.c.status == "running",
                                   runs.c.lease_owner == sa.bindparam("owner"))
               .values(last_seq=runs.c.last_seq + sa.bindparam("n", type_=sa.Integer)).returning(runs.c.last_seq))
INSERT_EVENT = run_events.insert()
INSERT_APPROVAL = approvals.insert()
APPROVAL = sa.select(approvals).where(approvals.c.id == sa.bindparam("approval"))
APPROVAL_OF_DRAFT = sa.select(approvals).where(approvals.c.draft_id == sa.bindparam("draft"))
DECIDE = (approvals.update().where(approvals.c.id == sa.bindparam("approval"), approvals.c.status == "pending")
           .values(status=sa.bindparam("new_status"), decision=sa.bindparam("decision_"),
                   edited=sa.bindparam("edited_", type_=sa.JSON), message=sa.bindparam("message_"),
                   decided_by=sa.bindparam("user"), decided_role=sa.bindparam("role"), decided_at=sa.bindparam("at")))
SQLITE_BUMP = "UPDATE runs SET last_seq = last_seq + :n WHERE id = :run RETURNING last_seq"
SQLITE_BUMP_OWNED = ("UPDATE runs SET last_seq = last_seq + :n WHERE id = :run AND status = 'running' "
                      "AND lease_owner = :owner RETURNING last_seq")
SQLITE_INSERT = ("INSERT INTO run_events (run_id, seq, type, ts, step, agent, payload) "
                  "VALUES (:run_id, :seq, :type, :ts, :step, :agent, :payload)")
INSERT_RUN = runs.insert()
RUN = sa.select(runs).where(runs.c.id == sa.bindparam("run"))
RELEASE = (runs.update().where(runs.c.id == sa.bindparam("run"))
            .values(status=sa.bindparam("new_status"), updated_at=sa.bindparam("at"), lease_owner=None,
                    lease_expires_at=None))
CLAIMABLE = sa.or_(runs.c.status == RUNNABLE,
                    sa.and_(runs.c.status == "running", runs.c.lease_expires_at < sa.bindparam("now")))
RUNNABLE_ANY = sa.select(runs.c.id, runs.c.status).where(CLAIMABLE).order_by(runs.c.updated_at).limit(1)
RUNNABLE_ONE = RUNNABLE_ANY.where(runs.c.id == sa.bindparam("run"))
LEASE = (runs.update().where(runs.c.id == sa.bindparam("run"))
          .values(status="running", lease_owner=sa.bindparam("owner"), lease_expires_at=sa.bindparam("expires"),
                  updated_at=sa.bindparam("now")).returning(*runs.c))
OVERDUE = sa.select(approvals).where(approvals.c.status == "pending", approvals.c.expires_at.is_not(None),
                                      approvals.c.expires_at < sa.bindparam("now"))
OWNER = sa.select(runs.c.status, runs.c.lease_owner).where(runs.c.id == sa.bindparam("id"))
EVENTS = (sa.select(run_events).where(run_events.c.run_id == sa.bindparam("id"),
                                       run_events.c.seq > sa.bindparam("after")).order_by(run_events.c.seq))
APPROVAL_IN_TENANT = (sa.select(approvals).join(runs, runs.c.id == approvals.c.run_id)
                      .where(runs.c.tenant_id == sa.bindparam("tenant"), approvals.c.id == sa.bindparam("approval")))
RUN_IN_TENANT = RUN.where(runs.c.tenant_id == sa.bindparam("tenant"))


@lru_cache(maxsize=16)
def events_of(types: tuple[str, ...]) -> Prepared:
    """A run's events of these types (the folded ones, mostly): one prepared statement per set."""
    return Prepared(EVENTS.where(run_events.c.type.in_([sa.literal(t) for t in types])))


@lru_cache(maxsize=16)
def status_if(only_if: tuple[str, ...]) -> Prepared:
    """Set a run's status only when it is in one of ``only_if`` (a decision requeues a parked run)."""
    return Prepared(runs.update().where(runs.c.id == sa.bindparam("run"),
                                        runs.c.status.in_([sa.literal(s) for s in only_if]))
                    .values(status=sa.bindparam("new_status"), updated_at=sa.bindparam("at")))


# prepared last: the statements above are also built on (RUNNABLE_ONE on RUNNABLE_ANY, and so on)
(P_INSERT_RUN, P_RUN, P_RUN_IN_TENANT, P_RELEASE, P_RUNNABLE_ANY, P_RUNNABLE_ONE, P_LEASE, P_OWNER, P_EVENTS,
 P_APPROVAL_OF_DRAFT, P_INSERT_APPROVAL, P_APPROVAL, P_APPROVAL_IN_TENANT, P_DECIDE) = map(Prepared, (
    INSERT_RUN, RUN, RUN_IN_TENANT, RELEASE, RUNNABLE_ANY, RUNNABLE_ONE, LEASE, OWNER, EVENTS,
    APPROVAL_OF_DRAFT, INSERT_APPROVAL, APPROVAL, APPROVAL_IN_TENANT, DECIDE))
