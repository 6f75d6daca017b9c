"""The step driver: draft, wait for approval, execute, redraft when the work failed or a human
asked for changes. One loop for everyone who drives an agent: the runner, which records each
fact as an event and parks the run for a human, and the SQL evaluation, which approves every
draft unseen. What differs between them is only what the hooks do."""

from __future__ import annotations

from typing import Any, Literal, Protocol

from hil.agents.base import Agent, Draft, Feedback, Redraft, StepContext
from hil.engine.state import DraftState, StepState
from hil.errors import HilError


class StepHooks(Protocol):
    def record(self, st: StepState, draft: Draft, attempt: int) -> DraftState:
        """Remember a new draft (the runner appends its event) and return its state."""

    def await_decision(self, st: StepState, d: DraftState) -> None:
        """A draft needs a human: set ``d.decision``, or raise to stop here (the runner parks)."""

    def retried(self, st: StepState, d: DraftState, message: str) -> None:
        """The approved content failed when executed; a new draft follows."""


class GaveUp(HilError):
    """The step used all its drafts without producing work that ran."""

    code = "step_gave_up"

    def __init__(self, message: str, last: DraftState | None):
        super().__init__(message)
        self.last = last


def feedback_for(latest: DraftState | None, drafts: list[DraftState] | None = None) -> Feedback | None:
    """What the next draft is told: the execution error, the clarification or the reviewer's message,
    and what every earlier draft of the step that was turned down or failed held."""
    if latest is None:
        return None
    source: Literal["reviewer", "error", "clarification"] = "error" if latest.failed_with else (
        "clarification" if latest.decision == "respond" else "reviewer")
    tried = [d.approved_content for d in drafts or [latest] if d.needs_redraft]
    return Feedback(source, latest.failed_with or latest.message or "", latest.approved_content, tried)


def drive_step(agent: Agent, st: StepState, ctx: StepContext, hooks: StepHooks, max_drafts: int) -> dict[str, Any]:
    """Drive one step from its recorded drafts (none on a fresh step) to its output."""
    while True:
        latest = st.drafts[-1] if st.drafts else None
        if latest is None or latest.needs_redraft:
            if len(st.drafts) >= max_drafts:
                raise GaveUp(f"step {st.name!r} gave up after {len(st.drafts)} drafts", latest)
            draft = agent.draft(ctx, feedback_for(latest, st.drafts))
            if draft is None:
                return agent.execute(ctx, None)
            latest = hooks.record(st, draft, len(st.drafts) + 1)
        if latest.needs_approval and latest.decision is None:
            hooks.await_decision(st, latest)
        try:
            return agent.execute(ctx, latest.approved_content)
        except Redraft as r:
            hooks.retried(st, latest, r.message)
            latest.failed_with = r.message
