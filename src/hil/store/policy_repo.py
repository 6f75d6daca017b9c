"""A tenant's policy documents, one row per version; the highest version is in force."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hil.hashing import content_hash
from hil.store.prepared import Prepared
from hil.store.scoped import TenantScoped
from hil.store.tables import policies


@dataclass(frozen=True)
class StoredPolicy:
    version: int  # 0: no policy was ever set (the built-in defaults are in force)
    document: dict[str, Any]
    content_hash: str
    created_by: str | None
    created_at: float | None


class PolicyRepo(TenantScoped):
    def current(self, conn: sa.Connection | None = None) -> StoredPolicy:
        if conn is None:
            with self.store.read() as c:
                row = _CURRENT.on(c, {"tenant": self.owner}).first()
        else:
            row = _CURRENT.on(conn, {"tenant": self.owner}).first()
        if row is None:
            return StoredPolicy(0, {}, content_hash({}), None, None)
        return StoredPolicy(row.version, dict(row.document), row.content_hash, row.created_by, row.created_at)

    def put(self, conn: sa.Connection, document: dict[str, Any], user: str | None) -> tuple[StoredPolicy, bool]:
        """Store ``document`` as the next version, unless it is what is in force; True when stored."""
        now = self.current(conn)
        digest = content_hash(document)
        if digest == now.content_hash:
            return now, False
        version = now.version + 1
        created = time.time()
        conn.execute(policies.insert().values(tenant_id=self.owner, version=version, document=document,
                                              content_hash=digest, created_by=user, created_at=created))
        return StoredPolicy(version, document, digest, user, created), True


_CURRENT = Prepared(sa.select(policies).where(policies.c.tenant_id == sa.bindparam("tenant"))
                    .order_by(policies.c.version.desc()).limit(1))  # read by every run and decision
