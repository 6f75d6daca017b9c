"""Server-Sent Events: one run's events, or every run's events in the caller's tenant.

A run's stream replays from the durable log and then follows it live: `id:` is the run's seq,
so a client that reconnects with Last-Event-ID (or ?after=SEQ) gets every later event exactly
once. The stream ends after the run's terminal event. A comment line is sent as a heartbeat
whenever nothing else was sent for a while, so proxies keep the connection open.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from hil import events
from hil.errors import InvalidRequest
from hil.events import TERMINAL_TYPES, Event
from hil.server.deps import ServerState, State, Viewer
from hil.server.hub import Subscription, frame
from hil.server.schemas import errors
from hil.services.runs import TERMINAL_STATUSES, RunService

router = APIRouter(tags=["events"])

SSE_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"description": "text/event-stream of event envelopes "
                                                        "(see /api/v1/schema/events.json)",
                                                        "content": {"text/event-stream": {"schema": {"type": "string"}}}}}
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _resume_point(after: int | None, last_event_id: str | None) -> int:
    if last_event_id:
        try:
            return max(int(last_event_id.rsplit(":", 1)[-1]), 0)
        except ValueError:
            raise InvalidRequest("Last-Event-ID must be the id of an event of this stream (its seq)",
                                 details={"errors": [{"loc": "header.last-event-id", "msg": "not a number"}]}) from None
    return after or 0


async def _follow(state: ServerState, sub: Subscription, last: int | None) -> AsyncIterator[bytes]:
    """Frames from the hub; ``last`` is the seq already sent (None on the tenant stream: no dedupe by seq)."""
    try:
        yield b": stream open\n\n"
        while True:
            if sub.queue.empty():
                try:
                    first = await asyncio.wait_for(sub.queue.get(), timeout=state.heartbeat_seconds)
                except TimeoutError:
                    yield b": heartbeat\n\n"
                    continue
            else:
                first = sub.queue.get_nowait()
            batch, ended = [], False
            for event, data in [first, *_drain(sub)]:  # what is queued goes out in one write
                if last is not None:
                    if event.seq <= last:
                        continue
                    last = event.seq
                batch.append(data)
                if last is not None and event.type in TERMINAL_TYPES:
                    ended = True
                    break
            if batch:
                yield b"".join(batch)
            if ended:
                return
    finally:
        state.hub.unsubscribe(sub)


def _drain(sub: Subscription) -> list[tuple[Event, bytes]]:
    items = []
    while not sub.queue.empty():
        items.append(sub.queue.get_nowait())
    return items


@router.get("/runs/{run_id}/events", response_class=StreamingResponse, responses={**SSE_RESPONSE, **errors(401, 404, 422)})
async def run_events(run_id: str, who: Viewer, state: State,
                     after: Annotated[int | None, Query(ge=0, description="Send events after this seq.")] = None,
                     last_event_id: Annotated[str | None, Header(description="Resume after this event id.")] = None
                     ) -> StreamingResponse:
    """The run's events as SSE, from `after` (or Last-Event-ID) on; ends after the terminal event."""
    start = _resume_point(after, last_event_id)
    service = RunService(state.store, who.tenant)
    run = await run_in_threadpool(service.get, run_id)
    if run.status in TERMINAL_STATUSES:  # nothing more will come: send what is left and end
        done = await run_in_threadpool(service.events, run_id, start)

        async def replay() -> AsyncIterator[bytes]:
            for e in done:
                yield frame(e)
        return StreamingResponse(replay(), media_type="text/event-stream", headers=HEADERS)
    sub = state.hub.subscribe_run(run_id, min(start, run.last_seq))  # a seq past the log would wait forever
    return StreamingResponse(_follow(state, sub, min(start, run.last_seq)), media_type="text/event-stream", headers=HEADERS)


@router.get("/events", response_class=StreamingResponse, responses={**SSE_RESPONSE, **errors(401)})
async def tenant_events(who: Viewer, state: State,
                        since: Annotated[float | None, Query(description="Also send events since this time "
                                                             "(epoch seconds, at most an hour back).")] = None
                        ) -> StreamingResponse:
    """Every run's events in your tenant, live (for inbox views); `id:` is RUN_ID:SEQ. To catch up on
    one run exactly, use its own stream."""
    now = time.time()
    start = max(since if since is not None else now, now - 3600)
    sub = state.hub.subscribe_tenant(who.tenant, start)
    return StreamingResponse(_follow(state, sub, None), media_type="text/event-stream", headers=HEADERS)


@router.get("/schema/events.json", tags=["events"])
def event_schema() -> dict[str, Any]:
    """The JSON Schema of the event envelope; clients ignore event types they do not know."""
    return events.json_schema()
