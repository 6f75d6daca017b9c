"""MCP tools in a run, against a real MCP server written with the official SDK (over stdio and
Streamable HTTP): a tool that reads runs without a human; a tool that acts waits, and the
arguments a human edited are what runs; a server that dies mid-call fails the step with a clear
error instead of hanging; every call is audited and gated by the policy."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hil.connectors.mcp import list_tools
from hil.engine.worker import Worker
from hil.errors import WorkflowInvalid
from hil.events import EventType
from hil.services import Store
from hil.services.audit import AuditService
from hil.services.policies import PolicyService
from hil.services.runs import RunService
from hil.services.workflows import WorkflowService
from hil.workflows import McpServer, Workflow
from tests.api_helpers import free_port
from tests.conftest import Script
from tests.helpers import apply_workflow

SERVER = str(Path(__file__).with_name("mcp_fleet_server.py"))


@pytest.fixture
def tickets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tickets.jsonl"
    monkeypatch.setenv("TICKETS_FILE", str(path))
    return path


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    tickets = tmp_path_factory.mktemp("http") / "tickets.jsonl"
    proc = subprocess.Popen([sys.executable, SERVER, "streamable-http", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={"TICKETS_FILE": str(tickets), "PATH": "/usr/bin:/bin"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    proc.wait(10)


def stdio_server(**extra: Any) -> dict[str, Any]:
    return {"name": "fleet", "command": [sys.executable, SERVER], "env": {"TICKETS_FILE": "env://TICKETS_FILE"},
            "timeout_seconds": 20, **extra}


def _run(store: Store, script: Script, server: dict[str, Any], call: dict[str, Any]) -> tuple[RunService, Worker, str]:
    script.responses["plan"] = {"steps": [{"agent": "tools", "purpose": "use the fleet tools"}]}
    script.responses["tool"] = call
    script.responses["answer"] = "Done."
    apply_workflow(store, Workflow.model_validate({"name": "fleet-tools", "steps": ["tools"], "mcp": [server],
                                                   "approval": {"plan": False}}))
    service = RunService(store, "default")
    run_id = service.create_run("fleet-tools", "What is the status of VH-0042?", user="carol")
    worker = Worker(store, model="scripted:test")
    worker.run_once(run_id)
    return service, worker, run_id


def _payloads(service: RunService, run_id: str, type: str) -> list[dict[str, Any]]:
    return [e.payload for e in service.events(run_id) if e.type == type]


def test_tools_are_listed_over_stdio_and_http_and_the_workflow_may_reclassify(tickets: Path, http_server: str) -> None:
    over_stdio = {t.name: t.read_only for t in list_tools(McpServer.model_validate(stdio_server()))}
    assert over_stdio == {"vehicle_status": True, "open_ticket": False, "crash": False}
    over_http = list_tools(McpServer(name="remote", url=http_server, tools=["vehicle_*", "open_ticket"],
                                     acting=["vehicle_status"]))
    assert {t.name: t.read_only for t in over_http} == {"vehicle_status": False, "open_ticket": False}
    [status] = [t for t in over_http if t.name == "vehicle_status"]
    assert status.input_schema["required"] == ["vehicle_id"] and status.server == "remote"


def test_a_reading_tool_runs_without_approval(sqlite_store: Store, script: Script, tickets: Path) -> None:
    service, _, run_id = _run(sqlite_store, script, stdio_server(),
                              {"tool": "fleet/vehicle_status", "arguments": {"vehicle_id": "VH-0042"}})
    assert service.get(run_id).status == "succeeded"
    [decided] = [p for p in _payloads(service, run_id, EventType.POLICY_DECIDED) if p["action"].startswith("tool:")]
    assert (decided["action"], decided["needs_approval"], decided["rule"]) == (
        "tool:fleet/vehicle_status", False, "read-only-tools")
    [called] = _payloads(service, run_id, EventType.TOOL_CALLED)
    assert called["arguments"] == {"vehicle_id": "VH-0042"}
    [result] = _payloads(service, run_id, EventType.TOOL_RESULT)
    assert "in service" in result["text"] and not result["is_error"]
    assert "odometer_km" in script.prompts("answer")[0]  # the result reached the answer, fenced as data
    audited = [r for r in AuditService(sqlite_store, "default").records() if r.action == "tool.called"]
    assert [(r.subject, r.payload["arguments"]) for r in audited] == [("fleet/vehicle_status",
                                                                       {"vehicle_id": "VH-0042"})]


def test_an_acting_tool_waits_and_the_edited_arguments_are_what_runs(sqlite_store: Store, script: Script,
                                                                     http_server: str, tickets: Path) -> None:
    server = {"name": "fleet", "url": http_server, "timeout_seconds": 20}
    service, worker, run_id = _run(sqlite_store, script, server, {
        "tool": "fleet/open_ticket", "arguments": {"vehicle_id": "VH-0042", "summary": "brakes"}})
    [approval] = service.pending_approvals(run_id)
    assert approval.kind == "tool_call" and approval.content["arguments"]["summary"] == "brakes"
    assert _payloads(service, run_id, EventType.POLICY_DECIDED)[-1]["rule"] == "acting-tools-need-a-human"
    assert not _payloads(service, run_id, EventType.TOOL_CALLED)
    edited = {"server": "fleet", "tool": "open_ticket", "read_only": True,  # the edit cannot make it a read
              "arguments": {"vehicle_id": "VH-0042", "summary": "brakes squeal below 20 km/h", "priority": 2}}
    with pytest.raises(Exception, match="missing required argument 'summary'"):
        service.decide(approval.id, "edit", content_hash_seen=approval.content_hash, user="ann",
                       content={**edited, "arguments": {"vehicle_id": "VH-0042"}})
    decided = service.decide(approval.id, "edit", content_hash_seen=approval.content_hash, content=edited, user="ann")
    assert decided.edited is not None and decided.edited["read_only"] is False
    worker.run_once(run_id)
    assert service.get(run_id).status == "succeeded", " ".join(e.type for e in service.events(run_id)[6:])
    [called] = _payloads(service, run_id, EventType.TOOL_CALLED)
    assert called["arguments"] == edited["arguments"]
    [result] = _payloads(service, run_id, EventType.TOOL_RESULT)
    assert "brakes squeal below 20 km/h" in result["text"]


def test_a_server_that_dies_mid_call_fails_the_step_clearly(sqlite_store: Store, script: Script,
                                                            tickets: Path) -> None:
    service, _, run_id = _run(sqlite_store, script, stdio_server(read_only=["crash"], timeout_seconds=3),
                              {"tool": "fleet/crash", "arguments": {"seconds": 0.2}})
    run = service.get(run_id)
    assert run.status == "failed"
    [failed] = _payloads(service, run_id, EventType.RUN_FAILED)
    assert failed["code"] == "tool_failed"
    assert "MCP server 'fleet'" in failed["error"] and "calling crash" in failed["error"]
    assert "closed the connection in the middle of it" in failed["error"]


def test_a_policy_gate_makes_a_reading_tool_wait(sqlite_store: Store, script: Script, tickets: Path) -> None:
    PolicyService(sqlite_store, "default").apply({"gates": [
        {"name": "status-is-sensitive", "action": "tool:fleet/vehicle_*", "approval": "required"}]})
    service, _, run_id = _run(sqlite_store, script, stdio_server(),
                              {"tool": "fleet/vehicle_status", "arguments": {"vehicle_id": "VH-0042"}})
    assert service.get(run_id).status == "awaiting_approval"
    assert _payloads(service, run_id, EventType.POLICY_DECIDED)[-1]["rule"] == "status-is-sensitive"
    assert not tickets.exists()


@pytest.mark.parametrize("server,message", [
    ({"name": "x", "command": ["srv"], "env": {"TOKEN": "abc123"}}, "mcp\\[0\\].env: TOKEN must be a reference"),
    ({"name": "x", "command": ["srv"], "url": "http://h/mcp"}, r"either command \(stdio\) or url"),
    ({"name": "x"}, r"either command \(stdio\) or url"),
    ({"name": "x", "url": "ftp://h/mcp"}, "is not an http:// or https:// URL"),
])
def test_mcp_servers_are_validated(server: dict[str, Any], message: str) -> None:
    with pytest.raises(WorkflowInvalid, match=message):
        WorkflowService.validate({"name": "w", "steps": ["tools"], "mcp": [server]})


def test_the_tools_step_needs_a_server() -> None:
    with pytest.raises(WorkflowInvalid, match="step 'tools' needs at least one entry in mcp"):
        WorkflowService.validate({"name": "w", "steps": ["tools"]})


def test_tool_output_never_leaks_a_secret_into_events(sqlite_store: Store, script: Script, tickets: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_TOKEN", "s3cr3t-token-value")
    server = stdio_server(env={"TICKETS_FILE": "env://TICKETS_FILE", "FLEET_TOKEN": "env://FLEET_TOKEN"})
    service, _, run_id = _run(sqlite_store, script, server,
                              {"tool": "fleet/vehicle_status", "arguments": {"vehicle_id": "VH-0042"}})
    assert service.get(run_id).status == "succeeded"
    everything = json.dumps([e.payload for e in service.events(run_id)])
    assert "s3cr3t-token-value" not in everything and "env://FLEET_TOKEN" not in everything


def test_tools_over_the_api(store: Store, script: Script, tickets: Path) -> None:
    from fastapi.testclient import TestClient

    from hil.server.app import create_app

    apply_workflow(store, Workflow.model_validate({"name": "fleet-tools", "steps": ["tools"],
                                                   "mcp": [stdio_server()]}))
    with TestClient(create_app(store, workers=0)) as client:
        listed = client.get("/api/v1/workflows/fleet-tools/tools")
        assert listed.status_code == 200
        assert {(t["name"], t["read_only"]) for t in listed.json()["tools"]} == {
            ("vehicle_status", True), ("open_ticket", False), ("crash", False)}
        assert client.get("/api/v1/workflows/nope/tools").status_code == 404
