"""The policy a run is governed by, and the one place where a draft is gated: whether it waits
for a human is the policy's verdict (tenant policy and workflow together), recorded with its rule
as a ``policy.decided`` event; the agent's own suggestion is only the workflow's default."""

from __future__ import annotations

from typing import Any

from hil.agents.base import Draft
from hil.agents.registry import agent_class
from hil.connectors.guard import check_write, tables_in
from hil.errors import QueryRefused
from hil.policy.document import InForce, gate_of, in_force, validate_document
from hil.policy.gates import GateRequest, GateVerdict, evaluate_gates
from hil.store.db import Store
from hil.store.policy_repo import PolicyRepo, StoredPolicy
from hil.workflows import GateSpec, Workflow

BUILTIN_KINDS = ("plan", "sql_read", "sql_write", "clarification", "tool_call")
DDL_VERBS = ("CREATE", "ALTER", "DROP", "TRUNCATE")


def policy_for(store: Store, tenant: str, workflow: Workflow, current: StoredPolicy | None = None) -> InForce:
    """The policy in force for ``workflow``: the tenant's current policy (``current`` when the
    caller has just read it) with the workflow's own settings."""
    stored = current or PolicyRepo(store, tenant).current()
    document = validate_document(stored.document, f"policy version {stored.version}") if stored.version else None
    return in_force(document, workflow)


def action_of(step: str, kind: str) -> str:
    """The action a draft asks to take, as gates name it; a plug-in agent's own kinds are its actions."""
    return kind if kind in BUILTIN_KINDS else f"plugin:{step}/{kind}"


def gate_draft(force: InForce, step: str, draft: Draft) -> tuple[GateRequest, GateVerdict]:
    if draft.kind not in BUILTIN_KINDS:  # a plug-in's action: its own gates apply where no other gate matched
        request, verdict = force.gate(action_of(step, draft.kind), "other")
        own = tuple(gate_of(GateSpec.model_validate(g)) for g in agent_class(step).gates)
        if verdict.rule == "default-deny" and own:
            verdict = evaluate_gates(own, request)
        return request, verdict
    if draft.kind == "tool_call":  # an MCP call: tool:SERVER/TOOL, reading or acting
        c = draft.content
        return force.gate(f"tool:{c['server']}/{c['tool']}", "read" if c.get("read_only") else "act")
    statement = statement_class(draft.kind, [draft.content], force.workflow)
    tables = None
    sql = draft.content.get("sql") if draft.kind in ("sql_read", "sql_write") else None
    if sql:
        tables = tables_in(str(sql), force.workflow.connection(draft.content.get("connection")).kind)
    return force.gate(action_of(step, draft.kind), statement, tables)


def statement_class(kind: str, contents: list[dict[str, Any] | None], definition: Workflow) -> str:
    """plan, read, dml, ddl or other; a write is DDL when the drafted or the edited statement is."""
    if kind == "plan":
        return "plan"
    if kind == "sql_read":
        return "read"
    if kind != "sql_write":
        return "other"
    verbs = set()
    for content in contents:
        if not content or not content.get("sql"):
            continue
        dialect = definition.connection(content.get("connection")).kind
        try:
            verbs.add(check_write(str(content["sql"]), dialect)[1])
        except QueryRefused:
            verbs.add("DROP")  # what the guard cannot classify counts as the strictest class
    return "ddl" if verbs & set(DDL_VERBS) else "dml"
