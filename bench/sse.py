"""Append-to-receipt latency of the server's Server-Sent Events stream, under many subscribers.

    python bench/sse.py [--client raw|httpx] [--subscribers 1000] [--events-a 100] [--rate-a 10]
                        [--runs 100] [--per-run 10] [--events-b 20] [--rate-b 100]

Two scenarios, one after the other, against one server:

(a) 1,000 subscribers of ONE run: each append is read once by the hub and fanned out 1,000 times.
(b) 100 runs streaming at once, ``--per-run`` subscribers each (10 by default: 1,000 connections).

The bench starts the server as a subprocess of itself (``--serve PORT URL``): a SQLite file store in
a temporary HIL_HOME, ``create_app(store, workers=0, auth=False)`` under uvicorn on 127.0.0.1, plus
two bench-only routes on the same app object: ``POST /bench/runs`` creates runs and
``POST /bench/append`` starts an appender thread. The appender lives in the server process on
purpose: an append there wakes the hub at once, as a worker thread's append does in `hil serve`
(appends from another process are only seen by polling). It appends ``--events-*`` events per run,
round-robin over the runs at a fixed total rate, each in its own write transaction with payload
``{"sent": time.time()}`` taken just before the transaction, then one ``run.finished`` per run
(also timed), which ends the streams.

The client is this process, one asyncio loop. By default each stream is read from a bare socket
(HTTP/1.1, chunked, frames split on blank lines): httpx spends more than twice the server's CPU
per frame, and its connection pool does work proportional to the open connections whenever a
response ends, which at 1,000 streams delays the last frames by seconds, so the figure would
mostly measure httpx. ``--client httpx`` reads the streams with one httpx.AsyncClient instead.
The client opens every stream, waits until ``/readyz`` counts all subscribers, starts the appender
and, per received frame, records ``time.time()`` after the frame is read and its JSON parsed,
minus ``payload.sent``: so the figure includes the commit, the hub's wake-up and query, the
fan-out, the HTTP path and the client's own parsing. Server and client share the machine's clock
and its cores. At the end every subscriber must have got every event exactly once, in order (ids
and types checked too).

The default rates leave the server headroom on two cores: it spends about 45 µs of its one event
loop per frame sent, so 1,000 subscribers of one run saturate it at some 20-25 events/s, and past
that the latency grows with the length of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel

if TYPE_CHECKING:
    from fastapi import FastAPI

    from hil.store.db import Store

ROOT = Path(__file__).resolve().parent.parent
CONNECT_TIMEOUT = 120.0  # seconds to open every stream
Subscriber = Callable[["Stream"], Coroutine[Any, Any, None]]
WORKFLOW = {"name": "bench", "steps": ["rag"], "knowledge": [{"name": "docs"}]}


# ---------------------------------------------------------------- server side (--serve)

class RunsIn(BaseModel):
    count: int


class AppendIn(BaseModel):
    runs: list[str]
    events: int  # per run, before the terminal event
    rate: float  # appends per second, all runs together


@dataclass
class Appender:
    """Appends at a fixed total rate in its own thread; ``stats`` is read back by the client."""

    store: Store
    stats: dict[str, Any] = field(default_factory=dict)

    def start(self, job: AppendIn) -> None:
        self.stats = {"done": False}
        threading.Thread(target=self._run, args=(job,), name="bench-appender", daemon=True).start()

    def _append(self, run_id: str, type_: str) -> None:
        from hil.store.run_repo import RunRepo
        from hil.store.scoped import ALL_TENANTS

        repo = RunRepo(self.store, ALL_TENANTS)
        sent = time.time()
        with self.store.write(durable=type_ == "run.finished") as conn:  # as the runner writes progress and ends
            repo.append(conn, run_id, type_, {"sent": sent})
            if type_ == "run.finished":
                repo.set_status(conn, run_id, "succeeded", release=True)

    def _run(self, job: AppendIn) -> None:
        ticks = [(r, "bench.tick") for _ in range(job.events) for r in job.runs]
        plan = ticks + [(r, "run.finished") for r in job.runs]
        start = time.perf_counter()
        behind = 0.0
        for i, (run_id, type_) in enumerate(plan):
            due = start + i / job.rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            else:
                behind = max(behind, -wait)
            self._append(run_id, type_)
        seconds = time.perf_counter() - start
        self.stats = {"done": True, "appended": len(plan), "seconds": seconds, "max_behind_ms": behind * 1000}


def add_bench_routes(app: FastAPI, store: Store, workflow_id: str, version: int) -> None:
    from hil.store.run_repo import RunRepo
    from hil.store.scoped import ALL_TENANTS

    appender = Appender(store)

    @app.post("/bench/runs", include_in_schema=False)
    def create_runs(body: RunsIn) -> dict[str, list[str]]:
        repo = RunRepo(store, ALL_TENANTS)
        with store.write() as conn:
            ids = [repo.create(conn, workflow_id=workflow_id, workflow_version=version, question=f"bench {i}",
                               thread_id=None, created_by=None, tenant="default") for i in range(body.count)]
        return {"runs": ids}

    @app.post("/bench/append", include_in_schema=False)
    def start_append(body: AppendIn) -> dict[str, bool]:
        appender.start(body)
        return {"started": True}

    @app.get("/bench/append", include_in_schema=False)
    def append_stats() -> dict[str, Any]:
        return appender.stats


def serve(port: int, url: str) -> None:
    import uvicorn

    from hil.server.app import create_app
    from hil.store.db import open_store
    from hil.store.workflow_repo import WorkflowRepo
    from hil.workflows import Workflow

    store = open_store(url)
    stored, _ = WorkflowRepo(store, "default").apply(Workflow.model_validate(WORKFLOW))
    app = create_app(store, workers=0, auth=False)
    add_bench_routes(app, store, stored.id, stored.version)
    gc.collect()
    gc.freeze()  # as `hil serve` does
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", backlog=4096)


# ---------------------------------------------------------------- client side

@dataclass
class Stream:
    """What one subscriber received."""

    run_id: str
    opened: bool = False
    seqs: list[int] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: list[str] = field(default_factory=list)


@dataclass
class Scenario:
    name: str
    runs: int
    per_run: int
    events: int  # per run, before run.finished
    rate: float  # appends per second, all runs together


@dataclass
class Outcome:
    scenario: Scenario
    streams: list[Stream]
    appender: dict[str, Any]
    wall: float
    server_cpu: float
    client_cpu: float
    machine_busy: float  # every process on the machine


def on_frame(stream: Stream, fields: dict[str, str]) -> None:
    if "data" not in fields:  # a comment (stream open, heartbeat)
        return
    envelope = json.loads(fields["data"])
    stream.latencies.append(time.time() - envelope["payload"]["sent"])
    stream.seqs.append(envelope["seq"])
    stream.types.append(envelope["type"])
    if fields.get("id") != str(envelope["seq"]) or fields.get("event") != envelope["type"]:
        stream.errors.append(f"id/event lines {fields.get('id')}/{fields.get('event')} do not match the envelope")


def frame_fields(frame: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in frame.decode().split("\n"):
        name, _, value = line.partition(":")
        fields[name] = value.removeprefix(" ")
    return fields


async def subscribe_raw(port: int, stream: Stream) -> None:
    """Read one run's SSE stream to its end over a bare socket: HTTP/1.1, chunked, frames split on blank lines."""
    writer: asyncio.StreamWriter | None = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /api/v1/runs/{stream.run_id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        head = (await reader.readuntil(b"\r\n\r\n")).lower()
        if not head.startswith(b"http/1.1 200") or b"transfer-encoding: chunked" not in head:
            raise ValueError(f"unexpected response {head[:200]!r}")
        stream.opened = True
        pending = b""
        while size := int((await reader.readuntil(b"\r\n"))[:-2], 16):
            pending += (await reader.readexactly(size + 2))[:-2]
            *frames, pending = pending.split(b"\n\n")
            for f in frames:
                on_frame(stream, frame_fields(f))
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, KeyError) as err:
        stream.errors.append(f"{type(err).__name__}: {err}")
    finally:
        if writer is not None:
            writer.close()


