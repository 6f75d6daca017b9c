"""Orchestration overhead per step and event-append throughput, on SQLite and on PostgreSQL.

The model is scripted (no model time) and approvals are off, so the figures are the engine's
own cost: store writes, event folding, leases. Prints a table; run with `make bench`."""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hil.demo.generate import generate
from hil.engine.worker import Worker
from hil.events import EventType
from hil.models import scripted
from hil.services.runs import RunService
from hil.store import Store, open_store
from hil.store.run_repo import RunRepo
from hil.store.scoped import ALL_TENANTS
from hil.workflows import parse_workflow
from tests.helpers import apply_workflow
from tests.pg import PostgresServer

RUNS = 40
APPENDS = 2000


def script(purpose: str, _messages: list[dict[str, str]], _schema: object) -> object:
    return {"plan": {"steps": [{"agent": "sql", "purpose": "count"}, {"agent": "rag", "purpose": "manual"}]},
            "sql": {"sql": "SELECT count(*) AS n FROM vehicles"},
            "answer": "There are 180 vehicles [1]."}[purpose]


def bench(store: Store, root: Path) -> tuple[float, float, float]:
    wf = parse_workflow({"name": "bench", "knowledge": [{"name": "d", "paths": [str(root / "docs")]}],
                         "connections": [{"name": "db", "engine": "duckdb", "path": str(root / "fleet.duckdb")}],
                         "approval": {"plan": False, "sql_read": False}})
    service = RunService(store, "default")
    apply_workflow(service.store, wf)
    worker = Worker(store, model="scripted:bench")
    per_step = []
    for i in range(RUNS):
        run_id = service.create_run("bench", f"How many vehicles? {i}")
        t0 = time.perf_counter()
        worker.run_once(run_id)
        elapsed = time.perf_counter() - t0
        events = service.events(run_id)
        steps = sum(e.type == EventType.STEP_FINISHED for e in events)
        assert service.get(run_id).status == "succeeded"
        per_step.append(elapsed / steps * 1000)
    repo = RunRepo(store, ALL_TENANTS)
    run_id = service.create_run("bench", "append throughput")
    t0 = time.perf_counter()
    for i in range(APPENDS):
        with store.write(durable=False) as conn:  # as a step's events are written
            repo.append(conn, run_id, "bench.event", {"i": i, "text": "x" * 100})
    rate = APPENDS / (time.perf_counter() - t0)
    return statistics.median(per_step), statistics.quantiles(per_step, n=20)[-1], rate


def main() -> None:
    scripted.register("bench", script)
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "docs").mkdir()
        (root / "docs" / "m.md").write_text("# Manual\n\n## Vehicles\n\nThe fleet has vehicles.\n")
        generate(root / "fleet.duckdb", anchor=dt.date(2026, 11, 1))
        results = {}
        sqlite = open_store(f"sqlite:///{root / 'hil.db'}")
        results["sqlite"] = bench(sqlite, root)
        sqlite.dispose()
        pg = PostgresServer().start()
        try:
            store = open_store(pg.create_database("bench"))
            results["postgres"] = bench(store, root)
            store.dispose()
        finally:
            pg.stop()
    print(f"{'store':<10} {'overhead/step p50 (ms)':>24} {'p95 (ms)':>10} {'events appended/s':>18}")
    for name, (p50, p95, rate) in results.items():
        print(f"{name:<10} {p50:>24.2f} {p95:>10.2f} {rate:>18.0f}")
    print(f"({RUNS} runs of 5 steps each, scripted model, approvals off; {APPENDS} single-event transactions)")


if __name__ == "__main__":
    main()
