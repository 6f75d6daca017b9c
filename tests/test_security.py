"""The API probed as an attacker would: another tenant's files, passwords in DSNs, a revoked key's
open stream, a model setting that reads server files, numbers and bytes that used to crash a
route, database hosts, a connection taken over by an upload, oversized bodies, a foreign Host.
Each runs on a SQLite and a PostgreSQL store."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from hil.server.app import create_app
from hil.store import Store
from hil.store.auth_repo import AuthRepo
from tests.api_helpers import TERMINAL, serving
from tests.conftest import Script, write_script_file
from tests.test_api import workflow_json
from tests.test_api_auth import Tenant, make_tenant

API = "/api/v1"


@pytest.fixture
def data(hil_home: Path, fleet_db: Path) -> Path:
    """Each tenant's data folder, with a copy of the fleet database in it."""
    for tenant in ("acme", "globex"):
        (hil_home / "data" / tenant).mkdir(parents=True, exist_ok=True)
        (hil_home / "data" / tenant / "fleet.duckdb").write_bytes(fleet_db.read_bytes())
    return hil_home / "data"


@pytest.fixture
def secure(store: Store, script: Script, data: Path) -> Iterator[tuple[TestClient, Tenant, Tenant]]:
    with TestClient(create_app(store, workers=1, model="scripted:test", auth=True)) as client:
        yield client, make_tenant(store, "acme"), make_tenant(store, "globex")


@pytest.fixture
def open_client(store: Store, script: Script) -> Iterator[TestClient]:
    with TestClient(create_app(store, workers=1, model="scripted:test")) as client:
        yield client


SQL_ONLY_PLAN = {"steps": [{"agent": "sql", "purpose": "count the vehicles"}]}


def sql_workflow(name: str, connection: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "steps": ["sql"], "connections": [connection], "approval": {"plan": False, "sql_read": False}}


