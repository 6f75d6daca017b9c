"""Financial questions end to end: accuracy, and delivered answers holding an unverified number.

Runs the questions of tests/financial_fixture.py (small financial tables in SQLite plus note
documents) through a sql + rag workflow with approvals off, on the model given, and appends one
JSON line per question to the report, so a long run can be split into chunks (it resumes where the
report ends). Scoring is a separate pass over the report:

    python bench/financial_qa.py run --model local:qwen2.5-coder-1.5b --report /tmp/fin.jsonl --limit 6
    python bench/financial_qa.py score --report /tmp/fin.jsonl

An answer is right when one of its numbers is the expected one within the rounding it shows (a
percentage may also be written as a fraction). An answer holds an *unverified unmarked* number when
a number in it matches no result cell, calculation, passage or the question, and the delivered text
does not mark it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.financial_fixture import QUESTIONS, create, workflow


def run(model: str, report: Path, limit: int, workdir: Path) -> None:
    from hil.engine.worker import Worker
    from hil.services.runs import RunService
    from hil.services.workflows import WorkflowService
    from hil.store import open_store
    from hil.workflows import parse_workflow

    os.environ.setdefault("HIL_HOME", str(workdir / "home"))
    done = {json.loads(line)["id"] for line in report.read_text().splitlines() if line.strip()} \
        if report.exists() else set()
    todo = [q for q in QUESTIONS if q.id not in done][:limit]
    if not todo:
        print(f"all {len(QUESTIONS)} questions are in {report}")
        return
    db, notes = create(workdir / "data")
    store = open_store(f"sqlite:///{workdir / 'bench.db'}")
    WorkflowService(store, "default").apply(parse_workflow(workflow(db, notes, model)))
    service = RunService(store, "default")
    worker = Worker(store, model=model, lease_seconds=600)
    for q in todo:
        t0 = time.perf_counter()
        run_id = service.create_run("finance", q.question)
        worker.run_once(run_id)
        events = [{"type": e.type, "step": e.step, "payload": e.payload} for e in service.events(run_id)]
        final = next((e["payload"] for e in events if e["type"] == "answer.final"), {})
        sql = next((e["payload"]["output"] for e in events if e["type"] == "step.finished" and e["step"] == "sql"),
                   {})
        snippets = next((e["payload"]["snippets"] for e in events if e["type"] == "retrieval.results"), [])
        failed = next((e["payload"].get("error") for e in events if e["type"] == "run.failed"), None)
        line = {"id": q.id, "question": q.question, "status": service.get(run_id).status, "error": failed,
                "answer": final.get("text", ""), "final": final, "sql": sql.get("sql"),
                "columns": sql.get("columns", []), "rows": sql.get("rows", []),
                "snippets": [s.get("text", "") for s in snippets],
                "calculations": [e["payload"] for e in events if e["type"] == "calculation"],
                "seconds": round(time.perf_counter() - t0, 1)}
        with report.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line, default=str) + "\n")
        print(f"{q.id} {line['status']:9} {line['seconds']:6.1f}s {line['answer'][:100]!r}", flush=True)
    store.dispose()


def score(report: Path) -> dict[str, Any]:
    from hil.agents import numbers

    lines = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    by_id = {q.id: q for q in QUESTIONS}
    right = failed = holding = marked = 0
    rows_out = []
    for line in lines:
        q = by_id[line["id"]]
        answer = line["answer"] or ""
        ok = numbers.states_any(answer, q.expected)
        evidence = numbers.Evidence.build(line["columns"], line["rows"], line["calculations"], line["snippets"],
                                          q.question)
        check = numbers.verify(answer, evidence)
        unmarked = [n.text for n in check.unverified if not numbers.is_marked(answer, n)]
        right += ok
        failed += line["status"] != "succeeded"
        holding += bool(unmarked)
        marked += numbers.MARK in answer or numbers.WITHHELD in answer
        rows_out.append((q.id, q.kind, ok, line["status"], unmarked, answer[:90]))
    for r in rows_out:
        print(f"{r[0]} {r[1]:10} {'right' if r[2] else 'wrong':5} {r[3]:9} unmarked={r[4]} {r[5]!r}")
    summary = {"questions": len(lines), "right": right, "failed_runs": failed,
               "answers_with_unverified_unmarked_number": holding, "answers_with_marked_numbers": marked,
               "arithmetic_questions": sum(by_id[x["id"]].kind != "lookup" for x in lines),
               "arithmetic_right": sum(r[2] and r[1] != "lookup" for r in rows_out)}
    print(json.dumps(summary))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the next questions not yet in the report")
    r.add_argument("--model", default="local:qwen2.5-coder-1.5b")
    r.add_argument("--report", type=Path, required=True)
    r.add_argument("--limit", type=int, default=len(QUESTIONS), help="questions in this chunk")
    r.add_argument("--workdir", type=Path, default=None, help="kept between chunks; a temporary folder if empty")
    s = sub.add_parser("score", help="score a report")
    s.add_argument("--report", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "run":
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hil-finqa-"))
        workdir.mkdir(parents=True, exist_ok=True)
        run(args.model, args.report, args.limit, workdir)
    else:
        score(args.report)


if __name__ == "__main__":
    main()
