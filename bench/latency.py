"""Where a run's time goes on the embedded model: the demo questions, each approval given at once.

Per run: plan, SQL draft, first answer token after the last approval, total without the human's
time. By default approvals are decided the moment they are asked; ``--review S`` has the person
take S seconds over each one (counted from when it was asked), which is when the model reads the
next step's prompt ahead (HIL_MODEL_READ_AHEAD). Per model call: tokens prefilled and tokens the
prompt cache held. The first run is cold (model load, empty cache); the same questions asked again
show what the cache keeps. Run with `make bench-latency` or

    python bench/latency.py [--questions N] [--repeat 2] [--review 10]

It needs the assembled local model (`hil models install`) and takes minutes on a laptop CPU.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from hil.demo.workspace import prepare
from hil.engine.worker import Worker
from hil.events import Event, EventType
from hil.models.local import CallStats, runtime
from hil.services.runs import RunService
from hil.services.workflows import WorkflowService
from hil.store import open_store

MODEL = "local:qwen2.5-coder-1.5b"


def _at(events: list[Event], type: str, last: bool = False) -> float | None:
    found = [e.ts.timestamp() for e in events if e.type == type]
    return (found[-1] if last else found[0]) if found else None


def drive(service: RunService, worker: Worker, run_id: str, review: float) -> tuple[float, float]:
    """Runs to the end, approving every draft ``review`` seconds after it was asked; returns when the
    last approval was given and the seconds the approvals waited for the person (human time)."""
    last_approval, human = time.time(), 0.0
    while True:
        worker.run_once(run_id)
        pending = service.pending_approvals(run_id)
        if not pending:
            return last_approval, human
        for a in pending:
            time.sleep(max(0.0, a.created_at + review - time.time()))
            service.decide(a.id, "approve", content_hash_seen=a.content_hash)
            last_approval = time.time()
            human += last_approval - a.created_at


def measure(service: RunService, worker: Worker, question: str, review: float) -> dict[str, object]:
    before = len(runtime(MODEL.split(":", 1)[1]).calls)
    started = time.time()
    run_id = service.create_run("fleet-health", question)
    last_approval, human = drive(service, worker, run_id, review)
    events = service.events(run_id)
    calls: list[CallStats] = list(runtime(MODEL.split(":", 1)[1]).calls)[before:]
    t = {k: _at(events, v) for k, v in [("plan", EventType.PLAN_DRAFTED), ("sql", EventType.SQL_DRAFTED),
                                        ("first_token", EventType.ANSWER_DELTA), ("final", EventType.ANSWER_FINAL)]}
    return {
        "status": service.get(run_id).status,
        "plan_s": (t["plan"] or started) - started,
        # from the plan's approval (or the plan, when it needs none) to the SQL draft
        "sql_s": (t["sql"] or started) - (_at(events, EventType.APPROVAL_DECIDED) or t["plan"] or started),
        "first_token_after_approval_s": (t["first_token"] or time.time()) - last_approval,
        "total_s": (t["final"] or time.time()) - started - human,
        "human_s": human,
        "prefilled": sum(c.prompt_tokens for c in calls),
        "cached": sum(c.cached_tokens for c in calls),
        "calls": calls,
        "answer": next((e.payload for e in reversed(events) if e.type == EventType.ANSWER_FINAL), {}),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=2, help="How many of the demo's questions.")
    ap.add_argument("--repeat", type=int, default=2, help="Rounds over the questions (the first is cold).")
    ap.add_argument("--review", type=float, default=0.0,
                    help="Seconds a person takes over each approval, from when it is asked (default 0: at once).")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["HIL_HOME"] = home
        os.environ.setdefault("HIL_MODELS_DIR", str(Path("~/.hil/models").expanduser()))
        store = open_store()
        ws = prepare(store, say=lambda m: print(m, file=sys.stderr))
        service = RunService(store, "default")
        questions = WorkflowService.load_file(ws.workflow_file).questions[: args.questions]
        worker = Worker(store, model=MODEL)
        rows = []
        for round_ in range(args.repeat):
            for q in questions:
                m = measure(service, worker, q, args.review)
                rows.append((round_, q, m))
                print(f"round {round_ + 1}: {m['status']} in {m['total_s']:.1f} s: {q[:60]}", file=sys.stderr)
        print(f"human time: each approval decided {args.review:g} s after it was asked; total s leaves it out")
        print(f"{'round':>5} {'plan s':>7} {'sql s':>7} {'1st token s':>11} {'total s':>8} {'human s':>8} "
              f"{'prefilled':>9} {'cached':>7}  question")
        for round_, q, m in rows:
            print(f"{round_ + 1:>5} {m['plan_s']:>7.1f} {m['sql_s']:>7.1f} {m['first_token_after_approval_s']:>11.1f} "
                  f"{m['total_s']:>8.1f} {m['human_s']:>8.1f} {m['prefilled']:>9} {m['cached']:>7}  {q[:50]}")
        print("\nper call: purpose, prompt tokens prefilled / taken from the cache, generated, ms")
        for round_, q, m in rows:
            print(f"round {round_ + 1}: {q[:70]}")
            calls: list[CallStats] = m["calls"]  # type: ignore[assignment]
            for c in calls:
                print(f"  {c.purpose:<14} {c.prompt_tokens:>6} / {c.cached_tokens:<6} {c.generated_tokens:>5} "
                      f"prefill {c.prefill_ms:>8.0f}  generate {c.generate_ms:>8.0f}")
        # what the time bought: each answer as delivered, and what its checks found
        print("\nanswers, as delivered (cited passages; numbers not found in the evidence)")
        for round_, q, m in rows:
            answer: dict[str, Any] = m["answer"]  # type: ignore[assignment]
            cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", answer.get("text") or "")})
            print(f"round {round_ + 1}: {q[:70]}\n  cites {cited or 'nothing'}; "
                  f"unverified numbers: {answer.get('unverified_numbers') or 'none'}")
            print(textwrap.indent(textwrap.fill(answer.get("text") or "(no answer)", 96), "  "))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\npeak RSS: {peak:,.0f} MiB")
        store.dispose()


if __name__ == "__main__":
    main()
