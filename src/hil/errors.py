"""Error classes and the one JSON error shape.

Every error a user can meet is a :class:`HilError`: it carries a stable ``code``, a one-line
``message`` that says what was wrong and where, and an optional ``hint`` that says what to do.
The CLI prints ``message`` (and ``hint``) on one line each and exits non-zero; the server will
render :meth:`HilError.to_dict` as ``{"error": {code, message, details}}``.
"""

from __future__ import annotations

from typing import Any


class HilError(Exception):
    """Base class of every error meant for a human."""

    code = "error"
    exit_code = 1
    http_status = 400  # what the server answers with

    def __init__(self, message: str, *, hint: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        details = dict(self.details)
        if self.hint:
            details.setdefault("hint", self.hint)
        return {"error": {"code": self.code, "message": self.message, "details": details}}

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"

    @property
    def public_message(self) -> str:
        """What every reader of a run's events may see (the message, unless a subclass says less)."""
        return self.message


class ConfigError(HilError):
    code = "config_error"
    http_status = 422


class WorkflowInvalid(HilError):
    code = "workflow_invalid"
    http_status = 422


class NotFound(HilError):
    code = "not_found"
    http_status = 404


class ApprovalConflict(HilError):
    """A decision for an approval that is no longer pending, or for other content."""

    code = "approval_conflict"
    http_status = 409


class InvalidDecision(HilError):
    code = "invalid_decision"
    http_status = 422


class PolicyRefused(InvalidDecision):
    """The approval policy does not let this caller make this decision (the rule is named)."""

    code = "policy_refused"
    http_status = 403


class ModelUnavailable(HilError):
    """No model can be called: missing key, missing local model file, bad model spec."""

    code = "model_unavailable"
    http_status = 503


class ModelOutputError(HilError):
    code = "model_output_error"


class StoreUnavailable(HilError):
    code = "store_unavailable"
    http_status = 503


class ConnectionFailed(HilError):
    code = "connection_failed"
    http_status = 422

    def __init__(self, message: str, *, subject: str = "the connection", hint: str | None = None,
                 details: dict[str, Any] | None = None):
        super().__init__(message, hint=hint, details=details)
        self.subject = subject

    @property
    def public_message(self) -> str:
        """Only the cause class: a driver's words can tell which hosts and ports exist; the admin's
        connection test shows them in full."""
        cause = str(self.details.get("cause") or "connection failed").replace("_", " ")
        return f"{self.subject}: {cause}"


class ToolFailed(HilError):
    """An MCP server could not be started or reached, stopped answering, or a call failed."""

    code = "tool_failed"
    http_status = 422


class QueryRefused(HilError):
    """A statement the read-only guard will not run."""

    code = "query_refused"
    http_status = 422


class QueryFailed(HilError):
    code = "query_failed"
    http_status = 422


class RunCancelled(HilError):
    code = "run_cancelled"


class IdempotencyConflict(HilError):
    """A side effect started before a crash and its outcome is unknown: never repeat it."""

    code = "idempotency_conflict"
    http_status = 409


class Unauthorized(HilError):
    """No API key, or one that is unknown or revoked."""

    code = "unauthorized"
    http_status = 401


class Forbidden(HilError):
    """The caller's role may not do this."""

    code = "forbidden"
    http_status = 403


class Conflict(HilError):
    """The request clashes with what exists, e.g. a name already taken."""

    code = "conflict"
    http_status = 409


class PayloadTooLarge(HilError):
    code = "payload_too_large"
    http_status = 413



class InvalidRequest(HilError):
    """A request the API cannot take: details.errors lists each field path and what is wrong."""

    code = "invalid_request"
    http_status = 422
