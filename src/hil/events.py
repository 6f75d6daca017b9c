"""The event contract: the envelope every run event travels in, and its types.

Everything a user can see of a run is derived from these events. Clients must ignore event
types they do not know; :data:`CONTRACT_VERSION` changes when a payload changes incompatibly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class EventDoc:
    summary: str
    fields: dict[str, str] = field(default_factory=dict)


_DRAFT = {"draft_id": "Id of the draft; approvals and decisions name it.", "kind": "Approval kind of the draft.",
          "content": "What is proposed (a plan's steps; SQL and its connection; a tool call).",
          "summary": "One line for people.", "needs_approval": "Whether the policy made it wait for a human.",
          "attempt": "1 for the first draft of the step, then 2, 3, ..."}
_PLAN = {**_DRAFT, "left_out": "Steps the model planned that the plan leaves out, each with its purpose and why "
          "(a document search asking for nothing the query does not find); absent when none."}
_RUN_START = {"worker": "Id of the worker that took the run.",
              "recovered": "True when the run was taken over after another worker's lease expired."}

# Every event type and the fields of its payload: docs/events.md is generated from this, and a test
# checks that the events runs append carry no undocumented field.
PAYLOADS: dict[str, EventDoc] = {
    EventType.RUN_CREATED: EventDoc("A question was asked.", {
        "question": "The question.", "workflow": "Workflow name.", "workflow_id": "Workflow id.",
        "workflow_version": "The version the run uses, fixed for its life.",
        "thread_id": "The conversation it belongs to.", "user": "Who asked."}),
    EventType.RUN_STARTED: EventDoc("A worker began the run.", _RUN_START),
    EventType.RUN_RESUMED: EventDoc("A worker took the run up again (after an approval or a crash).", _RUN_START),
    EventType.PLAN_DRAFTED: EventDoc("The planner proposed which steps answer the question.", _PLAN),
    EventType.PLAN_REVISED: EventDoc("A new plan after a reviewer's message.", _PLAN),
    EventType.POLICY_DECIDED: EventDoc("Whether a draft waits for a human, and the rule that said so.", {
        "draft_id": "The draft gated.", "action": "plan, sql_read, sql_write, clarification, tool:SERVER/TOOL or "
        "plugin:AGENT/KIND.", "statement": "plan, read, dml, ddl, act or other.",
        "tables": "Tables the SQL touches (null when unknown).", "needs_approval": "The verdict.",
        "rule": "The gate or rule that decided.", "reason": "Why, in words."}),
    EventType.APPROVAL_REQUESTED: EventDoc("A draft waits for a human decision.", {
        "approval_id": "Id to decide on.", "draft_id": "The draft.", "kind": "plan, sql_read, sql_write, "
        "clarification, tool_call, or a plug-in's kind.", "content": "What is to be approved.",
        "content_hash": "Hash a decision must quote (409 when it changed).",
        "expires_at": "Epoch seconds when it expires, or null.", "decisions": "The decisions allowed.",
        "examples": "Approved examples a SQL draft was based on."}),
    EventType.APPROVAL_DECIDED: EventDoc("A human (or an expiry rule) decided.", {
        "approval_id": "The approval.", "draft_id": "The draft.", "kind": "Its kind.",
        "decision": "approve, edit, reject or respond.",
        "content_hash": "Hash of what was proposed (the content of approval.requested with the same approval_id).",
        "edited": "What was approved instead, for an edit.", "edited_hash": "Hash of the edited content.",
        "message": "The reviewer's message.", "user": "Who decided.", "role": "Their role.",
        "rule": "The policy rule that allowed the decision."}),
    EventType.APPROVAL_ENDORSED: EventDoc("One of several approvers a draft needs said yes; it keeps waiting.", {
        "approval_id": "The approval.", "draft_id": "The draft.", "kind": "Its kind.", "user": "Who approved.",
        "role": "Their role.", "approvers": "Everyone who approved so far.", "needed": "How many must.",
        "rule": "The policy rule."}),
    EventType.APPROVAL_EXPIRED: EventDoc("Nobody decided in time.", {"approval_id": "The approval."}),
    EventType.STEP_STARTED: EventDoc("A step of the plan began. It is written with the step's first event, its approval or its end; a step still running after 50 ms has it written on its own (hil.engine.late_write).", {
        "index": "Its position (0 is the planner).", "purpose": "What the plan asked of it."}),
    EventType.STEP_FINISHED: EventDoc("A step finished.", {"output": "What it produced (rows, snippets, text)."}),
    EventType.STEP_FAILED: EventDoc("A step failed.", {"code": "Error code.", "error": "What went wrong."}),
    EventType.STEP_RETRIED: EventDoc("A step tries again: its draft failed to run, or a check found a problem.", {
        "reason": "execution_error, invalid_sql, repaired, rescued (another candidate fitted after the draft's "
        "tries failed), plain_not_taken (the plain prompt's draft did not pass every check; the full agent "
        "drafts), ungrounded_answer, ...", "error": "What failed.",
        "source": "Which candidate prompt a try used (plain, schema only, second sample).",
        "draft_id": "The draft that failed.", "sql": "The SQL that failed.", "attempt": "Which try comes next.",
        "problems": "What the answer check found.", "unverified_identifiers": "Ids not found in the evidence.",
        "repaired": "The SQL after a deterministic repair (reason repaired).",
        "fixes": "The repairs applied: identifier spelling, a column moved to its table, a join added.",
        "unverified_numbers": "Numbers matched to no cell, calculation, passage or the question."}),
    EventType.LLM_DELTA: EventDoc("Reserved for streamed model output of agents other than the Responder; the "
                                  "built-in agents do not emit it.", {"text": "The new text."}),
    EventType.SQL_DRAFTED: EventDoc("The SQL agent proposed a statement.", {
        **_DRAFT, "dialect": "SQL dialect.", "feedback": "What the draft was told to fix, if anything.",
        "examples": "Approved examples it was based on.", "adjustments": "Value alignments and other fixes "
        "applied to the model's SQL.", "consensus": "How candidates agreed (unattended reads).",
        "alternatives": "Other valid drafts that differ from this one (reads a human approves, to a draft the "
        "model had to redo), each with its source and SQL.",
        "reused": "True when the query is a remembered example's for this very question, drafted without a "
        "model call.",
        "unresolved": "When no try fitted the schema: what is wrong with this best draft and the repair proposed, "
        "for the approver to edit."}),
    EventType.SQL_CANDIDATES: EventDoc("Several candidate queries and the result most of them agreed on.", {
        "chosen": "Which candidate was chosen.", "agreeing": "How many returned the chosen result.",
        "support": "The weight behind the chosen result: 1 per candidate returning it, 0.4 for an empty one "
        "when the question expects rows.",
        "candidates": "Each candidate's source, SQL and row count."}),
    EventType.SQL_EXECUTED: EventDoc("A read ran.", {
        "sql": "What ran.", "connection": "Where.", "columns": "Result columns.", "row_count": "Rows returned.",
        "sample_rows": "The first rows (personal data redacted by policy).", "truncated": "More rows existed.",
        "elapsed_ms": "How long it took.", "pii": "Personal data found and what the policy did with it, by "
        "column and kind (never the values)."}),
    EventType.SQL_ROWS_BEHIND_AGGREGATE: EventDoc("Sample rows behind each group of an aggregate.", {
        "sql": "The aggregate query.", "groups": "Per group: its key and sample rows."}),
    EventType.SQL_WRITE_EXECUTED: EventDoc("An approved write ran.", {
        "sql": "What ran.", "connection": "Where.", "verb": "INSERT, UPDATE, DELETE, CREATE, ...",
        "rows_affected": "Rows changed.", "elapsed_ms": "How long it took."}),
    EventType.RETRIEVAL_RESULTS: EventDoc("Passages found in the knowledge collections.", {
        "query": "What was searched.", "snippets": "Each passage with its citation (document, page, span)."}),
    EventType.TOOL_PROPOSED: EventDoc("A drafted MCP tool call.", {
        **_DRAFT, "description": "The tool's description.", "input_schema": "The tool's input schema."}),
    EventType.TOOL_CALLED: EventDoc("An MCP tool call runs (the edited one, if edited).", {
        "server": "MCP server.", "tool": "Tool name.", "arguments": "Exact arguments.",
        "read_only": "Whether the tool only reads."}),
    EventType.TOOL_RESULT: EventDoc("What the tool returned.", {
        "server": "MCP server.", "tool": "Tool name.", "text": "Its text (first 4,000 characters).",
        "is_error": "Whether it reported an error.", "elapsed_ms": "How long the call took."}),
    EventType.CALCULATION: EventDoc("A derived number computed from result cells by the calculator (never by the "
                                    "model); see docs/answers.md.", {
        "name": "Its name, e.g. share_brake_serviced_depot_central.",
        "expression": "The formula over named cells, e.g. pct(r1.brake_serviced, r1.vehicles).",
        "description": "What it is, in words.", "source": "rule (asked for by the question) or model (proposed).",
        "inputs": "Each cell read: cell name, value (or values of a column), row, column and row label.",
        "result": "The value.", "unit": "%, pp (percentage points), a currency or unit, or null.",
        "scale": "1000, 1e6 or 1e9 when the cells' scale is known, else null.",
        "display": "The value as the answer should quote it.",
        "error": "Why a proposal was refused (then no result)."}),
    EventType.REASONING: EventDoc("The evidence was gathered for the answer.", {
        "evidence_items": "Items in the brief.", "sql_rows": "Rows of the query result.",
        "snippets": "Passages.", "calculations": "Derived numbers computed.",
        "proposal_error": "Why the model proposed no usable calculations, if it failed."}),
    EventType.ANSWER_DELTA: EventDoc("Streamed text of the answer.", {
        "text": "The new text.", "revision": "0 for the first draft of the answer, then 1, 2, ..."}),
    EventType.ANSWER_FINAL: EventDoc("The answer as delivered, with its checks.", {
        "text": "The answer.", "citations": "What each [n] marker cites.", "sql": "The SQL behind it.",
        "sources_consulted": "How many sources were used.", "revision": "Which draft of the answer it is.",
        "verified_numbers": "Numbers found in the evidence.", "unverified_numbers": "Numbers not found.",
        "verified_identifiers": "Ids found in the evidence.", "unverified_identifiers": "Ids not found.",
        "contradicted": "Statements the evidence contradicts.",
        "names_not_returned": "Names of a result column (a depot, a make) the query did not return, stated where "
                              "no passage is cited.",
        "number_sources": "For each verified number: the cell, calculation, passage or question it matched.",
        "number_policy": "mark or withhold: what was done with unverified numbers.",
        "marked_numbers": "Unverified numbers delivered with an [unverified] marker.",
        "withheld_numbers": "Unverified numbers replaced by a withheld notice.",
        "calculations": "Names of the calculations the answer could quote."}),
    EventType.RUN_FINISHED: EventDoc("The run ended with an answer.", {
        "status": "succeeded.", "answer": "The answer's text."}),
    EventType.RUN_FAILED: EventDoc("The run failed.", {"code": "Error code.", "error": "What went wrong."}),
    EventType.RUN_CANCELLED: EventDoc("Someone cancelled the run.", {"user": "Who."}),
    EventType.RUN_EXPIRED: EventDoc("An approval expired and the run ended.", {"reason": "Why."}),
    EventType.RUN_FEEDBACK: EventDoc("A user judged the answer (after the run ended).", {
        "correct": "Their verdict.", "comment": "Their words.", "user": "Who.",
        "examples_added": "Question/SQL examples learnt.", "examples_removed": "Examples unlearnt."}),
    EventType.HEARTBEAT: EventDoc("Reserved: streams keep connections alive with an SSE comment, not an event."),
}

TERMINAL_TYPES = frozenset(
    {EventType.RUN_FINISHED, EventType.RUN_FAILED, EventType.RUN_CANCELLED, EventType.RUN_EXPIRED}
)


class Event(BaseModel):
    """One fact about a run. ``seq`` is gap-free per run and starts at 1."""

    id: str = Field(description="Globally unique event id (a UUID named by the run id and seq).")
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
