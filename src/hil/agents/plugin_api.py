"""What a plug-in agent uses to reach the workflow's data: the tables that have the columns it
needs, read-only queries through the same guard as the SQL agent, and its own settings.

    class CanDecoder(Agent):
        name = "can_decoder"
        needs = (TableNeed("raw CAN frames", ("can_id", "data")),)

        def execute(self, ctx, content):
            [(cfg, table)] = matching_tables(ctx, self.needs[0])[:1]
            rows = read(ctx, cfg, f"SELECT can_id, data FROM {table.name}").rows
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from hil.agents.base import StepContext, TableNeed
from hil.agents.sql.knowledge import introspect, step_connection
from hil.connectors.base import QueryResult, Table
from hil.errors import ConfigError
from hil.workflows import SqlConnection, Workflow

M = TypeVar("M", bound=BaseModel)


def has_columns(table: Table, need: TableNeed) -> bool:
    names = {c.name.lower() for c in table.columns}
    return all(c.lower() in names for c in need.columns)


def tables_for(workflow: Workflow, need: TableNeed) -> list[tuple[SqlConnection, Table]]:
    """Every table of the workflow's connections that has the columns ``need`` names."""
    found = []
    for cfg in workflow.connections:
        found += [(cfg, t) for t in introspect(cfg) if has_columns(t, need)]
    return found


def matching_tables(ctx: StepContext, need: TableNeed) -> list[tuple[SqlConnection, Table]]:
    return tables_for(ctx.workflow, need)


def read(ctx: StepContext, cfg: SqlConnection, sql: str, limit: int | None = None) -> QueryResult:
    """A read-only query on the step's connection (the guard refuses anything that writes)."""
    return step_connection(ctx, cfg).execute_read(sql, limit=limit or ctx.workflow.row_limit, cancel=ctx.cancelled)


def settings_of(ctx: StepContext, model: type[M]) -> M:
    """This agent's settings from the workflow (``agents: {NAME: {...}}``), validated."""
    try:
        return model.model_validate(ctx.workflow.agents.get(ctx.step, {}))
    except ValidationError as err:
        raise ConfigError(f"agents.{ctx.step}: {err.errors()[0]['msg']}",
                          hint=f"see `hil agents show {ctx.step}` for its settings") from None


def column(table: Table, name: str) -> str:
    """The table's own spelling of a column found case-insensitively."""
    return next(c.name for c in table.columns if c.name.lower() == name.lower())


__all__ = ["QueryResult", "Table", "TableNeed", "column", "has_columns", "matching_tables", "read", "settings_of",
           "tables_for"]


def describe_need(workflow: Workflow, need: TableNeed) -> str:
    """One line for the planner: what the agent needs and where the workflow has it, if anywhere."""
    found = tables_for(workflow, need)
    wanted = f"{need.what} (a table with {', '.join(need.columns)})"
    if not found:
        return f"needs {wanted}; this workflow's data has none, so do not use it"
    where = "; ".join(f"{t.name} in {cfg.name} ({', '.join(c.name for c in t.columns)})" for cfg, t in found[:3])
    return f"needs {wanted}; available: {where}"
