"""Who may decide an approval, and how many must: one policy, rules as data.

A request (kind of approval, class of statement, who decides with which role, who asked for the
run) is matched against every rule. A matching ``forbid`` wins over any ``permit``; with no
matching ``permit`` the answer is no (default deny). Every verdict names the rule that made it.
Writes of the DDL class need two distinct approvers by default; automatic deciders (approval
expiry, a blanket --yes) never approve DDL; nobody approves a write on a run they asked for
unless the workflow allows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal

Effect = Literal["permit", "forbid"]
STATEMENT_CLASSES = ("plan", "read", "dml", "ddl", "other")
AUTOMATIC = ("system:*", "auto:*")  # deciders nobody looked at: expiry rules, a blanket --yes


@dataclass(frozen=True)
class Rule:
    name: str
    effect: Effect
    reason: str
    kinds: tuple[str, ...] = ("*",)  # plan, sql_read, sql_write, clarification
    statements: tuple[str, ...] = ("*",)  # plan, read, dml, ddl, other
    roles: tuple[str, ...] = ("*",)
    users: tuple[str, ...] = ("*",)  # glob patterns
    self_approval: bool | None = None  # match only a decider who is (True) / is not (False) the requester

    def matches(self, request: DecideRequest) -> bool:
        if self.self_approval is not None and (request.requester == request.user) != self.self_approval:
            return False
        return (_any(self.kinds, request.kind) and _any(self.statements, request.statement)
                and _any(self.roles, request.role) and _any(self.users, request.user))


def _any(patterns: tuple[str, ...], value: str) -> bool:
    return any(fnmatchcase(value, p) for p in patterns)


@dataclass(frozen=True)
class DecideRequest:
    kind: str
    statement: str
    user: str
    role: str
    requester: str | None = None


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rule: str
    reason: str
    approvers: int = 1  # distinct approvers the draft needs before it counts as approved


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    approvers: dict[str, int] = field(default_factory=dict)  # statement class -> distinct approvers

    def evaluate(self, request: DecideRequest) -> Verdict:
        matching = [r for r in self.rules if r.matches(request)]
        needed = max(1, self.approvers.get(request.statement, 1))
        forbid = next((r for r in matching if r.effect == "forbid"), None)
        if forbid is not None:
            return Verdict(False, forbid.name, forbid.reason, needed)
        permit = next((r for r in matching if r.effect == "permit"), None)
        if permit is not None:
            return Verdict(True, permit.name, permit.reason, needed)
        return Verdict(False, "default-deny", "no rule permits this decision", needed)


DECIDERS = Rule("approvers-decide", "permit", "approvers and admins decide approvals", roles=("approver", "admin"))
LOWER_ROLES = Rule("lower-roles-do-not-decide", "forbid", "only the approver role or higher decides approvals",
                   roles=("viewer", "operator"))
NO_SELF_APPROVAL = Rule("no-self-approval-of-writes", "forbid", "a write on a run you asked for needs another approver",
                        kinds=("sql_write",), self_approval=True)
NO_AUTOMATIC_DDL = Rule("no-automatic-ddl", "forbid", "DDL is approved by people only, never by expiry or --yes",
                        statements=("ddl",), users=AUTOMATIC)


def default_policy(*, ddl_approvers: int = 2, requester_may_approve_writes: bool = False) -> Policy:
    """The built-in policy, with a workflow's two settings applied."""
    rules = [LOWER_ROLES, NO_AUTOMATIC_DDL, DECIDERS]
    if not requester_may_approve_writes:
        rules.insert(1, NO_SELF_APPROVAL)
    return Policy(tuple(rules), {"ddl": ddl_approvers})
