"""Execution accuracy of the SQL agent on a benchmark.

Each question goes through the agent exactly as in a run (schema linking, few-shot recall,
validation, the guard, self-correction on errors, empty results and wrong shapes) with every
draft approved unseen. The predicted and gold queries both run on the benchmark's database and
their results are compared as multisets of rows; order matters only when the gold query has
ORDER BY, and columns may come in any order (see :mod:`hil.evals.scoring`). With a baseline,
the bare model answers each question too (:mod:`hil.evals.baseline`), scored the same way in
the same run. Every verdict is appended to a JSON Lines report as soon as it is known, so an
interrupted evaluation resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hil.agents.base import Draft, StepContext
from hil.agents.sql.agent import SqlAgent
from hil.agents.sql.fewshot import in_memory
from hil.engine.driver import GaveUp, drive_step
from hil.engine.state import DraftState, StepState
from hil.errors import ConfigError, HilError
from hil.evals import baseline
from hil.evals.benchmarks import Benchmark, Item
from hil.evals.scoring import is_ordered, normalize, rows_match
from hil.events import EventType
from hil.examples import Example, Recall, no_examples
from hil.models.llm import LLM
from hil.workflows import ApprovalPolicy, PiiPolicy, SqlConnection, Workflow

ROW_LIMIT = 100_000
_NAME = re.compile(r"[^a-z0-9_-]+")


@dataclass
class Outcome:
    id: str
    question: str
    gold: str
    predicted: str | None
    verdict: str  # correct | wrong | gave_up (no SQL) | engine_error (SQL that fails) | gold_error
    attempts: int
    seconds: float
    error: str | None = None
    examples: list[str] = field(default_factory=list)  # ids of the few-shot examples the final draft used
    gold_empty: bool = False  # the gold result has no rows: an empty prediction is trivially right
    # unattended reads: each candidate the agent weighed (source, sql, chosen) and whether its own
    # result was right, so a report shows whether drafting or choosing lost a question
    candidates: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.verdict == "error":  # reports written before the classes were told apart
            self.verdict = "gave_up" if not self.predicted else "engine_error"


@dataclass
class Summary:
    benchmark: str
    split: str
    model: str
    fewshot: str | None
    questions: int
    evaluated: int  # questions whose gold query runs
    correct: int
    accuracy: float
    errors: int  # gave up + engine errors
    gold_errors: int
    seconds_per_question: float
    seconds_p50: float
    mean_attempts: float  # model drafts per question
    report: str
    gave_up: int = 0
    engine_errors: int = 0
    wrong: int = 0
    gold_empty: int = 0
    seconds_p95: float = 0.0
    right_not_chosen: int = 0  # a candidate was right, another was chosen
    any_candidate_right: int = 0  # the chosen result or another candidate's was right


    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def connection_name(database: str) -> str:
    return _NAME.sub("-", database.lower()).strip("-_")[:64] or "db"


__all__ = ["Outcome", "Report", "Summary", "evaluate", "normalize", "rows_match", "seed_examples"]


def run_gold(database: Path, sql: str, engine: str = "sqlite") -> list[tuple[Any, ...]]:
    """Gold queries are trusted benchmark data; they run on a read-only handle of the file."""
    if engine == "duckdb":
        return baseline.run(database, sql, ROW_LIMIT, engine=engine)
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in conn.execute(sql).fetchall()]
    finally:
        conn.close()


def _workflow(bench: Benchmark, item: Item) -> Workflow:
    cfg = SqlConnection(name=connection_name(item.database), engine=bench.engine,  # type: ignore[arg-type]
                        path=str(bench.databases[item.database]))
    # Benchmark data is public and scored value by value: redacting e-mails and phone numbers
    # would make right answers wrong.
    return Workflow(name="eval", connections=[cfg], steps=["sql"], row_limit=ROW_LIMIT,
                    approval=ApprovalPolicy(plan=False, sql_read=False), pii=PiiPolicy(action="allow"))


class _Unattended:
    """The evaluation's side of the step driver: every draft is approved unseen; model calls and the
    examples the last draft followed are counted for the report."""

    def __init__(self) -> None:
        self.calls = 0
        self.sql: str | None = None
        self.examples: list[str] = []
        self.candidates: list[dict[str, Any]] = []
        self.passed_over: list[dict[str, Any]] = []  # the plain prompt's draft, when it was not taken

    def emit(self, type: str, payload: dict[str, Any]) -> None:
        if type == EventType.STEP_RETRIED and payload.get("reason") in ("invalid_sql", "rescued", "plain_not_taken"):
            self.calls += 1
        if type == EventType.STEP_RETRIED and payload.get("reason") == "plain_not_taken":
            self.passed_over.append({"source": "plain", "sql": payload.get("sql") or None, "chosen": False,
                                     "why_not": payload.get("error")})

    def record(self, st: StepState, draft: Draft, attempt: int) -> DraftState:
        self.calls += 1 + max(len(draft.extra.get("consensus", {}).get("candidates", [])) - 1, 0)  # the first is the draft
        self.sql = str(draft.content["sql"])
        self.examples = [e["id"] for e in draft.extra.get("examples", [])]
        consensus = draft.extra.get("consensus") or {}
        self.candidates = self.passed_over + [
            {"source": c["source"], "sql": c.get("sql"), "chosen": c["source"] == consensus.get("chosen")}
            for c in consensus.get("candidates", [])]
        d = DraftState(str(uuid.uuid4()), draft.kind, draft.content, draft.needs_approval)
        st.drafts.append(d)
        return d

    def await_decision(self, st: StepState, d: DraftState) -> None:
        d.decision = "approve"

    def retried(self, st: StepState, d: DraftState, message: str) -> None:
        return None


def ask_agent(workflow: Workflow, question: str, llm: LLM, recall: Recall, max_drafts: int,
              candidates: list[dict[str, Any]] | None = None
              ) -> tuple[str | None, list[tuple[Any, ...]] | None, int, str | None, list[str]]:
    """Drive the SQL agent through the runner's step driver with every draft approved:
    (sql, rows, model calls, error, example ids); the candidates it weighed go into ``candidates``."""
    hooks = _Unattended()
    ctx = StepContext(run_id=str(uuid.uuid4()), question=question, workflow=workflow, step="sql", purpose="",
                      outputs={}, emit=hooks.emit, llm_factory=lambda: llm, once=lambda _k, action: action(),
                      recall=recall, reads_unattended=True)
    st = StepState("sql")
    try:
        out = drive_step(SqlAgent(), st, ctx, hooks, max_drafts)
    except GaveUp as err:
        failed = err.last.failed_with if err.last else None
        return hooks.sql, None, hooks.calls, failed or err.message, hooks.examples
    except HilError as err:  # no valid draft at all: the failed attempt counts as a call
        return hooks.sql, None, hooks.calls + 1, err.message, hooks.examples
    finally:  # the step's database connection, as the runner closes it
        ctx.close()
        if candidates is not None:
            candidates.extend(hooks.candidates)
    return hooks.sql, [tuple(r) for r in out["rows"]], hooks.calls, None, hooks.examples


def _golds(database: Path, item: Item, engine: str = "sqlite"
           ) -> tuple[list[tuple[str, list[tuple[Any, ...]]]], str | None]:
    golds: list[tuple[str, list[tuple[Any, ...]]]] = []
    gold_error = None
    for g in item.gold:
        try:
            golds.append((g, run_gold(database, g, engine)))
        except baseline.ENGINE_ERRORS as err:
            gold_error = f"gold query fails on {engine}: {err}"
    return golds, gold_error


def verdict(item: Item, golds: list[tuple[str, list[tuple[Any, ...]]]], gold_error: str | None, sql: str | None,
            rows: list[tuple[Any, ...]] | None, calls: int, seconds: float, error: str | None,
            examples: list[str]) -> Outcome:
    """The outcome of one prediction against every gold query of the item."""
    if not golds:
        return Outcome(item.id, item.question, item.gold[0], sql, "gold_error", calls, seconds, gold_error, examples)
    empty = all(not rows_ for _, rows_ in golds)
    if rows is None:
        kind = "engine_error" if sql else "gave_up"
        return Outcome(item.id, item.question, golds[0][0], sql, kind, calls, seconds, error, examples, empty)
    for g, gold_rows in golds:
        if rows_match(gold_rows, rows, ordered=is_ordered(g)):
            return Outcome(item.id, item.question, g, sql, "correct", calls, seconds, None, examples, empty)
    return Outcome(item.id, item.question, golds[0][0], sql, "wrong", calls, seconds, None, examples, empty)


def judge(bench: Benchmark, item: Item, llm: LLM, recall: Recall, max_drafts: int) -> Outcome:
    start = time.perf_counter()
    golds, gold_error = _golds(bench.databases[item.database], item, bench.engine)
    weighed: list[dict[str, Any]] = []
    sql, rows, calls, error, examples = ask_agent(_workflow(bench, item), item.question, llm, recall, max_drafts,
                                                  weighed)
    outcome = verdict(item, golds, gold_error, sql, rows, calls, round(time.perf_counter() - start, 2), error,
                      examples)
    outcome.candidates = [{**c, "correct": _right(bench, item, golds, c.get("sql"))} for c in weighed]
    return outcome


def _right(bench: Benchmark, item: Item, golds: list[tuple[str, list[tuple[Any, ...]]]], sql: str | None) -> bool:
    """Whether ``sql`` returns a gold result (scored as the prediction is)."""
    if not sql or not golds:
        return False
    try:
        rows = baseline.run(bench.databases[item.database], sql, ROW_LIMIT, engine=bench.engine)
    except baseline.ENGINE_ERRORS:
        return False
    return any(rows_match(gold_rows, rows, ordered=is_ordered(g)) for g, gold_rows in golds)


def judge_baseline(bench: Benchmark, item: Item, llm: LLM) -> Outcome:
    """The bare model on the same question: one greedy draft, no checks."""
    start = time.perf_counter()
    database = bench.databases[item.database]
    golds, gold_error = _golds(database, item, bench.engine)
    sql = baseline.draft(llm, database, item.question, bench.engine)
    rows, error = None, None
    if sql:
        try:
            rows = baseline.run(database, sql, ROW_LIMIT, engine=bench.engine)
        except baseline.ENGINE_ERRORS as err:
            error = str(err)
    else:
        error = "no SQL in the answer"
    return verdict(item, golds, gold_error, sql, rows, 1, round(time.perf_counter() - start, 2), error, [])


def seed_examples(train: Benchmark) -> list[Example]:
    """The few-shot memory an evaluation starts from: every training question with its gold SQL,
    as a curated import would store it."""
    return [Example(id=f"{train.split}:{i.id}", connection=connection_name(i.database), question=i.question,
                    sql=i.gold[0], source="import") for i in train.items]


class Report:
    """The per-question JSON Lines report: a header with the run's settings, then one outcome per line."""

    def __init__(self, path: Path, header: dict[str, Any], fresh: bool):
        self.path = path
        self.done: dict[str, Outcome] = {}
        if path.exists() and not fresh:
            lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            if lines and lines[0].get("header") != header:
                raise ConfigError(f"{path} holds a run with other settings ({lines[0].get('header')})",
                                  hint="pass --fresh to start over, or --report to write elsewhere")
            self.done = {d["id"]: Outcome(**d) for d in lines[1:]}
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"header": header}) + "\n", encoding="utf-8")

    def append(self, outcome: Outcome) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(outcome)) + "\n")
        self.done[outcome.id] = outcome


