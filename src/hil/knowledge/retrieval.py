"""Search across collections, and what a run retrieves.

Each collection is searched with its own embedder (vectors of two models are not comparable) and
the snippets are merged by score. A run first syncs its workflow's knowledge paths, so an edited or
deleted file is seen by the next run, and embeds a bounded number of new chunks before it searches;
whatever is left is found by full text and embedded later.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hil.knowledge.collections import Collections
from hil.knowledge.embedders import Embedder, get_embedder
from hil.knowledge.embedding import EmbeddingQueue
from hil.knowledge.index import NO_FILTERS, Filters, Mode, Rerank, Snippet
from hil.knowledge.ingest import Ingester
from hil.store.db import Store
from hil.store.scoped import TenantScoped
from hil.workflows import Workflow

RUN_EMBED_LIMIT = 64  # chunks a run embeds before it searches; ~5 s with the default embedder


class Retriever(TenantScoped):
    """Searches the collections of one tenant; the step runner builds one per run, in the run's tenant."""

    def __init__(self, store: Store, tenant: str, *, collections: Collections | None = None):
        super().__init__(store, tenant)
        self.collections = Collections.shared(store, tenant, collections)
        self._ingester = Ingester(store, tenant, collections=self.collections)
        self._embedding = EmbeddingQueue(store, tenant, collections=self.collections)

    def search(self, names: Iterable[str], query: str, k: int = 4, mode: Mode = "hybrid",
               filters: Filters = NO_FILTERS, rerank: Rerank | None = None) -> list[Snippet]:
        """The best ``k`` snippets across collections; each collection is searched with its own embedder."""
        found: list[Snippet] = []
        for name in names:
            row = self.collections.get(name)
            embedder: Embedder | None = get_embedder(row["embedder"]) if mode != "bm25" else None
            query_vector = embedder.query if embedder else None
            found.extend(self.collections.index.search(row, query, k, mode, filters, query_vector, rerank))
        found.sort(key=lambda s: -s.score)
        return found[:k]

    def retrieve(self, workflow: Workflow, query: str, k: int) -> list[dict[str, Any]]:
        """Snippets for a run: each knowledge source with paths is synced first (unchanged files cost a
        stat), and up to RUN_EMBED_LIMIT new chunks are embedded; the rest wait for the background."""
        names = []
        for source in workflow.knowledge:
            if source.paths:
                self._ingester.add(source.name, source.paths, prune=True)
                self._embedding.embed_pending(source.name, limit=RUN_EMBED_LIMIT)
            names.append(source.name)
        return [s.to_dict() for s in self.search(names, query, k)]
