"""Rescore `hil eval sql` reports with today's scorer (columns in any order, error classes), so a
report written before a scorer change compares with one written after, question by question.

    python bench/sql_rescore.py --benchmark ../shared/data/spider-train-sample REPORT.jsonl [REPORT2.jsonl ...]
        [--limit N]   only the first N questions of the benchmark (those every report has judged)
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import statistics
from pathlib import Path

from hil.evals import baseline, benchmarks
from hil.evals.scoring import is_ordered, rows_match
from hil.evals.sql_eval import ROW_LIMIT, run_gold


def rescore(bench: benchmarks.Benchmark, report: Path, ids: list[str]) -> dict[str, float]:
    lines = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    done = {d["id"]: d for d in lines}
    items = {i.id: i for i in bench.items}
    count = {"correct": 0, "wrong": 0, "gave_up": 0, "engine_error": 0, "gold_error": 0}
    for qid in ids:
        d, item = done[qid], items[qid]
        db = bench.databases[item.database]
        try:
            golds = [(g, run_gold(db, g)) for g in item.gold]
        except sqlite3.Error:
            count["gold_error"] += 1
            continue
        if not d["predicted"]:
            count["gave_up"] += 1
            continue
        try:
            rows = baseline.run(db, d["predicted"], ROW_LIMIT)
        except (sqlite3.Error, sqlite3.Warning):
            count["engine_error"] += 1
            continue
        ok = any(rows_match(g_rows, rows, is_ordered(g)) for g, g_rows in golds)
        count["correct" if ok else "wrong"] += 1
    secs = sorted(done[q]["seconds"] for q in ids)
    evaluated = len(ids) - count["gold_error"]
    return {**count, "questions": len(ids), "accuracy": round(count["correct"] / max(evaluated, 1), 4),
            "seconds_mean": round(statistics.fmean(secs), 1), "seconds_p95": secs[min(len(secs) - 1, math.ceil(0.95 * len(secs)) - 1)],
            "drafts_mean": round(statistics.fmean(done[q]["attempts"] for q in ids), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", required=True)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--limit", type=int)
    parser.add_argument("reports", nargs="+", type=Path)
    args = parser.parse_args()
    bench = benchmarks.load(args.benchmark, args.split)
    items = bench.items[:args.limit] if args.limit else bench.items
    judged = [{json.loads(line)["id"] for line in r.read_text(encoding="utf-8").splitlines()[1:] if line.strip()}
              for r in args.reports]
    ids = [i.id for i in items if all(i.id in j for j in judged)]
    print(f"{len(ids)} questions judged in every report")
    for r in args.reports:
        print(r.name, json.dumps(rescore(bench, r, ids)))


if __name__ == "__main__":
    main()
