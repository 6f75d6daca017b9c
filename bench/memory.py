"""Memory held by per-database knowledge: RSS while a process learns the schemas and value indexes
of many SQLite databases, through the path `hil eval sql` takes for each question (the step's
connection, then the cached schema and value index), without a model.

Prints RSS and open file descriptors after every ``--every`` databases, and the cache's entries.
The cache is bounded by HIL_SCHEMA_CACHE (least recently used first out): RSS should level off
once that many databases are known. Run: ``python bench/memory.py [--databases DIR] [--passes N]``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hil import settings
from hil.agents.base import StepContext
from hil.agents.sql import knowledge
from hil.evals.sql_eval import connection_name
from hil.workflows import SqlConnection, Workflow

SPIDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "spider-train-sample" / "database"


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def learn(cfg: SqlConnection) -> int:
    """One question's worth of schema knowledge, as the SQL agent gets it: the step's connection
    (held until the step ends), then the tables and value index. Returns the values indexed."""
    ctx = StepContext(run_id="bench", question="", workflow=Workflow(name="eval", connections=[cfg], steps=["sql"]), step="sql",
                      purpose="", outputs={}, emit=lambda _t, _p: None, llm_factory=_no_model,
                      once=lambda _k, fn: fn())
    try:
        conn = knowledge.step_connection(ctx, cfg)
        _tables, values = knowledge.knowledge(conn)
        return len(values.values)
    finally:
        ctx.close()  # as the runner does when a step ends


def _no_model() -> object:
    raise RuntimeError("no model in this benchmark")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", type=Path, default=SPIDER, help="a folder of DB/DB.sqlite (Spider layout)")
    parser.add_argument("--passes", type=int, default=2, help="times every database is visited")
    parser.add_argument("--every", type=int, default=20, help="print a line after this many databases")
    args = parser.parse_args()
    files = sorted(args.databases.glob("*/*.sqlite"))
    if not files:
        sys.exit(f"no */*.sqlite under {args.databases}: pass --databases DIR")
    bound = settings.get_int("HIL_SCHEMA_CACHE")
    print(f"{len(files)} databases, {args.passes} passes, HIL_SCHEMA_CACHE={bound}")
    print(f"{'databases':>10} {'RSS (MiB)':>10} {'open fds':>9} {'cached':>7} {'values':>9} {'s':>6}")
    start, base = time.perf_counter(), rss_mib()
    print(f"{0:>10} {base:>10.1f} {open_fds():>9} {0:>7} {0:>9} {0:>6.1f}")
    seen, values = 0, 0
    for _ in range(args.passes):
        for path in files:
            values += learn(SqlConnection(name=connection_name(path.parent.name), engine="sqlite", path=str(path)))
            seen += 1
            if seen % args.every == 0 or seen == len(files) * args.passes:
                print(f"{seen:>10} {rss_mib():>10.1f} {open_fds():>9} {knowledge.cached():>7} {values:>9} "
                      f"{time.perf_counter() - start:>6.1f}")
    print(f"RSS grew {rss_mib() - base:.1f} MiB over {seen} visits of {len(files)} databases")


if __name__ == "__main__":
    main()