async def subscribe_httpx(client: httpx.AsyncClient, stream: Stream) -> None:
    """Read one run's SSE stream to its end with httpx, line by line."""
    try:
        async with client.stream("GET", f"/api/v1/runs/{stream.run_id}/events") as resp:
            resp.raise_for_status()
            stream.opened = True
            fields: dict[str, str] = {}
            async for line in resp.aiter_lines():
                if line:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
                    continue
                on_frame(stream, fields)
                fields = {}
    except (httpx.HTTPError, ValueError, KeyError) as err:
        stream.errors.append(f"{type(err).__name__}: {err}")


async def wait_for_subscribers(client: httpx.AsyncClient, streams: list[Stream], expected: int) -> None:
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while time.monotonic() < deadline:
        failed = [s.errors[0] for s in streams if s.errors]
        if failed:
            raise RuntimeError(f"{len(failed)} streams failed to open, e.g. {failed[0]}")
        if all(s.opened for s in streams):
            ready = (await client.get("/readyz")).json()
            if ready["subscribers"] >= expected:
                return
        await asyncio.sleep(0.1)
    opened = sum(s.opened for s in streams)
    raise TimeoutError(f"only {opened} of {len(streams)} streams opened in {CONNECT_TIMEOUT:.0f} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, from /proc (0 where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot, from /proc/stat (0 where there is none)."""
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait


async def run_scenario(client: httpx.AsyncClient, subscribe: Subscriber, sc: Scenario, server_pid: int) -> Outcome:
    run_ids = (await client.post("/bench/runs", json={"count": sc.runs})).json()["runs"]
    baseline = (await client.get("/readyz")).json()["subscribers"]
    streams = [Stream(r) for r in run_ids for _ in range(sc.per_run)]
    tasks = [asyncio.create_task(subscribe(s)) for s in streams]
    await wait_for_subscribers(client, streams, baseline + len(streams))
    cpu0, client0, busy0, t0 = cpu_seconds(server_pid), time.process_time(), machine_busy_seconds(), time.perf_counter()
    (await client.post("/bench/append", json={"runs": run_ids, "events": sc.events, "rate": sc.rate})
     ).raise_for_status()
    expected_seconds = sc.runs * (sc.events + 1) / sc.rate
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=expected_seconds + 120)
    wall = time.perf_counter() - t0
    server_cpu, client_cpu = cpu_seconds(server_pid) - cpu0, time.process_time() - client0
    busy = machine_busy_seconds() - busy0
    stats = (await client.get("/bench/append")).json()
    return Outcome(sc, streams, stats, wall, server_cpu, client_cpu, busy)


