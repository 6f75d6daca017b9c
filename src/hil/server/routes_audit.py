"""The tenant's audit log, for its admins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from hil.server.deps import Admin, State
from hil.server.schemas import MAX_INT, errors
from hil.services.audit import AuditService

router = APIRouter(tags=["audit"])


@router.get("/audit", responses=errors(401, 403, 422))
def audit_records(who: Admin, state: State,
                  after: Annotated[int, Query(ge=0, le=MAX_INT, description="Records after this seq.")] = 0,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Records in order (actor, action, subject, payload, prev_hash, hash) and the chain's head."""
    service = AuditService(state.store, who.tenant)
    size, head = service.head()
    return {"records": [r.to_dict() for r in service.records(after, limit)], "size": size, "head": head}


@router.get("/audit/verify", responses=errors(401, 403))
def audit_verify(who: Admin, state: State) -> dict[str, Any]:
    """Whether the chain holds, record by record and against the last signed checkpoint."""
    return AuditService(state.store, who.tenant).verify().to_dict()
