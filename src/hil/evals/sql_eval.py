"""Execution accuracy of the SQL agent on a benchmark.

Each question goes through the agent exactly as in a run (schema linking, few-shot recall,
validation, the guard, self-correction on errors, empty results and wrong shapes) with every
draft approved unseen. The predicted and gold queries both run on the benchmark's database and
their results are compared as multisets of rows; order matters only when the gold query has
ORDER BY. Every verdict is appended to a JSON Lines report as soon as it is known, so an
interrupted evaluation resumes where it stopped.
"""

from __future__ import annotations

import json
import re
import sqlite3
import statistics
import time
import uuid
from collections import Counter
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
from hil.evals.benchmarks import Benchmark, Item
from hil.events import EventType
from hil.examples import Example, Recall, no_examples
from hil.models.llm import LLM
from hil.workflows import ApprovalPolicy, SqlConnection, Workflow

ROW_LIMIT = 100_000
_ORDER_BY = re.compile(r"\border\s+by\b", re.I)
_NAME = re.compile(r"[^a-z0-9_-]+")


@dataclass
class Outcome:
    id: str
    question: str
    gold: str
    predicted: str | None
    verdict: str  # correct | wrong | error | gold_error
    attempts: int
    seconds: float
    error: str | None = None
    examples: list[str] = field(default_factory=list)  # ids of the few-shot examples the final draft used


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
    errors: int
    gold_errors: int
    seconds_per_question: float
    seconds_p50: float
    mean_attempts: float
    report: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def connection_name(database: str) -> str:
    return _NAME.sub("-", database.lower()).strip("-_")[:64] or "db"


def normalize(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, 4)
    if isinstance(value, str):
        return value.strip()
    return value


def rows_match(gold: list[tuple[Any, ...]], predicted: list[tuple[Any, ...]], ordered: bool) -> bool:
    g = [tuple(normalize(v) for v in r) for r in gold]
    p = [tuple(normalize(v) for v in r) for r in predicted]
    return g == p if ordered else Counter(g) == Counter(p)


def run_gold(database: Path, sql: str) -> list[tuple[Any, ...]]:
    """Gold queries are trusted benchmark data; they run on a read-only handle of the file."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in conn.execute(sql).fetchall()]
    finally:
        conn.close()


def _workflow(bench: Benchmark, item: Item) -> Workflow:
    cfg = SqlConnection(name=connection_name(item.database), engine="sqlite", path=str(bench.databases[item.database]))
    return Workflow(name="eval", connections=[cfg], steps=["sql"], row_limit=ROW_LIMIT,
                    approval=ApprovalPolicy(plan=False, sql_read=False))


class _Unattended:
    """The evaluation's side of the step driver: every draft is approved unseen; model calls and the
    examples the last draft followed are counted for the report."""

    def __init__(self) -> None:
        self.calls = 0
        self.sql: str | None = None
        self.examples: list[str] = []

    def emit(self, type: str, payload: dict[str, Any]) -> None:
        if type == EventType.STEP_RETRIED and payload.get("reason") == "invalid_sql":
            self.calls += 1

    def record(self, st: StepState, draft: Draft, attempt: int) -> DraftState:
        self.calls += 1 + max(len(draft.extra.get("consensus", {}).get("candidates", [])) - 1, 0)
        self.sql = str(draft.content["sql"])
        self.examples = [e["id"] for e in draft.extra.get("examples", [])]
        d = DraftState(str(uuid.uuid4()), draft.kind, draft.content, draft.needs_approval)
        st.drafts.append(d)
        return d

    def await_decision(self, st: StepState, d: DraftState) -> None:
        d.decision = "approve"

    def retried(self, st: StepState, d: DraftState, message: str) -> None:
        return None


def ask_agent(workflow: Workflow, question: str, llm: LLM, recall: Recall, max_drafts: int
              ) -> tuple[str | None, list[tuple[Any, ...]] | None, int, str | None, list[str]]:
    """Drive the SQL agent through the runner's step driver with every draft approved:
    (sql, rows, model calls, error, example ids)."""
    hooks = _Unattended()
    ctx = StepContext(run_id=str(uuid.uuid4()), question=question, workflow=workflow, step="sql", purpose="",
                      outputs={}, emit=hooks.emit, llm_factory=lambda: llm, once=lambda _k, action: action(),
                      recall=recall)
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
    return hooks.sql, [tuple(r) for r in out["rows"]], hooks.calls, None, hooks.examples


def judge(bench: Benchmark, item: Item, llm: LLM, recall: Recall, max_drafts: int) -> Outcome:
    start = time.perf_counter()
    database = bench.databases[item.database]
    gold_used, gold_error = item.gold[0], None
    golds: list[tuple[str, list[tuple[Any, ...]]]] = []
    for g in item.gold:
        try:
            golds.append((g, run_gold(database, g)))
        except sqlite3.Error as err:
            gold_error = f"gold query fails on SQLite: {err}"
    sql, rows, calls, error, examples = ask_agent(_workflow(bench, item), item.question, llm, recall, max_drafts)
    seconds = round(time.perf_counter() - start, 2)
    if not golds:
        return Outcome(item.id, item.question, gold_used, sql, "gold_error", calls, seconds, gold_error, examples)
    if rows is None:
        return Outcome(item.id, item.question, golds[0][0], sql, "error", calls, seconds, error, examples)
    for g, gold_rows in golds:
        if rows_match(gold_rows, rows, ordered=bool(_ORDER_BY.search(g))):
            return Outcome(item.id, item.question, g, sql, "correct", calls, seconds, None, examples)
    return Outcome(item.id, item.question, golds[0][0], sql, "wrong", calls, seconds, None, examples)


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
             on_outcome: Callable[[Outcome], None] | None = None) -> Summary:
    recall = in_memory(examples) if examples else no_examples
    items = bench.items[:limit] if limit else bench.items
    for item in (i for i in items if i.id not in report.done):  # resume: judged questions are skipped
        outcome = judge(bench, item, llm, recall, max_drafts)
        report.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return summarize(bench, [report.done[i.id] for i in items], llm.spec, fewshot_from, str(report.path))


def summarize(bench: Benchmark, outcomes: list[Outcome], model: str, fewshot: str | None, report: str) -> Summary:
    evaluated = [o for o in outcomes if o.verdict != "gold_error"]
    correct = sum(o.verdict == "correct" for o in evaluated)
    secs = [o.seconds for o in evaluated] or [0.0]
    return Summary(bench.name, bench.split, model, fewshot, len(outcomes), len(evaluated), correct,
                   round(correct / len(evaluated), 4) if evaluated else 0.0,
                   sum(o.verdict == "error" for o in evaluated), len(outcomes) - len(evaluated),
                   round(statistics.fmean(secs), 2), round(statistics.median(secs), 2),
                   round(statistics.fmean([o.attempts for o in evaluated]), 2) if evaluated else 0.0, report)
