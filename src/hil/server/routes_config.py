"""Workflows and connections: what a tenant's admins configure."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from fastapi.concurrency import run_in_threadpool

from hil import settings
from hil.connectors.base import connect
from hil.errors import ConfigError, HilError
from hil.server.deps import Admin, State, Viewer
from hil.server.schemas import ConnectionIn, ConnectionOut, ConnectionTest, WorkflowOut, WorkflowVersion, errors
from hil.server.views import refuse_taken, workflow_out
from hil.store.connection_repo import ConnectionRepo
from hil.store.workflow_repo import WorkflowRepo
from hil.workflows import SqlConnection, Workflow

router = APIRouter()

WORKFLOW_EXAMPLE = {
    "name": "fleet-health",
    "description": "Breakdowns, maintenance and depots",
    "connections": [{"name": "fleet", "engine": "duckdb", "path": "/srv/data/fleet.duckdb"}],
    "knowledge": [{"name": "fleet-docs"}],
    "steps": ["sql", "rag"],
    "approval": {"plan": True, "sql_read": True},
}


def check_paths(state: State, wf: Workflow | None = None, conn: SqlConnection | None = None) -> None:
    """With authentication on, callers may only point at files under HIL_DATA_DIRS: a tenant must not
    open the store's own database or another tenant's files on the server."""
    if not state.auth:
        return
    roots = [Path(p).expanduser().resolve() for p in settings.get_str("HIL_DATA_DIRS").split(",") if p.strip()]
    roots = roots or [settings.home() / "data"]
    paths: list[tuple[str, str]] = []
    if wf is not None:
        paths += [(f"connections[{i}].path", c.path) for i, c in enumerate(wf.connections) if c.path]
        paths += [(f"knowledge[{i}].paths[{j}]", p) for i, k in enumerate(wf.knowledge) for j, p in enumerate(k.paths)]
    if conn is not None and conn.path:
        paths.append(("path", conn.path))
    bad = [{"loc": loc, "msg": f"{p} is outside the data directories"} for loc, p in paths
           if not any(Path(p).expanduser().resolve().is_relative_to(r) for r in roots)]
    if bad:
        raise ConfigError(f"{bad[0]['loc']}: {bad[0]['msg']}", hint="put the file under a directory listed in "
                          "HIL_DATA_DIRS", details={"errors": bad})


# -- workflows --
@router.post("/workflows", status_code=201, response_model=WorkflowOut, tags=["workflows"],
             responses=errors(401, 403, 409, 422))
def create_workflow(who: Admin, state: State,
                    workflow: Annotated[Workflow, Body(openapi_examples={"sql and documents": {
                        "value": WORKFLOW_EXAMPLE}})]) -> dict[str, Any]:
    """Store a new workflow (version 1). A name already in use gets 409: change it with PUT."""
    repo = WorkflowRepo(state.store, who.tenant)
    check_paths(state, workflow)
    refuse_taken(lambda: repo.get(workflow.name), f"a workflow named {workflow.name!r} exists",
                 hint="PUT /workflows/{id} makes a new version")
    stored, _ = repo.apply(workflow)
    return workflow_out(stored)


@router.get("/workflows", response_model=list[WorkflowOut], tags=["workflows"], responses=errors(401))
def list_workflows(who: Viewer, state: State) -> list[dict[str, Any]]:
    return [workflow_out(w) for w in WorkflowRepo(state.store, who.tenant).list_all()]


@router.get("/workflows/{workflow_id}", response_model=WorkflowOut, tags=["workflows"], responses=errors(401, 404))
def get_workflow(workflow_id: str, who: Viewer, state: State,
                 version: Annotated[int | None, Query(ge=1, description="A past version; the latest when empty.")] = None
                 ) -> dict[str, Any]:
    return workflow_out(WorkflowRepo(state.store, who.tenant).get(workflow_id, version))


@router.get("/workflows/{workflow_id}/versions", response_model=list[WorkflowVersion], tags=["workflows"],
            responses=errors(401, 404))
def workflow_versions(workflow_id: str, who: Viewer, state: State) -> list[dict[str, Any]]:
    return [{"version": v, "content_hash": h, "created_at": t}
            for v, h, t in WorkflowRepo(state.store, who.tenant).versions(workflow_id)]


@router.put("/workflows/{workflow_id}", response_model=WorkflowOut, tags=["workflows"],
            responses=errors(401, 403, 404, 422))
def update_workflow(workflow_id: str, who: Admin, state: State,
                    workflow: Annotated[Workflow, Body(openapi_examples={"new version": {"value": WORKFLOW_EXAMPLE}})],
                    response: Response) -> dict[str, Any]:
    """Store a new version; an unchanged definition keeps its version (200 either way)."""
    repo = WorkflowRepo(state.store, who.tenant)
    current = repo.get(workflow_id)
    if workflow.name != current.name:
        raise ConfigError(f"name: the workflow is named {current.name!r}, not {workflow.name!r}",
                          details={"errors": [{"loc": "name", "msg": "cannot be changed by PUT"}]})
    check_paths(state, workflow)
    stored, changed = repo.apply(workflow)
    response.headers["X-Hil-Changed"] = "true" if changed else "false"
    return workflow_out(stored)


@router.delete("/workflows/{workflow_id}", status_code=204, tags=["workflows"], responses=errors(401, 403, 404))
def archive_workflow(workflow_id: str, who: Admin, state: State) -> Response:
    """Archive: hidden from listings and new runs; versions and past runs stay readable."""
    WorkflowRepo(state.store, who.tenant).archive(workflow_id)
    return Response(status_code=204)


# -- connections --
@router.post("/connections", status_code=201, response_model=ConnectionOut, tags=["connections"],
             responses=errors(401, 403, 409, 422))
def create_connection(body: ConnectionIn, who: Admin, state: State) -> dict[str, Any]:
    """Save a named connection; the DSN is stored encrypted and only ever returned redacted."""
    try:
        cfg = SqlConnection.model_validate(body.model_dump())
    except ValueError as err:
        raise ConfigError(str(err).splitlines()[-1].strip()) from None
    check_paths(state, conn=cfg)
    repo = ConnectionRepo(state.store, who.tenant)
    refuse_taken(lambda: repo.get(cfg.name), f"a connection named {cfg.name!r} exists", hint="DELETE it first")
    return repo.add(cfg).__dict__


@router.get("/connections", response_model=list[ConnectionOut], tags=["connections"], responses=errors(401))
def list_connections(who: Viewer, state: State) -> list[dict[str, Any]]:
    return [c.__dict__ for c in ConnectionRepo(state.store, who.tenant).list_all()]


@router.post("/connections/{connection_id}/test", response_model=ConnectionTest, tags=["connections"],
             responses=errors(401, 403, 404))
async def test_connection(connection_id: str, who: Admin, state: State) -> dict[str, Any]:
    """Connect and read: `ok` with the tables seen, or the connector's own error."""
    cfg = await run_in_threadpool(ConnectionRepo(state.store, who.tenant).config, connection_id)

    def probe() -> dict[str, Any]:
        try:
            conn = connect(cfg, timeout_s=float(settings.get_int("HIL_QUERY_TIMEOUT")))
            try:
                return {"ok": True, "tables": conn.validate()["tables"]}
            finally:
                conn.close()
        except HilError as err:
            return {"ok": False, "error": err.to_dict()["error"]}
    return await run_in_threadpool(probe)


@router.delete("/connections/{connection_id}", status_code=204, tags=["connections"],
               responses=errors(401, 403, 404))
def delete_connection(connection_id: str, who: Admin, state: State) -> Response:
    ConnectionRepo(state.store, who.tenant).remove(connection_id)
    return Response(status_code=204)

