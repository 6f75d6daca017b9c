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


class ConfigError(HilError):
    code = "config_error"


class WorkflowInvalid(HilError):
    code = "workflow_invalid"


class NotFound(HilError):
    code = "not_found"


class ApprovalConflict(HilError):
    """A decision for an approval that is no longer pending, or for other content."""

    code = "approval_conflict"


class InvalidDecision(HilError):
    code = "invalid_decision"


class ModelUnavailable(HilError):
    """No model can be called: missing key, missing local model file, bad model spec."""

    code = "model_unavailable"


class ModelOutputError(HilError):
    code = "model_output_error"


class StoreUnavailable(HilError):
    code = "store_unavailable"


class ConnectionFailed(HilError):
    code = "connection_failed"


class QueryRefused(HilError):
    """A statement the read-only guard will not run."""

    code = "query_refused"


class QueryFailed(HilError):
    code = "query_failed"


class RunCancelled(HilError):
    code = "run_cancelled"


class IdempotencyConflict(HilError):
    """A side effect started before a crash and its outcome is unknown: never repeat it."""

    code = "idempotency_conflict"
