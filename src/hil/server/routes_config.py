"""Workflows and connections: what a tenant's admins configure."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from fastapi.concurrency import run_in_threadpool

from hil.errors import InvalidRequest, WorkflowInvalid
from hil.server.deps import Admin, State, Viewer
from hil.server.schemas import (
    MAX_INT,
    ConnectionIn,
    ConnectionOut,
    ConnectionProbe,
    ConnectionTest,
    WorkflowOut,
    WorkflowVersion,
    errors,
)
from hil.services.connections import ConnectionService
from hil.services.users import Principal
from hil.services.workflows import WorkflowService, public
from hil.workflows import Workflow

router = APIRouter()

WORKFLOW_EXAMPLE = {
    "name": "fleet-health",
    "description": "Breakdowns, maintenance and depots",
    "connections": [{"name": "fleet", "engine": "duckdb", "path": "/srv/data/fleet.duckdb"}],
    "knowledge": [{"name": "fleet-docs"}],
    "steps": ["sql", "rag"],
    "approval": {"plan": True, "sql_read": True},
}
# The body is validated by the workflow service (which also knows the registered steps), so every
# problem is reported at once; the schema is still the Workflow model's, for the docs and clients.
WORKFLOW_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Workflow"},
    "examples": {"sql and documents": {"value": WORKFLOW_EXAMPLE}}}}}}
WorkflowBody = Annotated[dict[str, Any], Body()]


def _workflows(state: State, who: Principal) -> WorkflowService:
    return WorkflowService(state.store, who.tenant, restricted=state.auth, check_models=True, actor=who.user)


def _parse(body: Any) -> Workflow:
    try:
        return WorkflowService.validate(body, loc=("body",))
    except WorkflowInvalid as err:
        raise InvalidRequest(err.message, details=err.details) from None


# -- workflows --
@router.post("/workflows", status_code=201, response_model=WorkflowOut, tags=["workflows"],
             responses=errors(401, 403, 409, 422), openapi_extra=WORKFLOW_BODY)
def create_workflow(who: Admin, state: State, body: WorkflowBody) -> dict[str, Any]:
    """Store a new workflow (version 1). A name already in use gets 409: change it with PUT."""
    return public(_workflows(state, who).create(_parse(body)))


@router.get("/workflows", response_model=list[WorkflowOut], tags=["workflows"], responses=errors(401))
def list_workflows(who: Viewer, state: State) -> list[dict[str, Any]]:
    return [public(w) for w in _workflows(state, who).list_all()]


@router.get("/workflows/{workflow_id}", response_model=WorkflowOut, tags=["workflows"], responses=errors(401, 404))
def get_workflow(workflow_id: str, who: Viewer, state: State,
                 version: Annotated[int | None, Query(ge=1, le=MAX_INT, description="A past version; the latest when "
                                                                                "empty.")] = None
                 ) -> dict[str, Any]:
    return public(_workflows(state, who).get(workflow_id, version))


@router.get("/workflows/{workflow_id}/versions", response_model=list[WorkflowVersion], tags=["workflows"],
            responses=errors(401, 404))
def workflow_versions(workflow_id: str, who: Viewer, state: State) -> list[dict[str, Any]]:
    return [{"version": v, "content_hash": h, "created_at": t} for v, h, t in _workflows(state, who).versions(workflow_id)]


@router.put("/workflows/{workflow_id}", response_model=WorkflowOut, tags=["workflows"],
            responses=errors(401, 403, 404, 422), openapi_extra=WORKFLOW_BODY)
def update_workflow(workflow_id: str, who: Admin, state: State, body: WorkflowBody, response: Response) -> dict[str, Any]:
    """Store a new version; an unchanged definition keeps its version (200 either way)."""
    service = _workflows(state, who)
    service.get(workflow_id)  # 404 before 422: the workflow must be the caller's
    stored, changed = service.update(workflow_id, _parse(body))
    response.headers["X-Hil-Changed"] = "true" if changed else "false"
    return public(stored)


@router.delete("/workflows/{workflow_id}", status_code=204, tags=["workflows"], responses=errors(401, 403, 404))
def archive_workflow(workflow_id: str, who: Admin, state: State) -> Response:
    """Archive: hidden from listings and new runs; versions and past runs stay readable."""
    _workflows(state, who).archive(workflow_id)
    return Response(status_code=204)


# -- connections --
def _connections(state: State, who: Principal) -> ConnectionService:
    return ConnectionService(state.store, who.tenant, restricted=state.auth, actor=who.user)


@router.post("/connections", status_code=201, response_model=ConnectionOut, tags=["connections"],
             responses=errors(401, 403, 409, 422))
def create_connection(body: ConnectionIn, who: Admin, state: State) -> dict[str, Any]:
    """Save a named connection; the DSN is stored encrypted and only ever returned redacted."""
    service = _connections(state, who)
    return service.add(service.parse(body.model_dump())).__dict__


@router.get("/connections", response_model=list[ConnectionOut], tags=["connections"], responses=errors(401))
def list_connections(who: Viewer, state: State) -> list[dict[str, Any]]:
    return [c.__dict__ for c in _connections(state, who).list_all()]


@router.post("/connections/test", response_model=ConnectionTest, tags=["connections"],
             responses=errors(401, 403, 422))
async def probe_connection(body: ConnectionProbe, who: Admin, state: State) -> dict[str, Any]:
    """Test a connection before saving it (nothing is stored): `ok` with the tables seen, or the
    connector's specific cause in `error.details.cause` (file_not_found, cannot_open,
    authentication_failed, host_unreachable, database_missing, permission_denied, invalid_dsn). A
    path or host the caller may not use is a 422 naming the field."""
    service = _connections(state, who)
    return await run_in_threadpool(service.probe, service.parse(body.model_dump()))


@router.post("/connections/{connection_id}/test", response_model=ConnectionTest, tags=["connections"],
             responses=errors(401, 403, 404))
async def test_connection(connection_id: str, who: Admin, state: State) -> dict[str, Any]:
    """Connect and read: `ok` with the tables seen, or the connector's own error."""
    return await run_in_threadpool(_connections(state, who).test, connection_id)


@router.delete("/connections/{connection_id}", status_code=204, tags=["connections"],
               responses=errors(401, 403, 404))
def delete_connection(connection_id: str, who: Admin, state: State) -> Response:
    _connections(state, who).remove(connection_id)
    return Response(status_code=204)
