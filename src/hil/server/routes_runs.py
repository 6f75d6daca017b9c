"""Runs, their artifacts, threads, feedback and approvals."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from hil.errors import NotFound
from hil.server.deps import Approver, Operator, State, Viewer
from hil.server.schemas import (
    ApprovalOut,
    DecisionIn,
    DryRunIn,
    DryRunOut,
    FeedbackIn,
    FeedbackOut,
    RunDetail,
    RunIn,
    RunPage,
    ThreadOut,
    errors,
)
from hil.server.views import decode_cursor, encode_cursor
from hil.services.runs import RunFilter, RunService, approval_public, run_public
from hil.services.users import Principal

router = APIRouter()


def _service(state: State, who: Principal) -> RunService:
    return RunService(state.store, who.tenant)


@router.post("/runs", status_code=201, response_model=RunDetail, tags=["runs"], responses=errors(401, 403, 404, 422))
def create_run(body: Annotated[RunIn, Body(openapi_examples={"question": {"value": {
                   "workflow": "fleet-health", "question": "Which depots had the most breakdowns in March?"}}})],
               who: Operator, state: State) -> dict[str, Any]:
    """Ask a workflow a question. A worker picks the run up; follow it on /runs/{id}/events. Pass the
    thread_id of an earlier run to ask a follow-up: the planner sees the earlier questions, SQL,
    result summaries and answers."""
    service = _service(state, who)
    run_id = service.create_run(body.workflow, body.question, thread_id=body.thread_id or str(uuid.uuid4()),
                                user=who.user, thread_must_exist=body.thread_id is not None)
    return service.detail(run_id)


@router.get("/runs", response_model=RunPage, tags=["runs"], responses=errors(401, 404, 422))
def list_runs(who: Viewer, state: State,
              workflow: Annotated[str | None, Query(description="Workflow name or id.")] = None,
              status: Annotated[str | None, Query(examples=["awaiting_approval"])] = None,
              user: Annotated[str | None, Query(description="Who asked.")] = None,
              since: Annotated[datetime | None, Query(description="Created at or after (ISO 8601).")] = None,
              until: Annotated[datetime | None, Query(description="Created before (ISO 8601).")] = None,
              text: Annotated[str | None, Query(max_length=200, description="Words in the question.")] = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 50,
              cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None
              ) -> dict[str, Any]:
    """History, newest first."""
    service = _service(state, who)
    where = RunFilter(status=status, user=user,
                      since=since.timestamp() if since else None, until=until.timestamp() if until else None,
                      text=text, before=decode_cursor(cursor) if cursor else None)
    found = service.list_runs(limit=limit + 1, where=where, workflow=workflow)
    page = found[:limit]
    return {"runs": [run_public(r) for r in page],
            "next_cursor": encode_cursor(page[-1]) if len(found) > limit else None}


@router.get("/runs/{run_id}", response_model=RunDetail, tags=["runs"], responses=errors(401, 404))
def get_run(run_id: str, who: Viewer, state: State) -> dict[str, Any]:
    """The run's state folded from its events: status, plan, drafts, SQL results, snippets, answer and
    the approvals waiting for a human."""
    return _service(state, who).detail(run_id)


@router.post("/runs/{run_id}/cancel", response_model=RunDetail, tags=["runs"], responses=errors(401, 403, 404))
def cancel_run(run_id: str, who: Operator, state: State) -> dict[str, Any]:
    """Cancel; a finished run is left as it is (200 either way, the body says which)."""
    service = _service(state, who)
    service.cancel(run_id, user=who.user)
    return service.detail(run_id)


@router.get("/runs/{run_id}/artifacts", response_model=list[str], tags=["runs"], responses=errors(401, 404))
def list_artifacts(run_id: str, who: Viewer, state: State) -> list[str]:
    """Names of what the run produced, e.g. sql.csv, sql.json, answer.json."""
    return sorted(_service(state, who).artifacts(run_id))


@router.get("/runs/{run_id}/artifacts/{name}", tags=["runs"], responses={
    **errors(401, 404), 200: {"content": {"text/csv": {}, "application/json": {}},
                              "description": "The artifact's content."}})
def get_artifact(run_id: str, name: str, who: Viewer, state: State) -> Response:
    found = _service(state, who).artifacts(run_id)
    if name not in found:
        raise NotFound(f"run {run_id} has no artifact {name!r}",
                       hint=f"it has: {', '.join(sorted(found)) or 'none yet'}")
    media, content = found[name]
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{run_id[:8]}-{name}"'})


@router.post("/runs/{run_id}/feedback", response_model=FeedbackOut, tags=["runs"],
             responses=errors(401, 403, 404, 422))
def feedback(run_id: str, body: FeedbackIn, who: Operator, state: State) -> dict[str, Any]:
    """Say whether the answer was right. A correct answer's SQL joins the few-shot memory of its
    connection; a wrong one removes what the run taught."""
    return _service(state, who).feedback(run_id, body.correct, body.comment, user=who.user)


@router.get("/threads/{thread_id}", response_model=ThreadOut, tags=["runs"], responses=errors(401, 404))
def get_thread(thread_id: str, who: Viewer, state: State) -> dict[str, Any]:
    """The conversation: every run of the thread, oldest first."""
    return {"id": thread_id, "turns": _service(state, who).thread(thread_id)}


# -- approvals --
@router.get("/approvals", response_model=list[ApprovalOut], tags=["approvals"], responses=errors(401, 404))
def list_approvals(who: Viewer, state: State,
                   status: Annotated[str | None, Query(examples=["pending"])] = "pending",
                   workflow: Annotated[str | None, Query(description="Workflow name or id.")] = None,
                   run: Annotated[str | None, Query(description="Run id.")] = None,
                   kind: Annotated[str | None, Query(examples=["plan", "sql_read"])] = None) -> list[dict[str, Any]]:
    return [approval_public(a) for a in _service(state, who).approvals(run_id=run, status=status or None, kind=kind,
                                                                          workflow=workflow)]


@router.post("/approvals/{approval_id}/decision", response_model=ApprovalOut, tags=["approvals"],
             responses=errors(401, 403, 404, 409, 422))
def decide(approval_id: str, who: Approver,
           body: Annotated[DecisionIn, Body(openapi_examples={
               "approve": {"value": {"decision": "approve", "content_hash": "9f2c…"}},
               "edit": {"value": {"decision": "edit", "content": {"sql": "SELECT 1"}, "content_hash": "9f2c…"}},
               "reject": {"value": {"decision": "reject", "message": "Only count 2024.", "content_hash": "9f2c…"}}})],
           state: State) -> dict[str, Any]:
    """Approve, edit, reject (with a message) or respond to a clarification. content_hash must be the
    one shown with the approval: a decision on changed content, or on an approval already decided
    otherwise, gets 409; the same decision sent twice is accepted once."""
    decided = _service(state, who).decide(approval_id, body.decision, content_hash_seen=body.content_hash,
                                          content=body.content, message=body.message, user=who.user, role=who.role)
    return approval_public(decided)


@router.post("/approvals/{approval_id}/dry-run", response_model=DryRunOut, tags=["approvals"],
             responses=errors(401, 403, 404, 422))
def dry_run(approval_id: str, who: Operator, state: State,
            body: Annotated[DryRunIn | None, Body(openapi_examples={
                "as drafted": {"value": {}},
                "an edit": {"value": {"sql": "SELECT depot, count(*) FROM vehicles GROUP BY depot"}}})] = None
            ) -> dict[str, Any]:
    """What the engine would do with a SQL approval's statement (or an edit of it, in ``sql``)
    before anyone approves it: its EXPLAIN plan and estimated row count. A read passes the same
    read-only guard as every query and only its EXPLAIN runs; a write never runs: its impact is
    counted read-only. The approval is left as it is."""
    return _service(state, who).dry_run(approval_id, body.sql if body else None, user=who.user,
                                        restricted=state.auth)
