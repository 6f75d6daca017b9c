"""Server-Sent Events over real HTTP (uvicorn), and a server restarted in the middle of a run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from hil.server.app import create_app
from hil.store import Store
from tests.api_helpers import TERMINAL, free_port, parse_sse, serving, wait_status
from tests.cli_helpers import HIL, assert_clean_error, hil
from tests.conftest import DEFAULT_RESPONSES, Script, write_script_file
from tests.test_api import workflow_json


def read_until(lines: Iterator[str], stop: Any) -> list[dict[str, Any]]:
    got = []
    for m in parse_sse(lines):
        got.append(m)
        if stop(m):
            break
    return got


def approver(base: str, run_id: str, done: threading.Event) -> None:
    """Approve whatever the run asks for, as a human would, until it ends."""
    while not done.is_set():
        run = httpx.get(f"{base}/api/v1/runs/{run_id}").json()
        if run["status"] in TERMINAL:
            return
        for a in run["pending_approvals"]:
            httpx.post(f"{base}/api/v1/approvals/{a['id']}/decision",
                       json={"decision": "approve", "content_hash": a["content_hash"]})
        time.sleep(0.05)


def test_a_client_that_reconnects_with_last_event_id_gets_every_event_once_in_order(
        sqlite_store: Store, script: Script, workspace: Path) -> None:
    app = create_app(sqlite_store, workers=1, model="scripted:test", heartbeat_seconds=0.3)
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        assert client.post("/api/v1/workflows", json=workflow_json(workspace)).status_code == 201
        with client.stream("GET", "/api/v1/events") as inbox:  # the tenant-wide stream, opened first
            run = client.post("/api/v1/runs", json={"workflow": "fleet", "question": "Which vehicles overheat?"}).json()
            first_inbox = read_until(inbox.iter_lines(), lambda m: m.get("event") == "run.created")
        assert first_inbox[-1]["id"] == f"{run['id']}:1" and first_inbox[-1]["data"]["run_id"] == run["id"]

        # first connection: until the plan waits for a human, then a few heartbeats, then drop it
        with client.stream("GET", f"/api/v1/runs/{run['id']}/events") as r:
            lines = r.iter_lines()
            first = read_until(lines, lambda m: m.get("event") == "approval.requested")
            quiet = read_until(lines, lambda m: m.get("comment") == "heartbeat")
        assert quiet[-1] == {"comment": "heartbeat"}
        events = [m for m in first + quiet if "data" in m]
        last_id = events[-1]["id"]

        # while nobody listens, the run goes on: approve the plan; the SQL draft waits next
        done = threading.Event()
        helper = threading.Thread(target=approver, args=(base, run["id"], done))
        helper.start()
        try:
            with client.stream("GET", f"/api/v1/runs/{run['id']}/events", headers={"Last-Event-ID": last_id}) as r:
                second = [m for m in parse_sse(r.iter_lines()) if "data" in m]  # ends after the terminal event
        finally:
            done.set()
            helper.join()

        received = events + second
        seqs = [int(m["id"]) for m in received]
        assert seqs == list(range(1, len(seqs) + 1)), seqs
        assert received[-1]["event"] == "run.finished"
        stored = [e["seq"] for e in json_events(client, run["id"])]
        assert seqs == stored[:len(seqs)] and received[-1]["data"]["seq"] == len(seqs)


def json_events(client: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    with client.stream("GET", f"/api/v1/runs/{run_id}/events") as r:
        return [m["data"] for m in parse_sse(r.iter_lines()) if "data" in m]


# -- the server process, stopped and started again mid-run --
def start_server(home: Path, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "HIL_HOME": str(home), "HIL_LEASE_SECONDS": "2", "HIL_EMBEDDER": "wordllama"}
    proc = subprocess.Popen([HIL, "serve", "--port", str(port), "--workers", "1"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"server did not start: {proc.communicate()[1]}")


def test_a_server_killed_mid_run_shows_the_same_history_after_restart_and_the_run_goes_on(
        hil_home: Path, workspace: Path, tmp_path: Path) -> None:
    model = write_script_file(tmp_path / "script.json", {
        "plan": DEFAULT_RESPONSES["plan"], "sql": {"sql": "SELECT count(*) AS n FROM vehicles"},
        "answer": "There are 180 vehicles [1]."})
    body = workflow_json(workspace)
    body["model"]["model"] = model
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(hil_home, port)
    try:
        assert httpx.post(f"{base}/api/v1/workflows", json=body).status_code == 201
        run = httpx.post(f"{base}/api/v1/runs", json={"workflow": "fleet", "question": "How many vehicles?"}).json()
        plan = wait_status(base, run["id"], {"awaiting_approval"})["pending_approvals"][0]
        httpx.post(f"{base}/api/v1/approvals/{plan['id']}/decision",
                   json={"decision": "approve", "content_hash": plan["content_hash"]}).raise_for_status()
        before = wait_status(base, run["id"], {"awaiting_approval"})
        while before["pending_approvals"][0]["kind"] != "sql_read":
            before = wait_status(base, run["id"], {"awaiting_approval"})
        with httpx.Client(base_url=base) as c:
            events_before = json_events_until_quiet(c, run["id"])
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    proc = start_server(hil_home, port)
    try:
        after = httpx.get(f"{base}/api/v1/runs/{run['id']}").json()
        for key in ("status", "plan", "drafts", "pending_approvals", "last_seq"):
            assert after[key] == before[key], key
        with httpx.Client(base_url=base) as c:
            assert json_events_until_quiet(c, run["id"]) == events_before
        sql = after["pending_approvals"][0]
        httpx.post(f"{base}/api/v1/approvals/{sql['id']}/decision",
                   json={"decision": "approve", "content_hash": sql["content_hash"]}).raise_for_status()
        final = wait_status(base, run["id"], TERMINAL)
        assert final["status"] == "succeeded" and final["queries"][0]["sample_rows"] == [[180]]
        assert final["answer"]["text"].startswith("There are 180 vehicles")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def json_events_until_quiet(client: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    """The events of a run that waits for a human: the stream stays open, so read up to last_seq."""
    last = client.get(f"/api/v1/runs/{run_id}").json()["last_seq"]
    with client.stream("GET", f"/api/v1/runs/{run_id}/events", timeout=30) as r:
        got = read_until(r.iter_lines(), lambda m: m.get("data", {}).get("seq") == last)
    return [m["data"] for m in got if "data" in m]


def test_serve_refuses_a_public_address_without_keys_and_says_when_auth_is_off(hil_home: Path) -> None:
    assert_clean_error(hil("serve", "--host", "0.0.0.0"), "refusing to bind 0.0.0.0 without authentication")
    assert_clean_error(hil("serve", "--auth", "on"), "no API key exists")
    assert_clean_error(hil("serve", "--auth", "maybe"), "not one of on, off, auto")
    port = free_port()
    proc = subprocess.Popen([HIL, "serve", "--port", str(port)], env={**os.environ}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").json()["auth"] is False:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert "authentication is OFF" in stderr

    created = hil("users", "add", "ops@acme", "--role", "admin", "--tenant", "acme", "--json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["key"]
    port = free_port()
    proc = subprocess.Popen([HIL, "serve", "--host", "0.0.0.0", "--port", str(port)], env={**os.environ}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/v1/workflows")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert r.status_code == 401
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/workflows",
                         headers={"Authorization": f"Bearer {key}"}).json() == []
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert "API keys are required" in stderr


def test_users_and_keys_commands(hil_home: Path) -> None:
    added = hil("users", "add", "ann@acme", "--role", "approver", "--tenant", "acme", "--json")
    assert added.returncode == 0, added.stderr
    key = json.loads(added.stdout)
    assert key["key"].startswith("hil_") and key["tenant"] == "acme"
    assert_clean_error(hil("users", "add", "ann@acme", "--tenant", "acme"), "already has a user 'ann@acme'")
    assert_clean_error(hil("users", "add", "bob", "--role", "boss"), "unknown role 'boss'")
    assert_clean_error(hil("keys", "create", "nobody", "--tenant", "acme"), "tenant 'acme' has no user 'nobody'")
    listed = hil("users", "list")
    assert "ann@acme" in listed.stdout and "approver" in listed.stdout
    second = hil("keys", "create", "ann@acme", "--tenant", "acme", "--json")
    assert second.returncode == 0
    keys = hil("keys", "list", "--json")
    assert key["key"] not in keys.stdout
    assert next((k["id"], k["prefix"], k["user"]) for k in json.loads(keys.stdout)) == (key["id"], key["key"][:12],
                                                                                      "ann@acme")
    table = hil("keys", "list").stdout
    assert "ann@acme" in table and key["id"][:8] in table
    revoked = hil("keys", "revoke", key["id"][:8])
    assert revoked.returncode == 0 and key["id"] in revoked.stderr
    assert_clean_error(hil("keys", "revoke", "nope"), "no key matches 'nope'")
