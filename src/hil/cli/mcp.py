"""`hil mcp tools|test|add|remove`: the MCP servers a workflow's tools step calls."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from hil.cli.common import escape, out, plain, store, tenant

mcp_app = typer.Typer(no_args_is_help=True, help="MCP servers whose tools a workflow's tools step calls.")


def _service() -> Any:
    from hil.services.tools import ToolService

    db = store()
    return ToolService(db, tenant(db), actor="cli")


@mcp_app.command("tools")
def mcp_tools(workflow: str, server: Annotated[str | None, typer.Option(help="Only this server.")] = None,
              refresh: Annotated[bool, typer.Option(help="Ask the servers again instead of the cache.")] = False,
              as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The tools a workflow's MCP servers offer it, and whether each reads or acts."""
    tools = _service().tools(workflow, server, refresh)
    if as_json:
        plain(out, json.dumps([t.to_dict() for t in tools], indent=2))
        return
    table = Table("server", "tool", "kind", "arguments", "description")
    for t in tools:
        required = set(t.input_schema.get("required") or [])
        args = ", ".join(f"{a}{'' if a in required else '?'}" for a in (t.input_schema.get("properties") or {}))
        table.add_row(escape(t.server), escape(t.name), "reads" if t.read_only else "acts (needs approval)",
                      escape(args), escape(t.description.splitlines()[0] if t.description else ""))
    out.print(table)


@mcp_app.command("test")
def mcp_test(workflow: str, server: Annotated[str | None, typer.Option(help="Only this server.")] = None) -> None:
    """Start (stdio) or reach (HTTP) each server and list its tools."""
    for found in _service().test(workflow, server):
        plain(out, f"{found['server']}: ok, {found['tools']} tools ({found['acting']} acting) "
                   f"in {found['elapsed_ms']:.0f} ms")


@mcp_app.command("add")
def mcp_add(workflow: str, name: str,
            command: Annotated[str | None, typer.Option(help="stdio: the command line that starts the server.")] = None,
            url: Annotated[str | None, typer.Option(help="Streamable HTTP endpoint, e.g. http://host:8000/mcp.")] = None,
            env: Annotated[list[str] | None, typer.Option(help="KEY=secret://NAME or KEY=env://VAR; repeatable.")] = None,
            header: Annotated[list[str] | None, typer.Option(help="NAME=secret://NAME; repeatable.")] = None,
            timeout: Annotated[float, typer.Option(help="Longest wait for one call, seconds.")] = 30) -> None:
    """Add an MCP server to a workflow (a new version of it)."""
    import shlex

    from hil.errors import ConfigError
    from hil.services.tools import ToolService

    def pairs(items: list[str] | None, option: str) -> dict[str, str]:
        found = {}
        for item in items or []:
            if "=" not in item:
                raise ConfigError(f"--{option} {item!r} is not KEY=VALUE", hint=f"e.g. --{option} TOKEN=secret://gh")
            key, value = item.split("=", 1)
            found[key] = value
        return found

    spec: dict[str, Any] = {"name": name, "timeout_seconds": timeout, "env": pairs(env, "env"),
                            "headers": pairs(header, "header")}
    if command is not None:
        spec["command"] = shlex.split(command)
    if url is not None:
        spec["url"] = url
    stored = _service().add(workflow, ToolService.parse_server(spec))
    plain(out, f"workflow {stored.name} v{stored.version}: MCP server {name} added; "
               f"check it with `hil mcp test {stored.name} --server {name}`")


@mcp_app.command("remove")
def mcp_remove(workflow: str, name: str) -> None:
    """Remove an MCP server from a workflow (a new version of it)."""
    stored = _service().remove(workflow, name)
    plain(out, f"workflow {stored.name} v{stored.version}: MCP server {name} removed")
