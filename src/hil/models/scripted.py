"""Scripted models for tests and demos without a model: deterministic, no network, no weights.

``scripted:NAME`` uses a script registered in this process with :func:`register`;
``scripted:file:PATH`` reads a JSON object mapping a call's purpose ("plan", "sql", "answer", ...)
to a response or a list of responses (served in order; the last one repeats), so a scripted
model also works across processes (the crash-recovery tests kill and restart a worker).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from pathlib import Path
from typing import Any, NamedTuple

from hil.errors import ModelUnavailable
from hil.models.adapters import Script

_scripts: dict[str, Script] = {}
_lock = threading.Lock()


class Read(NamedTuple):
    """A prompt a scripted model was given to read ahead."""

    purpose: str
    system: str
    prompt: str
    as_before: bool  # the call was expected to be the one made last time


# name -> the prompts read ahead with that script's model, latest last
_read_ahead: dict[str, deque[Read]] = {}


def register(name: str, script: Script) -> None:
    with _lock:
        _scripts[name] = script


def unregister(name: str) -> None:
    with _lock:
        _scripts.pop(name, None)
        _read_ahead.pop(name, None)


def note_read_ahead(name: str, purpose: str, system: str, prompt: str, as_before: bool = False) -> None:
    """A scripted model reads nothing ahead; it keeps what it was given, for tests to compare with the call."""
    with _lock:
        _read_ahead.setdefault(name, deque(maxlen=100)).append(Read(purpose, system, prompt, as_before))


def read_ahead(name: str) -> list[Read]:
    """The prompts read ahead with ``scripted:NAME`` in this process, oldest first."""
    with _lock:
        return list(_read_ahead.get(name, ()))


MAX_SCRIPT_BYTES = 1024 * 1024


class FileScript:
    def __init__(self, path: Path):
        try:
            with path.open("rb") as f:
                raw = f.read(MAX_SCRIPT_BYTES + 1)  # a script is small: never read without a bound
            if len(raw) > MAX_SCRIPT_BYTES:
                raise ModelUnavailable(f"model script {path} is over {MAX_SCRIPT_BYTES // 1024} KB")
            self.responses: dict[str, Any] = json.loads(raw.decode("utf-8"))
        except (OSError, ValueError) as err:
            raise ModelUnavailable(f"cannot read model script {path}: {err}") from None
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, purpose: str, messages: list[dict[str, str]], schema: dict[str, Any] | None) -> Any:
        if purpose not in self.responses:
            raise ModelUnavailable(f"model script has no response for {purpose!r}")
        value = self.responses[purpose]
        if not isinstance(value, list):
            return value
        with self.lock:
            n = self.calls.get(purpose, 0)
            self.calls[purpose] = n + 1
        return value[min(n, len(value) - 1)]


def get(name: str) -> Script:
    with _lock:
        if name.startswith("file:"):  # one instance per file, so "served in order" spans runs
            if name not in _scripts:
                _scripts[name] = FileScript(Path(name.removeprefix("file:")))
            return _scripts[name]
        if name in _scripts:
            return _scripts[name]
    raise ModelUnavailable(f"no scripted model named {name!r}",
                           hint="register one with hil.models.scripted.register() or use scripted:file:PATH")
