"""The agents a workflow's steps may name: built-ins and installed plug-ins."""

from __future__ import annotations

from typing import Any

from hil.agents import registry


def catalogue() -> list[dict[str, Any]]:
    return registry.catalogue()
