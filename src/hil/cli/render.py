"""How the CLI shows events, runs and approvals (rich). Rendering only: no decisions here."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from hil.events import Event, EventType
from hil.services.runs import Approval, Run

DECIDED = {"approve": "approved", "edit": "edited", "reject": "rejected", "respond": "answered"}


def _count(n: object, noun: str) -> str:
    """``1 row``, ``5 rows``; a value that is not a count as it is."""
    return f"{n} {noun}" if n == 1 else f"{escape(str(n))} {noun}s"


def event_line(e: Event) -> str | None:
    """One line of rich markup for the live timeline (every value from the event escaped); None
    hides the event (e.g. streamed tokens)."""
    p = e.payload
    t = e.type

    def v(key: str) -> str:
        return escape(str(p.get(key, "")))

    if t == EventType.RUN_CREATED:
        return f"run created for workflow {v('workflow')} v{v('workflow_version')}"
    if t in (EventType.RUN_STARTED, EventType.RUN_RESUMED):
        return ("resumed" if t == EventType.RUN_RESUMED else "started") + (" after a lost lease" if p.get("recovered") else "")
    if t == EventType.STEP_STARTED:
        return f"[bold]{escape(e.step or '')}[/] started" + (f" — {v('purpose')}" if p.get("purpose") else "")
    if t in (EventType.PLAN_DRAFTED, EventType.PLAN_REVISED):
        return f"plan {'revised' if t == EventType.PLAN_REVISED else 'drafted'}: {v('summary')}"
    if t == EventType.SQL_DRAFTED:
        return f"SQL drafted (attempt {v('attempt')})"
    if t == EventType.APPROVAL_REQUESTED:
        return f"[yellow]waiting for approval[/] of {v('kind')} ({escape(str(p.get('approval_id', ''))[:8])})"
    if t == EventType.APPROVAL_DECIDED:
        msg = f": {v('message')}" if p.get("message") else ""
        return f"{v('kind')} {escape(DECIDED.get(p.get('decision', ''), str(p.get('decision'))))} by {v('user')}{msg}"
    if t == EventType.SQL_EXECUTED:
        return f"SQL returned {_count(p.get('row_count'), 'row')} in {v('elapsed_ms')} ms"
    if t == EventType.SQL_WRITE_EXECUTED:
        return f"[bold]{v('verb')}[/] changed {_count(p.get('rows_affected'), 'row')} in {v('elapsed_ms')} ms"
    if t == EventType.SQL_ROWS_BEHIND_AGGREGATE:
        groups = p.get("groups", [])
        rows = _count(sum(len(g.get("rows", [])) for g in groups), "row")
        return f"fetched {rows} behind the top {_count(len(groups), 'group')}"
    if t == EventType.RETRIEVAL_RESULTS:
        titles = ", ".join(dict.fromkeys(s["title"] for s in p.get("snippets", [])))
        return f"retrieved {_count(len(p.get('snippets', [])), 'passage')} from {escape(titles) or 'no documents'}"
    if t == EventType.STEP_RETRIED:
        if p.get("reason") == "repaired":  # fixed without a model call: not a retry a person waits for
            return f"repaired the {escape(e.step or '')} draft: {escape('; '.join(map(str, p.get('fixes') or [])))}"
        why = p.get("error") or "; ".join(map(str, p.get("problems") or [])) or p.get("reason") or ""
        return f"[yellow]retrying[/] {escape(e.step or '')}: {escape(str(why))}"
    if t == EventType.STEP_FAILED:
        return f"[red]{escape(e.step or '')} failed[/]: {v('error')}"
    if t == EventType.RUN_FAILED:
        return f"[red]run failed[/]: {v('error')}"
    if t == EventType.RUN_FINISHED:
        return "[green]run finished[/]"
    if t in (EventType.RUN_CANCELLED, EventType.RUN_EXPIRED):
        return f"[red]{t.split('.')[1]}[/]"
    if t == EventType.STEP_FINISHED:
        return None
    if t in (EventType.ANSWER_DELTA, EventType.LLM_DELTA, EventType.HEARTBEAT, EventType.ANSWER_FINAL,
             EventType.REASONING):
        return None
    return escape(t)


def show_approval(console: Console, a: Approval, basis: list[dict[str, Any]] | None = None) -> None:
    """The approval card; ``basis`` lists the approved examples a SQL draft followed."""
    if a.kind == "plan":
        table = Table(title=f"Plan for approval ({a.id[:8]})", show_lines=False)
        table.add_column("#")
        table.add_column("step")
        table.add_column("purpose")
        for i, s in enumerate(a.content.get("steps", []), 1):
            table.add_row(str(i), escape(str(s["agent"])), escape(str(s["purpose"])))
        console.print(table)
    elif a.kind.startswith("sql"):
        what = "[bold red]WRITE[/] " if a.kind == "sql_write" else ""
        console.print(Panel(Syntax(a.content.get("sql", ""), "sql", word_wrap=True),
                            title=f"{what}SQL for approval on {escape(str(a.content.get('connection')))} ({a.id[:8]})"))
        if a.content.get("impact"):
            console.print(f"[bold]Estimated impact:[/] {escape(a.content['impact']['summary'])}")
        if basis:
            console.print("Based on approved examples: " + "; ".join(
                f"{escape(b['question'])!r} ({b['id'][:8]}, score {b['score']})" for b in basis))
    else:
        console.print(Panel(escape(json.dumps(a.content, indent=2)), title=f"{escape(a.kind)} ({a.id[:8]})"))


def runs_table(runs: list[Run], workflow_names: dict[str, str]) -> Table:
    table = Table(title="Runs")
    for col in ("id", "created", "workflow", "status", "question"):
        table.add_column(col)
    for r in runs:
        created = dt.datetime.fromtimestamp(r.created_at).strftime("%Y-%m-%d %H:%M")
        table.add_row(r.id[:8], created, escape(f"{workflow_names.get(r.workflow_id, '?')} v{r.workflow_version}"),
                      r.status, escape(r.question if len(r.question) < 70 else r.question[:67] + "..."))
    return table


def timeline_table(events: list[Event]) -> Table:
    table = Table(title="Event timeline")
    for col in ("seq", "time", "type", "step", "detail"):
        table.add_column(col)
    for e in events:
        if e.type == EventType.ANSWER_DELTA:
            continue
        detail = event_line(e) or escape(_short(e.payload))
        table.add_row(str(e.seq), e.ts.astimezone().strftime("%H:%M:%S"), e.type, escape(e.step or ""), detail)
    return table


def _short(payload: dict[str, Any]) -> str:
    text = payload.get("text") or json.dumps(payload, default=str)
    return text if len(text) < 100 else text[:97] + "..."
