"""`hil eval sql` (execution accuracy of the SQL agent) and `hil eval retrieval` (ranking quality of the
knowledge index)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from hil import settings

if TYPE_CHECKING:
    from hil.evals.sql_eval import Summary

eval_app = typer.Typer(no_args_is_help=True, help="Measure the agents on benchmarks.")
out = Console()
err = Console(stderr=True)


@eval_app.command("sql")
def eval_sql(
        benchmark: Annotated[Path, typer.Option(help="Benchmark folder: your own questions.json "
                                                      "(questions with gold SQL on one SQLite or DuckDB file), "
                                                      "GeoQuery (NAME.json + NAME.sqlite) or Spider (tables.json, "
                                                      "dev.json, database/).")],
        split: Annotated[str, typer.Option(help="Split to evaluate.")] = "dev",
        split_by: Annotated[str, typer.Option(help="GeoQuery only: 'question' or 'query' split.")] = "question",
        limit: Annotated[int | None, typer.Option(help="Evaluate only the first N questions.")] = None,
        fewshot_from: Annotated[str | None, typer.Option(help="Seed the few-shot memory from this split first.")] = None,
        model: Annotated[str | None, typer.Option(help="Model spec; default HIL_MODEL.")] = None,
        attempts: Annotated[int | None, typer.Option(help="Drafts per question (default HIL_MAX_DRAFTS).")] = None,
        report: Annotated[Path | None, typer.Option(help="Per-question JSON Lines report; default under "
                                                         "$HIL_HOME/evals/.")] = None,
        fresh: Annotated[bool, typer.Option(help="Start over instead of resuming the report.")] = False,
        database: Annotated[Path | None, typer.Option(help="questions.json benchmarks only: the database to ask "
                                                           "(default: the one the file names; 'demo' means a "
                                                           "fresh demo database).")] = None,
        baseline: Annotated[bool, typer.Option("--baseline", help="Also score the bare model (schema as CREATE "
                                                                  "TABLEs, one greedy draft, no checks) in the same "
                                                                  "run, side by side.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False) -> None:
    """Execution accuracy: each question through the SQL agent, its result compared with the gold query's
    (rows as multisets unless the gold query sorts, columns in any order)."""
    from hil.errors import ConfigError
    from hil.evals import benchmarks
    from hil.evals.sql_eval import Outcome, Report, evaluate, report_summary, seed_examples
    from hil.models.llm import resolve

    if split_by not in ("question", "query"):
        raise ConfigError(f"--split-by must be 'question' or 'query', not {split_by!r}")
    if database is None and (benchmark / "questions.json").is_file() and benchmarks.database_of(benchmark) == "demo":
        database = _demo_database()
    bench = benchmarks.load(benchmark, split, split_by, database)  # type: ignore[arg-type]
    examples = seed_examples(benchmarks.load(benchmark, fewshot_from, split_by)) if fewshot_from else None  # type: ignore[arg-type]
    llm = resolve(model, temperature=0.0, max_tokens=400)
    max_drafts = attempts or settings.get_int("HIL_MAX_DRAFTS")
    tag = f"{bench.name}-{split}-by-{split_by}" + (f"-fewshot-{fewshot_from}" if fewshot_from else "")
    path = report or settings.home() / "evals" / f"sql-{tag}.jsonl"
    header = {"benchmark": str(benchmark.resolve()), "split": split, "split_by": split_by, "model": llm.spec,
              "fewshot_from": fewshot_from, "max_drafts": max_drafts,
              "fewshot_k": settings.get_int("HIL_FEWSHOT_K")}
    rep = Report(path, header, fresh)
    base_rep = Report(path.with_name(path.stem + "-baseline.jsonl"), {**header, "baseline": True,
                                                                       "fewshot_from": None, "max_drafts": 1},
                      fresh) if baseline else None
    total = min(limit, len(bench.items)) if limit else len(bench.items)
    done = sum(1 for i in bench.items[:total] if i.id in rep.done)
    if done:
        err.print(f"resuming {path}: {done} of {total} questions already judged")
    tally = {"correct": sum(o.verdict == "correct" for o in rep.done.values()), "seen": done}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=err, transient=as_json) as progress:
        task = progress.add_task(_accuracy_text(tally), total=total, completed=done)

        def on_outcome(o: Outcome) -> None:
            tally["seen"] += 1
            tally["correct"] += o.verdict == "correct"
            progress.update(task, advance=1, description=_accuracy_text(tally))

        summary = evaluate(bench, llm=llm, report=rep, examples=examples, fewshot_from=fewshot_from, limit=limit,
                           max_drafts=max_drafts, on_outcome=on_outcome, baseline_report=base_rep)
    base = report_summary(bench, base_rep, llm.spec, None, limit) if base_rep else None
    if as_json:
        data = summary.to_dict() | ({"baseline": base.to_dict()} if base else {})
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    table = Table(title=f"SQL execution accuracy: {bench.name} {split} (by {split_by}), {summary.model}")
    table.add_column("measure")
    table.add_column("agent", justify="right")
    if base:
        table.add_column("bare model", justify="right")
    rows: list[tuple[str, Callable[[Summary], str]]] = [("few-shot memory", lambda s: f"seeded from {s.fewshot}" if s.fewshot else "empty"),
            ("questions", lambda s: str(s.questions)),
            ("gold query fails (excluded)", lambda s: str(s.gold_errors)),
            ("gold result empty", lambda s: str(s.gold_empty)),
            ("correct", lambda s: f"{s.correct} of {s.evaluated}"),
            ("execution accuracy", lambda s: f"{s.accuracy:.1%}"),
            ("wrong result", lambda s: str(s.wrong)),
            ("engine error", lambda s: str(s.engine_errors)),
            ("gave up (no SQL)", lambda s: str(s.gave_up)),
            ("seconds per question (mean / p50 / p95)",
             lambda s: f"{s.seconds_per_question} / {s.seconds_p50} / {s.seconds_p95}"),
            ("model drafts per question", lambda s: str(s.mean_attempts))]
    if summary.any_candidate_right > summary.correct:  # what choosing among the agent's candidates left on the table
        rows.append(("a candidate was right, another chosen", lambda s: str(s.right_not_chosen) if s is summary else "-"))
    for label, cell in rows:
        table.add_row(label, cell(summary), *([cell(base)] if base else []))
    out.print(table)
    out.print(f"per-question report: {summary.report}" + (f" (bare model: {base.report})" if base else ""),
              highlight=False, soft_wrap=True)


def _demo_database() -> Path:
    """The demo's fleet database as `hil demo` makes it today (dates relative to today), made once a day."""
    import datetime as dt

    from hil.demo.generate import generate

    path = settings.home() / "evals" / f"fleet-demo-{dt.date.today().isoformat()}.duckdb"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        generate(path)
    return path


