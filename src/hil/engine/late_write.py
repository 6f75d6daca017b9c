"""A step's start is written when the step turns out not to be instant.

Writing ``step.started`` in a transaction of its own before every step cost a commit per step,
most of an instant step's price (a plug-in, the Reasoner without calculations). Instead the start
waits in the run's pending events and goes with the step's next write (its first event, its
approval, its end); only a step still running after :data:`DELAY` seconds has its start written
by this timer, so a client sees a model call or a query as started within that time.

One timer thread per runner, alive while some run has a start waiting; it writes through the
runner's own flush, which holds the store's write lock and the runner's pending lock."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
DELAY = 0.05  # seconds: far below what a person notices, far above an instant step


class LateWrite:
    def __init__(self, flush: Callable[[str], None], delay: float | None = None):
        self._flush = flush
        self._delay = DELAY if delay is None else delay
        self._due: dict[str, float] = {}  # run id -> when its waiting events are written
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def arm(self, run_id: str) -> None:
        """The run has events waiting: write them in ``delay`` seconds unless they went before."""
        with self._lock:
            self._due.setdefault(run_id, time.monotonic() + self._delay)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="hil-late-write", daemon=True)
                self._thread.start()

    def disarm(self, run_id: str) -> None:
        """The run's waiting events were written (or dropped): nothing to do for it."""
        with self._lock:
            self._due.pop(run_id, None)

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._due:
                    self._thread = None
                    return
                now = time.monotonic()
                ready = [r for r, at in self._due.items() if at <= now]
                for r in ready:
                    del self._due[r]
                wait = 0.0 if ready else min(self._due.values()) - now
            if wait > 0:
                time.sleep(wait)  # no wake-up on arm: a new entry is never due before the earliest one
                continue
            for run_id in ready:
                try:
                    self._flush(run_id)
                except Exception:  # the run's own thread meets the same failure at its next write
                    log.debug("writing run %s's waiting events failed", run_id, exc_info=True)
