"""An adversarial sweep: every operation of /openapi.json that names a resource, called by every
role of tenant A with tenant B's ids and with B's names, must answer 404 (or 403 where the role is
too low) and show nothing of B. A new route is swept without anyone remembering to add it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hil.server.app import create_app
from hil.store import Store
from tests.conftest import Script
from tests.test_api_auth import BODIES, QUERIES, allowed_workflow, make_tenant, populate

ROLES = ("viewer", "operator", "approver", "admin")


@pytest.fixture
def client(store: Store, script: Script, hil_home: Path, fleet_db: Path) -> Iterator[TestClient]:
    for tenant in ("acme", "globex"):
        (hil_home / "data" / tenant).mkdir(parents=True, exist_ok=True)
        (hil_home / "data" / tenant / "fleet.duckdb").write_bytes(fleet_db.read_bytes())
    with TestClient(create_app(store, workers=1, model="scripted:test", auth=True)) as c:
        yield c


def test_every_role_of_one_tenant_sees_nothing_of_another(client: TestClient, store: Store, workspace: Path,
                                                          hil_home: Path) -> None:
    a, b = make_tenant(store, "acme"), make_tenant(store, "globex")
    theirs = populate(client, b, workspace, hil_home)
    populate(client, a, workspace, hil_home)
    only_b = dict(allowed_workflow(workspace, hil_home, "globex"), name="globex-only")
    assert client.post("/api/v1/workflows", json=only_b, headers=b.as_("admin")).status_code == 201
    assert client.post("/api/v1/collections", json={"name": "globex-docs"}, headers=b.as_("admin")).status_code == 201
    by_name = {**theirs, "workflow_id": "globex-only", "collection_id": "globex-docs"}
    secrets = {v for k, v in theirs.items() if k != "name"} | {"globex", "globex-only", "globex-docs"}

    spec = client.get("/openapi.json").json()
    calls = 0
    for path, operations in spec["paths"].items():
        if not re.search(r"{\w+}", path):
            continue
        for method in operations:
            for values in (theirs, by_name):
                url = path.format(**values)
                for role in ROLES:
                    r = client.request(method, url, headers=a.as_(role), params=QUERIES.get(path),
                                       **BODIES.get((method, path), {}))
                    where = f"{role} {method.upper()} {url}"
                    assert r.status_code in (403, 404), f"{where} gave {r.status_code}: {r.text[:200]}"
                    assert r.json()["error"]["code"] == ("forbidden" if r.status_code == 403 else "not_found"), where
                    told = [s for s in secrets if s in r.text and s not in url]  # echoing the request is no leak
                    assert not told, f"{where} shows {told}: {r.text[:300]}"
                    calls += 1
    assert calls >= 150

    # lists and filters by B's names show nothing of B
    for role in ROLES:
        for url in ("/api/v1/workflows", "/api/v1/connections", "/api/v1/collections", "/api/v1/runs",
                    "/api/v1/approvals?status=", f"/api/v1/approvals?run={theirs['run_id']}",
                    "/api/v1/runs?workflow=globex-only", "/api/v1/approvals?workflow=globex-only",
                    f"/api/v1/runs?text={theirs['run_id'][:8]}"):
            r = client.get(url, headers=a.as_(role))
            assert r.status_code in (200, 404), (role, url, r.status_code)
            assert not [s for s in secrets if s in r.text and s not in url], (role, url, r.text[:300])
