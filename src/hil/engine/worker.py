"""Workers lease runnable runs and execute them in threads.

A run parked on an approval is only rows: no thread, task or connection waits for it. A worker
renews its leases while it works; if it dies, the lease expires and any worker resumes the run
from its last finished step."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from hil import settings
from hil.engine.control import RunControl
from hil.engine.runner import StepRunner
from hil.models.llm import LLM, resolve
from hil.observe.logs import run_context
from hil.policy.models import check_model
from hil.store.db import Store
from hil.store.run_repo import RunRepo
from hil.store.scoped import ALL_TENANTS
from hil.store.workflow_repo import StoredWorkflow

log = logging.getLogger(__name__)
EXPIRY_CHECK_SECONDS = 1.0


def default_llm_factory(model_override: str | None = None) -> Callable[[StoredWorkflow], LLM]:
    def factory(stored: StoredWorkflow) -> LLM:
        m = stored.definition.model
        if not model_override:  # the workflow's own choice is checked again where it runs
            check_model(m.model)
        return resolve(model_override or m.model, temperature=m.temperature, max_tokens=m.max_tokens)
    return factory


class Worker:
    def __init__(self, store: Store, *, model: str | None = None, lease_seconds: float | None = None,
                 worker_id: str | None = None, restricted: bool = False):
        self.store = store
        self.repo = RunRepo(store, ALL_TENANTS)
        self.control = RunControl(store, ALL_TENANTS)
        self.worker_id = worker_id or f"w-{uuid.uuid4().hex[:12]}"
        self.lease_seconds = lease_seconds or settings.get_int("HIL_LEASE_SECONDS")
        self.runner = StepRunner(store, self.worker_id, default_llm_factory(model), restricted)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._held: dict[str, threading.Event] = {}  # run id -> set when its lease is lost
        self._held_lock = threading.Lock()
        self._keeper: threading.Thread | None = None
        self._expired_at = float("-inf")  # when overdue approvals were last looked for

    def run_once(self, run_id: str | None = None) -> bool:
        """Expire overdue approvals (at most once a second), then lease and execute one run (``run_id``
        if given).
        False when nothing was runnable."""
        now = time.monotonic()
        if now - self._expired_at >= EXPIRY_CHECK_SECONDS:  # as often as an idle worker looks for work
            self._expired_at = now
            self.control.expire_approvals()
        claimed = self.repo.claim_and_read(self.worker_id, self.lease_seconds, run_id, self.runner.read)
        if claimed is None:
            return False
        run, recovered, loaded = claimed
        cancelled = self._hold(run.id)
        try:
            with run_context(run.id):
                self.runner.execute(run.id, recovered=recovered, cancelled=cancelled, run=run, loaded=loaded)
        finally:
            with self._held_lock:
                self._held.pop(run.id, None)
        return True

    # -- leases: one keeper thread renews every run this worker drives --
    def _hold(self, run_id: str) -> threading.Event:
        cancelled = threading.Event()
        with self._held_lock:
            self._held[run_id] = cancelled
            if self._keeper is None:
                self._keeper = threading.Thread(target=self._keep_leases, name=f"{self.worker_id}-leases", daemon=True)
                self._keeper.start()
        return cancelled

    def _keep_leases(self) -> None:
        """Renew the leases of the runs being driven; when one cannot be kept (the run was cancelled
        or taken over), say so, so that a running query stops now rather than at its timeout. The
        thread ends when this worker drives nothing, and starts again with the next run."""
        interval = max(self.lease_seconds / 3, 0.05)
        while not self._stop.wait(interval):
            with self._held_lock:
                if not self._held:
                    self._keeper = None
                    return
                held = list(self._held.items())
            for run_id, cancelled in held:
                if not self.repo.renew(run_id, self.worker_id, self.lease_seconds):
                    cancelled.set()
        with self._held_lock:
            self._keeper = None

    def run_until_idle(self) -> int:
        n = 0
        while self.run_once():
            n += 1
        return n

    # -- background pool for `hil serve` --
    def start(self, threads: int | None = None, poll_seconds: float = 1.0) -> None:
        for i in range(threads or settings.get_int("HIL_WORKERS")):
            t = threading.Thread(target=self._loop, args=(poll_seconds,), name=f"hil-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def _loop(self, poll_seconds: float) -> None:
        while not self._stop.is_set():
            generation = self.store.generation()
            try:
                worked = self.run_once()
            except Exception:
                log.exception("worker %s: leasing or driving a run failed", self.worker_id)
                worked = False
            if not worked:
                self.store.wait_for_change(generation, poll_seconds)

    def stop(self) -> None:
        self._stop.set()
        self.store.notify()
        for t in self._threads:
            t.join(timeout=10)
        self.runner.reading.wait(timeout=30)
