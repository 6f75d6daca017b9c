"""Knowledge collections: ingest files, track each document's status, embed, search.

A document goes queued -> parsing -> embedding -> indexed, or failed with a reason; every change
is written to its row and reported to the caller's ``on_event``. A file whose content hash is
unchanged is skipped; a changed one has its chunks replaced in one transaction, so a search
never sees half of a document. Embedding runs after indexing, in batches: until a chunk has its
vector, full text finds it.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from hil import settings
from hil.errors import ConfigError, NotFound
from hil.knowledge import tables
from hil.knowledge.chunking import chunk_text
from hil.knowledge.embedders import Embedder, get_embedder
from hil.knowledge.index import NO_FILTERS, ChunkIndex, Filters, Mode, Rerank, Snippet, collection_row
from hil.knowledge.parsers import Parsed, Unreadable, parse
from hil.store.connection_repo import ConnectionRepo
from hil.store.db import Store
from hil.store.tables import DEFAULT_TENANT, knowledge_chunks, knowledge_collections, knowledge_documents
from hil.workflows import Workflow

RUN_EMBED_LIMIT = 64  # chunks a run embeds before it searches; ~5 s with the default embedder
STATUSES = ("queued", "parsing", "embedding", "indexed", "failed")
COLLECTION_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"


@dataclass
class IngestEvent:
    """One step of one document; ``status`` is a document status, ``unchanged`` or ``removed``."""

    collection: str
    source: str
    status: str
    reason: str | None = None
    chunks: int = 0
    document_id: str | None = None
    tables: list[str] = field(default_factory=list)  # CSV/XLSX tables offered to SQL


@dataclass
class IngestReport:
    collection: str
    events: list[IngestEvent] = field(default_factory=list)

    def count(self, status: str) -> int:
        final = {e.source: e.status for e in self.events}
        return sum(1 for s in final.values() if s == status)

    @property
    def failed(self) -> list[IngestEvent]:
        return [e for e in self.events if e.status == "failed"]


OnEvent = Callable[[IngestEvent], None]
OnProgress = Callable[[int, int], None]  # chunks embedded so far, chunks to embed


def _noop(_e: Any, *_a: Any) -> None:
    return None


def collect_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and every non-hidden file under folders named; a missing path is an error."""
    files: list[Path] = []
    for p in paths:
        path = Path(p).expanduser()
        if path.is_dir():
            files.extend(sorted(f for f in path.rglob("*") if f.is_file()
                                and not any(part.startswith(".") for part in f.relative_to(path).parts)))
        elif path.is_file():
            files.append(path)
        else:
            raise NotFound(f"{path}: no such file or folder", hint="give files or folders to ingest")
    return list(dict.fromkeys(f.resolve() for f in files))