def evaluate(bench: Benchmark, *, llm: LLM, report: Report, examples: list[Example] | None = None,
             fewshot_from: str | None = None, limit: int | None = None, max_drafts: int = 3,
             on_outcome: Callable[[Outcome], None] | None = None, baseline_report: Report | None = None
             ) -> Summary:
    """The agent's summary. With ``baseline_report`` the bare model answers each question first, into
    that report (see :func:`report_summary`)."""
    recall = in_memory(examples) if examples else no_examples
    items = bench.items[:limit] if limit else bench.items
    for item in items:  # resume: judged questions are skipped
        if baseline_report is not None and item.id not in baseline_report.done:
            baseline_report.append(judge_baseline(bench, item, llm))
        if item.id not in report.done:
            outcome = judge(bench, item, llm, recall, max_drafts)
            report.append(outcome)
            if on_outcome:
                on_outcome(outcome)
    return report_summary(bench, report, llm.spec, fewshot_from, limit)


def report_summary(bench: Benchmark, report: Report, model: str, fewshot: str | None, limit: int | None) -> Summary:
    items = bench.items[:limit] if limit else bench.items
    return summarize(bench, [report.done[i.id] for i in items if i.id in report.done], model, fewshot,
                     str(report.path))


def summarize(bench: Benchmark, outcomes: list[Outcome], model: str, fewshot: str | None, report: str) -> Summary:
    evaluated = [o for o in outcomes if o.verdict != "gold_error"]
    count = {v: sum(o.verdict == v for o in evaluated) for v in ("correct", "wrong", "gave_up", "engine_error")}
    secs = sorted(o.seconds for o in evaluated) or [0.0]
    return Summary(bench.name, bench.split, model, fewshot, len(outcomes), len(evaluated), count["correct"],
                   round(count["correct"] / len(evaluated), 4) if evaluated else 0.0,
                   count["gave_up"] + count["engine_error"], len(outcomes) - len(evaluated),
                   round(statistics.fmean(secs), 2), round(statistics.median(secs), 2),
                   round(statistics.fmean([o.attempts for o in evaluated]), 2) if evaluated else 0.0, report,
                   gave_up=count["gave_up"], engine_errors=count["engine_error"], wrong=count["wrong"],
                   gold_empty=sum(o.gold_empty for o in evaluated),
                   seconds_p95=secs[min(len(secs) - 1, math.ceil(0.95 * len(secs)) - 1)],
                   right_not_chosen=sum(o.verdict != "correct" and any(c.get("correct") for c in o.candidates)
                                        for o in evaluated),
                   any_candidate_right=sum(o.verdict == "correct" or any(c.get("correct") for c in o.candidates)
                                           for o in evaluated))
