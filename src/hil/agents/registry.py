"""Agents registered by name. Built-in agents use the same registration as plug-ins: they are
named here as ``module:Class`` and imported on first use, so the registry imports none of the
agents it registers (and an agent may ask the registry about the others)."""

from __future__ import annotations

import importlib
import threading

from hil.agents.base import Agent
from hil.errors import NotFound

_agents: dict[str, type[Agent]] = {}
_lock = threading.Lock()
_builtins_loaded = False
_load_lock = threading.Lock()
BUILTIN_AGENTS = ("hil.agents.planner:PlannerAgent", "hil.agents.sql.agent:SqlAgent", "hil.agents.rag:RagAgent",
                  "hil.agents.tools:ToolAgent", "hil.agents.reasoner:ReasonerAgent",
                  "hil.agents.responder:ResponderAgent")


def register(cls: type[Agent]) -> type[Agent]:
    with _lock:
        _agents[cls.name] = cls
    return cls


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    with _load_lock:  # a second thread waits until every built-in is registered
        if not _builtins_loaded:
            for spec in BUILTIN_AGENTS:
                module, name = spec.split(":")
                register(getattr(importlib.import_module(module), name))
            _builtins_loaded = True


def get(name: str) -> Agent:
    _load_builtins()
    with _lock:
        cls = _agents.get(name)
    if cls is None:
        raise NotFound(f"no agent named {name!r}", hint=f"registered agents: {', '.join(sorted(_agents))}")
    return cls()


def step_agent_names() -> set[str]:
    _load_builtins()
    with _lock:
        return {n for n, c in _agents.items() if c.role == "step"}


def by_role(role: str) -> Agent:
    _load_builtins()
    with _lock:
        for cls in _agents.values():
            if cls.role == role:
                return cls()
    raise NotFound(f"no agent with role {role!r}")


def describe_steps(names: list[str]) -> list[tuple[str, str]]:
    return [(n, get(n).description) for n in names]
