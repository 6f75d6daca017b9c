"""hil's engine next to LangGraph + SqliteSaver on the same shape of work, in one process.

Both run six steps whose agents do nothing (hil: planner, three plug-in steps, reasoner,
responder; LangGraph: six nodes), so the figures are each engine's own cost: what it writes to
SQLite, how it folds state and how it resumes. Three measures, each on a fresh run or thread:

- per run: ask a question and run all six steps to the end, approvals off;
- park: ask, run to the plan approval at the first step and let go (hil parks the run as rows;
  LangGraph stops at ``interrupt()``);
- resume: decide (approve) and run from the approval to the end.

Store growth is the SQLite file's growth (after a WAL checkpoint) divided by the runs that
finished in it: plain runs and approval cycles go to separate files, so each shows. The engines'
iterations alternate, so machine noise hits all alike. LangGraph uses ``durability="sync"``:
every step's checkpoint is committed before the next step starts, as hil's events are; its
commits are all synced to disk (SQLite's default). hil runs twice: with HIL_SQLITE_SYNC as set
(default ``milestones``: the question, a parked approval and the end are synced, the steps
between ride on them) and with ``every`` (every commit synced, like LangGraph).

LangGraph is a bench-only extra: ``pip install -e '.[bench]'``. Run: ``python bench/peers.py``
(``--runs N`` for more iterations)."""

from __future__ import annotations

import argparse
import itertools
import operator
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hil.agents import registry
from hil.agents.base import Agent, Draft, Feedback, StepContext
from hil.engine.worker import Worker
from hil.models import scripted
from hil.services.runs import RunService
from hil.store import Store, open_store
from hil.workflows import parse_workflow
from tests.helpers import apply_workflow

try:
    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Command, interrupt
except ImportError:  # pragma: no cover - a bench-only extra
    sys.exit("LangGraph is not installed: pip install -e '.[bench]' (langgraph, langgraph-checkpoint-sqlite)")

STEPS = 6
MIDDLE = ("noop_a", "noop_b", "noop_c")


# -- hil: a no-op agent in every step --
class _Noop(Agent):
    description = "Does nothing (engine benchmark)."

    def execute(self, ctx: StepContext, content: dict[str, Any] | None) -> dict[str, Any]:
        return {"step": self.name}


class NoopPlanner(_Noop):
    """Plans the three no-op steps; drafts the plan (for approval) only when the workflow asks."""

    name = "planner"
    role = "planner"

    def draft(self, ctx: StepContext, feedback: Feedback | None) -> Draft | None:
        if not ctx.workflow.approval.plan:
            return None
        return Draft("plan", "plan.drafted", {"steps": [{"agent": s, "purpose": s} for s in MIDDLE]},
                     "three no-op steps", needs_approval=True)

    def execute(self, ctx: StepContext, content: dict[str, Any] | None) -> dict[str, Any]:
        return content or {"steps": [{"agent": s, "purpose": s} for s in MIDDLE]}


def _noop_class(name: str, role: str) -> type[Agent]:
    return type(f"Noop_{name}", (_Noop,), {"name": name, "role": role})


def _register_noop_agents() -> None:
    registry.step_agent_names()  # the built-ins first, so the no-op agents replace them
    registry.register(NoopPlanner)
    for name in MIDDLE:
        registry.register(_noop_class(name, "step"))
    registry.register(_noop_class("reasoner", "reasoner"))
    registry.register(_noop_class("responder", "responder"))
    scripted.register("peers", lambda purpose, _messages, _schema: {})  # never called: the agents are no-ops


class _HilStore:
    def __init__(self, path: Path, sync: str):
        self.path = path
        before = os.environ.get("HIL_SQLITE_SYNC")
        os.environ["HIL_SQLITE_SYNC"] = sync
        try:
            self.store: Store = open_store(f"sqlite:///{path}")
        finally:
            if before is None:
                os.environ.pop("HIL_SQLITE_SYNC")
            else:
                os.environ["HIL_SQLITE_SYNC"] = before
        self.service = RunService(self.store, "default")
        for name, plan in (("straight", False), ("gated", True)):
            apply_workflow(self.store, parse_workflow({"name": name, "steps": list(MIDDLE),
                                                       "approval": {"plan": plan, "sql_read": False}}))
        self.worker = Worker(self.store, model="scripted:peers")

    def size(self) -> int:
        with self.store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.path.stat().st_size