class KnowledgeService:
    """The knowledge collections of one tenant."""

    def __init__(self, store: Store, tenant: str = DEFAULT_TENANT):
        self.store = store
        self.tenant = tenant
        self.index = ChunkIndex(store)

    # -- collections --
    def collection(self, name: str, create: bool = False, embedder: str | None = None) -> dict[str, Any]:
        with self.store.read() as conn:
            row = collection_row(conn, name, self.tenant)
        if row is not None:
            return row
        if not create:
            raise NotFound(f"no knowledge collection named {name!r}",
                           hint="see `hil knowledge list`, or add documents with `hil knowledge add`")
        if not re.fullmatch(COLLECTION_NAME, name):
            raise ConfigError(f"collection name {name!r} is not valid",
                              hint="use lower-case letters, digits, '-' and '_' (at most 64)")
        spec = embedder or settings.get_str("HIL_EMBEDDER")
        model = get_embedder(spec)  # fails now, with the reason, if the embedder cannot load
        values = {"id": str(uuid.uuid4()), "tenant_id": self.tenant, "name": name, "embedder": spec if model else "none",
                  "dim": model.dim if model else None, "revision": 0, "created_at": time.time()}
        with self.store.write() as conn:
            if collection_row(conn, name, self.tenant) is None:
                conn.execute(knowledge_collections.insert().values(**values))
            return collection_row(conn, name, self.tenant) or values

    def collections(self) -> list[dict[str, Any]]:
        d = knowledge_documents
        with self.store.read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(
                sa.select(knowledge_collections).where(knowledge_collections.c.tenant_id == self.tenant)
                .order_by(knowledge_collections.c.name))]
            counts = conn.execute(sa.select(d.c.collection_id, d.c.status, sa.func.count(), sa.func.sum(d.c.chunks))
                                  .group_by(d.c.collection_id, d.c.status)).all()
        for row in rows:
            mine = [c for c in counts if c[0] == row["id"]]
            row["documents"] = {c[1]: int(c[2]) for c in mine}
            row["chunks"] = sum(int(c[3] or 0) for c in mine)
        return rows

    def documents(self, name: str) -> list[dict[str, Any]]:
        cid = self.collection(name)["id"]
        d = knowledge_documents
        with self.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(
                sa.select(*[c for c in d.c if c.name != "text"]).where(d.c.collection_id == cid).order_by(d.c.source))]

    def remove_collection(self, name: str) -> int:
        row = self.collection(name)
        with self.store.write() as conn:
            ids = [r[0] for r in conn.execute(sa.select(knowledge_documents.c.id).where(
                knowledge_documents.c.collection_id == row["id"]))]
            for doc in ids:
                self.index.delete_document(conn, doc)
            conn.execute(knowledge_documents.delete().where(knowledge_documents.c.collection_id == row["id"]))
            conn.execute(knowledge_collections.delete().where(knowledge_collections.c.id == row["id"]))
        tables.database_path(row["name"], self.tenant).unlink(missing_ok=True)
        with contextlib.suppress(NotFound):
            ConnectionRepo(self.store, self.tenant).remove(tables.connection_name(row["name"]))
        return len(ids)

    def remove_document(self, name: str, document: str) -> dict[str, Any]:
        """Remove a document, named by its id or its source (a path is resolved first)."""
        row = self.collection(name)
        d = knowledge_documents
        candidates = {document, str(Path(document).expanduser().resolve())}
        with self.store.write() as conn:
            doc = conn.execute(sa.select(d.c.id, d.c.source, d.c.tables).where(
                d.c.collection_id == row["id"], sa.or_(d.c.id == document, d.c.source.in_(candidates)))).first()
            if doc is None:
                raise NotFound(f"no document {document!r} in collection {name!r}",
                               hint=f"see `hil knowledge status {name}`")
            tables.withdraw(row["name"], self.tenant, doc.tables or [])
            self.index.delete_document(conn, doc.id)
            conn.execute(d.delete().where(d.c.id == doc.id))
            self._bump(conn, row["id"])
        return {"id": doc.id, "source": doc.source}

    # -- ingestion --
    def add(self, name: str, paths: Iterable[str | Path], on_event: OnEvent = _noop, embed: bool = True,
            on_progress: OnProgress = _noop, embed_limit: int | None = None, prune: bool = False) -> IngestReport:
        """Ingest files and folders; with ``prune``, documents that were under these folders and are
        gone from disk are removed (a workflow's paths mirror their folders)."""
        paths = list(paths)
        files = collect_files(paths)
        row = self.collection(name, create=True)
        report = IngestReport(name)

        def tell(event: IngestEvent) -> None:
            report.events.append(event)
            on_event(event)

        if prune:
            for source in self._vanished(row["id"], paths, {str(f) for f in files}):
                self.remove_document(name, source)
                tell(IngestEvent(name, source, "removed"))

        for f in files:
            tell(IngestEvent(name, str(f), "queued"))
        for f in files:
            self._ingest_file(row, f, tell)
        if embed:
            self.embed_pending(name, on_progress, on_event=tell, limit=embed_limit)
        return report

    def ingest_bytes(self, name: str, source: str, data: bytes, on_event: OnEvent = _noop,
                     modified_at: float | None = None) -> IngestEvent:
        """Ingest one upload; ``source`` is its name. The caller embeds later (embed_pending)."""
        row = self.collection(name, create=True)
        events: list[IngestEvent] = []

        def tell(event: IngestEvent) -> None:
            events.append(event)
            on_event(event)

        self._ingest(row, source, data, modified_at, tell)
        return events[-1]

    def _ingest_file(self, row: dict[str, Any], path: Path, tell: OnEvent) -> None:
        source, stat = str(path), path.stat()
        if too_big := _over_limit(stat.st_size):  # checked before reading
            self._fail(row, source, too_big, stat.st_size, "", tell)
            return
        known = self._document(row["id"], source)
        if known and known["size"] == stat.st_size and known["modified_at"] == stat.st_mtime \
                and known["status"] != "failed":
            tell(IngestEvent(row["name"], source, "unchanged", chunks=known["chunks"], document_id=known["id"]))
            return
        self._ingest(row, source, path.read_bytes(), stat.st_mtime, tell)

    def _ingest(self, row: dict[str, Any], source: str, data: bytes, modified_at: float | None,
                tell: OnEvent) -> None:
        digest = hashlib.sha256(data).hexdigest()
        existing = self._document(row["id"], source)
        if existing and existing["content_hash"] == digest and existing["status"] != "failed":
            if modified_at != existing["modified_at"]:
                self._touch(existing["id"], modified_at)
            tell(IngestEvent(row["name"], source, "unchanged", chunks=existing["chunks"], document_id=existing["id"]))
            return
        if too_big := _over_limit(len(data)):
            self._fail(row, source, too_big, len(data), digest, tell)
            return
        doc_id = self._set_status(row["id"], source, "parsing", size=len(data), content_hash=digest,
                                  modified_at=modified_at)
        tell(IngestEvent(row["name"], source, "parsing", document_id=doc_id))
        try:
            parsed = parse(source, data)
        except Unreadable as err:
            self._fail(row, source, str(err), len(data), digest, tell)
            return
        chunks = self._chunk(parsed)
        status = "embedding" if row["embedder"] != "none" else "indexed"
        now = time.time()
        with self.store.write() as conn:  # old chunks out, new chunks in: one transaction
            self.index.delete_document(conn, doc_id)
            self.index.add(conn, [{"collection_id": row["id"], "document_id": doc_id, "ord": i, "title": parsed.title,
                                   "heading": c.heading, "page": c.page, "page_end": c.page_end, "start": c.start,
                                   "end": c.end, "text": c.text} for i, c in enumerate(chunks)])
            conn.execute(knowledge_documents.update().where(knowledge_documents.c.id == doc_id).values(
                status=status, reason=None, chunks=len(chunks), title=parsed.title, kind=parsed.kind,
                text=parsed.text, updated_at=now))
            self._bump(conn, row["id"])
        tell(IngestEvent(row["name"], source, status, chunks=len(chunks), document_id=doc_id,
                         tables=self._offer_tables(row["name"], doc_id, parsed)))

    def _offer_tables(self, collection: str, doc_id: str, parsed: Parsed) -> list[str]:
        if not parsed.tables:
            return []
        try:
            names = tables.offer(self.store, collection, self.tenant, parsed.tables)
        except duckdb.Error as err:  # e.g. the file is open in another process: the text is indexed all the same
            names, note = [], f"not offered to SQL: {str(err).splitlines()[0]}"
        else:
            note = f"tables {', '.join(names)} in connection {tables.connection_name(collection)}"
        with self.store.write() as conn:
            conn.execute(knowledge_documents.update().where(knowledge_documents.c.id == doc_id).values(
                tables=names, reason=note))
        return names

    @staticmethod
    def _chunk(parsed: Parsed) -> list[Any]:
        return chunk_text(parsed.text, parsed.title, max_chars=settings.get_int("HIL_CHUNK_CHARS"),
                          overlap=settings.get_int("HIL_CHUNK_OVERLAP"), page_at=parsed.page_at)

    def _fail(self, row: dict[str, Any], source: str, reason: str, size: int, digest: str, tell: OnEvent) -> None:
        doc_id = self._set_status(row["id"], source, "failed", reason=reason, size=size, content_hash=digest,
                                  drop_chunks=True)
        tell(IngestEvent(row["name"], source, "failed", reason=reason, document_id=doc_id))

    def _vanished(self, collection_id: str, paths: list[str | Path], present: set[str]) -> list[str]:
        roots = [str(Path(p).expanduser().resolve()) for p in paths]
        with self.store.read() as conn:
            sources = [r[0] for r in conn.execute(sa.select(knowledge_documents.c.source).where(
                knowledge_documents.c.collection_id == collection_id))]
        return [s for s in sources if s not in present and any(s == r or s.startswith(r + "/") for r in roots)]

    def _document(self, collection_id: str, source: str) -> dict[str, Any] | None:
        d = knowledge_documents
        with self.store.read() as conn:
            doc = conn.execute(sa.select(d.c.id, d.c.content_hash, d.c.status, d.c.chunks, d.c.size, d.c.modified_at).where(
                d.c.collection_id == collection_id, d.c.source == source)).first()
        return dict(doc._mapping) if doc else None

    def _set_status(self, collection_id: str, source: str, status: str, reason: str | None = None,
                    drop_chunks: bool = False, **values: Any) -> str:
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
                    self._bump(conn, collection_id)
                conn.execute(d.update().where(d.c.id == doc_id).values(status=status, reason=reason, updated_at=now,
                                                                        **values))
        return doc_id

    def _touch(self, document_id: str, modified_at: float | None) -> None:
        with self.store.write() as conn:
            conn.execute(knowledge_documents.update().where(knowledge_documents.c.id == document_id)
                         .values(modified_at=modified_at))

    @staticmethod
    def _bump(conn: sa.Connection, collection_id: str) -> None:
        k = knowledge_collections
        conn.execute(k.update().where(k.c.id == collection_id).values(revision=k.c.revision + 1))

    # -- embedding --
    def pending(self, name: str) -> int:
        row = self.collection(name)
        c = knowledge_chunks
        with self.store.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).where(
                c.c.collection_id == row["id"], c.c.embedded.is_(False))).scalar_one())

    def embed_pending(self, name: str, on_progress: OnProgress = _noop, on_event: OnEvent = _noop,
                      limit: int | None = None) -> int:
        """Embed chunks that have no vector yet, in batches; returns how many were embedded."""
        row = self.collection(name)
        embedder = get_embedder(row["embedder"])
        if embedder is None:
            return 0
        total = self.pending(name) if limit is None else min(limit, self.pending(name))
        done = 0
        on_progress(0, total)
        while done < total:
            batch = self._next_batch(row["id"], min(embedder.batch, total - done))
            if not batch:
                break
            vectors = embedder.passages([_embedding_text(r) for r in batch])
            with self.store.write() as conn:
                self.index.set_vectors(conn, row["id"], [r["id"] for r in batch], vectors)
                self._bump(conn, row["id"])
                finished = self._mark_indexed(conn, {r["document_id"] for r in batch})
            for doc in finished:
                on_event(IngestEvent(name, doc["source"], "indexed", chunks=doc["chunks"], document_id=doc["id"]))
            done += len(batch)
            on_progress(done, total)
        return done

    def _next_batch(self, collection_id: str, size: int) -> list[dict[str, Any]]:
        c = knowledge_chunks
        with self.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(
                sa.select(c.c.id, c.c.document_id, c.c.title, c.c.heading, c.c.text)
                .where(c.c.collection_id == collection_id, c.c.embedded.is_(False)).order_by(c.c.id).limit(size))]

    @staticmethod
    def _mark_indexed(conn: sa.Connection, document_ids: set[str]) -> list[dict[str, Any]]:
        c, d = knowledge_chunks, knowledge_documents
        still = {r[0] for r in conn.execute(sa.select(c.c.document_id).where(
            c.c.document_id.in_(document_ids), c.c.embedded.is_(False)).distinct())}
        done = [i for i in document_ids if i not in still]
        if not done:
            return []
        conn.execute(d.update().where(d.c.id.in_(done), d.c.status == "embedding").values(
            status="indexed", updated_at=time.time()))
        return [dict(r._mapping) for r in conn.execute(sa.select(d.c.id, d.c.source, d.c.chunks).where(d.c.id.in_(done)))]

    def change_embedder(self, name: str, spec: str) -> int:
        """Switch a collection to another embedder: its vectors are cleared and made again."""
        row = self.collection(name)
        if spec == row["embedder"]:
            return 0
        model = get_embedder(spec)
        d = knowledge_documents
        with self.store.write() as conn:
            self.index.clear_vectors(conn, row["id"])
            conn.execute(knowledge_collections.update().where(knowledge_collections.c.id == row["id"]).values(
                embedder=spec if model else "none", dim=model.dim if model else None))
            conn.execute(d.update().where(d.c.collection_id == row["id"], d.c.status.in_(("indexed", "embedding")))
                         .values(status="embedding" if model else "indexed"))
            self._bump(conn, row["id"])
        return self.pending(name) if model else 0

    # -- search --
    def search(self, names: Iterable[str], query: str, k: int = 4, mode: Mode = "hybrid",
               filters: Filters = NO_FILTERS, rerank: Rerank | None = None) -> list[Snippet]:
        """The best ``k`` snippets across collections; each collection is searched with its own embedder."""
        found: list[Snippet] = []
        for name in names:
            row = self.collection(name)
            embedder: Embedder | None = get_embedder(row["embedder"]) if mode != "bm25" else None
            query_vector = embedder.query if embedder else None
            found.extend(self.index.search(row, query, k, mode, filters, query_vector, rerank))
        found.sort(key=lambda s: -s.score)
        return found[:k]

    def retrieve(self, workflow: Workflow, query: str, k: int) -> list[dict[str, Any]]:
        """Snippets for a run: each knowledge source with paths is synced first (unchanged files cost a
        stat), and up to RUN_EMBED_LIMIT new chunks are embedded; the rest wait for the background."""
        names = []
        for source in workflow.knowledge:
            if source.paths:
                self.add(source.name, source.paths, embed_limit=RUN_EMBED_LIMIT, prune=True)
            names.append(source.name)
        return [s.to_dict() for s in self.search(names, query, k)]

    def document_text(self, document_id: str) -> str | None:
        with self.store.read() as conn:
            text: str | None = conn.execute(sa.select(knowledge_documents.c.text).where(
                knowledge_documents.c.id == document_id)).scalar()
        return text


def _over_limit(size: int) -> str | None:
    limit = settings.get_int("HIL_KNOWLEDGE_MAX_MB") * 1024 * 1024
    if size <= limit:
        return None
    return f"file is {size / 1048576:.1f} MB, over the {limit // 1048576} MB limit (HIL_KNOWLEDGE_MAX_MB)"


def _embedding_text(chunk: dict[str, Any]) -> str:
    context = " — ".join(p for p in (chunk["title"], chunk["heading"]) if p and p not in chunk["text"][:200])
    return f"{context}\n{chunk['text']}" if context else chunk["text"]
