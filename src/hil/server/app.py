"""The FastAPI application: health, a read-only view of runs and the event schema, and the
worker pool that executes runs. Routes are plain ``def`` so store calls run in FastAPI's thread
pool, never on the event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from hil import events
from hil.engine.service import RunService
from hil.engine.worker import Worker
from hil.errors import HilError, NotFound
from hil.knowledge.background import BackgroundEmbedder
from hil.store.db import Store

STATUS = {"not_found": 404, "approval_conflict": 409, "invalid_decision": 422, "workflow_invalid": 422}


def create_app(store: Store, workers: int = 2, model: str | None = None) -> FastAPI:
    service = RunService(store)
    worker = Worker(store, model=model)
    embedder = BackgroundEmbedder(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker.start(workers)
        embedder.start()
        yield
        embedder.stop()
        worker.stop()

    app = FastAPI(title="hil", version="0.1.0", lifespan=lifespan)

    @app.exception_handler(HilError)
    def _hil_error(_request: Request, exc: HilError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=STATUS.get(exc.code, 400))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> dict[str, Any]:
        store.check()
        return {"status": "ready", "runs": service.runs.count_by_status()}

    @app.get("/api/v1/schema/events.json")
    def event_schema() -> dict[str, Any]:
        return events.json_schema()

    @app.get("/api/v1/workflows")
    def list_workflows() -> list[dict[str, Any]]:
        return [{"id": w.id, "name": w.name, "version": w.version, "steps": w.definition.steps}
                for w in service.workflows.list_all()]

    @app.get("/api/v1/runs")
    def list_runs(limit: int = 50, status: str | None = None) -> list[dict[str, Any]]:
        return [r.__dict__ for r in service.runs.list_runs(limit=min(limit, 500), status=status)]

    @app.get("/api/v1/runs/{run_id}")
    def get_run(run_id: str) -> dict[str, Any]:
        view = service.view(run_id)
        return {"run": view.run.__dict__, "plan": view.state.plan(), "answer": view.state.answer,
                "pending_approvals": [a.__dict__ for a in service.pending_approvals(run_id)]}

    @app.get("/api/v1/runs/{run_id}/events")
    def get_events(run_id: str, after: int = 0) -> list[dict[str, Any]]:
        service.runs.get(run_id)
        return [e.model_dump(mode="json") for e in service.runs.events(run_id, after=after)]

    @app.get("/")
    def index() -> dict[str, Any]:
        raise NotFound("the web UI is not part of this build", hint="see /api/v1/runs and /docs")

    return app
