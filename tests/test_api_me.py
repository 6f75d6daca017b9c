"""What the web UI asks of the API besides runs: who the caller is (/me), a document's text for a
citation, a connection tested before it is saved, and a workflow's example questions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hil.server.app import create_app
from hil.store import Store
from hil.workflows import Workflow
from tests.conftest import Script
from tests.test_api_auth import Tenant, make_tenant

ABILITIES = ("read", "ask", "upload", "feedback", "cancel", "decide", "configure")


@pytest.fixture
def secured(store: Store, script: Script, hil_home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(store, workers=0, model="scripted:test", auth=True)) as c:
        yield c


@pytest.fixture
def open_client(store: Store, script: Script) -> Iterator[TestClient]:
    with TestClient(create_app(store, workers=0, model="scripted:test", auth=False)) as c:
        yield c


def test_me_without_authentication_is_the_local_admin(open_client: TestClient) -> None:
    r = open_client.get("/api/v1/me")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == {"user": "local", "role": "admin", "tenant": "default", "auth": False,
                    "roles": ["viewer", "operator", "approver", "admin"], "may": {a: True for a in ABILITIES}}


@pytest.mark.parametrize(("role", "allowed"), [
    ("viewer", {"read"}),
    ("operator", {"read", "ask", "upload", "feedback", "cancel"}),
    ("approver", {"read", "ask", "upload", "feedback", "cancel", "decide"}),
    ("admin", set(ABILITIES)),
])
def test_me_with_authentication_names_the_user_role_tenant_and_what_the_role_may_do(
        secured: TestClient, store: Store, role: str, allowed: set[str]) -> None:
    t = make_tenant(store, "acme")
    r = secured.get("/api/v1/me", headers=t.as_(role))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["user"], body["role"], body["tenant"], body["auth"]) == (f"{role}@acme", role, "acme", True)
    assert {a for a, ok in body["may"].items() if ok} == allowed
    assert set(body["may"]) == set(ABILITIES)
    # what /me says matches what the server does: a viewer's decision and an operator's configuration are refused
    if not body["may"]["configure"]:
        refused = secured.post("/api/v1/collections", json={"name": "docs"}, headers=t.as_(role))
        assert refused.status_code == 403
    if not body["may"]["decide"]:
        refused = secured.post("/api/v1/approvals/a-1/decision", json={"decision": "approve", "content_hash": "x"},
                               headers=t.as_(role))
        assert refused.status_code == 403


def test_me_needs_a_valid_key_when_authentication_is_on(secured: TestClient, store: Store) -> None:
    make_tenant(store, "acme")
    assert secured.get("/api/v1/me").status_code == 401
    bad = secured.get("/api/v1/me", headers={"Authorization": "Bearer hil_not_a_key"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "unauthorized"


def _doc_setup(client: TestClient, t: Tenant) -> tuple[str, str]:
    admin = t.as_("admin")
    assert client.post("/api/v1/collections", json={"name": "docs", "embedder": "none"}, headers=admin).status_code == 201
    up = client.post("/api/v1/collections/docs/documents", headers=t.as_("operator"), files=[
        ("file", ("cooling.md", b"# Cooling\n\nIntro.\n\n## Overheating\n\nWhen a vehicle overheats, check the "
                                b"coolant level first.\n"))])
    assert up.status_code == 201, up.text
    return "docs", str(up.json()[0]["document_id"])


def test_a_document_text_holds_the_passage_a_search_result_points_at(secured: TestClient, store: Store) -> None:
    t, other = make_tenant(store, "acme"), make_tenant(store, "globex")
    collection, doc = _doc_setup(secured, t)
    hit = secured.get("/api/v1/collections/docs/search", params={"q": "coolant overheats", "mode": "bm25"},
                      headers=t.as_("viewer")).json()[0]
    r = secured.get(f"/api/v1/collections/{collection}/documents/{doc}/text", headers=t.as_("viewer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["id"], body["collection"], body["source"]) == (doc, "docs", "cooling.md")
    assert "check the coolant level first" in body["text"][hit["start"]:hit["end"]]
    # another tenant, an unknown document and a document of another collection are all 404
    assert secured.get(f"/api/v1/collections/docs/documents/{doc}/text", headers=other.as_("admin")).status_code == 404
    missing = secured.get("/api/v1/collections/docs/documents/nope/text", headers=t.as_("viewer"))
    assert missing.status_code == 404
    assert "no document 'nope'" in missing.json()["error"]["message"]
    secured.post("/api/v1/collections", json={"name": "other", "embedder": "none"}, headers=t.as_("admin"))
    assert secured.get(f"/api/v1/collections/other/documents/{doc}/text", headers=t.as_("admin")).status_code == 404


def test_a_connection_is_tested_before_it_is_saved_with_its_specific_cause(
        secured: TestClient, store: Store, hil_home: Path) -> None:
    t = make_tenant(store, "acme")
    data = hil_home / "data" / "acme"
    data.mkdir(parents=True, exist_ok=True)
    good = data / "fleet.db"
    with sqlite3.connect(good) as c:
        c.execute("create table vehicles(id text)")
    (data / "notes.db").write_text("this is not a database, it is a text file of some length " * 40)
    probe = "/api/v1/connections/test"
    admin = t.as_("admin")

    ok = secured.post(probe, json={"engine": "sqlite", "path": str(good)}, headers=admin)
    assert ok.status_code == 200, ok.text
    assert ok.json()["ok"] is True and ok.json()["tables"] == 1

    missing = secured.post(probe, json={"engine": "sqlite", "path": str(data / "nope.db")}, headers=admin).json()
    assert missing["ok"] is False
    assert missing["error"]["details"]["cause"] == "file_not_found"
    assert "not found" in missing["error"]["message"]

    broken = secured.post(probe, json={"engine": "sqlite", "path": str(data / "notes.db")}, headers=admin).json()
    assert broken["ok"] is False and broken["error"]["details"]["cause"] == "cannot_open"

    outside = secured.post(probe, json={"engine": "sqlite", "path": "/etc/passwd"}, headers=admin)
    assert outside.status_code == 422
    assert outside.json()["error"]["details"]["errors"][0]["loc"] == "path"

    unreachable = secured.post(probe, headers=admin, json={
        "engine": "postgres", "dsn": "postgresql://u:secret@127.0.0.1:1/db"}).json()
    assert unreachable["ok"] is False and unreachable["error"]["details"]["cause"] == "host_unreachable"
    assert "secret" not in str(unreachable)

    assert secured.post(probe, json={"engine": "sqlite", "path": str(good)}, headers=t.as_("operator")).status_code == 403
    # nothing was saved
    assert secured.get("/api/v1/connections", headers=admin).json() == []


def test_example_questions_are_stored_and_leave_older_hashes_alone(
        open_client: TestClient, workspace: Path) -> None:
    bare = Workflow(name="w", steps=["rag"], knowledge=[{"name": "docs"}])  # type: ignore[list-item]
    same = Workflow.model_validate({**bare.model_dump(mode="json"), "questions": []})
    asked = Workflow.model_validate({**bare.model_dump(mode="json"), "questions": ["Which depot is largest?"]})
    assert bare.content_hash() == same.content_hash() != asked.content_hash()
    body = {"name": "w", "steps": ["rag"], "knowledge": [{"name": "docs"}], "questions": ["Which depot is largest?"]}
    created = open_client.post("/api/v1/workflows", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["definition"]["questions"] == ["Which depot is largest?"]
    empty = open_client.post("/api/v1/workflows", json={**body, "name": "v", "questions": [""]})
    assert empty.status_code == 422
    assert empty.json()["error"]["details"]["errors"][0]["loc"].startswith("body.questions")