# ---------------------------------------------------------------- checks and report

def check_exactly_once(outcome: Outcome) -> None:
    """Every subscriber got seq 1..N+1 in order, N ticks then run.finished."""
    n = outcome.scenario.events
    want_seqs = list(range(1, n + 2))
    want_types = ["bench.tick"] * n + ["run.finished"]
    for s in outcome.streams:
        assert not s.errors, f"stream of run {s.run_id}: {s.errors[0]}"
        assert s.seqs == want_seqs, f"stream of run {s.run_id} got seqs {s.seqs[:10]}... (want 1..{n + 1})"
        assert s.types == want_types, f"stream of run {s.run_id} got types out of order"


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


def first_and_last(streams: list[Stream]) -> tuple[list[float], list[float]]:
    """Per event (run, seq): the latency of its first and of its last receiver, in ms, each sorted."""
    spans: dict[tuple[str, int], tuple[float, float]] = {}
    for s in streams:
        for seq, x in zip(s.seqs, s.latencies, strict=True):
            lo, hi = spans.get((s.run_id, seq), (x, x))
            spans[(s.run_id, seq)] = (min(lo, x), max(hi, x))
    return sorted(lo * 1000 for lo, _ in spans.values()), sorted(hi * 1000 for _, hi in spans.values())


def report(outcome: Outcome) -> None:
    sc, st = outcome.scenario, outcome.appender
    lat = sorted(x * 1000 for s in outcome.streams for x in s.latencies)
    first, last = first_and_last(outcome.streams)
    achieved = st["appended"] / st["seconds"]
    print(f"\n[{sc.name}] {sc.runs} run(s) x {sc.per_run} subscriber(s) = {len(outcome.streams)} SSE connections")
    print(f"  appended: {sc.runs} x ({sc.events} events + run.finished) = {st['appended']} events, "
          f"target {sc.rate:g}/s ({sc.rate / sc.runs:g}/s per run), "
          f"achieved {achieved:.1f}/s over {st['seconds']:.1f} s "
          f"(appender at most {st['max_behind_ms']:.1f} ms behind schedule)")
    print(f"  frames received: {len(lat):,} ({len(lat) / outcome.wall:,.0f}/s over {outcome.wall:.1f} s)")
    print(f"  latency ms: p50 {percentile(lat, 0.50):.1f}  p99 {percentile(lat, 0.99):.1f}  "
          f"max {lat[-1]:.1f}  count {len(lat):,}")
    print(f"  per event, first receiver ms: p50 {percentile(first, 0.5):.1f}  p99 {percentile(first, 0.99):.1f}; "
          f"last receiver ms: p50 {percentile(last, 0.5):.1f}  p99 {percentile(last, 0.99):.1f}  "
          f"({len(first):,} events)")
    others = max(outcome.machine_busy - outcome.server_cpu - outcome.client_cpu, 0.0)
    print(f"  CPU during the scenario: server {outcome.server_cpu:.1f} s, client {outcome.client_cpu:.1f} s, "
          f"other processes {others:.1f} s, of {outcome.wall * (os.cpu_count() or 1):.1f} core-seconds")
    print("  exactly once, in order: yes")


