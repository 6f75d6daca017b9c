"""Which MCP servers a workflow may use. A stdio server is a program the hil server runs, so a
workflow from an API caller (authentication on) may start only the programs listed in
``HIL_MCP_COMMANDS``; an HTTP server's host must be in ``HIL_MCP_HOSTS`` when that is set, so a
workflow cannot point the server at any host of its network. Names are compared as written."""

from __future__ import annotations

import os
from urllib.parse import urlparse

from hil import settings
from hil.dbhosts import host_listed
from hil.errors import ConfigError
from hil.workflows import Workflow


def _listed(setting: str) -> list[str]:
    return [e.strip() for e in settings.get_str(setting).split(",") if e.strip()]


def problems(workflow: Workflow, restricted: bool) -> list[dict[str, str]]:
    found = []
    commands = _listed("HIL_MCP_COMMANDS")
    hosts = _listed("HIL_MCP_HOSTS")
    for i, server in enumerate(workflow.mcp):
        if server.command is not None and restricted:
            program = server.command[0]
            if program not in commands and os.path.basename(program) not in commands:
                found.append({"loc": f"mcp[{i}].command", "msg": f"{program!r} may not be started by this server: "
                              "a stdio MCP server runs a program here, so only those listed in HIL_MCP_COMMANDS "
                              "may be named over the API"})
        if server.url is not None and hosts:
            host = urlparse(server.url).hostname or ""
            if not host_listed(host, hosts):
                found.append({"loc": f"mcp[{i}].url", "msg": f"host {host!r} is not among the MCP hosts this server "
                              "may reach (HIL_MCP_HOSTS)"})
    return found


def check(workflow: Workflow, restricted: bool) -> None:
    """Refuse, naming each field, the MCP servers this workflow may not use here."""
    found = problems(workflow, restricted)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise ConfigError(f"{found[0]['loc']}: {found[0]['msg']}{more}", details={"errors": found},
                          hint="ask the server's operator to allow it, or use the CLI on the server's machine")
