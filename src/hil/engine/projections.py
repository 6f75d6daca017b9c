"""What a client sees of a run, folded from its events: one shape for the API, the CLI's
``--json`` and the web UI. Everything here reads events and rows; nothing writes."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from hil.engine.state import DRAFT_EVENTS, RunState, fold
from hil.events import Event, EventType
from hil.store.run_repo import Approval, Run, RunRepo

ANSWER_CHECKS = ("verified_numbers", "unverified_numbers", "verified_identifiers", "unverified_identifiers",
                 "contradicted", "number_sources", "marked_numbers", "withheld_numbers")


@dataclass(frozen=True)
class RunView:
    run: Run
    state: RunState
    events: list[Event]


def load_view(runs: RunRepo, run_id: str) -> RunView:
    run = runs.get(run_id)
    events = runs.events(run_id)
    return RunView(run, fold(run_id, events), events)


def run_public(run: Run) -> dict[str, Any]:
    out = dict(run.__dict__)
    for private in ("tenant_id", "lease_owner", "lease_expires_at"):
        out.pop(private)
    return out


def approval_public(a: Approval) -> dict[str, Any]:
    out = dict(a.__dict__)
    for private in ("draft_id", "on_expiry", "decided_role"):
        out.pop(private)
    return out


def run_detail(view: RunView, workflow: str, pending: list[Approval]) -> dict[str, Any]:
    """The run as `GET /runs/{id}` and `hil ask --json` show it."""
    state, events = view.state, view.events
    drafted = {e.payload.get("draft_id"): e.payload for e in events if e.type in DRAFT_EVENTS}
    # what a reviewer saw next to each draft: the approved examples it followed and the values the
    # agent aligned with their stored spelling
    drafts = [{"step": st.name, "draft_id": d.draft_id, "kind": d.kind, "content": d.content,
               "needs_approval": d.needs_approval, "approval_id": d.approval_id, "decision": d.decision,
               "edited": d.edited, "message": d.message, "failed_with": d.failed_with, "examples": d.basis,
               "adjustments": list(drafted.get(d.draft_id, {}).get("adjustments") or [])}
              for st in state.steps.values() for d in st.drafts]
    queries = [e.payload for e in events if e.type == EventType.SQL_EXECUTED]
    evidence = [g for e in events if e.type == EventType.SQL_ROWS_BEHIND_AGGREGATE for g in e.payload.get("groups", [])]
    snippets = [s for e in events if e.type == EventType.RETRIEVAL_RESULTS for s in e.payload.get("snippets", [])]
    failed = next((e.payload for e in reversed(events) if e.type == EventType.RUN_FAILED), None)
    steps = [{"name": st.name, "started": st.started, "finished": st.finished, "failed": st.failed,
              "retries": st.retries} for st in state.steps.values()]
    decided = [e.payload for e in events if e.type == EventType.APPROVAL_DECIDED]
    sql_step = state.steps.get("sql")
    result = (sql_step.output if sql_step and sql_step.output else None) or {}
    answer = state.answer or {}
    return {**run_public(view.run), "run_id": view.run.id, "workflow": workflow, "plan": state.plan(),
            "steps": steps, "drafts": drafts, "queries": queries, "evidence": evidence, "snippets": snippets, "answer": state.answer,
            "error": failed, "pending_approvals": [approval_public(a) for a in pending],
            "approvals": [{k: d.get(k) for k in ("approval_id", "kind", "decision", "user", "message", "edited")}
                          for d in decided],
            "sql": result.get("sql"), "columns": result.get("columns"), "rows": result.get("rows"),
            "citations": answer.get("citations", []), **{k: answer.get(k, []) for k in ANSWER_CHECKS},
            "calculations": [e.payload for e in view.events if e.type == EventType.CALCULATION]}


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


def thread_turn(run: Run, events: list[Event]) -> dict[str, Any]:
    """What a follow-up question needs of an earlier turn: its question, SQL, a summary of the
    rows it got, and its answer."""
    answer = fold(run.id, events).answer or {}
    executed = [e.payload for e in events if e.type == EventType.SQL_EXECUTED]
    last = executed[-1] if executed else None
    summary = None
    if last:
        sample = "; ".join(", ".join(f"{c}={v}" for c, v in zip(last["columns"], row, strict=False))
                           for row in last.get("sample_rows", [])[:3])
        summary = f"{last['row_count']} rows ({', '.join(last['columns'])}){': ' + sample if sample else ''}"
    return {"run_id": run.id, "question": run.question, "status": run.status, "sql": last["sql"] if last else None,
            "result": summary, "answer": answer.get("text", "")}
