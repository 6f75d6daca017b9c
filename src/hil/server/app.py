"""The FastAPI application: the HTTP API under /api/v1, health, and the worker pool that executes
runs. Routes that touch the store are plain ``def`` (FastAPI runs them in its thread pool) or
await a thread, so SQL never blocks the event loop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from hil import settings
from hil.engine.worker import Worker
from hil.errors import HilError
from hil.server import (
    routes_audit,
    routes_config,
    routes_events,
    routes_knowledge,
    routes_me,
    routes_policy,
    routes_runs,
    routes_tools,
)
from hil.server.deps import ServerState
from hil.server.guards import RequestGuard
from hil.server.hub import EventHub
from hil.server.schemas import ErrorOut
from hil.services import ALL_TENANTS, Store
from hil.services.knowledge import BackgroundEmbedder
from hil.services.runs import RunService
from hil.workflows import Workflow, error_message, location

API = "/api/v1"
RESERVED = {"api", "docs", "redoc", "openapi.json", "healthz", "readyz"}  # never answered with a page


def static_file(root: Path, path: str) -> Path | None:
    """The file of the web UI's export for a URL path, or None. A folder answers with its index.html
    (the export has trailingSlash: /runs/ is runs/index.html); nothing outside ``root`` is ever
    answered, whatever the path holds (.., encoded dots, symlinks, absolute paths)."""
    try:
        base = root.resolve(strict=True)
    except OSError:
        return None
    if "\\" in path or "\0" in path or any(part in ("..", ".") for part in path.split("/")):
        return None
    candidate = (base / path.lstrip("/")).resolve()
    if not candidate.is_relative_to(base):
        return None
    if candidate.is_dir():
        candidate = candidate / "index.html"
    elif not candidate.is_file() and (candidate.parent / f"{candidate.name}.html").is_file():
        candidate = candidate.parent / f"{candidate.name}.html"
    return candidate if candidate.is_file() and candidate.resolve().is_relative_to(base) else None


log = logging.getLogger("hil.server")

DESCRIPTION = """Governed, human-in-the-loop data workflows.

Every route is scoped to the caller's tenant: a resource of another tenant is answered with 404.
Send an API key (`hil keys create USER`) as `Authorization: Bearer KEY` or `X-API-Key: KEY`;
a server bound to loopback may run without keys, and then every caller is the local admin.
Roles, each including the ones before it: viewer (reads), operator (asks, uploads, gives feedback),
approver (decides approvals), admin (configures workflows, connections and collections).
Every failure has the body `{"error": {"code", "message", "details"}}`."""


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details or {}}}, status_code=status)


def web_page(path: str) -> Response:
    """A file of the web UI's static export (HIL_WEB_DIR) for a GET that no route of the API answered;
    ``path`` is the request's decoded path."""
    path = path.lstrip("/")
    root = settings.web_dir()
    if path.split("/", 1)[0] in RESERVED:
        return error_response(404, "not_found", f"no route /{path}", {"hint": "see /docs for the API"})
    found = static_file(root, path)
    if found is None:
        if not (root / "index.html").is_file():
            return error_response(404, "not_found", "the web UI is not part of this build",
                                  {"hint": "build it with `make web`; see /docs for the API"})
        return error_response(404, "not_found", f"no page /{path}", {
            "hint": "the web UI's pages are /, /runs/, /approvals/, /history/, /workflows/ and /knowledge/"})
    cache = "public, max-age=31536000, immutable" if path.startswith("_next/static/") else "no-cache"
    return FileResponse(found, headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"})


def create_app(store: Store, workers: int = 2, model: str | None = None, *, auth: bool = False,
               heartbeat_seconds: float = 15.0, poll_seconds: float = 1.0, recheck_seconds: float = 2.0,
               hosts: set[str] | None = None) -> FastAPI:
    """``auth=False`` makes every caller the local admin, so the app then answers callers on this
    machine only (and `hil serve` binds loopback only).
    ``hosts`` are the Host header values answered (None: any); `hil serve` passes its bind address."""
    worker = Worker(store, model=model, restricted=auth)
    embedder = BackgroundEmbedder(store)
    hub = EventHub(store, poll_seconds=poll_seconds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if workers > 0:
            worker.start(workers)
        embedder.start()
        hub.start()
        yield
        await hub.stop()
        embedder.stop()
        worker.stop()

    app = FastAPI(title="hil", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  responses={500: {"model": ErrorOut, "description": "Unexpected failure (logged)"}})
    app.state.hil = ServerState(store, hub, auth, heartbeat_seconds, recheck_seconds)
    app.add_middleware(RequestGuard, max_body=settings.get_int("HIL_MAX_BODY_BYTES"), hosts=hosts, auth=auth)

    @app.exception_handler(HilError)
    def _hil_error(_request: Request, exc: HilError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        found = [{"loc": location(tuple(e["loc"])), "msg": error_message(e)} for e in exc.errors()]
        first = found[0] if found else {"loc": "(request)", "msg": "invalid"}
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        return error_response(422, "invalid_request", f"{first['loc']}: {first['msg']}{more}", {"errors": found})

    @app.exception_handler(HTTPException)
    def _http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404 and request.method in ("GET", "HEAD"):  # no route: a page of the web UI?
            return web_page(str(request.scope.get("path", "/")))
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(Exception)
    def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, "internal_error", f"unexpected {type(exc).__name__}; the server log has details")

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"model": ErrorOut}})
    def readyz() -> dict[str, Any]:
        """The store answers. Without authentication (loopback) it also counts runs by status and
        live subscribers; with it, nothing about any tenant is told to an anonymous caller."""
        store.check()
        if auth:
            return {"status": "ready", "auth": True}
        return {"status": "ready", "auth": False, "runs": RunService(store, ALL_TENANTS).count_by_status(),
                "subscribers": hub.subscribers}

    for module in (routes_me, routes_config, routes_knowledge, routes_runs, routes_events, routes_audit, routes_policy,
                   routes_tools):
        app.include_router(module.router, prefix=API)

    def openapi() -> dict[str, Any]:
        """FastAPI's document, plus the Workflow and PolicyDocument models, which their routes
        validate themselves."""
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            workflow = Workflow.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(workflow.pop("$defs", {}))
            schemas["Workflow"] = workflow
            policy = routes_policy.schema()
            schemas.update(policy.pop("$defs", {}))
            schemas["PolicyDocument"] = policy
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]

    return app
