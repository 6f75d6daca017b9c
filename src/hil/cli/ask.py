"""`hil ask` and `hil runs resume`: drive one run in this process, show its events live and
ask the human at each approval (or approve everything with --yes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from typing import Any

import yaml
from rich.console import Console
from rich.prompt import Prompt

from hil.cli.common import escape, tenant
from hil.cli.render import event_line, show_approval
from hil.engine.worker import Worker
from hil.errors import HilError, InvalidDecision
from hil.events import EventType
from hil.services import Store
from hil.services.runs import TERMINAL_STATUSES, Approval, RunService


class EventTail:
    """Prints a run's events as they are appended (answer tokens stream inline)."""

    def __init__(self, store: Store, service: RunService, run_id: str, console: Console, after: int = 0):
        self.store, self.service, self.run_id, self.console = store, service, run_id, console
        self.seq = after
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.in_answer = False
        self.revision = 0
        self.streamed = ""  # the answer's text as it streamed, to compare with the checked one
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> EventTail:
        self.thread.start()
        return self

    def drain(self) -> None:
        with self.lock:  # the tail thread and the approval loop both drain; print each event once
            self._drain()

    def _drain(self) -> None:
        for e in self.service.events(self.run_id, after=self.seq):
            self.seq = e.seq
            if e.type == EventType.ANSWER_DELTA:
                revision = e.payload.get("revision", 0)
                if not self.in_answer or revision != self.revision:
                    title = "Answer" if revision == 0 else f"Answer, revised ({revision})"
                    self.console.print(f"\n[bold]{title}[/]")
                    if revision != self.revision:
                        self.streamed = ""  # a rewrite: the checked answer is the last one's
                    self.in_answer, self.revision = True, revision
                self.console.print(e.payload.get("text", ""), end="", markup=False, highlight=False)
                self.streamed += e.payload.get("text", "")
                continue
            if self.in_answer:
                self.console.print()
                self.in_answer = False
            if e.type == EventType.ANSWER_FINAL:
                self._final(e.payload)
            line = event_line(e)
            if line:
                self.console.print(f"[dim]{e.seq:>3}[/] {line}")

    def _final(self, answer: dict[str, Any]) -> None:
        """The checked answer, when it is not what streamed: the citation numbers added to the
        sentences the passages support, an unverified number marked or withheld."""
        text, streamed = str(answer.get("text") or "").strip(), self.streamed.strip()
        self.streamed = ""
        if text and streamed and text != streamed:
            self.console.print("\n[bold]Answer, checked[/] [dim](citations added, numbers checked)[/]")
            self.console.print(text, markup=False, highlight=False)

    def _loop(self) -> None:
        while not self.stop.is_set():
            gen = self.store.generation()
            self.drain()
            self.store.wait_for_change(gen, 0.5)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.drain()


def _edit_in_editor(approval: Approval) -> dict[str, Any]:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    is_sql = approval.kind.startswith("sql")
    text = approval.content["sql"] if is_sql else yaml.safe_dump(approval.content, sort_keys=False)
    with tempfile.NamedTemporaryFile("w+", suffix=".sql" if is_sql else ".yaml", delete=False) as f:
        f.write(text)
        path = f.name
    try:
        subprocess.run([*editor.split(), path], check=True)
        with open(path, encoding="utf-8") as f:
            edited = f.read()
    finally:
        os.unlink(path)
    if is_sql:
        return {**approval.content, "sql": edited.strip()}
    data = yaml.safe_load(edited)
    if not isinstance(data, dict):
        raise InvalidDecision("the edited plan must be a mapping with a 'steps' list")
    return data


def ask_decision(console: Console, service: RunService, approval: Approval) -> None:
    draft = service.view(approval.run_id).state.draft(approval.draft_id)
    show_approval(console, approval, draft.basis if draft else None)
    choices: dict[str, Any] = {"a": "approve", "e": "edit", "r": "reject", "c": "cancel"}
    if approval.kind == "clarification":
        choices["s"] = "respond"
    while True:
        key = Prompt.ask("[bold]" + ", ".join(f"\\[{k}]{v[1:]}" for k, v in choices.items()) + "[/]",
                         choices=list(choices), default="a", console=console, show_choices=False)
        decision = choices[key]
        try:
            if decision == "cancel":
                service.cancel(approval.run_id)
            elif decision == "approve":
                service.decide(approval.id, "approve", content_hash_seen=approval.content_hash)
            elif decision == "edit":
                service.decide(approval.id, "edit", content=_edit_in_editor(approval),
                               content_hash_seen=approval.content_hash)
            else:
                message = Prompt.ask("message" if decision == "reject" else "your answer", console=console)
                service.decide(approval.id, decision, message=message, content_hash_seen=approval.content_hash)
            return
        except InvalidDecision as err:
            console.print(f"[red]{escape(err.message)}[/]" + (f" ({escape(err.hint)})" if err.hint else ""))


def drive(store: Store, run_id: str, *, model: str | None, yes: bool, console: Console) -> str:
    """Run until the run is terminal, answering approvals; returns the final status."""
    service = RunService(store, tenant(store))
    worker = Worker(store, model=model)
    tail = EventTail(store, service, run_id, console).start()
    interactive = sys.stdin is not None and not sys.stdin.closed
    try:
        while True:
            worker.run_once(run_id)
            run = service.get(run_id)
            if run.status in TERMINAL_STATUSES:
                return run.status
            if run.status == "awaiting_approval":
                tail.drain()
                for a in service.pending_approvals(run_id):
                    if yes:
                        service.decide(a.id, "approve", content_hash_seen=a.content_hash, user="auto:cli --yes")
                    elif interactive:
                        ask_decision(console, service, a)
                    else:
                        raise HilError("the run waits for an approval and there is no terminal to ask",
                                       hint=f"pass --yes, or decide later with `hil runs resume {run_id[:8]}`")
            elif run.status == "running":
                store.wait_for_change(store.generation(), 1.0)  # leased by another worker
    finally:
        tail.close()


def print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
