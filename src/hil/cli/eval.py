"""`hil eval sql` (execution accuracy of the SQL agent) and `hil eval retrieval` (ranking quality of the
knowledge index)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from hil import settings

eval_app = typer.Typer(no_args_is_help=True, help="Measure the agents on benchmarks.")
out = Console()
err = Console(stderr=True)


@eval_app.command("sql")
def eval_sql(
        benchmark: Annotated[Path, typer.Option(help="Benchmark folder: GeoQuery (NAME.json + NAME.sqlite) or Spider "
                                                      "(tables.json, dev.json, database/).")],
        split: Annotated[str, typer.Option(help="Split to evaluate.")] = "dev",
        split_by: Annotated[str, typer.Option(help="GeoQuery only: 'question' or 'query' split.")] = "question",
        limit: Annotated[int | None, typer.Option(help="Evaluate only the first N questions.")] = None,
        fewshot_from: Annotated[str | None, typer.Option(help="Seed the few-shot memory from this split first.")] = None,
        model: Annotated[str | None, typer.Option(help="Model spec; default HIL_MODEL.")] = None,
        attempts: Annotated[int | None, typer.Option(help="Drafts per question (default HIL_MAX_DRAFTS).")] = None,
        report: Annotated[Path | None, typer.Option(help="Per-question JSON Lines report; default under "
                                                         "$HIL_HOME/evals/.")] = None,
        fresh: Annotated[bool, typer.Option(help="Start over instead of resuming the report.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False) -> None:
    """Execution accuracy: each question through the SQL agent, its result compared with the gold query's."""
    from hil.errors import ConfigError
    from hil.evals import benchmarks
    from hil.evals.sql_eval import Outcome, Report, evaluate, seed_examples
    from hil.models.llm import resolve

    if split_by not in ("question", "query"):
        raise ConfigError(f"--split-by must be 'question' or 'query', not {split_by!r}")
    bench = benchmarks.load(benchmark, split, split_by)  # type: ignore[arg-type]
    examples = seed_examples(benchmarks.load(benchmark, fewshot_from, split_by)) if fewshot_from else None  # type: ignore[arg-type]
    llm = resolve(model, temperature=0.0, max_tokens=400)
    max_drafts = attempts or settings.get_int("HIL_MAX_DRAFTS")
    tag = f"{bench.name}-{split}-by-{split_by}" + (f"-fewshot-{fewshot_from}" if fewshot_from else "")
    path = report or settings.home() / "evals" / f"sql-{tag}.jsonl"
    header = {"benchmark": str(benchmark.resolve()), "split": split, "split_by": split_by, "model": llm.spec,
              "fewshot_from": fewshot_from, "max_drafts": max_drafts,
              "fewshot_k": settings.get_int("HIL_FEWSHOT_K")}
    rep = Report(path, header, fresh)
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
                           max_drafts=max_drafts, on_outcome=on_outcome)
    if as_json:
        sys.stdout.write(json.dumps(summary.to_dict(), indent=2) + "\n")
        return
    table = Table(title=f"SQL execution accuracy: {bench.name} {split} (by {split_by})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("model", summary.model)
    table.add_row("few-shot memory", f"seeded from {fewshot_from}" if fewshot_from else "empty")
    table.add_row("questions", str(summary.questions))
    table.add_row("gold query fails (excluded)", str(summary.gold_errors))
    table.add_row("correct", f"{summary.correct} of {summary.evaluated}")
    table.add_row("execution accuracy", f"{summary.accuracy:.1%}")
    table.add_row("no usable SQL", str(summary.errors))
    table.add_row("seconds per question (mean / p50)", f"{summary.seconds_per_question} / {summary.seconds_p50}")
    table.add_row("model drafts per question", str(summary.mean_attempts))
    out.print(table)
    out.print(f"per-question report: {summary.report}", highlight=False, soft_wrap=True)


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
