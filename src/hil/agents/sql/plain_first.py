"""The plain prompt first: on a database the agent knows only by its schema, the database's own
CREATE TABLE statements and the question, the form code models are trained on for text-to-SQL.

The agent's richer prompt (sampled values, foreign-key notes, value mentions, the rows rule) helps
where that plain draft goes wrong, but on a draft that was already right it also invites joins and
filters the question did not ask for. So the plain draft goes first, and is taken only when it
needs nothing; otherwise the full agent drafts as before (see docs/sql.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hil import settings
from hil.agents.base import StepContext
from hil.agents.sql.drafting import plain_prompt, plain_system
from hil.agents.sql.knowledge import plain_schema
from hil.agents.sql.linking import select_tables
from hil.agents.sql.question_fit import ungrouped_per_group
from hil.agents.sql.repair import repair
from hil.agents.sql.result_check import EMPTY, WRONG_SHAPE, expects_rows, shape_problem, thing_answered_with_a_number
from hil.agents.sql.schema_check import schema_problems
from hil.connectors.base import Connector, Table, render_plain
from hil.connectors.guard import check_read_only
from hil.errors import QueryFailed, QueryRefused
from hil.events import EventType
from hil.workflows import SqlConnection


def applies(ctx: StepContext, cfg: SqlConnection, has_examples: bool) -> bool:
    """Whether to try the plain prompt: reads run unattended on a read-only connection, and the agent
    knows nothing the plain prompt would leave out (no approved examples, no workflow instructions).
    The plain draft is one of the candidates, so HIL_SQL_CANDIDATES=1 (one draft only) turns it off."""
    return (ctx.reads_unattended and cfg.read_only and not has_examples and not ctx.workflow.instructions
            and bool(settings.get_int("HIL_SQL_PLAIN_FIRST")) and settings.get_int("HIL_SQL_CANDIDATES") > 1)


def first_prompt(ctx: StepContext, conn: Connector, tables: list[Table]) -> tuple[str, str]:
    """(system, prompt) of the plain draft: the whole schema, as the database states it, when it
    fits; else the tables linked to the question."""
    budget = settings.get_int("HIL_SCHEMA_BUDGET")
    shown = tables if len(render_plain(tables)) <= budget else select_tables(ctx.question, tables, budget)
    return plain_system(conn.dialect), plain_prompt(conn.dialect, plain_schema(conn, shown), ctx.question)


def draft(ctx: StepContext, conn: Connector, tables: list[Table], ask: Callable[[str, str], str],
          polish: Callable[[str], tuple[str, list[str]]]) -> tuple[str, list[str], dict[str, Any]] | None:
    """(sql, adjustments, the record of the choice) when the plain draft passes every check untouched
    (the guard, no repair needed, the schema check, one row per group when asked), runs, returns rows
    (not only NULLs) when the question expects some and has the question's shape; else None, with a ``step.retried``
    event saying why it was not taken. ``ask(system, prompt)`` is the model call, ``polish`` the
    agent's value alignment and tidying."""
    dialect = conn.dialect
    sql = ""
    try:
        sql = ask(*first_prompt(ctx, conn, tables))
        checked = check_read_only(sql, dialect)
        repaired, fixes = repair(checked, dialect, tables)
        problems = ([f"needs repair: {'; '.join(fixes)}"] if fixes else []) + schema_problems(repaired, dialect,
                                                                                              tables)
        if not problems and (ungrouped := ungrouped_per_group(ctx.question, repaired, dialect)):
            problems = [ungrouped]
        if problems:
            raise QueryRefused("; ".join(problems))
        polished, adjustments = polish(repaired)
        result = conn.execute_read(polished, limit=ctx.workflow.row_limit, cancel=ctx.cancelled)
        # an aggregate over no matching rows is one row of NULLs: no answer either
        if expects_rows(ctx.question) and all(v is None for row in result.rows for v in row):
            raise QueryRefused(EMPTY)
        if problem := (shape_problem(ctx.question, result.columns, result.rows)
                       or thing_answered_with_a_number(ctx.question, result.columns, result.rows, tables)):
            raise QueryRefused(f"{WRONG_SHAPE}: {problem}")
    except (QueryRefused, QueryFailed) as err:
        ctx.emit(EventType.STEP_RETRIED, {"reason": "plain_not_taken", "source": "plain", "sql": sql,
                                          "error": err.message})
        return None
    consensus = {"chosen": "plain", "support": 1.0, "agreeing": 1,
                 "candidates": [{"source": "plain", "sql": polished, "result_rows": len(result.rows)}]}
    ctx.emit(EventType.SQL_CANDIDATES, consensus)
    return polished, adjustments, consensus
