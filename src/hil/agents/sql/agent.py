"""SQL agent: drafts SQL from the connection's schema, validates it with sqlglot, runs it
read-only with a row limit, and redrafts with the error when it fails."""

from __future__ import annotations

import hashlib
from typing import Any

from hil import pii, settings
from hil.agents.base import Agent, Draft, Feedback, Prompt, Redraft, StepContext
from hil.agents.sql import candidates, fewshot, plain_first
from hil.agents.sql.candidates import Candidate
from hil.agents.sql.drafting import Brief, extract_sql, prompt, system
from hil.agents.sql.evidence import rows_behind
from hil.agents.sql.knowledge import introspect, knowledge, release_step_connection, step_connection
from hil.agents.sql.linking import select_tables, value_mentions
from hil.agents.sql.question_fit import (
    break_ties,
    drop_unasked_date_filters,
    drop_unasked_limit,
    label_groups,
    purpose_in_scope,
    question_problems,
)
from hil.agents.sql.repair import repair
from hil.agents.sql.result_check import (
    EMPTY,
    WRONG_SHAPE,
    align_literals,
    empty_result_hint,
    expects_rows,
    shape_problem,
)
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
SAMPLE_TEMPERATURE = 0.7


def dialect_of(cfg: SqlConnection) -> str:
    return {"duckdb": "duckdb", "sqlite": "sqlite", "postgres": "postgres"}[cfg.kind]


