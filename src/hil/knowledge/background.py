"""Embeds pending chunks in the background of `hil serve`, so large uploads answer by full text at
once and gain vectors as they are made.

The embedder serves every tenant, so it works like the workers: it finds the collections with
chunks waiting across tenants, then embeds each one within that collection's own tenant (a name
is only unique per tenant, and looking it up in another tenant finds the wrong collection or none).
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from hil.errors import HilError
from hil.knowledge.embedding import EmbeddingQueue
from hil.store.db import Store
from hil.store.tables import knowledge_chunks, knowledge_collections

log = logging.getLogger(__name__)
SLICE = 128  # chunks per pass, so stop() is honoured within seconds
IDLE_SECONDS = 2.0
BACKOFF_SECONDS = 30.0  # after an embedder failed (an HTTP embedder down, say)


class BackgroundEmbedder:
    def __init__(self, store: Store):
        self.store = store
        self._queues: dict[str, EmbeddingQueue] = {}  # one per tenant seen, so each keeps its index's checks
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="hil-embedder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def pending_collections(self) -> list[tuple[str, str]]:
        """(tenant, collection name) of every collection with an embedder and chunks without vectors."""
        c, k = knowledge_chunks, knowledge_collections
        with self.store.read() as conn:
            return [(r[0], r[1]) for r in conn.execute(
                sa.select(k.c.tenant_id, k.c.name).where(k.c.embedder != "none", sa.exists().where(
                    c.c.collection_id == k.c.id, c.c.embedded.is_(False))).order_by(k.c.tenant_id, k.c.name))]

    def run_once(self) -> int:
        done = 0
        for tenant, name in self.pending_collections():
            if self._stop.is_set():
                break
            try:
                done += self._queue(tenant).embed_pending(name, limit=SLICE)
            except (HilError, sa.exc.DBAPIError) as err:  # another server embedding the same chunks, or a
                log.warning("embedding %s (tenant %s) failed: %s", name, tenant, err)  # down embedder: retry later
                self._stop.wait(BACKOFF_SECONDS)
        return done

    def _queue(self, tenant: str) -> EmbeddingQueue:
        if tenant not in self._queues:
            self._queues[tenant] = EmbeddingQueue(self.store, tenant)
        return self._queues[tenant]

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self.run_once():
                self._stop.wait(IDLE_SECONDS)
