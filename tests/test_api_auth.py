"""Authentication, roles and tenant isolation. The isolation test walks every route of the
OpenAPI document, so a new route cannot escape it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hil.server.app import create_app
from hil.store import Store
from hil.store.auth_repo import AuthRepo
from tests.api_helpers import drive
from tests.conftest import Script
from tests.test_api import workflow_json


@dataclass
class Tenant:
    name: str
    keys: dict[str, str]  # role -> key

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def make_tenant(store: Store, name: str) -> Tenant:
    repo = AuthRepo(store)
    keys = {}
    for role in ("viewer", "operator", "approver", "admin"):
        repo.add_user(f"{role}@{name}", role, name)
        keys[role] = repo.create_key(f"{role}@{name}", name)[1]
    return Tenant(name, keys)


@pytest.fixture
def secured(store: Store, script: Script, hil_home: Path, fleet_db: Path) -> Iterator[TestClient]:
    for tenant in ("acme", "globex"):  # each tenant's files live in its own data folder
        data = hil_home / "data" / tenant
        data.mkdir(parents=True, exist_ok=True)
        (data / "fleet.duckdb").write_bytes(fleet_db.read_bytes())
    with TestClient(create_app(store, workers=1, model="scripted:test", auth=True)) as c:
        yield c


def allowed_workflow(workspace: Path, hil_home: Path, tenant: str) -> dict[str, Any]:
    """The workspace workflow, with its files under $HIL_HOME/data/TENANT (the only place its callers may name)."""
    body = workflow_json(workspace)
    body["connections"][0]["path"] = str(hil_home / "data" / tenant / "fleet.duckdb")
    body["knowledge"][0]["paths"] = []
    return body


def populate(client: TestClient, t: Tenant, workspace: Path, hil_home: Path) -> dict[str, str]:
    """Every kind of resource in tenant ``t``; returns the value of each path parameter."""
    admin = t.as_("admin")
    wf = client.post("/api/v1/workflows", json=allowed_workflow(workspace, hil_home, t.name), headers=admin)
    assert wf.status_code == 201, wf.text
    conn = client.post("/api/v1/connections", headers=admin,
                       json={"name": "fleet", "engine": "duckdb", "path": str(hil_home / "data" / t.name / "fleet.duckdb")})
    assert conn.status_code == 201, conn.text
    col = client.post("/api/v1/collections", json={"name": "docs"}, headers=admin).json()
    doc = client.post(f"/api/v1/collections/{col['id']}/documents", headers=admin,
                      files=[("file", ("cooling.md", b"# Cooling\n\nCheck the coolant level first."))]).json()[0]
    run = client.post("/api/v1/runs", json={"workflow": "fleet", "question": "Which vehicles overheat most?"},
                      headers=t.as_("operator")).json()
    for _ in range(400):
        pending = client.get("/api/v1/approvals", headers=admin).json()
        if pending:
            break
        time.sleep(0.05)
    return {"workflow_id": wf.json()["id"], "connection_id": conn.json()["id"], "collection_id": col["id"],
            "document_id": doc["document_id"], "run_id": run["id"], "approval_id": pending[0]["id"],
            "thread_id": run["thread_id"], "name": "answer.json"}


# A valid request body per route, so that a 404 cannot be a 422 in disguise.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("put", "/api/v1/workflows/{workflow_id}"): {"json": {"name": "fleet", "steps": ["rag"],
                                                          "knowledge": [{"name": "docs"}]}},
    ("post", "/api/v1/approvals/{approval_id}/decision"): {"json": {"decision": "approve", "content_hash": "x"}},
    ("post", "/api/v1/runs/{run_id}/feedback"): {"json": {"correct": True}},
    ("post", "/api/v1/collections/{collection_id}/documents"): {"files": [("file", ("a.md", b"# A\n\ntext"))]},
}
QUERIES = {"/api/v1/collections/{collection_id}/search": {"q": "coolant"}}


def test_a_tenant_gets_404_for_every_resource_of_another_tenant_on_every_route(
        secured: TestClient, store: Store, workspace: Path, hil_home: Path) -> None:
    a, b = make_tenant(store, "acme"), make_tenant(store, "globex")
    theirs = populate(secured, b, workspace, hil_home)
    populate(secured, a, workspace, hil_home)  # the same names exist in A: names are per tenant
    spec = secured.get("/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        for method in operations:
            if not params:
                continue
            unknown = [p for p in params if p not in theirs]
            assert not unknown, f"{method.upper()} {path}: add {unknown} to populate() so isolation is tested"
            url = path.format(**theirs)
            r = secured.request(method, url, headers=a.as_("admin"), params=QUERIES.get(path),
                                **BODIES.get((method, path), {}))
            assert r.status_code == 404, f"{method.upper()} {path} gave {r.status_code}: {r.text[:200]}"
            assert r.json()["error"]["code"] == "not_found"
            checked += 1
    assert checked >= 18

    # lists and filters show nothing of B; names B uses do not reveal B
    for url in ("/api/v1/workflows", "/api/v1/connections", "/api/v1/collections", "/api/v1/runs",
                "/api/v1/approvals?status=", f"/api/v1/approvals?run={theirs['run_id']}"):
        body = secured.get(url, headers=a.as_("admin")).text
        assert not any(v in body for k, v in theirs.items() if k != "name"), url
    follow = secured.post("/api/v1/runs", headers=a.as_("operator"),
                          json={"workflow": "fleet", "question": "q", "thread_id": theirs["thread_id"]})
    assert follow.status_code == 404
    # and B still has all of it
    assert secured.get(f"/api/v1/runs/{theirs['run_id']}", headers=b.as_("viewer")).status_code == 200


def test_roles_keys_and_decisions(secured: TestClient, store: Store, workspace: Path, hil_home: Path) -> None:
    t = make_tenant(store, "acme")
    assert secured.get("/api/v1/runs").status_code == 401
    bad = secured.get("/api/v1/runs", headers={"Authorization": "Bearer hil_nope"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"
    assert secured.get("/api/v1/runs", headers={"X-API-Key": t.keys["viewer"]}).status_code == 200
    assert secured.get("/healthz").status_code == 200  # health needs no key

    body = allowed_workflow(workspace, hil_home, "acme")
    assert secured.post("/api/v1/workflows", json=body, headers=t.as_("operator")).status_code == 403
    assert secured.post("/api/v1/workflows", json=body, headers=t.as_("admin")).status_code == 201
    outside = dict(body, name="outside")
    outside["connections"] = [{"name": "fleet", "engine": "duckdb", "path": str(workspace.parent / "x.duckdb")}]
    refused = secured.post("/api/v1/workflows", json=outside, headers=t.as_("admin"))
    assert refused.status_code == 422 and refused.json()["error"]["details"]["errors"][0]["loc"] == "connections[0].path"
    store_file = secured.post("/api/v1/connections", headers=t.as_("admin"),
                              json={"name": "store", "engine": "sqlite", "path": str(hil_home / "hil.db")})
    assert store_file.status_code == 422

    assert secured.post("/api/v1/runs", json={"workflow": "fleet", "question": "q"},
                        headers=t.as_("viewer")).status_code == 403
    run = secured.post("/api/v1/runs", json={"workflow": "fleet", "question": "Which vehicles overheat most?"},
                       headers=t.as_("operator")).json()
    assert run["created_by"] == "operator@acme"
    for _ in range(400):
        pending = secured.get("/api/v1/runs/" + run["id"], headers=t.as_("viewer")).json()["pending_approvals"]
        if pending:
            break
        time.sleep(0.05)
    plan = pending[0]
    decision = {"decision": "approve", "content_hash": plan["content_hash"]}
    for role in ("viewer", "operator"):
        r = secured.post(f"/api/v1/approvals/{plan['id']}/decision", json=decision, headers=t.as_(role))
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    stale = secured.post(f"/api/v1/approvals/{plan['id']}/decision", headers=t.as_("approver"),
                         json={"decision": "approve", "content_hash": "0" * 64})
    assert stale.status_code == 409
    first = secured.post(f"/api/v1/approvals/{plan['id']}/decision", json=decision, headers=t.as_("approver"))
    assert first.status_code == 200 and first.json()["decided_by"] == "approver@acme"
    again = secured.post(f"/api/v1/approvals/{plan['id']}/decision", json=decision, headers=t.as_("approver"))
    assert again.status_code == 200 and again.json()["decided_at"] == first.json()["decided_at"]  # accepted once
    other = secured.post(f"/api/v1/approvals/{plan['id']}/decision", headers=t.as_("admin"),
                         json={"decision": "reject", "message": "no", "content_hash": plan["content_hash"]})
    assert other.status_code == 409 and other.json()["error"]["code"] == "approval_conflict"

    key_id = AuthRepo(store).keys("acme")[0].id
    AuthRepo(store).revoke(key_id)
    assert secured.get("/api/v1/runs", headers=t.as_("viewer")).status_code == 401


def test_a_run_in_one_tenant_learns_only_for_that_tenant(secured: TestClient, store: Store, workspace: Path,
                                                         hil_home: Path) -> None:
    a, b = make_tenant(store, "acme"), make_tenant(store, "globex")
    for t in (a, b):
        secured.post("/api/v1/workflows", json=allowed_workflow(workspace, hil_home, t.name), headers=t.as_("admin"))
    secured.post("/api/v1/collections", json={"name": "docs"}, headers=a.as_("admin"))
    secured.post("/api/v1/collections/docs/documents", headers=a.as_("admin"),
                 files=[("file", ("cooling.md", b"# Cooling\n\nCheck the coolant level first."))])
    run = secured.post("/api/v1/runs", json={"workflow": "fleet", "question": "Which vehicles overheat most?"},
                       headers=a.as_("operator")).json()
    secured.headers.update(a.as_("admin"))
    final = drive(secured, run["id"])
    assert final["status"] == "succeeded", final["error"]
    from hil.store.example_repo import ExampleRepo
    assert len(ExampleRepo(store, store_tenant_id(store, "acme")).entries("fleet")) == 1
    assert ExampleRepo(store, store_tenant_id(store, "globex")).entries("fleet") == []


def store_tenant_id(store: Store, name: str) -> str:
    with store.engine.connect() as conn:
        return str(conn.exec_driver_sql("SELECT id FROM tenants WHERE name = %s" if not store.is_sqlite else
                                        "SELECT id FROM tenants WHERE name = ?", (name,)).scalar())