class SqlAgent(Agent):
    name = "sql"
    description = "Queries the database with read-only SQL (counts, rankings, lists, aggregates)."
    MAX_SELF_FIXES = 2

    @staticmethod
    def _setting_out(ctx: StepContext) -> tuple[SqlConnection, Connector, list[Table], list[ScoredExample]]:
        """What every draft starts from: the connection, its tables and the recalled examples."""
        cfg = ctx.workflow.connection()
        conn = step_connection(ctx, cfg)  # the one connection of this step, until the runner closes it
        tables, values = knowledge(conn)
        # Compared as "how big is <state_name>": the shape of the question, not its values.
        shots = ctx.recall(cfg.name, values.mask(ctx.question), settings.get_int("HIL_FEWSHOT_K"))
        return cfg, conn, tables, shots

    def draft(self, ctx: StepContext, feedback: Feedback | None) -> Draft:
        cfg, conn, tables, shots = self._setting_out(ctx)
        dialect = dialect_of(cfg)
        brief = self._brief(ctx, cfg, tables, shots, feedback)
        extra: dict[str, Any] = {"dialect": dialect, "feedback": feedback.message if feedback else None,
                                 "examples": [shot.to_dict() for shot in shots]}
        if feedback is None and (reused := self._reuse(ctx, cfg, tables, shots)) is not None:
            return Draft("sql_read", EventType.SQL_DRAFTED, {"sql": reused, "connection": cfg.name}, reused,
                         needs_approval=ctx.workflow.approval.sql_read, extra={**extra, "reused": True},
                         repeats_approved=True)
        if feedback is None and plain_first.applies(ctx, cfg, bool(shots)):
            plain = plain_first.draft(ctx, conn, tables,
                                      ask=lambda sys_prompt, text: self._ask(ctx, dialect, text, system_prompt=sys_prompt),
                                      polish=lambda sql: self._polish(conn, tables, sql, ctx.question))
            if plain is not None:
                sql, adjustments, consensus = plain
                return Draft("sql_read", EventType.SQL_DRAFTED, {"sql": sql, "connection": cfg.name}, sql,
                             needs_approval=ctx.workflow.approval.sql_read,
                             extra={**extra, "adjustments": adjustments, "consensus": consensus})
        rescued, first_try = False, False
        try:
            write, checked, unresolved, first_try = self._generate(ctx, cfg, tables, brief, feedback)
        except QueryRefused:  # no try fitted and nobody is in the loop: another prompt may still fit
            checked = self._rescue(ctx, conn, tables, brief)
            write, unresolved, rescued = False, None, True
        if unresolved is not None:  # for the approver: the best draft, what is wrong, the proposed repair
            extra["unresolved"] = unresolved
        if write:  # always behind a human: the exact statement and what it would touch
            content = self._write_content(conn, checked)
            return Draft("sql_write", EventType.SQL_DRAFTED, content, content["impact"]["summary"],
                         needs_approval=True, extra=extra)
        checked, adjustments = self._polish(conn, tables, checked, ctx.question)
        # A human approving reads gets alternatives only to a draft the model had to redo: one that
        # fitted at once (after repairs the schema makes certain, which the approver sees as
        # adjustments) is shown as it is, without another model call before the approver sees it.
        wanted = ctx.reads_unattended or not first_try
        if feedback is None and unresolved is None and not rescued and wanted \
                and settings.get_int("HIL_SQL_CANDIDATES") > 1:
            checked, chosen = self._select(ctx, conn, cfg, tables, brief, checked)
            extra.update(chosen)
        content = {"sql": checked, "connection": cfg.name}
        return Draft("sql_read", EventType.SQL_DRAFTED, content, checked,
                     needs_approval=ctx.workflow.approval.sql_read,
                     extra={**extra, "adjustments": adjustments})

    def read_ahead(self, ctx: StepContext) -> Prompt | None:
        """The first draft's prompt, as :meth:`draft` sends it; None for a question asked before (reused)."""
        cfg, conn, tables, shots = self._setting_out(ctx)
        if self._reuse(ctx, cfg, tables, shots) is not None:
            return None
        if plain_first.applies(ctx, cfg, bool(shots)):
            return Prompt("sql", *plain_first.first_prompt(ctx, conn, tables))
        return Prompt("sql", system(dialect_of(cfg)), prompt(self._brief(ctx, cfg, tables, shots, None)))

    def _reuse(self, ctx: StepContext, cfg: SqlConnection, tables: list[Table], shots: list[ScoredExample]
               ) -> str | None:
        """The query vouched for when this very question was asked before, if it still fits the schema."""
        same = fewshot.same_question(ctx.question, shots)
        if same is None:
            return None
        try:
            write, checked, fixes, problems = self._vet(ctx, cfg, tables, same.example.sql, asked=None)
        except QueryRefused:
            return None
        return None if write or fixes or problems else checked

    @staticmethod
    def _brief(ctx: StepContext, cfg: SqlConnection, tables: list[Table], shots: list[ScoredExample],
               feedback: Feedback | None) -> Brief:
        # The tables the examples used are likely the ones this question needs too.
        linking_text = " ".join([ctx.question, ctx.purpose, *(s.example.sql for s in shots)])
        shown = select_tables(linking_text, tables, settings.get_int("HIL_SCHEMA_BUDGET"))
        note = "" if len(shown) == len(tables) else f"-- {len(shown)} of {len(tables)} tables, those most related\n"
        mentions = value_mentions(ctx.question, tables)
        told = instruction = ""
        if feedback is not None and feedback.previous:
            if feedback.source != "error":
                instruction = feedback.message
                told = (f"A reviewer rejected this SQL:\n{feedback.previous.get('sql')}\nThe reviewer's instruction: {instruction}\n"
                        "Write a new query that does everything the question asks AND follows the reviewer's "
                        "instruction (add or change WHERE conditions, joins or grouping as needed).")
                mentions += [m for m in value_mentions(feedback.message, tables) if m not in mentions]
            else:
                told = f"This SQL failed:\n{feedback.previous.get('sql')}\nError: {feedback.message}\n" \
                       "Write a corrected query."
        notes = ctx.workflow.instructions or ""
        return Brief(dialect_of(cfg), note + render_schema(shown), ctx.question, notes=notes, writable=not cfg.read_only,
                     examples=shots, purpose=purpose_in_scope(ctx.purpose, ctx.question, notes), mentions=mentions,
                     feedback=told, instruction=instruction)

    def _ask(self, ctx: StepContext, dialect: str, text: str, temperature: float | None = None,
             system_prompt: str | None = None) -> str:
        answer = ctx.llm.text("sql", system_prompt or system(dialect), text, temperature=temperature)
        sql = extract_sql(answer)
        if sql is None:
            raise QueryRefused(f"the answer holds no SQL query: {answer[:200]!r}")
        return sql

    def _vet(self, ctx: StepContext, cfg: SqlConnection, tables: list[Table], sql: str, asked: str | None
             ) -> tuple[bool, str, list[str], list[str]]:
        """(is it a write, the query after deterministic repairs, the repairs, what is still wrong, and with
        ``asked``, the question's scope too). Raises QueryRefused for what the guard refuses outright."""
        dialect = dialect_of(cfg)
        write = not cfg.read_only and is_write(sql, dialect)
        checked = check_write(sql, dialect)[0] if write else check_read_only(sql, dialect)
        fixes: list[str] = []
        if not write:
            checked, fixes = repair(checked, dialect, tables, ctx.question)
        problems = schema_problems(checked, dialect, tables)
        problems += [f"{p} is a placeholder from an example: put the question's value there"
                     for p in fewshot.placeholders(checked)]
        if not problems and asked is not None:
            problems = question_problems(checked, dialect, tables, asked, ctx.workflow.instructions or "")
        return write, checked, fixes, problems

    def _generate(self, ctx: StepContext, cfg: SqlConnection, tables: list[Table], brief: Brief,
                  feedback: Feedback | None) -> tuple[bool, str, dict[str, Any] | None, bool]:
        """A draft that parses, passes the guard and fits the schema: (is it a write, the SQL, None,
        whether the model's first try fitted, deterministic repairs aside).

        What the schema makes certain is repaired without a model call (:mod:`repair`). Each
        invalid try is a ``step.retried`` event and the next try is told why and what the fix
        is. When no try fits, the best one that still runs is returned; with reads approved by a
        human, the best draft goes to them with what is wrong (the third element) instead of failing."""
        dialect = dialect_of(cfg)
        text = prompt(brief)
        attempts: list[dict[str, Any]] = []
        # greedy decoding given much the same prompt repeats a query that failed two drafts ago too
        failed_before = {t.get("sql") for t in feedback.tried} if feedback else set()
        if feedback and feedback.previous:
            failed_before.add(feedback.previous.get("sql"))
        error = ""
        for attempt in range(self.MAX_SELF_FIXES + 1):
            sql = ""
            try:
                sql = self._ask(ctx, dialect, text)
                if sql in failed_before:  # greedy decoding repeated the failed query: sample once instead
                    sql = self._ask(ctx, dialect, text, temperature=SAMPLE_TEMPERATURE)
                asked = brief.asked() if attempt < self.MAX_SELF_FIXES else None  # the last: on the schema alone
                write, checked, fixes, problems = self._vet(ctx, cfg, tables, sql, asked)
                if not problems:
                    if fixes:
                        ctx.emit(EventType.STEP_RETRIED, {"reason": "repaired", "sql": sql, "repaired": checked,
                                                          "fixes": fixes, "attempt": attempt + 1})
                    return write, checked, None, attempt == 0
                error = "; ".join(problems)
                attempts.append({"sql": checked, "error": error, "fixes": fixes, "problems": len(problems),
                                 "placeholder": bool(fewshot.placeholders(checked))})
            except QueryRefused as err:
                error, fixes = err.message, []
            failed_before.add(sql)
            ctx.emit(EventType.STEP_RETRIED, {"reason": "invalid_sql", "sql": sql, "error": error,
                                              "attempt": attempt + 1})
            fix = f"\nApply these fixes: {'; '.join(fixes)}" if fixes else ""
            text += f"\n\nThis SQL cannot run: {sql}\nReason: {error}{fix}\nWrite a corrected read-only query."
        best = best_candidate(step_connection(ctx, cfg), attempts) if attempts else None
        if best is not None:
            return False, best["sql"], None, False
        message = (f"the model produced no valid read-only SQL in {self.MAX_SELF_FIXES + 1} tries: "
                   f"{attempts[-1]['error'] if attempts else error}")
        if attempts and ctx.workflow.approval.sql_read:  # a human can fix in seconds what the model could not
            worst_first = sorted(attempts, key=lambda a: a["problems"])
            return False, worst_first[0]["sql"], {"problems": worst_first[0]["error"],
                                                  "proposed_repair": worst_first[0]["fixes"], "message": message}, False
        raise QueryRefused(message)

    def _candidate(self, ctx: StepContext, conn: Connector, tables: list[Table], brief: Brief, source: str,
                   temperature: float | None = None) -> Candidate:
        """One more draft, vetted and polished the same way, with no self-fixes: an invalid one counts for nothing."""
        try:
            sql = self._ask(ctx, brief.dialect, prompt(brief), temperature)
            write, checked, _fixes, problems = self._vet(ctx, conn.cfg, tables, sql, brief.asked())
        except QueryRefused as err:
            return Candidate(source, None, error=err.message)
        if write or problems:
            return Candidate(source, None, error="a write" if write else "; ".join(problems))
        return Candidate(source, self._polish(conn, tables, checked, ctx.question)[0])

    def _rescue(self, ctx: StepContext, conn: Connector, tables: list[Table], brief: Brief) -> str:
        """The first valid candidate from the schema alone or a second sample, when the draft's tries
        all failed; the original failure when none is valid (or only one draft is allowed)."""
        tries = [(brief.schema_only(), "schema only", None),
                 (brief, "second sample", SAMPLE_TEMPERATURE)][: settings.get_int("HIL_SQL_CANDIDATES") - 1]
        for variant, source, temperature in tries:
            c = self._candidate(ctx, conn, tables, variant, source, temperature)
            ctx.emit(EventType.STEP_RETRIED, {"reason": "invalid_sql" if c.sql is None else "rescued",
                                              "sql": c.sql or "", "error": c.error or "", "source": source})
            if c.sql is not None:
                return c.sql
        raise QueryRefused(f"the model produced no valid read-only SQL in {self.MAX_SELF_FIXES + 1 + len(tries)} "
                           "tries (the draft, its corrections and the other candidates)")

    def _select(self, ctx: StepContext, conn: Connector, cfg: SqlConnection, tables: list[Table], brief: Brief,
                first: str) -> tuple[str, dict[str, Any]]:
        """Drafts from different evidence: the full prompt, the schema and question alone, and (when
        those two disagree) a second sample of the full prompt. Reads that run unattended are chosen
        by the result most of them return (:mod:`candidates`); reads a human approves run nothing
        before the approval, so the human gets the draft and the differing ones as alternatives."""
        cands = [Candidate("draft", first), self._candidate(ctx, conn, tables, brief.schema_only(), "schema only")]
        if not ctx.reads_unattended:
            alts = candidates.alternatives(first, cands, brief.dialect)
            return first, {"alternatives": alts} if alts else {}
        expects = expects_rows(ctx.question)
        limit = ctx.workflow.row_limit
        for c in cands:
            candidates.run(conn, c, limit)
        if not candidates.agree(cands, expects) and settings.get_int("HIL_SQL_CANDIDATES") > 2:
            cands.append(self._candidate(ctx, conn, tables, brief, "second sample", SAMPLE_TEMPERATURE))
            candidates.run(conn, cands[-1], limit)
        pick, support = candidates.choose_by_result(cands, expects)
        chosen = cands[pick]
        assert chosen.sql is not None or pick == 0
        consensus = {"chosen": chosen.source, "support": support,
                     "agreeing": sum(c.result is not None and c.result == chosen.result for c in cands),
                     "candidates": [c.to_dict() for c in cands]}
        ctx.emit(EventType.SQL_CANDIDATES, consensus)
        return chosen.sql or first, {"consensus": consensus}

    @staticmethod
    def _polish(conn: Connector, tables: list[Table], sql: str, question: str) -> tuple[str, list[str]]:
        """Values aligned with their stored spelling; a LIMIT or a date filter the question does not ask for
        dropped; per-group aggregates labelled with their group."""
        sql, adjustments = align_literals(conn, sql, tables)
        sql, dropped = drop_unasked_limit(sql, conn.dialect, question)
        sql, undated = drop_unasked_date_filters(sql, conn.dialect, question)
        sql, labelled = label_groups(sql, conn.dialect)
        sql, tied = break_ties(sql, conn.dialect)
        return sql, adjustments + [note for note in (dropped, undated, labelled, tied) if note]

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
        out = {"sql": content["sql"], **data, "evidence": evidence}
        if not data["truncated"]:  # what a cut result lacks may be in the rows cut; no personal value is kept
            left_out = knowledge(conn)[1].names_not_returned(
                data["columns"], raw_rows, keep=lambda c, v: policy.clean_rows([c], [[v]])[0] == [[v]])
            if left_out:
                out["names_not_returned"] = left_out
        return out

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
