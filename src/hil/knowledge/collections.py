"""The knowledge collections of one tenant and the rows of their documents.

This module owns the collection and document rows: finding a collection (by name or id, only
within the tenant), creating it, listing, removing, and the document status rows that ingestion
and embedding write. What goes into a document (parsing, chunking) is :mod:`hil.knowledge.ingest`;
its vectors are :mod:`hil.knowledge.embedding`.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hil import settings
from hil.errors import ConfigError, NotFound
from hil.knowledge import tables
from hil.knowledge.embedders import get_embedder
from hil.knowledge.index import ChunkIndex
from hil.store.connection_repo import ConnectionRepo
from hil.store.db import Store
from hil.store.scoped import TenantScoped
from hil.store.tables import knowledge_collections, knowledge_documents

STATUSES = ("queued", "parsing", "embedding", "indexed", "failed")
COLLECTION_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"


def bump_revision(conn: sa.Connection, collection_id: str) -> None:
    """Mark a collection changed (inside the caller's write): the in-process vector matrix that
    :class:`ChunkIndex` caches per collection is reloaded when the revision moves."""
    k = knowledge_collections
    conn.execute(k.update().where(k.c.id == collection_id).values(revision=k.c.revision + 1))


class Collections(TenantScoped):
    """The collections and documents of one tenant. ``index`` is shared with the other parts built
    over the same object, so the pgvector check is made once."""

    def __init__(self, store: Store, tenant: str, index: ChunkIndex | None = None):
        super().__init__(store, tenant)
        self.index = index or ChunkIndex(store)

    @staticmethod
    def shared(store: Store, tenant: str, given: Collections | None) -> Collections:
        """``given`` when a part is built over another part's collections (it must be the same store
        and tenant, or the parts would disagree on whose data they touch), else a new one."""
        if given is None:
            return Collections(store, tenant)
        if given.store is not store or given.tenant != tenant:
            raise ValueError(f"collections of tenant {given.tenant!r} cannot serve tenant {tenant!r}")
        return given

    # -- collections --
    def find(self, name: str) -> dict[str, Any] | None:
        """A collection of the tenant by name or id, or None."""
        with self.store.read() as conn:
            return self._row(conn, name)

    def get(self, name: str) -> dict[str, Any]:
        row = self.find(name)
        if row is None:
            raise NotFound(f"no knowledge collection named {name!r}",
                           hint="see `hil knowledge list`, or add documents with `hil knowledge add`")
        return row

    def get_or_create(self, name: str, embedder: str | None = None) -> dict[str, Any]:
        """The collection, created with ``embedder`` (default HIL_EMBEDDER) if it does not exist;
        an existing collection keeps its own embedder."""
        row = self.find(name)
        if row is not None:
            return row
        if not re.fullmatch(COLLECTION_NAME, name):
            raise ConfigError(f"collection name {name!r} is not valid",
                              hint="use lower-case letters, digits, '-' and '_' (at most 64)")
        spec = embedder or settings.get_str("HIL_EMBEDDER")
        model = get_embedder(spec)  # fails now, with the reason, if the embedder cannot load
        values = {"id": str(uuid.uuid4()), "tenant_id": self.owner, "name": name, "embedder": spec if model else "none",
                  "dim": model.dim if model else None, "revision": 0, "created_at": time.time()}
        with self.store.write() as conn:
            if self._row(conn, name) is None:  # another caller may have created it since the read
                conn.execute(knowledge_collections.insert().values(**values))
            return self._row(conn, name) or values

    def list_all(self) -> list[dict[str, Any]]:
        """The tenant's collections by name, each with its document count per status and its chunks."""
        k, d = knowledge_collections, knowledge_documents
        with self.store.read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(
                sa.select(k).where(self.mine(k.c.tenant_id)).order_by(k.c.name))]
            counts = conn.execute(sa.select(d.c.collection_id, d.c.status, sa.func.count(), sa.func.sum(d.c.chunks))
                                  .where(d.c.collection_id.in_(sa.select(k.c.id).where(self.mine(k.c.tenant_id))))
                                  .group_by(d.c.collection_id, d.c.status)).all()
        for row in rows:
            mine = [c for c in counts if c[0] == row["id"]]
            row["documents"] = {c[1]: int(c[2]) for c in mine}
            row["chunks"] = sum(int(c[3] or 0) for c in mine)
        return rows

    def remove(self, name: str) -> int:
        """Remove a collection, its documents and chunks, and the tables it offered to SQL; returns
        how many documents it had."""
        row = self.get(name)
        with self.store.write() as conn:
            ids = [r[0] for r in conn.execute(sa.select(knowledge_documents.c.id).where(
                knowledge_documents.c.collection_id == row["id"]))]
            for doc in ids:
                self.index.delete_document(conn, doc)
            conn.execute(knowledge_documents.delete().where(knowledge_documents.c.collection_id == row["id"]))
            conn.execute(knowledge_collections.delete().where(knowledge_collections.c.id == row["id"]))
        if tables.owns_connection(self.store, row["name"], self.owner):  # never someone else's of that name
            ConnectionRepo(self.store, self.scope).remove(tables.connection_name(row["name"]))
        tables.database_path(row["name"], self.owner).unlink(missing_ok=True)
        return len(ids)

    # -- documents --
    def documents(self, name: str) -> list[dict[str, Any]]:
        """Each document's row without its text (which can be large), by source."""
        cid = self.get(name)["id"]
        d = knowledge_documents
        with self.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(
                sa.select(*[c for c in d.c if c.name != "text"]).where(d.c.collection_id == cid).order_by(d.c.source))]

    def remove_document(self, name: str, document: str) -> dict[str, Any]:
        """Remove a document, named by its id or its source (a path is resolved first)."""
        row = self.get(name)
        d = knowledge_documents
        candidates = {document, str(Path(document).expanduser().resolve())}
        with self.store.write() as conn:
            doc = conn.execute(sa.select(d.c.id, d.c.source, d.c.tables).where(
                d.c.collection_id == row["id"], sa.or_(d.c.id == document, d.c.source.in_(candidates)))).first()
            if doc is None:
                raise NotFound(f"no document {document!r} in collection {name!r}",
                               hint=f"see `hil knowledge status {name}`")
            tables.withdraw(row["name"], self.owner, doc.tables or [])
            self.index.delete_document(conn, doc.id)
            conn.execute(d.delete().where(d.c.id == doc.id))
            bump_revision(conn, row["id"])
        return {"id": doc.id, "source": doc.source}

    def document_text(self, document_id: str) -> str | None:
        """The parsed text of a document of the tenant: citations are character spans into it."""
        d, k = knowledge_documents, knowledge_collections
        with self.store.read() as conn:
            text: str | None = conn.execute(sa.select(d.c.text).join(k, k.c.id == d.c.collection_id).where(
                d.c.id == document_id, self.mine(k.c.tenant_id))).scalar()
        return text

    # -- document status rows (``collection_id`` comes from a lookup above, so it is the tenant's) --
    def document(self, collection_id: str, source: str) -> dict[str, Any] | None:
        """What ingestion needs to decide whether a source changed."""
        d = knowledge_documents
        with self.store.read() as conn:
            doc = conn.execute(sa.select(d.c.id, d.c.content_hash, d.c.status, d.c.chunks, d.c.size, d.c.modified_at).where(
                d.c.collection_id == collection_id, d.c.source == source)).first()
        return dict(doc._mapping) if doc else None

    def sources(self, collection_id: str) -> list[str]:
        with self.store.read() as conn:
            return [r[0] for r in conn.execute(sa.select(knowledge_documents.c.source).where(
                knowledge_documents.c.collection_id == collection_id))]

    def set_status(self, collection_id: str, source: str, status: str, reason: str | None = None,
                   drop_chunks: bool = False, **values: Any) -> str:
        """Create the document's row or move it to ``status``; ``drop_chunks`` removes its chunks in the
        same transaction (a failed document must not keep answering searches). Returns its id."""
        d = knowledge_documents
        now = time.time()
        with self.store.write() as conn:
            doc = conn.execute(sa.select(d.c.id).where(d.c.collection_id == collection_id, d.c.source == source)).first()
            if doc is None:
                doc_id = str(uuid.uuid4())
                conn.execute(d.insert().values(id=doc_id, collection_id=collection_id, source=source,
                                               title=Path(source).name, kind=Path(source).suffix.lstrip(".") or "?",
                                               chunks=0, created_at=now, updated_at=now, status=status,
                                               reason=reason, **values))
            else:
                doc_id = doc.id
                if drop_chunks:
                    self.index.delete_document(conn, doc_id)
                    values["chunks"] = 0
                    bump_revision(conn, collection_id)
                conn.execute(d.update().where(d.c.id == doc_id).values(status=status, reason=reason, updated_at=now,
                                                                        **values))
        return doc_id

    def touch(self, document_id: str, modified_at: float | None) -> None:
        """Record a new modification time for a document whose bytes did not change."""
        with self.store.write() as conn:
            conn.execute(knowledge_documents.update().where(knowledge_documents.c.id == document_id)
                         .values(modified_at=modified_at))

    # -- internals --
    def _row(self, conn: sa.Connection, name: str) -> dict[str, Any] | None:
        k = knowledge_collections
        row = conn.execute(sa.select(k).where(sa.or_(k.c.name == name, k.c.id == name),
                                              self.mine(k.c.tenant_id))).first()
        return dict(row._mapping) if row else None
