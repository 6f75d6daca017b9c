"""Domain objects as API bodies. A run's detail is folded from its events, like everything else a
client sees of a run."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable
from typing import Any

from hil import secrets
from hil.engine.service import RunView
from hil.errors import Conflict, InvalidRequest, NotFound
from hil.events import EventType
from hil.store.run_repo import Approval, Run
from hil.store.workflow_repo import StoredWorkflow


def workflow_out(wf: StoredWorkflow) -> dict[str, Any]:
    definition = wf.definition.model_dump(mode="json")
    for c in definition.get("connections") or []:
        if c.get("dsn"):
            c["dsn"] = secrets.redact_url(c["dsn"])
    return {"id": wf.id, "name": wf.name, "version": wf.version, "content_hash": wf.content_hash,
            "created_at": wf.created_at, "definition": definition}


def run_out(run: Run) -> dict[str, Any]:
    out = dict(run.__dict__)
    for private in ("tenant_id", "lease_owner", "lease_expires_at"):
        out.pop(private)
    return out


def approval_out(a: Approval) -> dict[str, Any]:
    out = dict(a.__dict__)
    for private in ("draft_id", "on_expiry", "decided_role"):
        out.pop(private)
    return out


def run_detail(view: RunView, workflow: str, pending: list[Approval]) -> dict[str, Any]:
    state, events = view.state, view.events
    drafts = [{"step": st.name, "draft_id": d.draft_id, "kind": d.kind, "content": d.content,
               "needs_approval": d.needs_approval, "approval_id": d.approval_id, "decision": d.decision,
               "edited": d.edited, "message": d.message, "failed_with": d.failed_with}
              for st in state.steps.values() for d in st.drafts]
    queries = [e.payload for e in events if e.type == EventType.SQL_EXECUTED]
    snippets = [s for e in events if e.type == EventType.RETRIEVAL_RESULTS for s in e.payload.get("snippets", [])]
    failed = next((e.payload for e in events if e.type == EventType.RUN_FAILED), None)
    steps = [{"name": st.name, "started": st.started, "finished": st.finished, "failed": st.failed,
              "retries": st.retries} for st in state.steps.values()]
    return {**run_out(view.run), "workflow": workflow, "plan": state.plan(), "steps": steps, "drafts": drafts,
            "queries": queries, "snippets": snippets, "answer": state.answer, "error": failed,
            "pending_approvals": [approval_out(a) for a in pending]}


# -- artifacts: what a run produced, as files --
def artifacts(view: RunView) -> dict[str, tuple[str, bytes]]:
    """name -> (media type, content): each step's result table as CSV and JSON, and the answer."""
    found: dict[str, tuple[str, bytes]] = {}
    for st in view.state.steps.values():
        out = st.output or {}
        if isinstance(out.get("columns"), list) and isinstance(out.get("rows"), list):
            buf = io.StringIO()
            writer = csv.writer(buf)
            writer.writerow(out["columns"])
            writer.writerows(out["rows"])
            found[f"{st.name}.csv"] = ("text/csv", buf.getvalue().encode())
            table = {"sql": out.get("sql"), "columns": out["columns"], "rows": out["rows"],
                     "truncated": out.get("truncated", False)}
            found[f"{st.name}.json"] = ("application/json", json.dumps(table, default=str).encode())
    if view.state.answer is not None:
        found["answer.json"] = ("application/json", json.dumps(view.state.answer, default=str).encode())
    return found


# -- cursors: opaque to clients, (created_at, id) of the last run of a page --
def encode_cursor(run: Run) -> str:
    return base64.urlsafe_b64encode(json.dumps([run.created_at, run.id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        at, run_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return float(at), str(run_id)
    except (ValueError, TypeError):
        raise InvalidRequest("the cursor is not valid", hint="pass next_cursor from the previous page unchanged",
                              details={"errors": [{"loc": "query.cursor", "msg": "not a cursor from this API"}]}) from None


def refuse_taken(lookup: Callable[[], object], message: str, hint: str | None = None) -> None:
    """Creating by name: 409 when ``lookup`` finds the name already used in the caller's tenant."""
    try:
        lookup()
    except NotFound:
        return
    raise Conflict(message, hint=hint)
