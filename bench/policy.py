"""How long one policy evaluation takes in process: who may decide an approval, and whether a
draft waits for a human (a gate). Both run on every decision or draft, so they must cost nothing
next to a store write.

    python bench/policy.py [--n 200000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from hil.policy.document import in_force, validate_document
from hil.policy.rules import DecideRequest
from hil.workflows import Workflow

TENANT_POLICY = {
    "gates": [{"name": "reference-reads", "action": "sql_read", "approval": "auto", "tables": ["depots", "vehicle_*"]},
              {"name": "tools-wait", "action": "tool:*", "approval": "required"},
              {"name": "mail-waits", "action": "tool:mail/*", "approval": "required"}],
    "rules": [{"name": "ledger-by-admins", "effect": "forbid", "kinds": ["sql_write"], "roles": ["approver"],
               "reason": "ledger writes are approved by admins"}],
    "approvers": {"ddl": 2, "dml": 2}, "max_row_limit": 500}


def timed(n: int, call: Callable[[int], object]) -> list[int]:
    timings = []
    for i in range(n):
        start = time.perf_counter_ns()
        call(i)
        timings.append(time.perf_counter_ns() - start)
    timings.sort()
    return timings


def report(label: str, timings: list[int]) -> None:
    print(f"{label}: {len(timings):,}")
    print(f"  p50 {timings[len(timings) // 2] / 1000:.1f} µs   p99 {timings[int(len(timings) * 0.99)] / 1000:.1f} µs   "
          f"max {timings[-1] / 1000:.1f} µs   mean {statistics.fmean(timings) / 1000:.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(7)
    workflow = Workflow.model_validate({"name": "bench", "steps": ["rag"], "knowledge": [{"name": "docs"}]})
    force = in_force(validate_document(TENANT_POLICY), workflow)
    requests = [DecideRequest(rng.choice(["plan", "sql_read", "sql_write"]), rng.choice(["plan", "read", "dml", "ddl"]),
                              rng.choice(["ann", "bob", "auto:cli --yes", "system:expiry"]),
                              rng.choice(["viewer", "operator", "approver", "admin"]), rng.choice([None, "ann", "bob"]))
                for _ in range(1000)]
    gated = [(rng.choice(["plan", "sql_read", "sql_write", "tool:mail/send", "tool:github/get", "plugin:x/publish"]),
              rng.choice(["read", "dml", "ddl", "other"]),
              tuple(rng.sample(["depots", "vehicle_types", "drivers", "trips"], rng.randint(1, 3))))
             for _ in range(1000)]
    report("decisions (who may decide)", timed(args.n, lambda i: force.decide(requests[i % len(requests)])))
    report("gates (does it wait for a human)", timed(args.n, lambda i: force.gate(*gated[i % len(gated)])))


if __name__ == "__main__":
    main()