def _accuracy_text(tally: dict[str, int]) -> str:
    seen = tally["seen"]
    return f"accuracy {tally['correct'] / seen:.0%}" if seen else "starting"


@eval_app.command("retrieval")
def eval_retrieval(
        beir: Annotated[Path, typer.Option(help="BEIR-format folder: corpus.jsonl, queries.jsonl, qrels/test.tsv.")],
        mode: Annotated[str, typer.Option(help="bm25, vector, hybrid or all.")] = "all",
        embedder: Annotated[str | None, typer.Option(help="Embedder (default HIL_EMBEDDER).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False) -> None:
    """nDCG@10, recall@10/100, MRR@10 and query latency of each retrieval mode."""
    from hil.cli.common import tenant
    from hil.evals.retrieval_eval import build_index, evaluate, index_store, load_beir, parse_modes, summary
    from hil.services.knowledge import KnowledgeService

    modes = parse_modes(mode)
    bench = load_beir(beir)
    spec = embedder or settings.get_str("HIL_EMBEDDER")
    store = index_store(bench, beir, spec)
    service = KnowledgeService(store, tenant(store))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=err, transient=as_json) as progress:
        tasks: dict[str, Any] = {}

        def on_progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(f"{phase} {bench.name}", total=total)
            progress.update(tasks[phase], completed=done, total=total)

        build_index(service, bench, spec, on_progress)
        queries = progress.add_task("searching", total=len(bench.queries) * len(modes))
        results = evaluate(bench, service, modes, on_query=lambda: progress.advance(queries))
    figures = summary(bench, spec, results)
    if as_json:
        sys.stdout.write(json.dumps(figures, indent=2) + "\n")
        return
    table = Table(title=f"Retrieval: {bench.name} ({len(bench.corpus)} documents, {len(bench.queries)} queries; "
                        f"embedder {spec})")
    for column in ("mode", "nDCG@10", "recall@10", "recall@100", "MRR@10", "p50 ms", "p95 ms"):
        table.add_column(column, justify="left" if column == "mode" else "right")
    for r in results:
        table.add_row(r.mode, f"{r.ndcg_at_10:.3f}", f"{r.recall_at_10:.3f}", f"{r.recall_at_100:.3f}",
                      f"{r.mrr_at_10:.3f}", f"{r.latency_p50_ms:.1f}", f"{r.latency_p95_ms:.1f}")
    out.print(table)
