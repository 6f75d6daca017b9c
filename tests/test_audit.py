"""The audit log is tamper-evident: every edit, deletion, reordering, truncation and rewrite of
its records is found, naming the first record that does not hold — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hil.hashing import chain_hash
from hil.policy import audit
from hil.services import Store
from hil.services.audit import AuditService
from hil.services.connections import ConnectionService
from hil.store.tables import audit_heads, audit_log
from tests.cli_helpers import hil
from tests.conftest import Script
from tests.helpers import approve_all, setup_run

Corruption = Callable[[sa.Connection, list[dict[str, Any]]], None]


def _rows(store: Store) -> list[dict[str, Any]]:
    with store.read() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.seq))]


def _restore(store: Store, rows: list[dict[str, Any]]) -> None:
    with store.write() as conn:
        conn.execute(audit_log.delete())
        conn.execute(audit_log.insert(), rows)
        conn.execute(audit_heads.update().values(size=len(rows), head=rows[-1]["hash"]))


@pytest.fixture
def history(store: Store, workspace: Path, script: Script, tmp_path: Path) -> list[dict[str, Any]]:
    """A workflow applied, a connection saved, a run whose plan and SQL were approved and ran."""
    db = tmp_path / "shop.sqlite"
    sqlite3.connect(db).executescript("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL);")
    service, worker, run_id = setup_run(store, workspace)
    cfg = ConnectionService.parse({"name": "shop", "engine": "sqlite", "path": str(db)})
    ConnectionService(store, "default", actor="ann").add(cfg)
    assert approve_all(service, worker, run_id) == "succeeded"
    rows = _rows(store)
    assert [r["action"] for r in rows] == ["workflow.apply", "connection.add", "approval.approve", "approval.approve",
                                           "sql.executed"]
    assert rows[1]["actor"] == "ann" and rows[4]["subject"] == "fleet" and "SELECT" in rows[4]["payload"]["sql"]
    return rows


def test_a_clean_log_verifies_and_the_checkpoint_follows_each_decision(store: Store,
                                                                      history: list[dict[str, Any]]) -> None:
    verdict = AuditService(store, "default").verify()
    assert verdict.ok and verdict.records == 5 and verdict.checkpoint == 4, verdict  # signed after the 2nd decision
    assert "chain intact" in verdict.message


def _edit_payload(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(audit_log.update().where(audit_log.c.seq == 3).values(payload={**rows[2]["payload"], "role": "admin"}))


def _edit_actor(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(audit_log.update().where(audit_log.c.seq == 3).values(actor="mallory"))


def _delete_middle(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(audit_log.delete().where(audit_log.c.seq == 2))


def _reorder(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    swap = {k: v for k, v in rows[2].items() if k not in ("seq", "tenant_id")}
    other = {k: v for k, v in rows[3].items() if k not in ("seq", "tenant_id")}
    conn.execute(audit_log.update().where(audit_log.c.seq == 3).values(**other))
    conn.execute(audit_log.update().where(audit_log.c.seq == 4).values(**swap))


def _truncate(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(audit_log.delete().where(audit_log.c.seq >= 4))
    conn.execute(audit_heads.update().values(size=3, head=rows[2]["hash"]))


def _rewrite(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Change record 2 and recompute every hash after it: the chain holds, the checkpoint does not."""
    prev = rows[0]["hash"]
    for row in rows[1:]:
        body = {k: row[k] for k in ("tenant_id", "seq", "ts", "actor", "action", "subject", "payload")}
        if row["seq"] == 2:
            body["actor"] = "mallory"
        digest = chain_hash(prev, body)
        conn.execute(audit_log.update().where(audit_log.c.seq == row["seq"]).values(
            actor=body["actor"], prev_hash=prev, hash=digest))
        prev = digest
    conn.execute(audit_heads.update().values(head=prev))


CORRUPTIONS: list[tuple[Corruption, int, str]] = [
    (_edit_payload, 3, "was changed after it was written"),
    (_edit_actor, 3, "was changed after it was written"),
    (_delete_middle, 2, "is missing"),
    (_reorder, 3, "does not follow"),
    (_truncate, 4, "the tail was removed"),
    (_rewrite, 4, "differ from the signed checkpoint"),
]


@pytest.mark.parametrize(("corrupt", "first_bad", "says"), CORRUPTIONS, ids=[c[0].__name__[1:] for c in CORRUPTIONS])
def test_every_corruption_is_found_and_named(store: Store, history: list[dict[str, Any]], corrupt: Corruption,
                                            first_bad: int, says: str) -> None:
    service = AuditService(store, "default")
    with store.write() as conn:
        corrupt(conn, history)
    verdict = service.verify()
    assert not verdict.ok and verdict.first_bad == first_bad and says in verdict.message, verdict
    _restore(store, history)
    assert service.verify().ok


def test_a_forged_checkpoint_is_ignored_and_a_new_one_is_signed(store: Store, history: list[dict[str, Any]]) -> None:
    path = audit.checkpoints_file()
    forged = {"tenant_id": "default", "size": 99, "head": "0" * 64, "ts": 1.0, "mac": "f" * 64}
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(forged) + "\n")
    service = AuditService(store, "default")
    assert service.verify().ok  # the forged line does not verify, so it does not count
    assert service.checkpoint().size == 5
    assert service.verify().checkpoint == 5


def test_the_cli_names_the_first_bad_record(sqlite_store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(sqlite_store, workspace)
    assert approve_all(service, worker, run_id) == "succeeded"
    ok = hil("audit", "verify")
    assert ok.returncode == 0 and "4 records, chain intact" in ok.stdout, ok.stderr
    with sqlite_store.write() as conn:
        conn.execute(audit_log.update().where(audit_log.c.seq == 2).values(subject="run elsewhere"))
    bad = hil("audit", "verify")
    assert bad.returncode == 1 and "record 2 was changed after it was written" in bad.stderr
    exported = hil("audit", "export").stdout.splitlines()
    assert [json.loads(line)["seq"] for line in exported] == [1, 2, 3, 4]


def test_admins_read_their_tenants_log_over_the_api(store: Store, script: Script, hil_home: Path) -> None:
    from fastapi.testclient import TestClient

    from hil.server.app import create_app
    from tests.test_api_auth import make_tenant

    a, b = make_tenant(store, "acme"), make_tenant(store, "globex")
    with TestClient(create_app(store, workers=0, auth=True)) as client:
        assert client.get("/api/v1/audit", headers=a.as_("approver")).status_code == 403
        mine = client.get("/api/v1/audit", headers=a.as_("admin")).json()
        assert [r["action"] for r in mine["records"]] == ["user.add", "key.create"] * 4
        assert {r["subject"].split("@")[1] for r in mine["records"]} == {"acme"}  # nothing of globex
        assert mine["size"] == 8 and mine["head"] == mine["records"][-1]["hash"]
        assert client.get("/api/v1/audit/verify", headers=b.as_("admin")).json()["ok"] is True