def print_setup(db: Path, client: str) -> None:
    print("SSE append-to-receipt latency (bench/sse.py)")
    print(f"  cores: {os.cpu_count()}   python {platform.python_version()}   "
          f"store: SQLite file {db} (WAL, HIL_SQLITE_SYNC={os.environ.get('HIL_SQLITE_SYNC', 'milestones')})")
    print("  server: one uvicorn process (asyncio + h11), create_app(workers=0, auth=False); "
          "the appender is a thread in the server process, one write transaction per event")
    how = "bare asyncio sockets (HTTP/1.1, chunked)" if client == "raw" else "one httpx.AsyncClient"
    print(f"  client: one asyncio process reading every stream over {how}, on the same cores as the server")
    print("  latency = client time after reading + JSON-parsing the frame - payload.sent (taken just before the "
          "append's transaction); client parsing overhead counts in the figure")


# ---------------------------------------------------------------- process plumbing

def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(port: int, url: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), url], env=os.environ.copy())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise TimeoutError("the server did not come up in 60 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def client_main(port: int, kind: str, scenarios: list[Scenario], server_pid: int) -> None:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=None) as client:
        subscribe: Subscriber = (partial(subscribe_raw, port) if kind == "raw" else partial(subscribe_httpx, client))
        for sc in scenarios:
            outcome = await run_scenario(client, subscribe, sc, server_pid)
            check_exactly_once(outcome)
            report(outcome)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--serve", nargs=2, metavar=("PORT", "URL"), help=argparse.SUPPRESS)
    p.add_argument("--client", choices=("raw", "httpx"), default="raw",
                   help="SSE client: a bare asyncio socket reader (light) or httpx (its overhead counts)")
    p.add_argument("--subscribers", type=int, default=1000, help="scenario a: subscribers of the one run")
    p.add_argument("--events-a", type=int, default=100, help="scenario a: events appended (before run.finished)")
    p.add_argument("--rate-a", type=float, default=10.0, help="scenario a: appends per second")
    p.add_argument("--runs", type=int, default=100, help="scenario b: runs streaming at once")
    p.add_argument("--per-run", type=int, default=10, help="scenario b: subscribers per run")
    p.add_argument("--events-b", type=int, default=20, help="scenario b: events per run (before run.finished)")
    p.add_argument("--rate-b", type=float, default=100.0,
                   help="scenario b: appends per second, all runs together")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1])
        return
    scenarios = [Scenario("a: one run, many subscribers", 1, args.subscribers, args.events_a, args.rate_a),
                 Scenario("b: many runs at once", args.runs, args.per_run, args.events_b, args.rate_b)]
    raise_fd_limit(2 * max(s.runs * s.per_run for s in scenarios) + 256)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hil-sse-bench-") as home:
        os.environ["HIL_HOME"] = home
        os.environ["HIL_EMBEDDER"] = "none"
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
        db = Path(home) / "hil.db"
        print_setup(db, args.client)
        port = free_port()
        server = start_server(port, f"sqlite:///{db}")
        try:
            asyncio.run(client_main(port, args.client, scenarios, server.pid))
        finally:
            stop_server(server)
    print(f"\ntotal bench time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
