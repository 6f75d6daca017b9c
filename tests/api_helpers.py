"""Helpers for the HTTP API tests: an SSE parser, a run driven to its end through the API, and a
real uvicorn server in a thread."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

TERMINAL = {"succeeded", "failed", "cancelled", "expired"}


def parse_sse(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Messages of an SSE stream: {"id", "event", "data"} (data parsed as JSON); comments are
    yielded as {"comment": text}."""
    message: dict[str, Any] = {}
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                message["data"] = json.loads("\n".join(data))
                yield message
            message, data = {}, []
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                data.append(value)
            elif field in ("id", "event"):
                message[field] = value


def drive(client: Any, run_id: str, decide: bool = True, timeout: float = 60) -> dict[str, Any]:
    """Poll the run, approving each pending approval as shown, until it ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/runs/{run_id}").json()
        if run["status"] in TERMINAL:
            return dict(run)
        if decide:
            for a in run["pending_approvals"]:
                r = client.post(f"/api/v1/approvals/{a['id']}/decision",
                                json={"decision": "approve", "content_hash": a["content_hash"]})
                assert r.status_code in (200, 409), r.text
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not end in {timeout}s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """A real uvicorn server on a free loopback port, in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def wait_status(base: str, run_id: str, statuses: set[str], timeout: float = 30,
                headers: dict[str, str] | None = None) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run: dict[str, Any] = httpx.get(f"{base}/api/v1/runs/{run_id}", headers=headers).json()
        if run.get("status") in statuses:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {statuses}")
