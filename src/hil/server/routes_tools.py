"""What a workflow's steps can use: the agents (built-in and plug-ins) and the MCP tools its
servers offer it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from hil.server.deps import Operator, State, Viewer
from hil.server.schemas import errors
from hil.services.agents import catalogue
from hil.services.tools import ToolService

router = APIRouter(tags=["workflows"])


@router.get("/workflows/{workflow_id}/tools", responses=errors(401, 403, 404, 422))
async def workflow_tools(workflow_id: str, who: Operator, state: State,
                         refresh: Annotated[bool, Query(description="Ask the servers instead of the cache.")] = False,
                         ) -> dict[str, Any]:
    """Each tool with its server, description, input schema and whether it reads or acts (an
    acting tool waits for approval). Starting a stdio server or reaching an HTTP one takes a
    moment, so it runs off the event loop; a server that fails answers 422 ``tool_failed``."""
    service = ToolService(state.store, who.tenant, actor=who.user, restricted=state.auth)
    tools = await run_in_threadpool(service.tools, workflow_id, None, refresh)
    return {"tools": [t.to_dict() for t in tools]}


@router.get("/agents", tags=["agents"], responses=errors(401))
def agents(_who: Viewer) -> dict[str, Any]:
    """Every agent a step may name (built-in and plug-in), what data it needs, its settings' schema
    and default gates; plug-ins that failed to load, with the reason."""
    return {"agents": catalogue()}
