"""Which actions wait for a human: one evaluation for every gated action.

An action is named ``plan``, ``sql_read``, ``sql_write``, ``clarification``, ``tool:SERVER/TOOL``
(an MCP tool) or ``plugin:AGENT/KIND`` (a plug-in agent's action). Gates match actions by glob; a
gate that requires approval beats one that waives it (the stricter wins), and writes always wait
for a human whatever a gate says. With no matching gate, plans and reads follow the workflow's own
setting, tools that only read run and tools that act wait, and everything else — plug-in actions,
anything new — waits (default deny).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

Approval = Literal["required", "auto"]
WRITES = ("dml", "ddl")
FOLLOWS_WORKFLOW = ("plan", "sql_read")  # actions whose default is the workflow's approval setting


@dataclass(frozen=True)
class Gate:
    name: str
    action: str  # glob over action names
    approval: Approval
    reason: str = ""
    tables: tuple[str, ...] | None = None  # "auto" only when every table touched matches one of these globs

    def matches(self, request: GateRequest) -> bool:
        if not fnmatchcase(request.action, self.action):
            return False
        if self.tables is None:
            return True
        if request.tables is None or not request.tables:  # tables unknown or none: the condition is not met
            return False
        return all(any(fnmatchcase(t.lower(), p.lower()) for p in self.tables) for t in request.tables)


@dataclass(frozen=True)
class GateRequest:
    action: str
    statement: str = "other"  # plan, read, dml, ddl, act (a tool that acts), other
    tables: tuple[str, ...] | None = None  # tables a statement touches, when known
    workflow_requires: bool = True  # the workflow's own setting for plan and sql_read


@dataclass(frozen=True)
class GateVerdict:
    needs_approval: bool
    rule: str
    reason: str

    def payload(self, request: GateRequest) -> dict[str, object]:
        """What the ``policy.decided`` event says."""
        return {"action": request.action, "statement": request.statement, "needs_approval": self.needs_approval,
                "rule": self.rule, "reason": self.reason,
                "tables": list(request.tables) if request.tables is not None else None}


def evaluate_gates(gates: tuple[Gate, ...], request: GateRequest) -> GateVerdict:
    if request.statement in WRITES or request.action == "sql_write":
        return GateVerdict(True, "writes-need-a-human", "a write always waits for a human; no gate waives it")
    if request.action == "clarification":
        return GateVerdict(True, "clarifications-need-a-human", "a question for the asker waits for an answer")
    matching = [g for g in gates if g.matches(request)]
    required = next((g for g in matching if g.approval == "required"), None)
    if required is not None:
        return GateVerdict(True, required.name, required.reason or "this policy requires approval")
    auto = next((g for g in matching if g.approval == "auto"), None)
    if auto is not None:
        return GateVerdict(False, auto.name, auto.reason or "this policy approves it automatically")
    if request.action.startswith("tool:"):  # the tool's own word (annotations, the workflow's override)
        if request.statement == "read":
            return GateVerdict(False, "read-only-tools", "a tool that only reads runs without a human")
        return GateVerdict(True, "acting-tools-need-a-human", "a tool that acts waits for a human")
    if request.action in FOLLOWS_WORKFLOW:
        if request.workflow_requires:
            return GateVerdict(True, "workflow-setting", f"the workflow asks for approval of {request.action}")
        return GateVerdict(False, "workflow-setting", f"the workflow does not ask for approval of {request.action}")
    return GateVerdict(True, "default-deny", f"no gate lets {request.action} run without a human")
