"""Logging for the CLI, the server and the workers.

A worker sets the run it works on with :func:`run_context`; every record logged meanwhile in
that thread — by the engine, an agent, a connector — carries ``run_id``, so a failure in the log
can be found in the run's event log and the other way round. ``HIL_LOG_FORMAT=json`` writes one
JSON object per line for log collectors; ``text`` (the default) is for people.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from hil import settings
from hil.errors import ConfigError

_run_id: ContextVar[str | None] = ContextVar("hil_run_id", default=None)
FORMATS = ("text", "json")
_HANDLER_NAME = "hil"


@contextmanager
def run_context(run_id: str) -> Iterator[None]:
    """Records logged inside carry ``run_id``."""
    token = _run_id.set(run_id)
    try:
        yield
    finally:
        _run_id.reset(token)


class RunIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "run_id", None) is None:
            record.run_id = _run_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        if getattr(record, "run_id", None):
            entry["run_id"] = getattr(record, "run_id", None)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        run_id = getattr(record, "run_id", None)
        return line.replace(": ", f" [run {run_id}]: ", 1) if run_id else line


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted (a server or a test may swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure(fmt: str | None = None, level: str | None = None) -> None:
    """Send hil's records to standard error in the chosen format (idempotent)."""
    fmt = (fmt or settings.get_str("HIL_LOG_FORMAT")).lower()
    if fmt not in FORMATS:
        raise ConfigError(f"HIL_LOG_FORMAT={fmt!r} is not one of {', '.join(FORMATS)}", hint="use text or json")
    level = (level or settings.get_str("HIL_LOG_LEVEL")).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"HIL_LOG_LEVEL={level!r} is not DEBUG, INFO, WARNING or ERROR")
    logger = logging.getLogger("hil")
    for old in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(old)
    handler = StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RunIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
