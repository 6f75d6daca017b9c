"""A run's state, folded from its event log. Nothing here reads anything but events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hil.events import Event, EventType

DRAFT_EVENTS = {EventType.PLAN_DRAFTED, EventType.PLAN_REVISED, EventType.SQL_DRAFTED, EventType.TOOL_PROPOSED}
# The events :func:`fold` reads: a worker resuming a run reads only these (not the streamed deltas,
# results and snippets, which are most of a long run's log).
FOLDED_EVENTS = (*sorted(DRAFT_EVENTS), EventType.RUN_CREATED, EventType.RUN_STARTED, EventType.RUN_RESUMED,
                 EventType.STEP_STARTED, EventType.APPROVAL_REQUESTED, EventType.APPROVAL_DECIDED,
                 EventType.STEP_RETRIED, EventType.STEP_FINISHED, EventType.STEP_FAILED, EventType.ANSWER_FINAL,
                 EventType.RUN_FINISHED, EventType.RUN_FAILED, EventType.RUN_CANCELLED, EventType.RUN_EXPIRED)


@dataclass
class DraftState:
    draft_id: str
    kind: str
    content: dict[str, Any]
    needs_approval: bool
    approval_id: str | None = None
    decision: str | None = None  # approve | edit | reject | respond
    edited: dict[str, Any] | None = None
    message: str | None = None
    decided_by: str | None = None  # who decided: a person, or "system:..." / "auto:..." for rules
    failed_with: str | None = None  # execution error that asks for a redraft
    basis: list[dict[str, Any]] = field(default_factory=list)  # few-shot examples the draft followed
    # a query approved before, reused: the next prompt is likely the one that followed it then, and
    # is read ahead whole, as it was (this process only)
    repeats_approved: bool = False

    @property
    def needs_redraft(self) -> bool:
        return self.decision in ("reject", "respond") or self.failed_with is not None

    @property
    def approved_content(self) -> dict[str, Any]:
        return self.edited if self.decision == "edit" and self.edited is not None else self.content


@dataclass
class StepState:
    name: str
    started: bool = False
    finished: bool = False
    failed: bool = False
    output: dict[str, Any] | None = None
    drafts: list[DraftState] = field(default_factory=list)
    retries: int = 0


@dataclass
class RunState:
    run_id: str
    question: str = ""
    started: bool = False
    terminal: str | None = None
    steps: dict[str, StepState] = field(default_factory=dict)
    answer: dict[str, Any] | None = None
    last_seq: int = 0

    def step(self, name: str) -> StepState:
        return self.steps.setdefault(name, StepState(name))

    def plan(self) -> list[dict[str, Any]]:
        planner = self.steps.get("planner")
        return list(planner.output["steps"]) if planner and planner.output else []

    def draft(self, draft_id: str) -> DraftState | None:
        for st in self.steps.values():
            for d in st.drafts:
                if d.draft_id == draft_id:
                    return d
        return None


def fold(run_id: str, events: list[Event]) -> RunState:
    state = RunState(run_id)
    for e in events:
        state.last_seq = e.seq
        p = e.payload
        if e.type == EventType.RUN_CREATED:
            state.question = p.get("question", "")
        elif e.type in (EventType.RUN_STARTED, EventType.RUN_RESUMED):
            state.started = True
        elif e.type == EventType.STEP_STARTED and e.step:
            state.step(e.step).started = True
        elif e.type in DRAFT_EVENTS and e.step:
            state.step(e.step).drafts.append(DraftState(p["draft_id"], p["kind"], p["content"],
                                                        bool(p.get("needs_approval")),
                                                        basis=list(p.get("examples") or [])))
        elif e.type == EventType.APPROVAL_REQUESTED:
            d = state.draft(p["draft_id"])
            if d:
                d.approval_id = p["approval_id"]
        elif e.type == EventType.APPROVAL_DECIDED:
            d = state.draft(p["draft_id"])
            if d:
                d.decision, d.edited, d.message = p["decision"], p.get("edited"), p.get("message")
                d.decided_by = p.get("user")
        elif e.type == EventType.STEP_RETRIED and e.step and p.get("draft_id"):
            d = state.draft(p["draft_id"])
            if d:
                d.failed_with = p.get("error", "failed")
            state.step(e.step).retries += 1
        elif e.type == EventType.STEP_FINISHED and e.step:
            st = state.step(e.step)
            st.finished, st.output = True, p.get("output", {})
        elif e.type == EventType.STEP_FAILED and e.step:
            state.step(e.step).failed = True
        elif e.type == EventType.ANSWER_FINAL:
            state.answer = p
        elif e.type in (EventType.RUN_FINISHED, EventType.RUN_FAILED, EventType.RUN_CANCELLED,
                        EventType.RUN_EXPIRED):
            state.terminal = e.type
    return state
