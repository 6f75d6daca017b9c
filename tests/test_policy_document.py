"""The tenant policy as data: gates (which actions wait for a human) with their properties, the
document's validation, the policy in force for a run (tenant and workflow, the stricter wins), and
the engine gating every draft in one place with a ``policy.decided`` event naming the rule."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.engine.worker import Worker
from hil.errors import ConfigError, PolicyRefused
from hil.events import EventType
from hil.policy.document import PolicyDocument, in_force, parse_document, validate_document
from hil.policy.gates import Gate, GateRequest, evaluate_gates
from hil.server.app import create_app
from hil.services import Store
from hil.services.audit import AuditService
from hil.services.policies import PolicyService
from hil.services.runs import RunService
from hil.workflows import Workflow
from tests.conftest import Script
from tests.helpers import apply_workflow

ACTIONS = st.sampled_from(["plan", "sql_read", "sql_write", "clarification", "tool:github/create_issue",
                           "tool:mail/send", "plugin:forecast/publish"])
STATEMENTS = st.sampled_from(["plan", "read", "dml", "ddl", "act", "other"])
TABLES = st.one_of(st.none(), st.lists(st.sampled_from(["depots", "drivers", "trips", "Depots"]),
                                       max_size=3).map(tuple))
REQUESTS = st.builds(GateRequest, ACTIONS, STATEMENTS, TABLES, st.booleans())
GATES = st.builds(Gate, st.text("abc", min_size=1, max_size=4), st.sampled_from(["*", "sql_*", "sql_read", "tool:*",
                                                                                 "tool:mail/*", "plugin:*", "plan"]),
                  st.sampled_from(["required", "auto"]), st.just(""),
                  st.one_of(st.none(), st.lists(st.sampled_from(["depots", "d*", "trips"]), min_size=1,
                                                max_size=2).map(tuple)))


@given(st.lists(GATES, max_size=6), REQUESTS)
@settings(max_examples=400)
def test_gates_never_waive_a_write_and_always_name_their_rule(gates: list[Gate], request: GateRequest) -> None:
    verdict = evaluate_gates(tuple(gates), request)
    assert verdict.rule and verdict.reason
    if request.statement in ("dml", "ddl") or request.action == "sql_write":
        assert verdict.needs_approval and verdict.rule == "writes-need-a-human"
    matching = [g for g in gates if g.matches(request)]
    if verdict.needs_approval is False:  # waived: by an auto gate no required gate overrides, or the workflow
        assert not any(g.approval == "required" for g in matching)
        assert verdict.rule in {g.name for g in matching if g.approval == "auto"} | {"workflow-setting",
                                                                                     "read-only-tools"}
        if verdict.rule == "read-only-tools":  # a tool waived by default only when it reads
            assert request.action.startswith("tool:") and request.statement == "read"
    if any(g.approval == "required" for g in matching):
        assert verdict.needs_approval


@given(REQUESTS)
def test_without_gates_plugins_wait_and_tools_wait_unless_they_read(request: GateRequest) -> None:
    verdict = evaluate_gates((), request)
    if request.action.startswith("plugin:"):
        assert verdict.needs_approval and verdict.rule in ("default-deny", "writes-need-a-human")
    if request.action.startswith("tool:") and request.statement not in ("dml", "ddl"):
        assert verdict.needs_approval is (request.statement != "read")


def test_auto_needs_every_table_on_the_list() -> None:
    gate = Gate("reference", "sql_read", "auto", tables=("depots", "vehicle_*"))
    assert gate.matches(GateRequest("sql_read", "read", ("depots", "vehicle_types")))
    assert not gate.matches(GateRequest("sql_read", "read", ("depots", "drivers")))
    assert not gate.matches(GateRequest("sql_read", "read", None))  # unparsed SQL: condition not met
    assert not gate.matches(GateRequest("sql_read", "read", ()))


def test_document_errors_name_every_field() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_document("gates: [{name: x, action: sql_write, approval: auto}, {name: Y}]", "team.yaml")
    assert caught.value.message.startswith("team.yaml: gates[0]: 'sql_write' cannot be approved automatically")
    locs = {e["loc"] for e in caught.value.details["errors"]}
    assert locs == {"gates[0]", "gates[1].name", "gates[1].action", "gates[1].approval"}
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_document("gates: [", "team.yaml")
    with pytest.raises(ConfigError, match="a policy is a mapping"):
        validate_document(["gates"])
    with pytest.raises(ConfigError, match="used twice: a"):
        validate_document({"gates": [{"name": "a", "action": "plan", "approval": "auto"}],
                           "rules": [{"name": "a", "effect": "permit", "reason": "r"}]})
    with pytest.raises(ConfigError, match="between 1 and 5"):
        validate_document({"approvers": {"dml": 7}})


def _workflow(**approval: Any) -> Workflow:
    return Workflow.model_validate({"name": "w", "steps": ["rag"], "knowledge": [{"name": "k"}],
                                    "approval": approval, "row_limit": 200})


def test_the_stricter_of_tenant_and_workflow_wins() -> None:
    doc = PolicyDocument.model_validate({"approvers": {"ddl": 3, "dml": 2}, "requester_may_approve_writes": False,
                                         "max_row_limit": 50, "expire_after_seconds": 600,
                                         "gates": [{"name": "reads", "action": "sql_read", "approval": "auto"}]})
    force = in_force(doc, _workflow(ddl_approvers=2, requester_may_approve_writes=True,
                                    gates=[{"name": "reads-wait", "action": "sql_read", "approval": "required"}]))
    assert force.decide_policy.approvers == {"ddl": 3, "dml": 2}
    assert force.row_limit == 50 and force.expire_after_seconds == 600
    assert "no-self-approval-of-writes" in {r.name for r in force.decide_policy.rules}
    assert force.gate("sql_read", "read", ("t",))[1].rule == "reads-wait"  # the workflow's required gate wins
    assert in_force(None, _workflow(expire_after_seconds=60)).expire_after_seconds == 60


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    db = tmp_path / "fleet.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE depots (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("CREATE TABLE drivers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO depots VALUES (?, ?)", [(i, f"depot {i}") for i in range(1, 31)])
        conn.execute("INSERT INTO drivers VALUES (1, 'Ann')")
    return db


def _run(store: Store, script: Script, db: Path, sql: str, writable: bool = False) -> tuple[RunService, str]:
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "read the table"}]}
    script.responses["sql"] = {"sql": sql}
    script.responses["answer"] = "Done."
    apply_workflow(store, Workflow.model_validate({
        "name": "fleet", "steps": ["sql"], "approval": {"plan": False},
        "connections": [{"name": "fleet", "engine": "sqlite", "path": str(db), "read_only": not writable}]}))
    service = RunService(store, "default")
    run_id = service.create_run("fleet", "How many depots are there?", user="carol")
    Worker(store, model="scripted:test").run_once(run_id)
    return service, run_id


def _decided(service: RunService, run_id: str) -> list[dict[str, Any]]:
    return [e.payload for e in service.events(run_id) if e.type == EventType.POLICY_DECIDED]


def test_an_auto_gate_lets_reads_of_listed_tables_run_and_caps_rows(sqlite_store: Store, script: Script,
                                                                    fleet: Path) -> None:
    PolicyService(sqlite_store, "default").apply({
        "gates": [{"name": "reference-reads", "action": "sql_read", "approval": "auto", "tables": ["depots"]}],
        "max_row_limit": 7})
    service, run_id = _run(sqlite_store, script, fleet, "SELECT id, name FROM depots ORDER BY id")
    assert service.get(run_id).status == "succeeded"
    plan, *reads = _decided(service, run_id)
    assert (plan["action"], plan["needs_approval"], plan["rule"]) == ("plan", False, "workflow-setting")
    assert reads and all((r["action"], r["needs_approval"], r["rule"], r["tables"]) ==
                         ("sql_read", False, "reference-reads", ["depots"]) for r in reads)
    executed = [e.payload for e in service.events(run_id) if e.type == EventType.SQL_EXECUTED]
    assert executed and all(e["row_count"] == 7 and e["truncated"] for e in executed)  # the tenant's row limit, not the workflow's 200


def test_a_read_of_an_unlisted_table_waits_naming_the_workflow_setting(sqlite_store: Store, script: Script,
                                                                       fleet: Path) -> None:
    PolicyService(sqlite_store, "default").apply({
        "gates": [{"name": "reference-reads", "action": "sql_read", "approval": "auto", "tables": ["depots"]}]})
    service, run_id = _run(sqlite_store, script, fleet, "SELECT d.name FROM depots d JOIN drivers r ON r.id = d.id")
    assert service.get(run_id).status == "awaiting_approval"
    [_, read] = _decided(service, run_id)
    assert read["needs_approval"] and read["rule"] == "workflow-setting"
    assert read["tables"] == ["depots", "drivers"]


def test_tenant_approvers_apply_to_dml_and_an_auto_gate_never_covers_it(sqlite_store: Store, script: Script,
                                                                         fleet: Path) -> None:
    with pytest.raises(ConfigError):
        PolicyService(sqlite_store, "default").apply({"gates": [{"name": "w", "action": "sql_write",
                                                                 "approval": "auto"}]})
    PolicyService(sqlite_store, "default").apply({"approvers": {"dml": 2},
                                                  "gates": [{"name": "all", "action": "sql*", "approval": "auto"}]})
    service, run_id = _run(sqlite_store, script, fleet, "INSERT INTO depots VALUES (99, 'new')", writable=True)
    [write] = service.pending_approvals(run_id)
    assert _decided(service, run_id)[-1]["rule"] == "writes-need-a-human"
    assert service.decide(write.id, "approve", content_hash_seen=write.content_hash, user="ann").status == "pending"
    with pytest.raises(PolicyRefused, match="no-self-approval-of-writes"):
        service.decide(write.id, "approve", content_hash_seen=write.content_hash, user="carol")
    assert service.decide(write.id, "approve", content_hash_seen=write.content_hash, user="bob").status == "approved"


def test_policy_over_the_api(store: Store) -> None:
    with TestClient(create_app(store, workers=0)) as client:
        assert client.get("/api/v1/policy").json()["version"] == 0
        body = {"gates": [{"name": "tools-wait", "action": "tool:*", "approval": "required"}], "max_row_limit": 100}
        created = client.put("/api/v1/policy", json=body)
        assert created.status_code == 201 and created.json()["version"] == 1
        again = client.put("/api/v1/policy", json=body)
        assert again.status_code == 200 and again.json()["version"] == 1
        assert client.get("/api/v1/policy").json()["document"] == body
        bad = client.put("/api/v1/policy", json={"gates": [{"name": "x", "action": "sql_write", "approval": "auto"}],
                                                 "colour": "red"})
        assert bad.status_code == 422
        assert {e["loc"] for e in bad.json()["error"]["details"]["errors"]} == {"body.gates[0]", "body.colour"}
        assert "PolicyDocument" in client.get("/openapi.json").json()["components"]["schemas"]
    updates = [r for r in AuditService(store, "default").records() if r.action == "policy.update"]
    assert [r.payload["version"] for r in updates] == [1]
