"""The agent interface: every agent is a class behind these few methods, registered by name.

Agents never touch the store. They get a :class:`StepContext`, emit events through it and
return their output; the engine persists everything and owns approvals.

A step runs in two phases. ``draft`` proposes something a human may have to approve (a plan,
a SQL statement); the engine records it, asks for approval when the policy says so, and calls
``draft`` again with the reviewer's message when it is rejected. ``execute`` then does the work
with the approved (or edited) content. An agent with nothing to approve returns ``None`` from
``draft``.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar, cast

from pydantic import BaseModel

from hil.examples import Recall, no_examples
from hil.models.llm import LLM
from hil.workflows import Workflow

log = logging.getLogger(__name__)
T = TypeVar("T")
Role = Literal["planner", "step", "reasoner", "responder"]
# Searches the workflow's knowledge collections: (workflow, query, k) -> snippets with citations.
Retrieve = Callable[[Workflow, str, int], list[dict[str, Any]]]


def no_documents(_workflow: Workflow, _query: str, _k: int) -> list[dict[str, Any]]:
    return []


@dataclass
class Draft:
    kind: str  # approval kind: plan, sql_read, sql_write, clarification
    event_type: str  # event that records it, e.g. plan.drafted
    content: dict[str, Any]
    summary: str
    needs_approval: bool
    extra: dict[str, Any] = field(default_factory=dict)  # shown in the event, not approved
    # the content a person approved for the same request before, reused: what follows it is likely
    # what followed it then, so the model reads that prompt ahead whole, as it was
    repeats_approved: bool = False


@dataclass
class Feedback:
    """Why a new draft is needed: a human's rejection message, or an execution error."""

    source: Literal["reviewer", "error", "clarification"]
    message: str
    previous: dict[str, Any] | None = None
    tried: list[dict[str, Any]] = field(default_factory=list)  # every earlier draft turned down or failed, oldest first


class Redraft(Exception):
    """Raised by ``execute`` when the approved content failed and a new draft should be made."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Prompt:
    """A model call's prompt as far as it is known: its purpose ("sql", "answer"), the system prompt
    and the start of the user prompt."""

    purpose: str
    system: str
    text: str


@dataclass
class StepContext:
    run_id: str
    question: str
    workflow: Workflow
    step: str
    purpose: str
    outputs: dict[str, dict[str, Any]]
    emit: Callable[[str, dict[str, Any]], None]
    llm_factory: Callable[[], LLM]
    once: Callable[[str, Callable[[], Any]], Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    recall: Recall = no_examples  # the SQL few-shot memory, scoped per connection
    retrieve: Retrieve = no_documents  # the knowledge collections
    notes: dict[str, Any] = field(default_factory=dict)  # an agent's memory across its drafts in this step
    cancelled: threading.Event = field(default_factory=threading.Event)  # set when the run is cancelled
    # whether a read runs without a human (workflow and tenant policy): only then may candidate
    # queries run before the draft is recorded
    reads_unattended: bool = False
    _llm: LLM | None = None
    # what the step holds until it ends: key -> (resource, how to close it); see ``hold``
    _held: dict[str, tuple[Any, Callable[[], None]]] = field(default_factory=dict, repr=False)

    @property
    def llm(self) -> LLM:
        if self._llm is None:
            self._llm = self.llm_factory()
        return self._llm

    def hold(self, key: str, make: Callable[[], T], close: Callable[[T], None]) -> T:
        """A resource the step keeps across its drafts and its execution (a database connection):
        ``make`` runs on the first call with ``key``, later calls get the same object, and
        ``close`` runs when the step ends (:meth:`close`) or the resource is released."""
        if key not in self._held:
            value = make()
            self._held[key] = (value, lambda: close(value))
        return cast(T, self._held[key][0])

    def release(self, key: str) -> None:
        """Close one held resource now; the next ``hold`` of its key opens a fresh one."""
        held = self._held.pop(key, None)
        if held is not None:
            held[1]()

    def close(self) -> None:
        """The step ended (finished, parked, failed or cancelled): close what it holds, newest first.
        Called from a ``finally``, so a failing close is logged rather than raised: it must not
        hide the step's own outcome, nor keep the other resources open."""
        for key in reversed(list(self._held)):
            try:
                self.release(key)
            except Exception:  # logged with its traceback, see the docstring
                log.warning("closing %s of step %s failed", key, self.step, exc_info=True)


@dataclass(frozen=True)
class TableNeed:
    """Data a step agent needs: a table with these columns (matched case-insensitively). The
    planner is told which of the workflow's tables have them, and proposes the step only then."""

    what: str  # e.g. "raw CAN frames"
    columns: tuple[str, ...]


class Agent(ABC):
    name: ClassVar[str]
    role: ClassVar[Role] = "step"
    description: ClassVar[str] = ""
    needs: ClassVar[tuple[TableNeed, ...]] = ()
    # A plug-in's own settings in a workflow (``agents: {NAME: {...}}``), validated with this model.
    settings_model: ClassVar[type[BaseModel] | None] = None
    # Gates for the agent's own actions (``plugin:NAME/KIND``), used where no tenant or workflow gate matches.
    gates: ClassVar[tuple[dict[str, Any], ...]] = ()
    # Needs nothing from the other steps and no approval (retrieval): a plan runs it before them, so
    # what it finds is known while a person reviews a later step, and the model can read it then.
    runs_first: ClassVar[bool] = False

    def draft(self, ctx: StepContext, feedback: Feedback | None) -> Draft | None:
        return None

    def read_ahead(self, ctx: StepContext) -> Prompt | None:
        """The start of this step's first model prompt, as far as it is known before the step runs.

        While a person reviews an earlier step, the runner has the model read it (its prompt cache
        keeps it), so the call itself reads only the rest. ``ctx`` is the step's context as it would
        start now: the purpose is the plan's (maybe not yet approved), ``outputs`` holds what earlier
        steps returned. None when the step makes no model call or nothing new is known. It must not
        emit events or change anything."""
        return None

    def validate_edit(self, workflow: Workflow, kind: str, content: dict[str, Any]) -> dict[str, Any]:
        """Check content a human edited; raise InvalidDecision with a clear message if it is wrong."""
        return content

    @abstractmethod
    def execute(self, ctx: StepContext, content: dict[str, Any] | None) -> dict[str, Any]: ...