class HilBench:
    """Straight runs in one store file and approval cycles in another, so each one's growth shows."""

    def __init__(self, root: Path, sync: str):
        self.straight, self.gated = _HilStore(root / f"hil-{sync}.db", sync), _HilStore(root / f"hil-{sync}-gated.db", sync)

    def run(self, i: int) -> float:
        s = self.straight
        t0 = time.perf_counter()
        run_id = s.service.create_run("straight", f"question {i}")
        s.worker.run_once(run_id)
        elapsed = time.perf_counter() - t0
        assert s.service.get(run_id).status == "succeeded"
        return elapsed

    def park_resume(self, i: int) -> tuple[float, float]:
        s = self.gated
        t0 = time.perf_counter()
        run_id = s.service.create_run("gated", f"question {i}")
        s.worker.run_once(run_id)
        parked = time.perf_counter() - t0
        [approval] = s.service.pending_approvals(run_id)
        t1 = time.perf_counter()
        s.service.decide(approval.id, "approve", content_hash_seen=approval.content_hash)
        s.worker.run_once(run_id)
        resumed = time.perf_counter() - t1
        assert s.service.get(run_id).status == "succeeded"
        return parked, resumed

    def sizes(self) -> tuple[int, int]:
        return self.straight.size(), self.gated.size()

    def close(self) -> None:
        self.straight.store.dispose()
        self.gated.store.dispose()


# -- LangGraph: six no-op nodes, a SqliteSaver, durability "sync" --
class State(TypedDict, total=False):
    question: str
    gated: bool
    plan: list[str]
    done: Annotated[list[str], operator.add]


def _node(name: str) -> Callable[[State], dict[str, Any]]:
    def node(state: State) -> dict[str, Any]:
        return {"done": [name]}
    return node


def _planner(state: State) -> dict[str, Any]:
    plan = list(MIDDLE)
    if state.get("gated"):
        decision = interrupt({"kind": "plan", "steps": plan})
        assert decision == "approve"
    return {"plan": plan, "done": ["planner"]}


class _Saver:
    def __init__(self, path: Path, synced: bool):
        self.path = path
        self.conn = sqlite3.connect(path, check_same_thread=False)
        self.saver = SqliteSaver(self.conn)
        self.saver.setup()
        if not synced:
            self.conn.execute("PRAGMA synchronous=NORMAL")  # WAL: no sync at commit

    def size(self) -> int:
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.path.stat().st_size


class LangGraphBench:
    def __init__(self, root: Path, synced: bool):
        self.straight, self.gated = _Saver(root / "langgraph.db", synced), _Saver(root / "langgraph-gated.db", synced)
        g = StateGraph(State)
        names = ["planner", *MIDDLE, "reasoner", "responder"]
        g.add_node("planner", _planner)
        for name in names[1:]:
            g.add_node(name, _node(name))
        g.add_edge(START, "planner")
        for a, b in itertools.pairwise(names):
            g.add_edge(a, b)
        g.add_edge(names[-1], END)
        self.graphs = {"straight": g.compile(checkpointer=self.straight.saver),
                       "gated": g.compile(checkpointer=self.gated.saver)}

    def _config(self) -> dict[str, Any]:
        return {"configurable": {"thread_id": str(uuid.uuid4())}}

    def run(self, i: int) -> float:
        t0 = time.perf_counter()
        out = self.graphs["straight"].invoke({"question": f"question {i}", "gated": False}, self._config(),
                                             durability="sync")
        elapsed = time.perf_counter() - t0
        assert len(out["done"]) == STEPS
        return elapsed

    def park_resume(self, i: int) -> tuple[float, float]:
        graph, config = self.graphs["gated"], self._config()
        t0 = time.perf_counter()
        out = graph.invoke({"question": f"question {i}", "gated": True}, config, durability="sync")
        parked = time.perf_counter() - t0
        assert "__interrupt__" in out
        t1 = time.perf_counter()
        out = graph.invoke(Command(resume="approve"), config, durability="sync")
        resumed = time.perf_counter() - t1
        assert len(out["done"]) == STEPS
        return parked, resumed

    def sizes(self) -> tuple[int, int]:
        return self.straight.size(), self.gated.size()

    def close(self) -> None:
        self.straight.conn.close()
        self.gated.conn.close()


