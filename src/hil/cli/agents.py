"""`hil agents list|show`: the built-in agents and the installed plug-ins."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from hil.cli.common import escape, out, plain
from hil.errors import NotFound

agents_app = typer.Typer(no_args_is_help=True, help="Agents: the built-in ones and installed plug-ins "
                                                    "(entry points in the hil.agents group).")


def _catalogue() -> list[dict[str, object]]:
    from hil.services.agents import catalogue

    return catalogue()


@agents_app.command("list")
def agents_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Every agent a workflow's steps may name, where it comes from, and plug-ins that failed to load."""
    found = _catalogue()
    if as_json:
        plain(out, json.dumps(found, indent=2))
        return
    table = Table("name", "role", "source", "description")
    for a in found:
        source = str(a["source"]) + (f" ({a['package']})" if a.get("package") else "")
        text = str(a.get("description") or a.get("error") or "")
        table.add_row(escape(str(a["name"])), escape(str(a.get("role") or "-")), escape(source), escape(text))
    out.print(table)


@agents_app.command("show")
def agents_show(name: str) -> None:
    """One agent: what it needs, its settings and its default gates."""
    found = next((a for a in _catalogue() if a["name"] == name), None)
    if found is None:
        raise NotFound(f"no agent named {name!r}", hint="`hil agents list` shows them")
    plain(out, json.dumps(found, indent=2))
