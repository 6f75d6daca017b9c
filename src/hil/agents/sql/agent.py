"""SQL agent: drafts SQL from the connection's schema, validates it with sqlglot, runs it
read-only with a row limit, and redrafts with the error when it fails."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from typing import Any

from pydantic import BaseModel, Field

from hil import pii, settings
from hil.agents.base import Agent, Draft, Feedback, Redraft, StepContext
from hil.agents.sql import fewshot
from hil.agents.sql.evidence import rows_behind
from hil.agents.sql.knowledge import introspect, knowledge, release_step_connection, step_connection
from hil.agents.sql.linking import select_tables, value_mentions
from hil.agents.sql.question_fit import (
    drop_unasked_date_filters,
    drop_unasked_limit,
    filters_from_context,
    has_time_expression,
)
from hil.agents.sql.repair import repair
from hil.agents.sql.result_check import align_literals, empty_result_hint, expects_rows, shape_problem
from hil.agents.sql.schema_check import runtime_hint, schema_problems
from hil.connectors import connect
from hil.connectors.base import Connector, Table, render_schema
from hil.connectors.guard import check_read_only, check_write, is_write
from hil.connectors.writes import estimate_impact, execute_write
from hil.errors import InvalidDecision, QueryFailed, QueryRefused
from hil.events import EventType
from hil.examples import ScoredExample
from hil.workflows import SqlConnection, Workflow

SAMPLE_ROWS = 20
EMPTY = "the query returned no rows"
WRONG_SHAPE = "the result does not fit the question"
# Small models default to MySQL idioms (DATE_SUB, NOW()); one example per dialect steers them.
DATE_HINTS = {
    "duckdb": "Date arithmetic: CURRENT_DATE - INTERVAL 90 DAY (DuckDB has no DATE_SUB or NOW()).",
    "sqlite": "Date arithmetic: date('now', '-90 days').",
    "postgres": "Date arithmetic: CURRENT_DATE - INTERVAL '90 days'.",
}


class SqlDraft(BaseModel):
    sql: str = Field(min_length=1, description="One read-only SQL query.")


def _result_key(conn: Connector, sql: str, limit: int) -> tuple[tuple[str, int], ...] | None:
    """The result as a comparable multiset of rows, or None when the query fails."""
    try:
        rows = conn.execute_read(sql, limit=limit).rows
    except (QueryFailed, QueryRefused):
        return None
    return tuple(sorted(Counter(repr(r) for r in rows).items()))


def dialect_of(cfg: SqlConnection) -> str:
    return {"duckdb": "duckdb", "sqlite": "sqlite", "postgres": "postgres"}[cfg.kind]


SYSTEM = """You write one SQL query that answers the question from the given database schema.
Use only tables and columns that exist in the schema. Filter text columns with the exact values shown
in the schema comments. Write a single SELECT statement and nothing else."""


class SqlAgent(Agent):
    name = "sql"
    description = "Queries the database with read-only SQL (counts, rankings, lists, aggregates)."
    MAX_SELF_FIXES = 2

    def draft(self, ctx: StepContext, feedback: Feedback | None) -> Draft:
        cfg = ctx.workflow.connection()
        dialect = dialect_of(cfg)
        conn = step_connection(ctx, cfg)  # the one connection of this step, until the runner closes it
        tables, values = knowledge(conn)
        # Compared as "how big is <state_name>": the shape of the question, not its values.
        shots = ctx.recall(cfg.name, values.mask(ctx.question), settings.get_int("HIL_FEWSHOT_K"))
        write, checked, unresolved = self._generate(ctx, cfg, tables, shots, feedback)
        extra: dict[str, Any] = {"dialect": dialect, "feedback": feedback.message if feedback else None,
                                 "examples": [shot.to_dict() for shot in shots]}
        if unresolved is not None:  # for the approver: the best draft, what is wrong, the proposed repair
            extra["unresolved"] = unresolved
        if write:  # always behind a human: the exact statement and what it would touch
            content = self._write_content(conn, checked)
            return Draft("sql_write", EventType.SQL_DRAFTED, content, content["impact"]["summary"],
                         needs_approval=True, extra=extra)
        checked, adjustments = self._polish(conn, tables, checked, ctx.question)
        if shots and feedback is None and not ctx.workflow.approval.sql_read and unresolved is None:
            checked, basis, consensus = self._consensus(ctx, conn, tables, shots, checked)
            extra.update(examples=[shot.to_dict() for shot in basis], consensus=consensus)
        content = {"sql": checked, "connection": cfg.name}
        return Draft("sql_read", EventType.SQL_DRAFTED, content, checked,
                     needs_approval=ctx.workflow.approval.sql_read,
                     extra={**extra, "adjustments": adjustments})

    def _prompt(self, ctx: StepContext, cfg: SqlConnection, tables: list[Table], shots: list[ScoredExample],
                feedback: Feedback | None) -> str:
        dialect = dialect_of(cfg)
        # The tables the examples used are likely the ones this question needs too.
        linking_text = " ".join([ctx.question, ctx.purpose, *(s.example.sql for s in shots)])
        shown = select_tables(linking_text, tables, settings.get_int("HIL_SCHEMA_BUDGET"))
        note = "" if len(shown) == len(tables) else f" ({len(shown)} of {len(tables)} tables, those most related)"
        base = [f"Database ({cfg.engine}) schema{note}:\n{render_schema(shown)}", f"Question: {ctx.question}"]
        if has_time_expression(" ".join([ctx.question, ctx.purpose])):  # else the hint invents date filters
            base.insert(1, f"Today's date: {dt.date.today().isoformat()}. {DATE_HINTS[dialect]}")
        if not cfg.read_only:
            base.insert(1, "This connection allows changes. When the question asks to change data, write one INSERT, "
                           "UPDATE or DELETE statement instead of a SELECT; a human approves it before it runs.")
        if ctx.workflow.instructions:  # context for any question, never a template for this one
            base.insert(1, f"Background notes on this database (definitions and conventions; they do not change "
                           f"what the question asks, and add no filters of their own): {ctx.workflow.instructions}")
        if shots:
            base.insert(-1, "Examples: earlier questions on this database and the SQL a reviewer approved for "
                            "them. Reuse their joins and conventions where they fit, with the values of the "
                            f"question below.\n\n{fewshot.render(shots, dialect)}")
        if ctx.purpose:
            base.append(f"What this query must find: {ctx.purpose}")
        mentions = value_mentions(ctx.question, tables)
        if feedback is not None and feedback.previous:
            if feedback.source != "error":
                base.append(f"A reviewer rejected this SQL:\n{feedback.previous.get('sql')}\n"
                            f"The reviewer's instruction: {feedback.message}\n"
                            "Write a new query that does everything the question asks AND follows the reviewer's "
                            "instruction (add or change WHERE conditions, joins or grouping as needed).")
                mentions += [m for m in value_mentions(feedback.message, tables) if m not in mentions]
            else:
                base.append(f"This SQL failed:\n{feedback.previous.get('sql')}\nError: {feedback.message}\n"
                            "Write a corrected query.")
        if mentions:
            base.append("Values named above and the columns that hold them: " + "; ".join(mentions))
        base.append(f"Return JSON {{\"sql\": \"...\"}} with one {dialect} SELECT query that answers the Question "
                    "exactly as asked, with only the filters the Question names. "
                    "When it asks for the top N, use LIMIT N; when it asks for the single largest, smallest, "
                    "most or least, return the top row; otherwise return every matching row without LIMIT.")
        return "\n\n".join(base)

    def _generate(self, ctx: StepContext, cfg: SqlConnection, tables: list[Table],
                  shots: list[ScoredExample], feedback: Feedback | None) -> tuple[bool, str, dict[str, Any] | None]:
        """A draft that parses, passes the guard and fits the schema: (is it a write, the SQL, None).

        What the schema makes certain is repaired without a model call (:mod:`repair`). Each
        invalid try is a ``step.retried`` event and the next try is told why and what the fix
        is. When no try fits, the best one that still runs is returned; with reads approved by a
        human, the best draft goes to them with what is wrong (the third element) instead of failing."""
        dialect = dialect_of(cfg)
        prompt = self._prompt(ctx, cfg, tables, shots, feedback)
        attempts: list[dict[str, Any]] = []
        failed_before = {feedback.previous.get("sql")} if feedback and feedback.previous else set()
        for attempt in range(self.MAX_SELF_FIXES + 1):
            out = ctx.llm.structured("sql", SYSTEM, prompt, SqlDraft)
            sql = out.sql.strip().rstrip(";")
            if sql in failed_before:  # greedy decoding repeated the failed query: sample once instead
                out = ctx.llm.structured("sql", SYSTEM, prompt, SqlDraft, temperature=0.7)
                sql = out.sql.strip().rstrip(";")
            fixes: list[str] = []
            try:
                write = not cfg.read_only and is_write(sql, dialect)
                checked = check_write(sql, dialect)[0] if write else check_read_only(sql, dialect)
                if not write:
                    checked, fixes = repair(checked, dialect, tables)
                problems = schema_problems(checked, dialect, tables)
                problems += [f"{p} is a placeholder from an example: put the question's value there"
                             for p in fewshot.placeholders(checked)]
                if not problems and ctx.workflow.instructions and attempt < self.MAX_SELF_FIXES:
                    problems = filters_from_context(checked, dialect, tables, f"{ctx.question} {ctx.purpose}",
                                                    ctx.workflow.instructions)
                if not problems:
                    if fixes:
                        ctx.emit(EventType.STEP_RETRIED, {"reason": "repaired", "sql": sql, "repaired": checked,
                                                          "fixes": fixes, "attempt": attempt + 1})
                    return write, checked, None
                error = "; ".join(problems)
                attempts.append({"sql": checked, "error": error, "fixes": fixes, "problems": len(problems),
                                 "placeholder": bool(fewshot.placeholders(checked))})
            except QueryRefused as err:
                error = err.message
            failed_before.add(sql)
            ctx.emit(EventType.STEP_RETRIED, {"reason": "invalid_sql", "sql": sql, "error": error,
                                              "attempt": attempt + 1})
            fix = f"\nApply these fixes: {'; '.join(fixes)}" if fixes else ""
            prompt += f"\n\nThis SQL cannot run: {sql}\nReason: {error}{fix}\nWrite a corrected read-only query."
        best = best_candidate(step_connection(ctx, cfg), attempts) if attempts else None
        if best is not None:
            return False, best["sql"], None
        message = (f"the model produced no valid read-only SQL in {self.MAX_SELF_FIXES + 1} tries: "
                   f"{attempts[-1]['error'] if attempts else error}")
        if attempts and ctx.workflow.approval.sql_read:  # a human can fix in seconds what the model could not
            worst_first = sorted(attempts, key=lambda a: a["problems"])
            return False, worst_first[0]["sql"], {"problems": worst_first[0]["error"],
                                                  "proposed_repair": worst_first[0]["fixes"], "message": message}
        raise QueryRefused(message)

    @staticmethod
    def _polish(conn: Connector, tables: list[Table], sql: str, question: str) -> tuple[str, list[str]]:
        """Values aligned with their stored spelling; a LIMIT or a date filter the question does not ask for
        dropped."""
        sql, adjustments = align_literals(conn, sql, tables)
        sql, dropped = drop_unasked_limit(sql, conn.dialect, question)
        sql, undated = drop_unasked_date_filters(sql, conn.dialect, question)
        return sql, adjustments + [note for note in (dropped, undated) if note]

    def _consensus(self, ctx: StepContext, conn: Connector, tables: list[Table],
                   shots: list[ScoredExample], with_examples: str
                   ) -> tuple[str, list[ScoredExample], dict[str, Any]]:
        """When reads run unattended, let the results decide between drafts made from different
        evidence: without the examples, with them, and with only the closest one. The result
        most drafts agree on wins; with no majority, the draft without examples does, so one
        misleading example cannot override what the model writes without it."""
        candidates: list[tuple[str, str | None, list[ScoredExample]]] = [("no examples", None, []),
                                                                               ("examples", with_examples, shots)]
        if len(shots) > 1:
            candidates.append(("closest example", None, shots[:1]))
        drafted = []
        for label, sql, basis in candidates:
            if sql is None:
                try:
                    _write, raw, _unresolved = self._generate(ctx, conn.cfg, tables, basis, None)
                except QueryRefused:
                    continue
                sql = self._polish(conn, tables, raw, ctx.question)[0]
            drafted.append((label, sql, basis))
        outcomes = [_result_key(conn, sql, ctx.workflow.row_limit) for _, sql, _ in drafted]
        votes = Counter(o for o in outcomes if o is not None)
        best = max(votes.values(), default=0)
        # Within the majority, the draft that used the examples (what a reviewer would have seen);
        # with no majority, the draft without them.
        order = ["examples", "closest example", "no examples"] if best >= 2 else ["no examples", "examples",
                                                                                  "closest example"]
        ranked = sorted(range(len(drafted)), key=lambda i: order.index(drafted[i][0]))
        pick = next((i for i in ranked if (o := outcomes[i]) is not None and votes[o] == best), ranked[0])
        label, sql, basis = drafted[pick]
        consensus = {"chosen": label, "agreeing": best,
                     "candidates": [{"source": lab, "sql": q, "result_rows": None if o is None else sum(n for _, n in o)}
                                    for (lab, q, _), o in zip(drafted, outcomes, strict=True)]}
        ctx.emit(EventType.SQL_CANDIDATES, consensus)
        return sql, basis, consensus

    @staticmethod
    def _write_content(conn: Connector, sql: str) -> dict[str, Any]:
        return {"sql": sql, "connection": conn.cfg.name, "write": True, "impact": estimate_impact(conn, sql)}

    def validate_edit(self, workflow: Workflow, kind: str, content: dict[str, Any]) -> dict[str, Any]:
        sql = content.get("sql")
        if not isinstance(sql, str):
            raise InvalidDecision("the edited SQL must be {\"sql\": \"SELECT ...\"}")
        cfg = workflow.connection(content.get("connection"))
        try:
            if kind == "sql_write":
                if cfg.read_only:
                    raise QueryRefused(f"connection {cfg.name!r} is read-only")
                checked_write = check_write(sql, dialect_of(cfg))[0]
                conn = connect(cfg)  # a reviewer's edit, outside any step: a connection of its own
                try:
                    return self._write_content(conn, checked_write)
                finally:
                    conn.close()
            checked = check_read_only(sql, dialect_of(cfg))
        except QueryRefused as err:
            raise InvalidDecision(f"the edited SQL is refused: {err.message}") from None
        return {"sql": checked, "connection": cfg.name}

    def execute(self, ctx: StepContext, content: dict[str, Any] | None) -> dict[str, Any]:
        assert content is not None
        cfg = ctx.workflow.connection(content.get("connection"))
        if content.get("write"):
            release_step_connection(ctx, cfg)
            return self._execute_write(ctx, cfg, content["sql"])
        conn = step_connection(ctx, cfg)  # the one the drafts used, or (a resumed step) a new one
        try:
            result = conn.execute_read(content["sql"], limit=ctx.workflow.row_limit, cancel=ctx.cancelled)
        except (QueryFailed, QueryRefused) as err:
            # no hint when the link itself was lost: the redraft's step_connection replaces it
            hint = runtime_hint(err.message, content["sql"], dialect_of(cfg), introspect(conn)) if conn.alive() else None
            raise Redraft(f"{err.message} (hint: {hint})" if hint else err.message) from None
        data = result.to_dict()
        raw_rows = data["rows"]  # checks and the rows behind aggregates work on the real values
        policy = _pii_policy(ctx.workflow)
        data["rows"], found = policy.clean_rows(data["columns"], raw_rows)
        ctx.emit(EventType.SQL_EXECUTED, {"sql": content["sql"], "connection": cfg.name,
                                          "columns": data["columns"], "row_count": data["row_count"],
                                          "sample_rows": data["rows"][:SAMPLE_ROWS],
                                          "truncated": data["truncated"], "elapsed_ms": data["elapsed_ms"],
                                          **({"pii": found} if found else {})})
        self._check_result(ctx, conn, content["sql"], {**data, "rows": raw_rows})
        evidence = rows_behind(conn, content["sql"], data["columns"], raw_rows)
        for group in evidence:
            if "rows" in group:
                group["rows"] = policy.clean_rows(group["columns"], group["rows"])[0]
        if evidence:
            ctx.emit(EventType.SQL_ROWS_BEHIND_AGGREGATE, {"sql": content["sql"], "groups": evidence})
        return {"sql": content["sql"], **data, "evidence": evidence}

    @staticmethod
    def _execute_write(ctx: StepContext, cfg: SqlConnection, sql: str) -> dict[str, Any]:
        """Once per approved statement (an idempotency key on its text), in a transaction."""
        key = "write:" + hashlib.sha256(f"{cfg.name}\n{sql}".encode()).hexdigest()[:32]
        try:
            done = ctx.once(key, lambda: execute_write(cfg, sql, float(settings.get_int("HIL_QUERY_TIMEOUT"))))
        except QueryFailed as err:
            raise Redraft(f"the write failed and was rolled back: {err.message}") from None
        ctx.emit(EventType.SQL_WRITE_EXECUTED, {"sql": sql, "connection": cfg.name, **done})
        return {"sql": sql, "write": True, "columns": ["rows_affected"], "rows": [[done["rows_affected"]]],
                "row_count": 1, "truncated": False, "elapsed_ms": done["elapsed_ms"], "evidence": []}

    def _check_result(self, ctx: StepContext, conn: Connector, sql: str, data: dict[str, Any]) -> None:
        """Redraft once on an unexpected empty result, and once on a result of the wrong shape.

        ``ctx.notes["failures"]`` holds the step's earlier failures (the runner restores them
        from the event log), so a resumed step does not ask twice."""
        failures: list[str] = ctx.notes.setdefault("failures", [])
        if not data["rows"] and expects_rows(ctx.question) and not any(f.startswith(EMPTY) for f in failures):
            hint = empty_result_hint(conn, sql, introspect(conn))
            failures.append(EMPTY)
            raise Redraft(f"{EMPTY}, but the question expects an answer"
                          + (f" (hint: {hint})" if hint else "; check the filters and joins"))
        problem = shape_problem(ctx.question, data["columns"], data["rows"])
        if problem and not any(f.startswith(WRONG_SHAPE) for f in failures):
            failures.append(WRONG_SHAPE)
            raise Redraft(f"{WRONG_SHAPE}: {problem}")


def best_candidate(conn: Connector, attempts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The rejected draft with the fewest problems that runs after all (the check can be stricter than
    the engine); never one that still holds an example's placeholder."""
    for a in sorted((a for a in attempts if not a.get("placeholder")), key=lambda a: a["problems"]):
        try:
            conn.execute_read(a["sql"], limit=1)
        except (QueryFailed, QueryRefused):
            continue
        return a
    return None


def _pii_policy(workflow: Workflow) -> pii.Policy:
    p = workflow.pii
    return pii.Policy(p.action, dict(p.kinds), p.allow_columns)
