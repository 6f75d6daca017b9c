"""The tenant's approval policy: which actions wait for a human, who may decide them, limits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from hil.server.deps import Admin, Approver, State
from hil.server.schemas import errors
from hil.services.policies import PolicyDocument, PolicyService, public

router = APIRouter(tags=["policy"])
POLICY_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/PolicyDocument"},
    "example": {"gates": [{"name": "reference-reads", "action": "sql_read", "approval": "auto",
                           "tables": ["depots", "vehicle_types"]},
                          {"name": "tools-wait", "action": "tool:*", "approval": "required"}],
                "approvers": {"ddl": 2, "dml": 2}, "max_row_limit": 500}}}}}


@router.get("/policy", responses=errors(401, 403))
def policy_get(who: Approver, state: State) -> dict[str, Any]:
    """The policy in force (version 0 and an empty document: the built-in defaults)."""
    return public(PolicyService(state.store, who.tenant).current())


@router.put("/policy", responses=errors(401, 403, 422), openapi_extra=POLICY_BODY)
def policy_put(who: Admin, state: State, body: Annotated[dict[str, Any], Body()],
               response: Response) -> dict[str, Any]:
    """Replace the policy with a new version (audited); an unchanged document keeps its version
    (200), a changed one answers 201. Every invalid field is named in ``details.errors``."""
    stored, changed = PolicyService(state.store, who.tenant, actor=who.user).apply(body, None, ("body",))
    response.status_code = 201 if changed else 200
    return public(stored)


def schema() -> dict[str, Any]:
    return PolicyDocument.model_json_schema(ref_template="#/components/schemas/{model}")
