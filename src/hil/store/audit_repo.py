"""The audit log of one tenant: appended in the transaction of the action it records, never
updated or deleted by the code. The chain's maths is hil.hashing; verification and checkpoints
are hil.policy.audit."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from hil.hashing import GENESIS, chain_hash
from hil.store.prepared import Prepared
from hil.store.scoped import TenantScoped
from hil.store.tables import audit_heads, audit_log


@dataclass(frozen=True)
class AuditRecord:
    tenant_id: str
    seq: int
    ts: float
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    def chained(self) -> dict[str, Any]:
        """What the hash covers: everything but the hashes themselves."""
        return {"tenant_id": self.tenant_id, "seq": self.seq, "ts": self.ts, "actor": self.actor,
                "action": self.action, "subject": self.subject, "payload": self.payload}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _record(row: Any) -> AuditRecord:
    return AuditRecord(**{f: getattr(row, f) for f in AuditRecord.__dataclass_fields__})


_BUMP = Prepared(audit_heads.update().where(audit_heads.c.tenant_id == sa.bindparam("tenant"))
         .values(size=audit_heads.c.size + 1).returning(audit_heads.c.size, audit_heads.c.head))
_HEAD = Prepared(audit_heads.update().where(audit_heads.c.tenant_id == sa.bindparam("tenant"))
                 .values(head=sa.bindparam("digest")))
_INSERT = Prepared(audit_log.insert())  # with every decision and every query a run executes


class AuditRepo(TenantScoped):
    def append(self, conn: sa.Connection, actor: str, action: str, subject: str,
               payload: dict[str, Any] | None = None) -> AuditRecord:
        """Append one record inside the caller's write transaction. The head row is updated first,
        so its row lock orders concurrent appends of one tenant (one seq each, no gaps)."""
        tenant = self.owner
        bumped = _BUMP.on(conn, {"tenant": tenant}).first()
        if bumped is None:
            conn.execute(audit_heads.insert().values(tenant_id=tenant, size=1, head=GENESIS))
            seq, prev = 1, GENESIS
        else:
            seq, prev = int(bumped.size), str(bumped.head)
        ts = round(time.time(), 6)
        body: dict[str, Any] = {"tenant_id": tenant, "seq": seq, "ts": ts, "actor": actor, "action": action,
                "subject": subject[:256], "payload": payload or {}}
        digest = chain_hash(prev, body)
        _INSERT.on(conn, {**body, "prev_hash": prev, "hash": digest})
        _HEAD.on(conn, {"tenant": tenant, "digest": digest})
        return AuditRecord(**body, prev_hash=prev, hash=digest)

    def record(self, actor: str, action: str, subject: str, payload: dict[str, Any] | None = None) -> AuditRecord:
        """Append one record in a transaction of its own."""
        with self.store.write() as conn:
            return self.append(conn, actor, action, subject, payload)

    def records(self, after: int = 0, limit: int | None = None) -> list[AuditRecord]:
        q = sa.select(audit_log).where(audit_log.c.tenant_id == self.owner, audit_log.c.seq > after)
        q = q.order_by(audit_log.c.seq)
        if limit:
            q = q.limit(limit)
        with self.store.read() as conn:
            return [_record(r) for r in conn.execute(q)]

    def head(self) -> tuple[int, str]:
        """(records, hash of the last one) as the store says."""
        with self.store.read() as conn:
            row = conn.execute(sa.select(audit_heads).where(audit_heads.c.tenant_id == self.owner)).first()
        return (int(row.size), str(row.head)) if row else (0, GENESIS)
