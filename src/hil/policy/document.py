"""A tenant's policy as data (YAML or JSON, `hil policy apply`, `PUT /api/v1/policy`), and the
policy in force for one run: the tenant's document combined with the run's workflow.

Where both say something the stricter wins: a required gate from either beats an auto one, the
larger number of approvers counts, the smaller row limit, and a requester may approve their own
run's writes only if neither forbids it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hil.errors import ConfigError
from hil.policy.gates import Gate, GateRequest, GateVerdict, evaluate_gates
from hil.policy.rules import STATEMENT_CLASSES, DecideRequest, Policy, Rule, Verdict, default_policy
from hil.workflows import NAME_PATTERN, GateSpec, Workflow, describe_errors

StatementClass = Literal["plan", "read", "dml", "ddl", "other"]


class RuleSpec(BaseModel):
    """Who may decide: a permit or forbid rule, matched on the approval's kind, statement class,
    the decider's role and name, and whether the decider asked for the run."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=NAME_PATTERN)
    effect: Literal["permit", "forbid"]
    reason: str = Field(min_length=1, max_length=500)
    kinds: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    statements: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    roles: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    users: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    self_approval: bool | None = None

    def rule(self) -> Rule:
        return Rule(self.name, self.effect, self.reason, tuple(self.kinds), tuple(self.statements),
                    tuple(self.roles), tuple(self.users), self.self_approval)


class PolicyDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gates: list[GateSpec] = Field(default_factory=list, description="Which actions wait for a human.")
    rules: list[RuleSpec] = Field(default_factory=list, description="Who may decide; evaluated with the "
                                  "built-in rules (a forbid from either wins).")
    approvers: dict[StatementClass, int] = Field(default_factory=dict, description="Distinct approvers a "
                                                 "statement class needs, e.g. {ddl: 2, dml: 2}.")
    requester_may_approve_writes: bool | None = Field(default=None, description="false forbids it in every "
                                                      "workflow; unset leaves it to each workflow.")
    max_row_limit: int | None = Field(default=None, ge=1, le=100_000, description="Caps every workflow's "
                                      "row_limit.")
    expire_after_seconds: int | None = Field(default=None, ge=1, le=366 * 24 * 3600, description="Expiry of "
                                             "approvals in workflows that set none.")

    @model_validator(mode="after")
    def _consistent(self) -> PolicyDocument:
        for statement, count in self.approvers.items():
            if not 1 <= count <= 5:
                raise ValueError(f"approvers.{statement} is {count}; it must be between 1 and 5")
        names = [r.name for r in self.rules] + [g.name for g in self.gates]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"rule and gate names must be unique; used twice: {', '.join(twice)}")
        return self


def parse_document(text: str, source: str = "policy") -> PolicyDocument:
    """A policy from YAML or JSON text; errors name the source and every field path."""
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: not valid YAML or JSON: {err}") from None
    return validate_document(data if data is not None else {}, source)


def validate_document(data: Any, source: str | None = "policy", loc: tuple[str, ...] = ()) -> PolicyDocument:
    """``source`` (a file name) starts the message; ``loc`` prefixes every field path (e.g. body)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source or '.'.join(loc) or 'policy'}: a policy is a mapping (gates, rules, "
                          f"approvers, ...), not {type(data).__name__}")
    try:
        return PolicyDocument.model_validate(data)
    except ValidationError as err:
        found = describe_errors(source, [{**e, "loc": (*loc, *e["loc"])} for e in err.errors()])
        raise ConfigError(found.message, hint="see docs/policy.md for the fields", details=found.details) from None


def document_json(doc: PolicyDocument) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(doc.model_dump_json(exclude_defaults=True))
    return data


@dataclass(frozen=True)
class InForce:
    """The policy one run is governed by."""

    decide_policy: Policy
    gates: tuple[Gate, ...]
    row_limit: int
    expire_after_seconds: int | None
    workflow: Workflow

    def decide(self, request: DecideRequest) -> Verdict:
        return self.decide_policy.evaluate(request)

    def gate(self, action: str, statement: str = "other", tables: tuple[str, ...] | None = None) -> tuple[
            GateRequest, GateVerdict]:
        wants = {"plan": self.workflow.approval.plan, "sql_read": self.workflow.approval.sql_read}.get(action, True)
        request = GateRequest(action, statement, tables, wants)
        return request, evaluate_gates(self.gates, request)


def in_force(doc: PolicyDocument | None, workflow: Workflow) -> InForce:
    doc = doc or PolicyDocument()
    approval = workflow.approval
    may_self = approval.requester_may_approve_writes and doc.requester_may_approve_writes is not False
    base = default_policy(ddl_approvers=max(approval.ddl_approvers, doc.approvers.get("ddl", 1)),
                          requester_may_approve_writes=may_self)
    approvers = dict(base.approvers)
    for statement, count in doc.approvers.items():
        approvers[statement] = max(count, approvers.get(statement, 1))
    # the tenant's forbids join the built-in ones; its permits come after them (a forbid wins anyway)
    rules = tuple(r.rule() for r in doc.rules) + base.rules
    gates = tuple(gate_of(g) for g in [*doc.gates, *approval.gates])
    row_limit = min(workflow.row_limit, doc.max_row_limit or workflow.row_limit)
    expiry = approval.expire_after_seconds or doc.expire_after_seconds
    return InForce(Policy(rules, approvers), gates, row_limit, expiry, workflow)


def gate_of(spec: GateSpec) -> Gate:
    return Gate(spec.name, spec.action, spec.approval, spec.reason,
                tuple(spec.tables) if spec.tables is not None else None)


__all__ = ["STATEMENT_CLASSES", "InForce", "PolicyDocument", "RuleSpec", "document_json", "in_force",
           "parse_document", "validate_document"]