def wait_end(client: TestClient, run_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run: dict[str, Any] = client.get(f"{API}/runs/{run_id}", headers=headers).json()
        if run["status"] in TERMINAL:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not end")


# -- 1. files of another tenant --
def test_a_tenant_reaches_only_its_own_data_folder(secure: tuple[TestClient, Tenant, Tenant], data: Path) -> None:
    client, a, _b = secure
    admin = a.as_("admin")
    theirs = data / "globex" / "fleet.duckdb"
    link = data / "acme" / "link.duckdb"
    link.symlink_to(theirs)

    def connection(path: Path) -> httpx.Response:
        return client.post(f"{API}/connections", headers=admin, json={"name": "x", "engine": "duckdb", "path": str(path)})

    for refused in (theirs, link, data, data / "globex"):
        r = connection(refused)
        assert r.status_code == 422, (refused, r.text)
        assert str(data) + "/" not in r.json()["error"]["message"].replace(str(refused), "")  # no server path told
    for paths in ([str(data)], [str(data / "globex")], [str(link)]):
        wf = {"name": "docs", "steps": ["rag"], "knowledge": [{"name": "docs", "paths": paths}]}
        assert client.post(f"{API}/workflows", headers=admin, json=wf).status_code == 422, paths
    assert connection(data / "acme" / "fleet.duckdb").status_code == 201

    # checked again when a run opens the file: a link in A's folder that later points into B's
    moving = data / "acme" / "moving.duckdb"
    moving.symlink_to(data / "acme" / "fleet.duckdb")
    wf = sql_workflow("fleet", {"name": "fleet", "engine": "duckdb", "path": str(moving)})
    assert client.post(f"{API}/workflows", headers=admin, json=wf).status_code == 201
    moving.unlink()
    moving.symlink_to(theirs)
    run = client.post(f"{API}/runs", headers=a.as_("operator"), json={"workflow": "fleet", "question": "How many?"})
    final = wait_end(client, run.json()["id"], admin)
    assert final["status"] == "failed" and "outside your data directories" in final["error"]["error"]
    assert final["queries"] == []


# -- 2. passwords in every form of DSN --
DSNS = [  # (DSN, what of it must never be shown)
    ("postgresql://analyst:Pw1-url@127.0.0.1:1/fleet", ["Pw1-url"]),
    ("postgresql://:Pw2-nouser@127.0.0.1:1/fleet", ["Pw2-nouser"]),
    ("postgresql://analyst:Pw3@Xq7@127.0.0.1:1/fleet", ["Pw3@Xq7", "Pw3", "Xq7"]),
    ("host=127.0.0.1 port=1 user=analyst password='Pw4 Zq9sp' dbname=fleet", ["Pw4", "Zq9sp"]),
    ("host=127.0.0.1 port=1 user=analyst password=Pw5-kv dbname=fleet", ["Pw5-kv"]),
    ("postgresql://analyst@127.0.0.1:1/fleet?password=Pw6-query", ["Pw6-query"]),
    ("postgresql://analyst:Pw7%zz@127.0.0.1:1/fleet", ["Pw7"]),
]


@pytest.mark.parametrize(("dsn", "secrets"), DSNS, ids=[f"dsn{i}" for i in range(1, len(DSNS) + 1)])
def test_no_form_of_dsn_shows_its_password(open_client: TestClient, script: Script, dsn: str, secrets: list[str],
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="hil")
    script.responses["plan"] = SQL_ONLY_PLAN
    client = open_client
    seen: list[str] = []
    created = client.post(f"{API}/connections", json={"name": "wh", "engine": "postgres", "dsn": dsn})
    seen.append(created.text)
    if created.status_code == 422:  # a DSN libpq cannot parse is refused whole, without quoting it
        assert "cannot be parsed" in created.json()["error"]["message"]
        wf = client.post(f"{API}/workflows", json=sql_workflow("wh", {"name": "wh", "engine": "postgres", "dsn": dsn}))
        assert wf.status_code == 422
        seen += [wf.text, caplog.text]
    else:
        assert created.status_code == 201, created.text
        _exercise(client, dsn, created.json()["id"], seen)
        seen.append(caplog.text)
    for secret in secrets:
        leaks = [s[max(s.find(secret) - 60, 0):s.find(secret) + 60] for s in seen if secret in s]
        assert not leaks, leaks


def _exercise(client: TestClient, dsn: str, connection_id: str, seen: list[str]) -> None:
    """Every response, event and error a DSN can show up in."""
    seen += [client.get(f"{API}/connections").text,
             client.post(f"{API}/connections/{connection_id}/test").text]
    assert '"ok":false' in seen[-1]
    wf = client.post(f"{API}/workflows", json=sql_workflow("wh", {"name": "wh", "engine": "postgres", "dsn": dsn}))
    assert wf.status_code == 201, wf.text
    seen += [wf.text, client.get(f"{API}/workflows").text, client.get(f"{API}/workflows/wh").text]
    run = client.post(f"{API}/runs", json={"workflow": "wh", "question": "How many vehicles?"}).json()
    final = wait_end(client, run["id"])
    assert final["status"] == "failed"
    seen += [str(final), client.get(f"{API}/runs/{run['id']}/events").text]


# -- 3. a revoked key's open stream --
def test_a_revoked_keys_stream_closes_within_five_seconds(store: Store, script: Script) -> None:
    viewer = make_tenant(store, "acme")
    with serving(create_app(store, workers=0, auth=True)) as base:
        got: list[str] = []
        done = threading.Event()

        def read() -> None:
            with httpx.stream("GET", f"{base}{API}/events", headers=viewer.as_("viewer"), timeout=30) as r:
                for line in r.iter_lines():
                    got.append(line)
                    if line.startswith("data:") and "revoked" in line:
                        break
            done.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        deadline = time.monotonic() + 5
        while not any("stream open" in line for line in got):
            assert time.monotonic() < deadline, got
            time.sleep(0.02)
        key_id = next(k.id for k in AuthRepo(store).keys("acme") if k.user == "viewer@acme")
        AuthRepo(store).revoke(key_id)
        revoked_at = time.monotonic()
        assert done.wait(5), f"the stream was still open 5 s after the revocation: {got}"
        assert time.monotonic() - revoked_at < 5
        assert "event: stream.closed" in got
        assert httpx.get(f"{base}{API}/runs", headers=viewer.as_("viewer")).status_code == 401


# -- 4. the model setting --
def test_a_scripted_model_is_refused_outside_test_mode(store: Store, script: Script, data: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    script_file = write_script_file(tmp_path / "s.json", {"plan": {"steps": []}})
    wf = sql_workflow("fleet", {"name": "fleet", "engine": "duckdb", "path": str(data / "acme" / "fleet.duckdb")})
    with TestClient(create_app(store, workers=0)) as client:
        assert client.post(f"{API}/workflows", json={**wf, "model": {"model": script_file}}).status_code == 201
        monkeypatch.delenv("HIL_TEST_MODE")
        for spec in ("scripted:file:/etc/passwd", "scripted:file:/dev/zero", "scripted:test"):
            r = client.post(f"{API}/workflows", json={**wf, "name": "other", "model": {"model": spec}})
            assert r.status_code == 422, r.text
            assert "not allowed" in r.json()["error"]["message"] and "passwd" not in r.text.replace(spec, "")
        run = client.post(f"{API}/runs", json={"workflow": "fleet", "question": "q"}).json()
    with TestClient(create_app(store, workers=1)) as client:  # stored before: refused where it runs
        final = wait_end(client, run["id"])
    assert final["status"] == "failed" and "not allowed" in final["error"]["error"]


# -- 5. inputs that used to crash a route --
def test_huge_numbers_and_nul_bytes_are_4xx(open_client: TestClient, data: Path, workspace: Path) -> None:
    client = open_client
    wf = client.post(f"{API}/workflows", json=workflow_json(workspace)).json()
    run = client.post(f"{API}/runs", json={"workflow": "fleet", "question": "q"}).json()
    huge = str(2**63)
    assert client.get(f"{API}/workflows/{wf['id']}", params={"version": huge}).status_code == 422
    assert client.get(f"{API}/runs/{run['id']}/events", params={"after": huge}).status_code == 422
    assert client.get(f"{API}/runs/{run['id']}/events", headers={"Last-Event-ID": huge}).status_code == 422
    for body in ({"name": "x", "engine": "sqlite", "path": "/tmp/a\x00b.db"},
                 {"name": "x", "engine": "postgres", "dsn": "postgresql://u@h/d\x00"}):
        r = client.post(f"{API}/connections", json=body)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request", r.text
    bad_wf = {"name": "k", "steps": ["rag"], "knowledge": [{"name": "k", "paths": ["/tmp/x\x00"]}]}
    assert client.post(f"{API}/workflows", json=bad_wf).status_code == 422
    assert client.post(f"{API}/runs", json={"workflow": "fleet", "question": "a\x00b"}).status_code == 422
    assert client.get(f"{API}/runs/a%00b").status_code == 422


# -- 6. database hosts --
def test_database_hosts_are_limited_and_errors_say_only_the_cause(
        secure: tuple[TestClient, Tenant, Tenant], script: Script, monkeypatch: pytest.MonkeyPatch) -> None:
    script.responses["plan"] = SQL_ONLY_PLAN
    client, a, _b = secure
    admin = a.as_("admin")
    socket_dsn = {"name": "local", "engine": "postgres", "dsn": "postgresql:///postgres?host=/var/run/postgresql"}
    r = client.post(f"{API}/connections", headers=admin, json=socket_dsn)
    assert r.status_code == 422 and "Unix-socket" in r.json()["error"]["message"]
    wf = sql_workflow("probe", {"name": "probe", "engine": "postgres", "dsn": "postgresql://u:p@127.0.0.1:1/db"})
    assert client.post(f"{API}/workflows", headers=admin, json=wf).status_code == 201
    run = client.post(f"{API}/runs", headers=a.as_("operator"), json={"workflow": "probe", "question": "q"}).json()
    final = wait_end(client, run["id"], admin)
    assert final["error"]["error"] == "connection 'probe': host unreachable"  # not which port answered how
    monkeypatch.setenv("HIL_DB_HOSTS", "10.0.0.0/8, db.internal")
    r = client.post(f"{API}/connections", headers=admin, json={"name": "wh", "engine": "postgres",
                                                               "dsn": "postgresql://u:p@127.0.0.1:5432/db"})
    assert r.status_code == 422 and "HIL_DB_HOSTS" in r.json()["error"]["message"]
    assert client.post(f"{API}/connections", headers=admin, json={"name": "wh", "engine": "postgres",
                                                                  "dsn": "postgresql://u:p@10.1.2.3/db"}).status_code == 201


# -- 7. an upload does not take over a connection --
def test_an_upload_never_replaces_a_connection_it_did_not_make(secure: tuple[TestClient, Tenant, Tenant],
                                                              data: Path) -> None:
    client, a, _b = secure
    admin, operator = a.as_("admin"), a.as_("operator")
    mine = {"name": "docs-tables", "engine": "duckdb", "path": str(data / "acme" / "fleet.duckdb")}
    assert client.post(f"{API}/connections", headers=admin, json=mine).status_code == 201
    assert client.post(f"{API}/collections", headers=admin, json={"name": "docs"}).status_code == 201
    r = client.post(f"{API}/collections/docs/documents", headers=operator,
                    files=[("file", ("depots.csv", b"depot,vehicles\nNorth,12\n"))])
    assert r.status_code == 409 and "docs-tables" in r.json()["error"]["message"]
    [kept] = [c for c in client.get(f"{API}/connections", headers=admin).json() if c["name"] == "docs-tables"]
    assert kept["location"] == mine["path"]
    assert client.delete(f"{API}/collections/docs", headers=admin).status_code == 204
    assert [c["name"] for c in client.get(f"{API}/connections", headers=admin).json()] == ["docs-tables"]


# -- 8. bodies and hosts --
def test_large_bodies_and_foreign_hosts_are_refused(store: Store, script: Script,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_MAX_BODY_BYTES", "4096")
    with TestClient(create_app(store, workers=0, hosts={"127.0.0.1", "localhost", "::1"}),
                    base_url="http://127.0.0.1:8321") as client:
        big = client.post(f"{API}/workflows", json={"name": "big", "instructions": "x" * 10_000})
        assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"
        assert client.get(f"{API}/workflows").status_code == 200
        evil = client.get(f"{API}/workflows", headers={"Host": "evil.example:8321"})
        assert evil.status_code == 403 and evil.json()["error"]["code"] == "forbidden_host"
        assert client.get(f"{API}/workflows", headers={"Host": "localhost:8321"}).status_code == 200
