"""The embedding queue: chunks without a vector are embedded in batches, after ingestion.

Embedding is the slow step, so it is kept out of ingestion: a document is searchable by full text
as soon as it is indexed, and gains vectors here — right away (`hil knowledge add`), up to a limit
before a run searches, or in the server's background (:mod:`hil.knowledge.background`). Each batch
is written in one transaction with the revision bump and the documents it completes.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from hil.knowledge.collections import Collections, bump_revision
from hil.knowledge.embedders import get_embedder
from hil.knowledge.ingest import IngestEvent, OnEvent, OnProgress, noop
from hil.store.db import Store
from hil.store.scoped import TenantScoped
from hil.store.tables import knowledge_chunks, knowledge_collections, knowledge_documents


class EmbeddingQueue(TenantScoped):
    """The chunks of one tenant's collections that wait for their vectors."""

    def __init__(self, store: Store, tenant: str, *, collections: Collections | None = None):
        super().__init__(store, tenant)
        self.collections = Collections.shared(store, tenant, collections)

    def pending(self, name: str) -> int:
        """Chunks of the collection that have no vector yet."""
        row = self.collections.get(name)
        c = knowledge_chunks
        with self.store.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).where(
                c.c.collection_id == row["id"], c.c.embedded.is_(False))).scalar_one())

    def embed_pending(self, name: str, on_progress: OnProgress = noop, on_event: OnEvent = noop,
                      limit: int | None = None) -> int:
        """Embed chunks that have no vector yet, in batches; returns how many were embedded. A
        document whose last chunk gets its vector is reported ``indexed``."""
        row = self.collections.get(name)
        embedder = get_embedder(row["embedder"])
        if embedder is None:
            return 0
        total = self.pending(name) if limit is None else min(limit, self.pending(name))
        done = 0
        on_progress(0, total)
        while done < total:
            batch = self._next_batch(row["id"], min(embedder.batch, total - done))
            if not batch:  # another process embedded them meanwhile
                break
            vectors = embedder.passages([_embedding_text(r) for r in batch])
            with self.store.write() as conn:
                self.collections.index.set_vectors(conn, row["id"], [r["id"] for r in batch], vectors)
                bump_revision(conn, row["id"])
                finished = _mark_indexed(conn, {r["document_id"] for r in batch})
            for doc in finished:
                on_event(IngestEvent(name, doc["source"], "indexed", chunks=doc["chunks"], document_id=doc["id"]))
            done += len(batch)
            on_progress(done, total)
        return done

    def change_embedder(self, name: str, spec: str) -> int:
        """Switch a collection to another embedder: its vectors are cleared and made again (vectors of
        two models are not comparable). Returns the chunks now waiting."""
        row = self.collections.get(name)
        if spec == row["embedder"]:
            return 0
        model = get_embedder(spec)
        d = knowledge_documents
        with self.store.write() as conn:
            self.collections.index.clear_vectors(conn, row["id"])
            conn.execute(knowledge_collections.update().where(knowledge_collections.c.id == row["id"]).values(
                embedder=spec if model else "none", dim=model.dim if model else None))
            conn.execute(d.update().where(d.c.collection_id == row["id"], d.c.status.in_(("indexed", "embedding")))
                         .values(status="embedding" if model else "indexed"))
            bump_revision(conn, row["id"])
        return self.pending(name) if model else 0

    def _next_batch(self, collection_id: str, size: int) -> list[dict[str, Any]]:
        c = knowledge_chunks
        with self.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(
                sa.select(c.c.id, c.c.document_id, c.c.title, c.c.heading, c.c.text)
                .where(c.c.collection_id == collection_id, c.c.embedded.is_(False)).order_by(c.c.id).limit(size))]


def _mark_indexed(conn: sa.Connection, document_ids: set[str]) -> list[dict[str, Any]]:
    """Documents of the batch with no chunk left to embed become ``indexed`` (in the batch's
    transaction); returns them."""
    c, d = knowledge_chunks, knowledge_documents
    still = {r[0] for r in conn.execute(sa.select(c.c.document_id).where(
        c.c.document_id.in_(document_ids), c.c.embedded.is_(False)).distinct())}
    done = [i for i in document_ids if i not in still]
    if not done:
        return []
    conn.execute(d.update().where(d.c.id.in_(done), d.c.status == "embedding").values(
        status="indexed", updated_at=time.time()))
    return [dict(r._mapping) for r in conn.execute(sa.select(d.c.id, d.c.source, d.c.chunks).where(d.c.id.in_(done)))]


def _embedding_text(chunk: dict[str, Any]) -> str:
    """The chunk as embedded: its title and heading go first, unless its first 200 characters already
    hold them (a chunk that opens with its heading), so the vector knows what the passage is about."""
    context = " — ".join(p for p in (chunk["title"], chunk["heading"]) if p and p not in chunk["text"][:200])
    return f"{context}\n{chunk['text']}" if context else chunk["text"]
