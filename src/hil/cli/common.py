"""What every command shares: the consoles, the store, the tenant the CLI works in, and printing
text that is not markup (a file name or an error with ``[a-z]`` in it must print as it is)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from hil.services import DEFAULT_TENANT, Store, open_store

out = Console()
err = Console(stderr=True)
TENANT = DEFAULT_TENANT  # the CLI configures and asks in this tenant

__all__ = ["TENANT", "err", "escape", "out", "plain", "store"]


def store() -> Store:
    return open_store()


def plain(console: Console, text: Any, **kwargs: Any) -> None:
    """Print ``text`` literally: no markup, no highlighting."""
    console.print(text, markup=False, highlight=False, **kwargs)