def _ms(xs: list[float]) -> tuple[float, float]:
    return statistics.median(xs) * 1000, statistics.quantiles(xs, n=20)[-1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="iterations of each measure per engine")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=Path.home(),
                        help="where the SQLite files go (default: the home folder, on disk; /dev/shm shows the "
                             "engines where a sync costs nothing)")
    parser.add_argument("--no-sync", action="store_true",
                        help="neither engine syncs a commit to disk (hil HIL_SQLITE_SYNC=off, LangGraph "
                             "synchronous=NORMAL): the engines' own cost, without the disk's")
    args = parser.parse_args()
    _register_noop_agents()
    sync = "off" if args.no_sync else os.environ.get("HIL_SQLITE_SYNC", "milestones")
    with tempfile.TemporaryDirectory(dir=args.dir) as d:  # on disk by default, as a store is
        root = Path(d)
        # the decisions' signed audit checkpoints go to this home, not the user's: a checkpoint of
        # the bench's "default" tenant would not match the user's own audit log
        os.environ["HIL_HOME"] = str(root / "home")
        engines: dict[str, Any] = {f"hil ({sync})": HilBench(root, sync), "hil (every)": HilBench(root, "every"),
                                   "LangGraph": LangGraphBench(root, synced=not args.no_sync)}
        if sync in ("every", "off"):
            engines.pop("hil (every)")
        for e in engines.values():
            for i in range(args.warmup):
                e.run(i)
                e.park_resume(i)
        start = {n: e.sizes() for n, e in engines.items()}
        runs: dict[str, list[float]] = {n: [] for n in engines}
        parks: dict[str, list[float]] = {n: [] for n in engines}
        resumes: dict[str, list[float]] = {n: [] for n in engines}
        for i in range(args.runs):
            order = list(engines) if i % 2 == 0 else list(reversed(engines))
            for n in order:
                runs[n].append(engines[n].run(i))
            for n in order:
                p, r = engines[n].park_resume(i)
                parks[n].append(p)
                resumes[n].append(r)
        growth: dict[str, tuple[float, float]] = {}
        for n, e in engines.items():
            (s0, g0), (s1, g1) = start[n], e.sizes()
            growth[n] = ((s1 - s0) / args.runs, (g1 - g0) / args.runs)
            e.close()
    lg = "LangGraph"
    hils = [n for n in engines if n != lg]
    rows: list[tuple[str, dict[str, tuple[float, float]]]] = [
        ("per run (ms)", {n: _ms(runs[n]) for n in engines}),
        ("per step (ms)", {n: (_ms(runs[n])[0] / STEPS, _ms(runs[n])[1] / STEPS) for n in engines}),
        ("park at an approval (ms)", {n: _ms(parks[n]) for n in engines}),
        ("resume to the end (ms)", {n: _ms(resumes[n]) for n in engines})]
    print(f"{'':<36}" + "".join(f"{n:>20}" for n in engines) + "".join(f"{n + ' / LG':>24}" for n in hils))
    print(f"{'':<36}" + "".join(f"{'p50 / p95':>20}" for _ in engines) + "".join(f"{'(p50)':>24}" for _ in hils))
    for label, figures in rows:
        line = f"{label:<36}" + "".join(f"{figures[n][0]:>11.3f} / {figures[n][1]:<6.3f}" for n in engines)
        print(line + "".join(f"{figures[n][0] / figures[lg][0]:>24.2f}" for n in hils))
    for label, k in (("store growth per run (B)", 0), ("  ... per run with an approval (B)", 1)):
        line = f"{label:<36}" + "".join(f"{growth[n][k]:>11.0f}{'':>9}" for n in engines)
        print(line + "".join(f"{growth[n][k] / growth[lg][k]:>24.2f}" for n in hils))
    disk = ("no commit synced by either engine" if args.no_sync else
            f"hil with HIL_SQLITE_SYNC={sync}{' and every' if 'hil (every)' in engines else ''}; LangGraph's "
            "commits all synced")
    print(f"({args.runs} iterations of each measure per engine, interleaved, after {args.warmup} warm-up; {STEPS} "
          f"no-op steps; SQLite files in {args.dir}; LangGraph: SqliteSaver, durability='sync'; {disk})")


if __name__ == "__main__":
    main()
