"""Reading ahead: while a run waits for a person, the model reads what it will be asked next.

A person takes seconds to read a plan or a query; the embedded model prefills a prompt at tens of
tokens a second. When a run parks, the next step that will call the model is asked for the start of
its prompt (:meth:`hil.agents.base.Agent.read_ahead`): at the plan, the SQL agent's prompt for the
plan's purpose; at the query, the Responder's rules and the passages already retrieved. The model
reads it into its prompt cache in a background thread, so after the decision the call reads only
what the decision changed or added (the query's rows, the question).

Nothing here writes to the store or emits an event: a read ahead that turns out useless (the plan
was edited, the run cancelled) costs only the model's time. One read at a time per worker; a park
while one is going on reads nothing ahead.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

from hil.engine.state import RunState

log = logging.getLogger(__name__)

FINAL_STEPS = ("reasoner", "responder")


def upcoming(state: RunState, parked_at: str) -> list[tuple[str, str]]:
    """The steps that run after the one the run is parked at, with their purposes. Parked at the
    plan, they are the pending draft's (the plan a person is reading)."""
    if parked_at == "planner":
        planner = state.steps.get("planner")
        drafts = planner.drafts if planner else []
        content: dict[str, Any] = drafts[-1].content if drafts else {}
        steps = list(content.get("steps") or [])
    else:
        steps = state.plan()
    names = [(str(s["agent"]), str(s.get("purpose") or "")) for s in steps] + [(n, "") for n in FINAL_STEPS]
    after = [n for n, _ in names]
    start = after.index(parked_at) + 1 if parked_at in after else 0
    return names[start:]


class ReadAhead:
    """One background read at a time."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        _all.add(self)

    def start(self, work: Callable[[], None], name: str) -> bool:
        """Run ``work`` in a background thread, unless a read is already going on (then False)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._thread = threading.Thread(target=self._guarded, args=(work,), name=name, daemon=True)
            self._thread.start()
            return True

    @staticmethod
    def _guarded(work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:  # a read ahead only saves time: its failure must not reach the run
            log.warning("reading ahead failed", exc_info=True)

    def wait(self, timeout: float | None = None) -> None:
        """Until the current read (if any) is done: a process waits for it before it exits."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


_all: weakref.WeakSet[ReadAhead] = weakref.WeakSet()
EXIT_WAIT_SECONDS = 30.0


@atexit.register
def _finish_reads() -> None:
    # A read is native code in the model runtime: the process must not tear the runtime down under
    # it, so an exiting process waits for it (seconds: a prompt's prefill).
    for reading in list(_all):
        reading.wait(EXIT_WAIT_SECONDS)
