"""The audit log of one tenant: read, verify, checkpoint, export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from hil.policy import audit
from hil.store.audit_repo import AuditRecord, AuditRepo
from hil.store.db import Store
from hil.store.scoped import TenantScoped

__all__ = ["AuditRecord", "AuditService"]


class AuditService(TenantScoped):
    def __init__(self, store: Store, tenant: str):
        super().__init__(store, tenant)
        self._repo = AuditRepo(store, tenant)

    def records(self, after: int = 0, limit: int | None = None) -> list[AuditRecord]:
        return self._repo.records(after, limit)

    def head(self) -> tuple[int, str]:
        return self._repo.head()

    def verify(self) -> audit.Verdict:
        """The chain checked record by record, and against the last signed checkpoint."""
        return audit.verify(self._repo)

    def checkpoint(self) -> audit.Checkpoint:
        return audit.checkpoint(self._repo)

    def export(self, out: IO[str] | Path) -> int:
        """Every record as one JSON object per line; returns how many."""
        records = self._repo.records()
        lines = "".join(json.dumps(r.to_dict(), sort_keys=True) + "\n" for r in records)
        if isinstance(out, Path):
            out.write_text(lines, encoding="utf-8")
        else:
            out.write(lines)
        return len(records)
