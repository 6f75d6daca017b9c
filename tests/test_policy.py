"""The approval policy: properties of the rules engine (default deny, forbid beats permit, DDL is
never approved automatically, every verdict names its rule), and the rules as a run meets them:
two distinct approvers for DDL, no approving a write on your own run, every refusal audited."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.engine.worker import Worker
from hil.errors import ApprovalConflict, PolicyRefused
from hil.events import EventType
from hil.policy.rules import DecideRequest, Policy, Rule, default_policy
from hil.services import Store
from hil.services.audit import AuditService
from hil.services.runs import RunService
from hil.workflows import Workflow
from tests.conftest import Script
from tests.helpers import apply_workflow

KINDS = st.sampled_from(["plan", "sql_read", "sql_write", "clarification"])
STATEMENTS = st.sampled_from(["plan", "read", "dml", "ddl", "other"])
ROLES = st.sampled_from(["viewer", "operator", "approver", "admin"])
USERS = st.sampled_from(["ann", "bob", "system:expiry", "auto:cli --yes", "local"])
REQUESTS = st.builds(DecideRequest, KINDS, STATEMENTS, USERS, ROLES, st.one_of(st.none(), USERS))
PATTERNS = st.lists(st.sampled_from(["*", "plan", "sql_write", "ddl", "dml", "approver", "admin", "viewer", "ann",
                                     "auto:*"]), min_size=1, max_size=3).map(tuple)
RULES = st.builds(Rule, st.text(min_size=1, max_size=8), st.sampled_from(["permit", "forbid"]), st.just("why"),
                  PATTERNS, PATTERNS, PATTERNS, PATTERNS, st.one_of(st.none(), st.booleans()))


@given(REQUESTS)
def test_default_deny(request: DecideRequest) -> None:
    verdict = Policy(()).evaluate(request)
    assert not verdict.allowed and verdict.rule == "default-deny"


@given(st.lists(RULES, max_size=6), REQUESTS)
@settings(max_examples=300)
def test_forbid_beats_permit_and_every_verdict_names_its_rule(rules: list[Rule], request: DecideRequest) -> None:
    verdict = Policy(tuple(rules)).evaluate(request)
    matching = [r for r in rules if r.matches(request)]
    if any(r.effect == "forbid" for r in matching):
        assert not verdict.allowed and verdict.rule in {r.name for r in matching if r.effect == "forbid"}
    elif any(r.effect == "permit" for r in matching):
        assert verdict.allowed and verdict.rule in {r.name for r in matching if r.effect == "permit"}
    else:
        assert not verdict.allowed and verdict.rule == "default-deny"


@given(REQUESTS, st.integers(1, 5), st.booleans())
def test_automatic_deciders_never_approve_ddl(request: DecideRequest, approvers: int, self_ok: bool) -> None:
    automatic = DecideRequest(request.kind, "ddl", "system:expiry" if approvers % 2 else "auto:cli --yes", "admin",
                              request.requester)
    verdict = default_policy(ddl_approvers=approvers, requester_may_approve_writes=self_ok).evaluate(automatic)
    assert not verdict.allowed and verdict.rule in ("no-automatic-ddl", "no-self-approval-of-writes")


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    db = tmp_path / "shop.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)")
    return db


def _write_run(store: Store, script: Script, shop: Path, sql: str, requester: str) -> tuple[RunService, Worker, str]:
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "change the orders"}]}
    script.responses["sql"] = {"sql": sql}
    script.responses["answer"] = "Done."
    wf = Workflow.model_validate({"name": "shop", "steps": ["sql"], "approval": {"plan": False},
                                  "connections": [{"name": "shop", "engine": "sqlite", "path": str(shop),
                                                   "read_only": False}]})
    apply_workflow(store, wf)
    service = RunService(store, "default")
    run_id = service.create_run("shop", "Add a notes table", user=requester)
    worker = Worker(store, model="scripted:test")
    worker.run_once(run_id)
    return service, worker, run_id


def test_ddl_needs_two_distinct_approvers(sqlite_store: Store, script: Script, shop: Path) -> None:
    service, worker, run_id = _write_run(sqlite_store, script, shop, "DROP TABLE orders", "carol")
    [write] = service.pending_approvals(run_id)
    assert write.kind == "sql_write"
    first = service.decide(write.id, "approve", content_hash_seen=write.content_hash, user="ann")
    assert first.status == "pending"
    with pytest.raises(ApprovalConflict, match="ann has approved already"):
        service.decide(write.id, "approve", content_hash_seen=write.content_hash, user="ann")
    with pytest.raises(PolicyRefused, match="rule no-automatic-ddl"):
        service.decide(write.id, "approve", content_hash_seen=write.content_hash, user="auto:cli --yes", role="admin")
    done = service.decide(write.id, "approve", content_hash_seen=write.content_hash, user="bob")
    assert done.status == "approved"
    worker.run_once(run_id)
    assert service.get(run_id).status == "succeeded"
    endorsed = [e.payload for e in service.events(run_id) if e.type == EventType.APPROVAL_ENDORSED]
    assert [(e["user"], e["needed"]) for e in endorsed] == [("ann", 2)]
    with sqlite3.connect(shop) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'orders'").fetchone() == (0,)
    actions = [r.action for r in AuditService(sqlite_store, "default").records()]
    assert actions.count("approval.endorse") == 1 and "approval.refused" in actions


def test_nobody_approves_a_write_on_their_own_run_and_refusals_are_audited(sqlite_store: Store, script: Script,
                                                                          shop: Path) -> None:
    service, worker, run_id = _write_run(sqlite_store, script, shop, "INSERT INTO orders VALUES (1, 9.5)", "ann")
    [write] = service.pending_approvals(run_id)
    with pytest.raises(PolicyRefused, match="rule no-self-approval-of-writes"):
        service.decide(write.id, "approve", content_hash_seen=write.content_hash, user="ann")
    with pytest.raises(PolicyRefused, match="rule lower-roles-do-not-decide"):
        service.decide(write.id, "approve", content_hash_seen=write.content_hash, user="vic", role="viewer")
    assert service.decide(write.id, "approve", content_hash_seen=write.content_hash, user="bob").status == "approved"
    worker.run_once(run_id)
    with sqlite3.connect(shop) as conn:
        assert conn.execute("SELECT total FROM orders").fetchall() == [(9.5,)]
    refused = [r for r in AuditService(sqlite_store, "default").records() if r.action == "approval.refused"]
    assert [(r.actor, r.payload["rule"]) for r in refused] == [("ann", "no-self-approval-of-writes"),
                                                               ("vic", "lower-roles-do-not-decide")]
