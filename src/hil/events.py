"""The event contract: the envelope every run event travels in, and its types.

Everything a user can see of a run is derived from these events. Clients must ignore event
types they do not know; :data:`CONTRACT_VERSION` changes when a payload changes incompatibly.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

CONTRACT_VERSION = "1.0"


class EventType(StrEnum):
    RUN_CREATED = "run.created"
    RUN_STARTED = "run.started"
    RUN_RESUMED = "run.resumed"
    PLAN_DRAFTED = "plan.drafted"
    PLAN_REVISED = "plan.revised"
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_DECIDED = "approval.decided"
    APPROVAL_ENDORSED = "approval.endorsed"  # one of several approvers a draft needs said yes
    APPROVAL_EXPIRED = "approval.expired"
    POLICY_DECIDED = "policy.decided"  # whether a draft waits for a human, and the rule that said so
    STEP_STARTED = "step.started"
    STEP_FINISHED = "step.finished"
    STEP_FAILED = "step.failed"
    STEP_RETRIED = "step.retried"
    LLM_DELTA = "llm.delta"
    SQL_DRAFTED = "sql.drafted"
    SQL_CANDIDATES = "sql.candidates"  # drafts from different evidence, and the result most agreed on
    SQL_EXECUTED = "sql.executed"
    SQL_ROWS_BEHIND_AGGREGATE = "sql.rows_behind_aggregate"
    SQL_WRITE_EXECUTED = "sql.write_executed"
    RETRIEVAL_RESULTS = "retrieval.results"
    TOOL_PROPOSED = "tool.proposed"  # a drafted MCP call: the tool and its exact arguments
    TOOL_CALLED = "tool.called"
    TOOL_RESULT = "tool.result"
    CALCULATION = "calculation"
    REASONING = "reasoning"
    ANSWER_DELTA = "answer.delta"
    ANSWER_FINAL = "answer.final"
    RUN_FINISHED = "run.finished"
    RUN_FAILED = "run.failed"
    RUN_CANCELLED = "run.cancelled"
    RUN_EXPIRED = "run.expired"
    RUN_FEEDBACK = "run.feedback"  # a user's verdict on a finished run's answer
    HEARTBEAT = "heartbeat"


TERMINAL_TYPES = frozenset(
    {EventType.RUN_FINISHED, EventType.RUN_FAILED, EventType.RUN_CANCELLED, EventType.RUN_EXPIRED}
)


class Event(BaseModel):
    """One fact about a run. ``seq`` is gap-free per run and starts at 1."""

    id: str = Field(description="Globally unique event id.")
    run_id: str
    seq: int = Field(ge=1, description="Position in the run's log; SSE `id:`.")
    type: str = Field(description="One of EventType; clients ignore unknown types.")
    ts: datetime
    step: str | None = Field(default=None, description="Step name the event belongs to, if any.")
    agent: str | None = Field(default=None, description="Agent that emitted the event, if any.")
    payload: dict[str, Any] = Field(default_factory=dict)


def json_schema() -> dict[str, Any]:
    schema = Event.model_json_schema()
    schema["$id"] = f"https://hil.dev/schema/events/{CONTRACT_VERSION}.json"
    schema["properties"]["type"]["examples"] = [t.value for t in EventType]
    schema["x-contract-version"] = CONTRACT_VERSION
    return schema


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, default=str, separators=(",", ":"), sort_keys=True)
