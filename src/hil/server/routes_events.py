"""Server-Sent Events: one run's events, or every run's events in the caller's tenant.

A run's stream replays from the durable log and then follows it live: `id:` is the run's seq,
so a client that reconnects with Last-Event-ID (or ?after=SEQ) gets every later event exactly
once. The stream ends after the run's terminal event. A comment line is sent as a heartbeat
whenever nothing else was sent for a while, so proxies keep the connection open.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from hil import events
from hil.errors import InvalidRequest
from hil.events import TERMINAL_TYPES, Event
from hil.server.deps import ApiKey, ServerState, State, Viewer, still_allowed
from hil.server.hub import Subscription, frame
from hil.server.schemas import MAX_INT, errors
from hil.services.runs import TERMINAL_STATUSES, RunService

router = APIRouter(tags=["events"])

SSE_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"description": "text/event-stream of event envelopes "
                                                        "(see /api/v1/schema/events.json)",
                                                        "content": {"text/event-stream": {"schema": {"type": "string"}}}}}
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _resume_point(after: int | None, last_event_id: str | None) -> int:
    if last_event_id:
        try:
            seq = int(last_event_id.rsplit(":", 1)[-1])
            if not 0 <= seq <= MAX_INT:
                raise ValueError(seq)
            return seq
        except ValueError:
            raise InvalidRequest("Last-Event-ID must be the id of an event of this stream (its seq)",
                                 details={"errors": [{"loc": "header.last-event-id", "msg": "not a number"}]}) from None
    return after or 0


def closing(reason: str) -> bytes:
    """The last frame of a stream whose caller may no longer read it; it has no id, so a client's
    Last-Event-ID still points at the last event it got."""
    return f"event: stream.closed\ndata: {json.dumps({'reason': reason})}\n\n".encode()


async def _follow(state: ServerState, sub: Subscription, last: int | None,
                  allowed: Callable[[], str | None]) -> AsyncIterator[bytes]:
    """Frames from the hub; ``last`` is the seq already sent (None on the tenant stream: no dedupe by seq).
    The caller's key is checked again every ``recheck_seconds`` and before each batch is sent, so a
    revoked key's stream closes within seconds."""
    loop = asyncio.get_running_loop()

    async def refused() -> str | None:
        return await run_in_threadpool(allowed) if state.auth else None

    try:
        yield b": stream open\n\n"
        sent_at = checked_at = loop.time()
        while True:
            if sub.queue.empty():
                wait = min(state.recheck_seconds, max(state.heartbeat_seconds - (loop.time() - sent_at), 0.01))
                try:
                    first = await asyncio.wait_for(sub.queue.get(), timeout=wait)
                except TimeoutError:
                    if loop.time() - checked_at >= state.recheck_seconds:
                        checked_at = loop.time()
                        if reason := await refused():
                            yield closing(reason)
                            return
                    if loop.time() - sent_at >= state.heartbeat_seconds:
                        sent_at = loop.time()
                        yield b": heartbeat\n\n"
                    continue
            else:
                first = sub.queue.get_nowait()
            if reason := await refused():
                yield closing(reason)
                return
            checked_at = loop.time()
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
                sent_at = loop.time()
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
async def run_events(run_id: str, who: Viewer, state: State, key: ApiKey,
                     after: Annotated[int | None, Query(ge=0, le=MAX_INT, description="Send events after this seq.")] = None,
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
    return StreamingResponse(_follow(state, sub, min(start, run.last_seq), still_allowed(state, key, who, "viewer")),
                             media_type="text/event-stream", headers=HEADERS)


@router.get("/events", response_class=StreamingResponse, responses={**SSE_RESPONSE, **errors(401)})
async def tenant_events(who: Viewer, state: State, key: ApiKey,
                        since: Annotated[float | None, Query(ge=0, le=1e11, allow_inf_nan=False,
                                                             description="Also send events since this time "
                                                             "(epoch seconds, at most an hour back).")] = None
                        ) -> StreamingResponse:
    """Every run's events in your tenant, live (for inbox views); `id:` is RUN_ID:SEQ. To catch up on
    one run exactly, use its own stream."""
    now = time.time()
    start = max(since if since is not None else now, now - 3600)
    sub = state.hub.subscribe_tenant(who.tenant, start)
    return StreamingResponse(_follow(state, sub, None, still_allowed(state, key, who, "viewer")),
                             media_type="text/event-stream", headers=HEADERS)


@router.get("/schema/events.json", tags=["events"])
def event_schema() -> dict[str, Any]:
    """The JSON Schema of the event envelope; clients ignore event types they do not know."""
    return events.json_schema()
