"""A tenant's approval policy: read, validated, applied as a new version (audited), and tried
against an example request so an admin can see which rule would decide it."""

from __future__ import annotations

from typing import Any

from hil.policy.document import PolicyDocument, document_json, validate_document
from hil.store.audit_repo import AuditRepo
from hil.store.db import Store
from hil.store.policy_repo import PolicyRepo, StoredPolicy
from hil.store.scoped import TenantScoped

__all__ = ["PolicyDocument", "PolicyService", "public"]


def public(stored: StoredPolicy) -> dict[str, Any]:
    return {"version": stored.version, "content_hash": stored.content_hash, "created_by": stored.created_by,
            "created_at": stored.created_at, "document": stored.document}


class PolicyService(TenantScoped):
    def __init__(self, store: Store, tenant: str, *, actor: str = "local"):
        super().__init__(store, tenant)
        self.actor = actor
        self._repo = PolicyRepo(store, tenant)

    def current(self) -> StoredPolicy:
        return self._repo.current()

    @staticmethod
    def validate(data: Any, source: str | None = "policy", loc: tuple[str, ...] = ()) -> PolicyDocument:
        return validate_document(data, source, loc)

    def apply(self, data: Any, source: str | None = "policy", loc: tuple[str, ...] = ()) -> tuple[StoredPolicy, bool]:
        """Validate and store a policy; True when it changed (an unchanged one keeps its version)."""
        document = document_json(validate_document(data, source, loc))
        with self.store.write() as conn:
            stored, changed = self._repo.put(conn, document, self.actor)
            if changed:
                AuditRepo(self.store, self.owner).append(conn, self.actor, "policy.update", "policy", {
                    "version": stored.version, "content_hash": stored.content_hash})
        return stored, changed
