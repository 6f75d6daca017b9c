"""Agents registered by name. Built-in agents use the same registration as plug-ins: they are
named here as ``module:Class`` and imported on first use, so the registry imports none of the
agents it registers (and an agent may ask the registry about the others).

Plug-ins are installed Python packages that declare an entry point in the ``hil.agents`` group
(``name = "package.module:AgentClass"``); they are loaded with the built-ins. A plug-in that
fails to import is reported by `hil agents list`, not fatal to the others."""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from hil.agents.base import Agent
from hil.errors import NotFound

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "hil.agents"
BUILTIN_AGENTS = ("hil.agents.planner:PlannerAgent", "hil.agents.sql.agent:SqlAgent", "hil.agents.rag:RagAgent",
                  "hil.agents.tools:ToolAgent", "hil.agents.reasoner:ReasonerAgent",
                  "hil.agents.responder:ResponderAgent")


@dataclass(frozen=True)
class Origin:
    source: str  # "built-in", "plug-in" or "registered" (in process)
    spec: str  # module:Class
    package: str | None = None  # the distribution a plug-in came from, with its version


_agents: dict[str, type[Agent]] = {}
_origins: dict[str, Origin] = {}
_broken: dict[str, str] = {}  # entry point -> why it could not be loaded
_lock = threading.Lock()
_builtins_loaded = False
_load_lock = threading.Lock()


def register(cls: type[Agent], origin: Origin | None = None) -> type[Agent]:
    with _lock:
        _agents[cls.name] = cls
        _origins[cls.name] = origin or Origin("registered", f"{cls.__module__}:{cls.__qualname__}")
    return cls


def unregister(name: str) -> None:
    """Forget an agent registered in this process (a test's, an embedding application's)."""
    with _lock:
        if _origins.get(name, Origin("", "")).source == "registered":
            _agents.pop(name, None)
            _origins.pop(name, None)


def _load(spec: str) -> type[Agent]:
    module, name = spec.split(":")
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, Agent)):
        raise TypeError(f"{spec} is not an Agent class")
    return cls


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    with _load_lock:  # a second thread waits until every built-in is registered
        if not _builtins_loaded:
            for spec in BUILTIN_AGENTS:
                register(_load(spec), Origin("built-in", spec))
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                package = f"{ep.dist.name} {ep.dist.version}" if ep.dist else None
                try:
                    cls = _load(ep.value)
                except Exception as err:  # noqa: BLE001 - one broken plug-in must not take the others down
                    _broken[ep.name] = f"{ep.value}: {type(err).__name__}: {err}"
                    log.warning("plug-in agent %s could not be loaded: %s", ep.name, _broken[ep.name])
                    continue
                if cls.name in _agents and _origins[cls.name].source == "built-in":
                    _broken[ep.name] = f"{ep.value}: the name {cls.name!r} is a built-in agent's"
                    continue
                register(cls, Origin("plug-in", ep.value, package))
            _builtins_loaded = True


def rediscover() -> None:
    """Forget the plug-ins and load every entry point again (after installing one in this process)."""
    global _builtins_loaded
    with _load_lock, _lock:
        for name in [n for n, o in _origins.items() if o.source == "plug-in"]:
            _agents.pop(name, None)
            _origins.pop(name, None)
        _broken.clear()
        _builtins_loaded = False
    _load_builtins()


def get(name: str) -> Agent:
    _load_builtins()
    with _lock:
        cls = _agents.get(name)
    if cls is None:
        raise NotFound(f"no agent named {name!r}", hint=f"registered agents: {', '.join(sorted(_agents))}")
    return cls()


def agent_class(name: str) -> type[Agent]:
    return type(get(name))


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


def catalogue() -> list[dict[str, Any]]:
    """Every registered agent, where it came from and what it needs; plug-ins that failed to load."""
    _load_builtins()
    with _lock:
        found = [{"name": n, "role": c.role, "description": c.description, "source": _origins[n].source,
                  "spec": _origins[n].spec, "package": _origins[n].package,
                  "needs": [{"what": need.what, "columns": list(need.columns)} for need in c.needs],
                  "settings": c.settings_model.model_json_schema() if c.settings_model else None,
                  "gates": list(c.gates)}
                 for n, c in sorted(_agents.items())]
        found += [{"name": n, "role": None, "source": "broken", "error": why} for n, why in sorted(_broken.items())]
    return found
