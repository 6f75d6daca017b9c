"""What every command shares: the consoles, the store, the tenant the CLI works in (`hil --tenant
NAME ...` or HIL_TENANT; `default` otherwise), and printing text that is not markup (a file name or
an error with ``[a-z]`` in it must print as it is)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from hil.services import DEFAULT_TENANT, Store, open_store

out = Console()
err = Console(stderr=True)
TENANT = DEFAULT_TENANT  # the tenant of a CLI used without --tenant
_chosen = {"name": DEFAULT_TENANT}

__all__ = ["TENANT", "err", "escape", "out", "plain", "store", "tenant", "tenant_name", "use_tenant"]


def store() -> Store:
    return open_store()


def use_tenant(name: str) -> None:
    _chosen["name"] = name or DEFAULT_TENANT


def tenant_name() -> str:
    return _chosen["name"]


def tenant(db: Store | None = None) -> str:
    """The id of the tenant this command works in; an unknown name is a clear error."""
    if _chosen["name"] == DEFAULT_TENANT:
        return DEFAULT_TENANT
    from hil.services.users import UserService

    return UserService(db or store()).tenant_id(_chosen["name"])


def plain(console: Console, text: Any, **kwargs: Any) -> None:
    """Print ``text`` literally: no markup, no highlighting, and not cut into lines where no
    terminal shows it (a log file or a service's journal keeps a message on one line)."""
    kwargs.setdefault("soft_wrap", not console.is_terminal)
    console.print(text, markup=False, highlight=False, **kwargs)
