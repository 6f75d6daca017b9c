"""The MCP servers of a workflow: their tools (what the tools step may call), a connection test,
and adding or removing a server (each a new workflow version)."""

from __future__ import annotations

import time
from typing import Any

from pydantic import ValidationError

from hil.connectors.mcp import ToolInfo, list_tools
from hil.errors import Conflict, NotFound
from hil.services.workflows import WorkflowService
from hil.store.db import Store
from hil.store.scoped import TenantScoped
from hil.store.secret_repo import SecretRepo
from hil.store.workflow_repo import StoredWorkflow
from hil.workflows import McpServer, describe_errors

__all__ = ["McpServer", "ToolInfo", "ToolService"]


class ToolService(TenantScoped):
    def __init__(self, store: Store, tenant: str, *, actor: str = "local", restricted: bool = False):
        super().__init__(store, tenant)
        self.actor = actor
        self.workflows = WorkflowService(store, tenant, restricted=restricted, actor=actor)

    def _servers(self, workflow: str, server: str | None) -> list[McpServer]:
        definition = SecretRepo(self.store, self.owner).resolved(self.workflows.get(workflow).definition, self.actor)
        if server is not None:
            return [definition.mcp_server(server)]
        if not definition.mcp:
            raise NotFound(f"workflow {definition.name!r} has no MCP servers",
                           hint="add one with `hil mcp add WORKFLOW NAME --command ...` or `--url ...`")
        return definition.mcp

    def tools(self, workflow: str, server: str | None = None, refresh: bool = False) -> list[ToolInfo]:
        """Every tool the workflow's servers offer it (from a one-minute cache unless ``refresh``)."""
        return [t for s in self._servers(workflow, server) for t in list_tools(s, refresh=refresh)]

    def test(self, workflow: str, server: str | None = None) -> list[dict[str, Any]]:
        """Start or reach each server and list its tools: the count and how long it took."""
        found = []
        for s in self._servers(workflow, server):
            started = time.perf_counter()
            tools = list_tools(s, refresh=True)
            found.append({"server": s.name, "tools": len(tools), "acting": sum(not t.read_only for t in tools),
                          "elapsed_ms": round((time.perf_counter() - started) * 1000, 1)})
        return found

    @staticmethod
    def parse_server(data: Any, loc: tuple[str, ...] = ()) -> McpServer:
        """An MCP server definition; every invalid field is named."""
        try:
            return McpServer.model_validate(data)
        except ValidationError as err:
            raise describe_errors(None, [{**e, "loc": (*loc, *e["loc"])} for e in err.errors()]) from None

    def add(self, workflow: str, server: McpServer) -> StoredWorkflow:
        stored = self.workflows.get(workflow)
        if any(m.name == server.name for m in stored.definition.mcp):
            raise Conflict(f"workflow {stored.name!r} already has an MCP server named {server.name!r}",
                           hint="remove it first, or choose another name")
        changed = stored.definition.model_dump(mode="json")
        changed["mcp"] = [*changed.get("mcp", []), server.model_dump(mode="json", exclude_defaults=True)]
        return self.workflows.apply(WorkflowService.validate(changed))[0]

    def remove(self, workflow: str, name: str) -> StoredWorkflow:
        stored = self.workflows.get(workflow)
        stored.definition.mcp_server(name)  # NotFound-like error naming the servers it has
        changed = stored.definition.model_dump(mode="json")
        changed["mcp"] = [m for m in changed.get("mcp", []) if m["name"] != name]
        return self.workflows.apply(WorkflowService.validate(changed))[0]
