"""Knowledge collections of one tenant: the service the CLI, the server and the demo call.

The work is done by the knowledge layer's parts, built here over one shared
:class:`~hil.knowledge.collections.Collections` so they agree on the tenant and share one index:
collections and documents, ingestion, the embedding queue, and retrieval. This class only puts
them behind one door, with ingestion and embedding joined the way a caller expects from `add`.
The server's background embedder is re-exported so the server need not reach into the layer.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hil.errors import NotFound
from hil.knowledge import tables
from hil.knowledge.background import BackgroundEmbedder
from hil.knowledge.collections import Collections
from hil.knowledge.embedding import EmbeddingQueue
from hil.knowledge.index import NO_FILTERS, ChunkIndex, Filters, Mode, Rerank, Snippet
from hil.knowledge.ingest import Ingester, IngestEvent, IngestReport, OnEvent, OnProgress, noop
from hil.knowledge.retrieval import Retriever
from hil.store.db import Store
from hil.store.scoped import TenantScoped
from hil.workflows import Workflow

__all__ = ["BackgroundEmbedder", "KnowledgeService"]


class KnowledgeService(TenantScoped):
    """The knowledge collections of one tenant."""

    def __init__(self, store: Store, tenant: str):
        super().__init__(store, tenant)
        self._collections = Collections(store, tenant)
        self._ingester = Ingester(store, tenant, collections=self._collections)
        self._embedding = EmbeddingQueue(store, tenant, collections=self._collections)
        self._retriever = Retriever(store, tenant, collections=self._collections)

    @property
    def index(self) -> ChunkIndex:
        """The chunk index (the retrieval eval writes its one-chunk documents straight into it)."""
        return self._collections.index

    # -- collections and documents --
    def collection(self, name: str, create: bool = False, embedder: str | None = None) -> dict[str, Any]:
        """A collection by name or id; with ``create``, made with ``embedder`` if it does not exist."""
        if create:
            return self._collections.get_or_create(name, embedder)
        return self._collections.get(name)

    def collections(self) -> list[dict[str, Any]]:
        return self._collections.list_all()

    def documents(self, name: str) -> list[dict[str, Any]]:
        return self._collections.documents(name)

    def remove_collection(self, name: str) -> int:
        return self._collections.remove(name)

    def remove_document(self, name: str, document: str) -> dict[str, Any]:
        """Remove a document, named by its id or its source (a path is resolved first)."""
        return self._collections.remove_document(name, document)

    def document_text(self, document_id: str) -> str | None:
        return self._collections.document_text(document_id)

    def document(self, name: str, document_id: str) -> dict[str, Any]:
        """A document of the collection with its parsed text (what citations' spans point into)."""
        row = self._collections.get(name)
        found = next((d for d in self._collections.documents(row["name"]) if d["id"] == document_id), None)
        text = self._collections.document_text(document_id) if found else None
        if found is None or text is None:
            raise NotFound(f"no document {document_id!r} in collection {row['name']!r}",
                           hint=f"list them with GET /collections/{row['name']}/documents")
        return {"id": found["id"], "collection": row["name"], "source": found["source"],
                "title": found.get("title") or "", "text": text}

    # -- ingestion and embedding --
    def add(self, name: str, paths: Iterable[str | Path], on_event: OnEvent = noop, embed: bool = True,
            on_progress: OnProgress = noop, embed_limit: int | None = None, prune: bool = False) -> IngestReport:
        """Ingest files and folders, then (with ``embed``) embed up to ``embed_limit`` chunks; the
        report holds the embedding's ``indexed`` events too. With ``prune``, documents that were
        under these folders and are gone from disk are removed."""
        report = self._ingester.add(name, paths, on_event, prune=prune)
        if embed:
            self._embedding.embed_pending(name, on_progress, on_event=report.recorder(on_event), limit=embed_limit)
        return report

    def check_tables_connection(self, name: str) -> None:
        """409 when the connection that would hold the collection's CSV/XLSX tables is somebody else's."""
        tables.check_connection_free(self.store, self.collection(name)["name"], self.owner)

    def ingest_bytes(self, name: str, source: str, data: bytes, on_event: OnEvent = noop,
                     modified_at: float | None = None) -> IngestEvent:
        """Ingest one upload; ``source`` is its name. The caller embeds later (embed_pending)."""
        return self._ingester.ingest_bytes(name, source, data, on_event, modified_at)

    def pending(self, name: str) -> int:
        return self._embedding.pending(name)

    def embed_pending(self, name: str, on_progress: OnProgress = noop, on_event: OnEvent = noop,
                      limit: int | None = None) -> int:
        """Embed chunks that have no vector yet, in batches; returns how many were embedded."""
        return self._embedding.embed_pending(name, on_progress, on_event, limit)

    def change_embedder(self, name: str, spec: str) -> int:
        """Switch a collection to another embedder: its vectors are cleared and made again."""
        return self._embedding.change_embedder(name, spec)

    # -- search --
    def search(self, names: Iterable[str], query: str, k: int = 4, mode: Mode = "hybrid",
               filters: Filters = NO_FILTERS, rerank: Rerank | None = None) -> list[Snippet]:
        """The best ``k`` snippets across collections; each collection is searched with its own embedder."""
        return self._retriever.search(names, query, k, mode, filters, rerank)

    def retrieve(self, workflow: Workflow, query: str, k: int) -> list[dict[str, Any]]:
        """Snippets for a run, after syncing the workflow's knowledge paths (as the step runner does)."""
        return self._retriever.retrieve(workflow, query, k)
