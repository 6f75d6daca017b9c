"""Definitions name secrets instead of holding them: env://VAR and secret://NAME resolve where a
connection is made, are audited when a stored secret is used, survive a key rotation, and never
show up in an event, a response or a log."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hil.server.app import create_app
from hil.services import Store
from hil.services.audit import AuditService
from tests.api_helpers import TERMINAL
from tests.cli_helpers import assert_clean_error, hil
from tests.conftest import Script
from tests.pg import PostgresServer


@pytest.fixture
def warehouse(postgres: PostgresServer) -> str:
    return postgres.create_database(f"wh{int(time.time() * 1000) % 10**9}")


@pytest.fixture
def client(store: Store, script: Script) -> Iterator[TestClient]:
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "answer"}]}
    script.responses["sql"] = {"sql": "SELECT 40 + 2 AS answer"}
    script.responses["answer"] = "The answer is 42."
    with TestClient(create_app(store, workers=1, model="scripted:test")) as c:
        yield c


def _run(client: TestClient, workflow: str) -> dict[str, Any]:
    run = client.post("/api/v1/runs", json={"workflow": workflow, "question": "What is the answer?"}).json()
    for _ in range(600):
        detail: dict[str, Any] = client.get(f"/api/v1/runs/{run['id']}").json()
        if detail["status"] in TERMINAL:
            return detail
        time.sleep(0.05)
    raise AssertionError("the run did not end")


def _workflow(dsn: str) -> dict[str, Any]:
    return {"name": "wh", "steps": ["sql"], "connections": [{"name": "wh", "engine": "postgres", "dsn": dsn}],
            "approval": {"plan": False, "sql_read": False}}


def test_a_workflow_names_its_dsn_from_the_environment(client: TestClient, store: Store, warehouse: str,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="hil")
    monkeypatch.setenv("HIL_TEST_WAREHOUSE", warehouse)
    created = client.post("/api/v1/workflows", json=_workflow("env://HIL_TEST_WAREHOUSE"))
    assert created.status_code == 201 and created.json()["definition"]["connections"][0]["dsn"] == \
        "env://HIL_TEST_WAREHOUSE"
    done = _run(client, "wh")
    assert done["status"] == "succeeded", done["error"]
    assert done["rows"] == [[42]]
    shown = " ".join([str(done), client.get(f"/api/v1/runs/{done['id']}/events").text, caplog.text])
    assert warehouse not in shown and ":hil@" not in shown
    monkeypatch.delenv("HIL_TEST_WAREHOUSE")
    failed = _run(client, "wh")
    assert failed["status"] == "failed"
    assert "env://HIL_TEST_WAREHOUSE: the environment variable HIL_TEST_WAREHOUSE is not set" in failed["error"]["error"]


def test_a_stored_secret_is_named_used_audited_and_survives_a_rotation(sqlite_store: Store, warehouse: str) -> None:
    assert hil("secrets", "set", "warehouse", stdin=warehouse + "\n").returncode == 0
    listed = hil("secrets", "list")
    assert "secret://warehouse" in listed.stdout and warehouse not in listed.stdout and ":hil@" not in listed.stdout
    assert hil("connections", "add", "wh", "--engine", "postgres", "--dsn", "secret://warehouse").returncode == 0
    assert json.loads(hil("sql", "wh", "SELECT 40 + 2 AS answer", "--json").stdout)["rows"] == [[42]]
    actions = [r.action for r in AuditService(sqlite_store, "default").records()]
    assert "secret.set" in actions and "secret.use" in actions

    home = os.environ["HIL_HOME"]
    with open(os.path.join(home, "secret.key"), "rb") as f:
        old_key = f.read()
    rotated = hil("secrets", "rotate")
    assert rotated.returncode == 0 and "resealed 2 secrets" in rotated.stdout, rotated.stderr
    with open(os.path.join(home, "secret.key"), "rb") as f:
        assert f.read() != old_key
    os.remove(os.path.join(home, "secret.key.previous"))  # only the new key is left: everything was resealed
    result = hil("sql", "wh", "SELECT 40 + 2 AS answer", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rows"] == [[42]]
    assert AuditService(sqlite_store, "default").verify().ok


def test_a_missing_secret_is_a_clear_error(sqlite_store: Store) -> None:
    assert hil("connections", "add", "wh", "--engine", "postgres", "--dsn", "secret://nope", "--no-test").returncode == 0
    assert_clean_error(hil("sql", "wh", "SELECT 1"), "secret://nope: no secret of that name")
