"""The HTTP API end to end on a real store, with a scripted model: a full run through the API,
every event validated against the published schema, and each resource group's behaviour."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from hil.server.app import create_app
from hil.store import Store
from hil.workflows import load_workflow_file
from tests.api_helpers import drive, parse_sse
from tests.conftest import Script


@pytest.fixture
def client(store: Store, script: Script) -> Iterator[TestClient]:
    with TestClient(create_app(store, workers=1, model="scripted:test")) as c:
        yield c


def workflow_json(workspace: Path) -> dict[str, Any]:
    return load_workflow_file(workspace).model_dump(mode="json")


def sse(client: TestClient, path: str, **kwargs: Any) -> list[dict[str, Any]]:
    with client.stream("GET", path, **kwargs) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        return [m for m in parse_sse(r.iter_lines()) if "comment" not in m]


def test_a_full_run_through_the_api_streams_events_that_match_the_published_schema(
        client: TestClient, workspace: Path, script: Script) -> None:
    created = client.post("/api/v1/workflows", json=workflow_json(workspace))
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    r = client.post("/api/v1/runs", json={"workflow": "fleet", "question": "Which vehicles overheat most?"})
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["status"] in ("queued", "running") and run["thread_id"] and run["question"].startswith("Which")

    final = drive(client, run["id"])
    assert final["status"] == "succeeded", final["error"]
    assert final["plan"] and final["queries"] and final["snippets"]
    assert final["answer"]["text"].startswith("The top vehicle is VH-")
    assert [d["decision"] for d in final["drafts"]] == ["approve", "approve"]
    assert final["pending_approvals"] == []

    schema = client.get("/api/v1/schema/events.json").json()
    messages = sse(client, f"/api/v1/runs/{run['id']}/events")
    assert messages, "no events streamed"
    for m in messages:
        jsonschema.validate(m["data"], schema)
        assert m["id"] == str(m["data"]["seq"]) and m["event"] == m["data"]["type"]
    assert [m["data"]["seq"] for m in messages] == list(range(1, len(messages) + 1))
    kinds = [m["event"] for m in messages]
    assert kinds[0] == "run.created" and kinds[-1] == "run.finished"
    assert {"plan.drafted", "approval.requested", "approval.decided", "sql.executed", "retrieval.results",
            "answer.final"} <= set(kinds)

    # resume from a seq: only what follows, in order
    tail = sse(client, f"/api/v1/runs/{run['id']}/events", headers={"Last-Event-ID": str(len(messages) - 3)})
    assert [m["data"]["seq"] for m in tail] == [len(messages) - 2, len(messages) - 1, len(messages)]
    assert sse(client, f"/api/v1/runs/{run['id']}/events?after={len(messages)}") == []

    # artifacts: the SQL result as CSV and JSON, and the answer
    names = client.get(f"/api/v1/runs/{run['id']}/artifacts").json()
    assert {"sql.csv", "sql.json", "answer.json"} <= set(names)
    table = client.get(f"/api/v1/runs/{run['id']}/artifacts/sql.json").json()
    rows = list(csv.reader(io.StringIO(client.get(f"/api/v1/runs/{run['id']}/artifacts/sql.csv").text)))
    assert rows[0] == table["columns"] == final["queries"][0]["columns"]
    assert len(rows) - 1 == len(table["rows"]) == final["queries"][0]["row_count"]
    missing = client.get(f"/api/v1/runs/{run['id']}/artifacts/nope.csv")
    assert missing.status_code == 404 and "sql.csv" in missing.json()["error"]["details"]["hint"]

    # feedback feeds the few-shot memory
    fb = client.post(f"/api/v1/runs/{run['id']}/feedback", json={"correct": True, "comment": "right"})
    assert fb.status_code == 200 and fb.json()["examples_added"] == 1

    # a follow-up in the same thread: the planner sees the earlier question, its SQL and its rows
    follow = client.post("/api/v1/runs", json={"workflow": "fleet", "question": "And only critical ones?",
                                               "thread_id": run["thread_id"]}).json()
    assert drive(client, follow["id"])["status"] == "succeeded"
    prompt = script.prompts("plan")[-1]
    assert "Which vehicles overheat most?" in prompt and "SELECT f.vehicle_id" in prompt and "rows (" in prompt
    thread = client.get(f"/api/v1/threads/{run['thread_id']}").json()
    assert [t["question"] for t in thread["turns"]] == ["Which vehicles overheat most?", "And only critical ones?"]
    assert thread["turns"][0]["sql"].startswith("SELECT") and thread["turns"][0]["answer"]
    unknown = client.post("/api/v1/runs", json={"workflow": "fleet", "question": "x", "thread_id": "nope"})
    assert unknown.status_code == 404


def test_workflows_are_versioned_archived_and_validated_with_field_paths(client: TestClient, workspace: Path) -> None:
    body = workflow_json(workspace)
    first = client.post("/api/v1/workflows", json=body).json()
    assert client.post("/api/v1/workflows", json=body).status_code == 409
    body["instructions"] = "Answer in one sentence."
    second = client.put(f"/api/v1/workflows/{first['id']}", json=body)
    assert second.status_code == 200 and second.json()["version"] == 2
    assert client.put(f"/api/v1/workflows/{first['id']}", json=body).json()["version"] == 2  # unchanged
    assert client.get("/api/v1/workflows/fleet?version=1").json()["definition"]["instructions"] == ""
    assert [v["version"] for v in client.get(f"/api/v1/workflows/{first['id']}/versions").json()] == [1, 2]

    bad = dict(body, steps=["sql", "nope"], row_limit=0)
    r = client.post("/api/v1/workflows", json=bad)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_request"
    assert {e["loc"] for e in err["details"]["errors"]} == {"body.steps", "body.row_limit"}
    assert "unknown step 'nope'" in err["message"] or "row_limit" in err["message"]

    assert client.delete(f"/api/v1/workflows/{first['id']}").status_code == 204
    assert client.get("/api/v1/workflows").json() == []
    assert client.post("/api/v1/runs", json={"workflow": "fleet", "question": "q"}).status_code == 404


def test_a_postgres_dsn_is_stored_encrypted_and_never_returned(client: TestClient, store: Store,
                                                                 workspace: Path) -> None:
    dsn = "postgresql://analyst:hunter2@127.0.0.1:1/nowhere"
    r = client.post("/api/v1/connections", json={"name": "wh", "engine": "postgres", "dsn": dsn})
    assert r.status_code == 201, r.text
    assert "hunter2" not in r.text and r.json()["location"] == "postgresql://analyst:***@127.0.0.1:1/nowhere"
    assert "hunter2" not in client.get("/api/v1/connections").text
    test = client.post(f"/api/v1/connections/{r.json()['id']}/test").json()
    assert test["ok"] is False and test["error"]["code"] == "connection_failed" and "hunter2" not in str(test)
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT dsn_encrypted FROM connections").scalar()
    assert stored and "hunter2" not in stored

    body = workflow_json(workspace)
    body["connections"].append({"name": "wh", "engine": "postgres", "dsn": dsn})
    wf = client.post("/api/v1/workflows", json=body)
    assert wf.status_code == 201 and "hunter2" not in wf.text
    with store.engine.connect() as conn:
        definitions = [str(d) for (d,) in conn.exec_driver_sql("SELECT definition FROM workflow_versions")]
    assert definitions and not any("hunter2" in d for d in definitions)

    assert client.post("/api/v1/connections", json={"name": "wh", "engine": "postgres", "dsn": dsn}).status_code == 409
    assert client.delete(f"/api/v1/connections/{r.json()['id']}").status_code == 204
    assert client.get("/api/v1/connections").json() == []


def test_a_working_connection_tests_ok(client: TestClient, fleet_db: Path) -> None:
    r = client.post("/api/v1/connections", json={"name": "fleet", "engine": "duckdb", "path": str(fleet_db)})
    result = client.post(f"/api/v1/connections/{r.json()['id']}/test").json()
    assert result["ok"] is True and result["tables"] >= 3


def test_documents_upload_with_status_search_delete_and_size_limit(client: TestClient,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert client.post("/api/v1/collections", json={"name": "manuals"}).status_code == 201
    assert client.post("/api/v1/collections", json={"name": "manuals"}).status_code == 409
    files = [("file", ("brakes.md", b"# Brakes\n\n## Pads\n\nReplace brake pads every 40,000 km.")),
             ("file", ("broken.pdf", b"%PDF-1.4 not really"))]
    r = client.post("/api/v1/collections/manuals/documents", files=files)
    assert r.status_code == 201, r.text
    by_source = {d["source"]: d for d in r.json()}
    assert by_source["brakes.md"]["chunks"] == 1 and by_source["brakes.md"]["status"] != "failed"
    assert by_source["broken.pdf"]["status"] == "failed" and "PDF" in by_source["broken.pdf"]["reason"]

    docs = client.get("/api/v1/collections/manuals/documents").json()
    assert {d["source"]: d["status"] for d in docs}["broken.pdf"] == "failed"
    hits = client.get("/api/v1/collections/manuals/search", params={"q": "brake pads", "mode": "bm25"}).json()
    assert hits[0]["source"] == "brakes.md" and hits[0]["heading"] == "Pads"
    assert hits[0]["text"] in "# Brakes\n\n## Pads\n\nReplace brake pads every 40,000 km."

    monkeypatch.setenv("HIL_KNOWLEDGE_MAX_MB", "1")
    big = client.post("/api/v1/collections/manuals/documents", files=[("file", ("big.txt", b"a " * 600_000))])
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"
    not_multipart = client.post("/api/v1/collections/manuals/documents", content=b"x",
                                headers={"content-type": "text/plain"})
    assert not_multipart.status_code == 422
    assert "big.txt" not in {d["source"] for d in client.get("/api/v1/collections/manuals/documents").json()}

    doc_id = by_source["brakes.md"]["document_id"]
    assert client.delete(f"/api/v1/collections/manuals/documents/{doc_id}").status_code == 204
    assert client.get("/api/v1/collections/manuals/search", params={"q": "brake pads"}).json() == []
    assert client.delete(f"/api/v1/collections/manuals/documents/{doc_id}").status_code == 404


def test_run_history_filters_and_cursor_pagination(client: TestClient, store: Store, workspace: Path) -> None:
    client.post("/api/v1/workflows", json=workflow_json(workspace))
    ids = [client.post("/api/v1/runs", json={"workflow": "fleet", "question": f"question {i} about brakes"
                                             if i % 2 else f"question {i}"}).json()["id"] for i in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        page = client.get("/api/v1/runs", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [r["id"] for r in page["runs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    assert {r["question"] for r in client.get("/api/v1/runs", params={"text": "BRAKES"}).json()["runs"]} == {
        "question 1 about brakes", "question 3 about brakes", "question 5 about brakes"}
    assert len(client.get("/api/v1/runs", params={"workflow": "fleet", "user": "local"}).json()["runs"]) == 7
    assert client.get("/api/v1/runs", params={"user": "someone-else"}).json()["runs"] == []
    assert client.get("/api/v1/runs", params={"since": "2999-01-01T00:00:00Z"}).json()["runs"] == []
    assert len(client.get("/api/v1/runs", params={"until": "2999-01-01T00:00:00Z"}).json()["runs"]) == 7
    bad = client.get("/api/v1/runs", params={"cursor": "garbage"})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["errors"][0]["loc"] == "query.cursor"
    assert client.get("/api/v1/runs", params={"workflow": "nope"}).status_code == 404


def test_cancel_and_approval_listing(client: TestClient, workspace: Path) -> None:
    client.post("/api/v1/workflows", json=workflow_json(workspace))
    run = client.post("/api/v1/runs", json={"workflow": "fleet", "question": "q"}).json()
    for _ in range(400):
        pending = client.get("/api/v1/approvals", params={"status": "pending", "run": run["id"]}).json()
        if pending:
            break
        time.sleep(0.05)
    assert [a["kind"] for a in pending] == ["plan"]
    assert client.get("/api/v1/approvals", params={"kind": "sql"}).json() == []
    assert len(client.get("/api/v1/approvals", params={"workflow": "fleet"}).json()) == 1
    cancelled = client.post(f"/api/v1/runs/{run['id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["pending_approvals"] == []
    assert client.get("/api/v1/approvals").json() == []
    late = client.post(f"/api/v1/approvals/{pending[0]['id']}/decision",
                       json={"decision": "approve", "content_hash": pending[0]["content_hash"]})
    assert late.status_code == 409 and late.json()["error"]["code"] == "approval_conflict"


def test_every_failure_has_the_one_error_shape(client: TestClient) -> None:
    responses = [client.get("/api/v1/nowhere"), client.delete("/api/v1/runs"), client.get("/api/v1/runs/nope"),
                 client.post("/api/v1/runs", json={"question": 3}), client.post("/api/v1/runs", content=b"{not json",
                                                                             headers={"content-type": "application/json"}),
                 client.get("/api/v1/runs?limit=0")]
    assert [r.status_code for r in responses] == [404, 405, 404, 422, 422, 422]
    for r in responses:
        body = r.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
        assert body["error"]["message"]
