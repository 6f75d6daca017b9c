"""A real MCP server, written with the official SDK, for the tests: a tool that reads, a tool that
acts (it appends each ticket to the file named by TICKETS_FILE, so a test can see what ran), and a
tool that makes the server exit in the middle of a call.

    python tests/mcp_fleet_server.py                       # stdio
    python tests/mcp_fleet_server.py streamable-http PORT  # Streamable HTTP on 127.0.0.1:PORT/mcp
"""

from __future__ import annotations

import json
import os
import sys
import time

from mcp.server import MCPServer
from mcp_types import ToolAnnotations

server = MCPServer("fleet-tools")


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def vehicle_status(vehicle_id: str) -> str:
    """Current status and odometer of one vehicle, by its id (e.g. VH-0042)."""
    return json.dumps({"vehicle_id": vehicle_id, "status": "in service", "odometer_km": 120500})


@server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
def open_ticket(vehicle_id: str, summary: str, priority: int = 3) -> str:
    """Open a maintenance ticket for a vehicle."""
    with open(os.environ["TICKETS_FILE"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"vehicle_id": vehicle_id, "summary": summary, "priority": priority}) + "\n")
    return json.dumps({"ticket": "T-1", "vehicle_id": vehicle_id, "summary": summary})


@server.tool()
def crash(seconds: float = 0.0) -> str:
    """Stops the server in the middle of the call."""
    time.sleep(seconds)
    os._exit(3)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "streamable-http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
