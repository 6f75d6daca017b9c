"""Live events for SSE subscribers, read once and fanned out.

One thread waits for the store to change: writes in this process wake it at once, writes by
other processes (workers on a shared Postgres, the CLI) are seen by polling every
``poll_seconds``. Each wake runs one query for all watched runs (and one per watched tenant), in a
worker thread, and hands every subscriber the new events, each already rendered as an SSE frame.
So a thousand subscribers of one run cost one query per change, not a thousand.

A subscription is exact: the hub's cursor for a run never passes the oldest position any
subscriber asked for, and each subscriber drops what it has already seen (by seq), so a client
that reconnects with Last-Event-ID gets every later event exactly once, in order.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field

import anyio

from hil import events as ev
from hil.events import Event
from hil.services import ALL_TENANTS, Store
from hil.services.runs import RunService

log = logging.getLogger(__name__)

TENANT_SLACK = 2.0  # seconds: events may commit out of timestamp order by this much (a write's length)


def frame(event: Event, event_id: str | None = None) -> bytes:
    """One SSE message: id is the run's seq (or run:seq on the tenant stream), event the type."""
    data = ev.dumps(event.model_dump(mode="json"))
    return f"id: {event_id or event.seq}\nevent: {event.type}\ndata: {data}\n\n".encode()


@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue[tuple[Event, bytes]] = field(default_factory=asyncio.Queue)


class EventHub:
    def __init__(self, store: Store, poll_seconds: float = 1.0):
        self.store = store
        self.poll_seconds = poll_seconds
        self._runs: dict[str, set[Subscription]] = {}
        self._cursor: dict[str, int] = {}  # run -> last seq fetched
        self._tenants: dict[str, set[Subscription]] = {}
        self._since: dict[str, float] = {}  # tenant -> events at or after this time are fetched
        self._seen: dict[str, dict[tuple[str, int], float]] = {}  # tenant -> recently delivered events
        self._wake = asyncio.Event()
        self._stop = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._waiter: threading.Thread | None = None

    # -- lifecycle --
    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._loop())
        self._waiter = threading.Thread(target=self._wait_for_store, args=(loop,), name="hil-event-hub", daemon=True)
        self._waiter.start()

    async def stop(self) -> None:
        self._stop.set()
        self.store.notify()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._waiter:
            await anyio.to_thread.run_sync(self._waiter.join, 5)

    def _wait_for_store(self, loop: asyncio.AbstractEventLoop) -> None:
        generation = self.store.generation()
        while not self._stop.is_set():
            generation = self.store.wait_for_change(generation, self.poll_seconds)
            if self._runs or self._tenants:
                loop.call_soon_threadsafe(self._wake.set)

    # -- subscriptions --
    def subscribe_run(self, run_id: str, after: int) -> Subscription:
        sub = Subscription()
        self._runs.setdefault(run_id, set()).add(sub)
        self._cursor[run_id] = min(self._cursor.get(run_id, after), after)
        self._wake.set()
        return sub

    def subscribe_tenant(self, tenant: str, since: float) -> Subscription:
        sub = Subscription()
        self._tenants.setdefault(tenant, set()).add(sub)
        self._since[tenant] = min(self._since.get(tenant, since), since)
        self._seen.setdefault(tenant, {})
        self._wake.set()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        for run_id in [k for k, subs in self._runs.items() if sub in subs]:
            self._runs[run_id].discard(sub)
            if not self._runs[run_id]:
                del self._runs[run_id], self._cursor[run_id]
        for tenant in [k for k, subs in self._tenants.items() if sub in subs]:
            self._tenants[tenant].discard(sub)
            if not self._tenants[tenant]:
                del self._tenants[tenant], self._since[tenant], self._seen[tenant]

    @property
    def subscribers(self) -> int:
        return sum(len(s) for s in self._runs.values()) + sum(len(s) for s in self._tenants.values())

    # -- fan-out --
    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._dispatch()
            except Exception:
                log.warning("reading new events failed; retrying", exc_info=True)
                await asyncio.sleep(self.poll_seconds)
                self._wake.set()

    async def _dispatch(self) -> None:
        cursors = dict(self._cursor)
        tenants = dict(self._since)
        if not cursors and not tenants:
            return
        by_run, by_tenant = await anyio.to_thread.run_sync(self._fetch, cursors, tenants)
        for run_id, found in by_run.items():
            if not found:
                continue
            if run_id in self._runs and self._cursor[run_id] == cursors[run_id]:  # not moved back meanwhile
                self._cursor[run_id] = found[-1].seq
            framed = [(e, frame(e)) for e in found]
            for sub in self._runs.get(run_id, ()):
                for item in framed:
                    sub.queue.put_nowait(item)
        for tenant, found in by_tenant.items():
            seen = self._seen.get(tenant)
            if seen is None:
                continue
            fresh = [e for e in found if (e.run_id, e.seq) not in seen]
            for e in fresh:
                seen[(e.run_id, e.seq)] = e.ts.timestamp()
            if found and tenant in self._since:
                self._since[tenant] = max(self._since[tenant], found[-1].ts.timestamp())
                horizon = self._since[tenant] - 2 * TENANT_SLACK
                for key in [k for k, ts in seen.items() if ts < horizon]:
                    del seen[key]
            framed = [(e, frame(e, f"{e.run_id}:{e.seq}")) for e in fresh]
            for sub in self._tenants.get(tenant, ()):
                for item in framed:
                    sub.queue.put_nowait(item)

    def _fetch(self, cursors: dict[str, int], tenants: dict[str, float]
               ) -> tuple[dict[str, list[Event]], dict[str, list[Event]]]:
        by_run = RunService(self.store, ALL_TENANTS).new_events(cursors) if cursors else {}
        by_tenant = {tenant: RunService(self.store, tenant).events_since(since - TENANT_SLACK)
                     for tenant, since in tenants.items()}
        return by_run, by_tenant
