"""How long one approval-policy decision takes in process (the policy is evaluated on every
decision, so it must cost nothing next to a store write).

    python bench/policy.py [--n 200000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from hil.policy.rules import DecideRequest, default_policy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(7)
    policy = default_policy()
    requests = [DecideRequest(rng.choice(["plan", "sql_read", "sql_write"]), rng.choice(["plan", "read", "dml", "ddl"]),
                              rng.choice(["ann", "bob", "auto:cli --yes", "system:expiry"]),
                              rng.choice(["viewer", "operator", "approver", "admin"]), rng.choice([None, "ann", "bob"]))
                for _ in range(1000)]
    timings = []
    for i in range(args.n):
        request = requests[i % len(requests)]
        start = time.perf_counter_ns()
        policy.evaluate(request)
        timings.append(time.perf_counter_ns() - start)
    timings.sort()
    print(f"policy decisions: {args.n:,}")
    print(f"  p50 {timings[len(timings) // 2] / 1000:.1f} µs   p99 {timings[int(len(timings) * 0.99)] / 1000:.1f} µs   "
          f"max {timings[-1] / 1000:.1f} µs   mean {statistics.fmean(timings) / 1000:.1f} µs")


if __name__ == "__main__":
    main()
