"""hil's engine next to LangGraph + SqliteSaver on the same shape of work, in one process.

Both run six steps whose agents do nothing (hil: planner, three plug-in steps, reasoner,
responder; LangGraph: six nodes), so the figures are each engine's own cost: what it writes to
SQLite, how it folds state and how it resumes. Three measures, each on a fresh run or thread:

- per run: ask a question and run all six steps to the end, approvals off;
- park: ask, run to the plan approval at the first step and let go (hil parks the run as rows;
  LangGraph stops at ``interrupt()``);
- resume: decide (approve) and run from the approval to the end.

Store growth is the SQLite file's growth (after a WAL checkpoint) divided by the runs that
finished in it. The two engines' iterations alternate, so machine noise hits both alike.
LangGraph uses ``durability="sync"``: every step's checkpoint is written before the next step
starts, as hil's events are.

LangGraph is a bench-only extra: ``pip install -e '.[bench]'``. Run: ``python bench/peers.py``
(``--runs N`` for more iterations)."""

from __future__ import annotations

import argparse
import itertools
import operator
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


class HilBench:
    def __init__(self, root: Path):
        registry.step_agent_names()  # the built-ins first, so the no-op agents replace them
        registry.register(NoopPlanner)
        for name in MIDDLE:
            registry.register(_noop_class(name, "step"))
        registry.register(_noop_class("reasoner", "reasoner"))
        registry.register(_noop_class("responder", "responder"))
        scripted.register("peers", lambda purpose, _messages, _schema: {})  # never called: the agents are no-ops
        self.path = root / "hil.db"
        self.store: Store = open_store(f"sqlite:///{self.path}")
        self.service = RunService(self.store, "default")
        for name, plan in (("straight", False), ("gated", True)):
            apply_workflow(self.store, parse_workflow({"name": name, "steps": list(MIDDLE),
                                                       "approval": {"plan": plan, "sql_read": False}}))
        self.worker = Worker(self.store, model="scripted:peers")
        self.finished = 0

    def run(self, i: int) -> float:
        t0 = time.perf_counter()
        run_id = self.service.create_run("straight", f"question {i}")
        self.worker.run_once(run_id)
        elapsed = time.perf_counter() - t0
        assert self.service.get(run_id).status == "succeeded"
        self.finished += 1
        return elapsed

    def park_resume(self, i: int) -> tuple[float, float]:
        t0 = time.perf_counter()
        run_id = self.service.create_run("gated", f"question {i}")
        self.worker.run_once(run_id)
        parked = time.perf_counter() - t0
        [approval] = self.service.pending_approvals(run_id)
        t1 = time.perf_counter()
        self.service.decide(approval.id, "approve", content_hash_seen=approval.content_hash)
        self.worker.run_once(run_id)
        resumed = time.perf_counter() - t1
        assert self.service.get(run_id).status == "succeeded"
        self.finished += 1
        return parked, resumed

    def size(self) -> int:
        with self.store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.path.stat().st_size

    def close(self) -> None:
        self.store.dispose()


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


class LangGraphBench:
    def __init__(self, root: Path):
        self.path = root / "langgraph.db"
        self.conn = sqlite3.connect(self.path, check_same_thread=False)
        self.saver = SqliteSaver(self.conn)
        self.saver.setup()
        g = StateGraph(State)
        names = ["planner", *MIDDLE, "reasoner", "responder"]
        g.add_node("planner", _planner)
        for name in names[1:]:
            g.add_node(name, _node(name))
        g.add_edge(START, "planner")
        for a, b in itertools.pairwise(names):
            g.add_edge(a, b)
        g.add_edge(names[-1], END)
        self.graph = g.compile(checkpointer=self.saver)
        self.finished = 0

    def _config(self) -> dict[str, Any]:
        return {"configurable": {"thread_id": str(uuid.uuid4())}}

    def run(self, i: int) -> float:
        t0 = time.perf_counter()
        out = self.graph.invoke({"question": f"question {i}", "gated": False}, self._config(), durability="sync")
        elapsed = time.perf_counter() - t0
        assert len(out["done"]) == STEPS
        self.finished += 1
        return elapsed

    def park_resume(self, i: int) -> tuple[float, float]:
        config = self._config()
        t0 = time.perf_counter()
        out = self.graph.invoke({"question": f"question {i}", "gated": True}, config, durability="sync")
        parked = time.perf_counter() - t0
        assert "__interrupt__" in out
        t1 = time.perf_counter()
        out = self.graph.invoke(Command(resume="approve"), config, durability="sync")
        resumed = time.perf_counter() - t1
        assert len(out["done"]) == STEPS
        self.finished += 1
        return parked, resumed

    def size(self) -> int:
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.path.stat().st_size

    def close(self) -> None:
        self.conn.close()


def _ms(xs: list[float]) -> tuple[float, float]:
    return statistics.median(xs) * 1000, statistics.quantiles(xs, n=20)[-1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="iterations of each measure per engine")
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.home()) as d:  # on disk, as a store is; not a RAM disk
        root = Path(d)
        engines: dict[str, Any] = {"hil": HilBench(root), "LangGraph": LangGraphBench(root)}
        for e in engines.values():
            for i in range(args.warmup):
                e.run(i)
                e.park_resume(i)
        start = {n: (e.size(), e.finished) for n, e in engines.items()}
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
        growth = {}
        for n, e in engines.items():
            size0, finished0 = start[n]
            growth[n] = (e.size() - size0) / (e.finished - finished0)
            e.close()
    rows = [("per run (ms)", _ms(runs["hil"]), _ms(runs["LangGraph"])),
            ("per step (ms)", tuple(x / STEPS for x in _ms(runs["hil"])),
             tuple(x / STEPS for x in _ms(runs["LangGraph"]))),
            ("park at an approval (ms)", _ms(parks["hil"]), _ms(parks["LangGraph"])),
            ("resume to the end (ms)", _ms(resumes["hil"]), _ms(resumes["LangGraph"]))]
    print(f"{'measure':<34} {'hil p50':>9} {'p95':>8} {'LangGraph p50':>14} {'p95':>8} {'hil/LangGraph':>14}")
    for label, (h50, h95), (l50, l95) in rows:
        print(f"{label:<34} {h50:>9.3f} {h95:>8.3f} {l50:>14.3f} {l95:>8.3f} {h50 / l50:>14.2f}")
    hg, lg = growth["hil"], growth["LangGraph"]
    print(f"{'store growth per finished run (B)':<34} {hg:>9.0f} {'':>8} {lg:>14.0f} {'':>8} {hg / lg:>14.2f}")
    print(f"({args.runs} iterations of each measure per engine, interleaved, after {args.warmup} warm-up; "
          f"{STEPS} no-op steps; SQLite files on disk; LangGraph durability='sync')")


if __name__ == "__main__":
    main()
