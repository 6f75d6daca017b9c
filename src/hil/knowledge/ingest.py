"""Ingestion: files and uploads become documents with chunks, each step reported as it happens.

A document goes queued -> parsing -> embedding -> indexed, or failed with a reason; every change
is written to its row and reported to the caller's ``on_event``. A file whose content hash is
unchanged is skipped; a changed one has its chunks replaced in one transaction, so a search
never sees half of a document. Vectors come later (:mod:`hil.knowledge.embedding`): until a
chunk has its vector, full text finds it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from hil import settings
from hil.errors import Conflict, NotFound
from hil.knowledge import tables
from hil.knowledge.chunking import Chunk, chunk_text
from hil.knowledge.collections import Collections, bump_revision
from hil.knowledge.parsers import Parsed, Unreadable, parse
from hil.store.db import Store
from hil.store.scoped import TenantScoped
from hil.store.tables import knowledge_documents


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


OnEvent = Callable[[IngestEvent], None]
OnProgress = Callable[[int, int], None]  # chunks embedded so far, chunks to embed


def noop(_e: Any, *_a: Any) -> None:
    """The default ``on_event`` and ``on_progress``: nobody is listening."""
    return None


@dataclass
class IngestReport:
    collection: str
    events: list[IngestEvent] = field(default_factory=list)

    def count(self, status: str) -> int:
        """Documents whose last event has ``status``."""
        final = {e.source: e.status for e in self.events}
        return sum(1 for s in final.values() if s == status)

    @property
    def failed(self) -> list[IngestEvent]:
        return [e for e in self.events if e.status == "failed"]

    def recorder(self, on_event: OnEvent) -> OnEvent:
        """An ``on_event`` that keeps each event in this report before passing it on, so the report
        also holds what a later step (embedding) told."""
        def tell(event: IngestEvent) -> None:
            self.events.append(event)
            on_event(event)
        return tell


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


class Ingester(TenantScoped):
    """Reads, parses and chunks documents into the collections of one tenant."""

    def __init__(self, store: Store, tenant: str, *, collections: Collections | None = None):
        super().__init__(store, tenant)
        self.collections = Collections.shared(store, tenant, collections)

    def add(self, name: str, paths: Iterable[str | Path], on_event: OnEvent = noop,
            prune: bool = False) -> IngestReport:
        """Ingest files and folders into the collection (created on first use); with ``prune``,
        documents that were under these folders and are gone from disk are removed (a workflow's
        paths mirror their folders). Embedding is the caller's next step."""
        paths = list(paths)
        files = collect_files(paths)  # a mistyped path fails before the collection is created
        row = self.collections.get_or_create(name)
        report = IngestReport(name)
        tell = report.recorder(on_event)

        if prune:
            for source in self._vanished(row["id"], paths, {str(f) for f in files}):
                self.collections.remove_document(name, source)
                tell(IngestEvent(name, source, "removed"))

        for f in files:  # every file is announced first, so a progress bar knows the total
            tell(IngestEvent(name, str(f), "queued"))
        for f in files:
            self._ingest_file(row, f, tell)
        return report

    def ingest_bytes(self, name: str, source: str, data: bytes, on_event: OnEvent = noop,
                     modified_at: float | None = None) -> IngestEvent:
        """Ingest one upload; ``source`` is its name. The caller embeds later (embed_pending)."""
        row = self.collections.get_or_create(name)
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
        known = self.collections.document(row["id"], source)
        if known and known["size"] == stat.st_size and known["modified_at"] == stat.st_mtime \
                and known["status"] != "failed":  # a stat instead of a read: what makes a run's sync cheap
            tell(IngestEvent(row["name"], source, "unchanged", chunks=known["chunks"], document_id=known["id"]))
            return
        self._ingest(row, source, path.read_bytes(), stat.st_mtime, tell)

    def _ingest(self, row: dict[str, Any], source: str, data: bytes, modified_at: float | None,
                tell: OnEvent) -> None:
        digest = hashlib.sha256(data).hexdigest()
        existing = self.collections.document(row["id"], source)
        if existing and existing["content_hash"] == digest and existing["status"] != "failed":
            if modified_at != existing["modified_at"]:
                self.collections.touch(existing["id"], modified_at)
            tell(IngestEvent(row["name"], source, "unchanged", chunks=existing["chunks"], document_id=existing["id"]))
            return
        if too_big := _over_limit(len(data)):
            self._fail(row, source, too_big, len(data), digest, tell)
            return
        doc_id = self.collections.set_status(row["id"], source, "parsing", size=len(data), content_hash=digest,
                                             modified_at=modified_at)
        tell(IngestEvent(row["name"], source, "parsing", document_id=doc_id))
        try:
            parsed = parse(source, data)
        except Unreadable as err:
            self._fail(row, source, str(err), len(data), digest, tell)
            return
        chunks = _chunk(parsed)
        status = "embedding" if row["embedder"] != "none" else "indexed"
        now = time.time()
        index = self.collections.index
        with self.store.write() as conn:  # old chunks out, new chunks in: one transaction
            index.delete_document(conn, doc_id)
            index.add(conn, [{"collection_id": row["id"], "document_id": doc_id, "ord": i, "title": parsed.title,
                              "heading": c.heading, "page": c.page, "page_end": c.page_end, "start": c.start,
                              "end": c.end, "text": c.text} for i, c in enumerate(chunks)])
            conn.execute(knowledge_documents.update().where(knowledge_documents.c.id == doc_id).values(
                status=status, reason=None, chunks=len(chunks), title=parsed.title, kind=parsed.kind,
                text=parsed.text, updated_at=now))
            bump_revision(conn, row["id"])
        tell(IngestEvent(row["name"], source, status, chunks=len(chunks), document_id=doc_id,
                         tables=self._offer_tables(row["name"], doc_id, parsed)))

    def _offer_tables(self, collection: str, doc_id: str, parsed: Parsed) -> list[str]:
        """Offer a CSV's or spreadsheet's tables to SQL; the note on the document says where they went."""
        if not parsed.tables:
            return []
        try:
            names = tables.offer(self.store, collection, self.owner, parsed.tables)
        except duckdb.Error as err:  # e.g. the file is open in another process: the text is indexed all the same
            names, note = [], f"not offered to SQL: {str(err).splitlines()[0].replace(str(settings.home()), '$HIL_HOME')}"
        except Conflict as err:
            names, note = [], f"not offered to SQL: {err.message}"
        else:
            note = f"tables {', '.join(names)} in connection {tables.connection_name(collection)}"
        with self.store.write() as conn:
            conn.execute(knowledge_documents.update().where(knowledge_documents.c.id == doc_id).values(
                tables=names, reason=note))
        return names

    def _fail(self, row: dict[str, Any], source: str, reason: str, size: int, digest: str, tell: OnEvent) -> None:
        doc_id = self.collections.set_status(row["id"], source, "failed", reason=reason, size=size,
                                             content_hash=digest, drop_chunks=True)
        tell(IngestEvent(row["name"], source, "failed", reason=reason, document_id=doc_id))

    def _vanished(self, collection_id: str, paths: list[str | Path], present: set[str]) -> list[str]:
        """Sources under the folders given that are no longer on disk (other sources are left alone)."""
        roots = [str(Path(p).expanduser().resolve()) for p in paths]
        return [s for s in self.collections.sources(collection_id)
                if s not in present and any(s == r or s.startswith(r + "/") for r in roots)]


def _chunk(parsed: Parsed) -> list[Chunk]:
    return chunk_text(parsed.text, parsed.title, max_chars=settings.get_int("HIL_CHUNK_CHARS"),
                      overlap=settings.get_int("HIL_CHUNK_OVERLAP"), page_at=parsed.page_at)


def _over_limit(size: int) -> str | None:
    """Why a file is refused for its size (HIL_KNOWLEDGE_MAX_MB), or None."""
    limit = settings.get_int("HIL_KNOWLEDGE_MAX_MB") * 1024 * 1024
    if size <= limit:
        return None
    return f"file is {size / 1048576:.1f} MB, over the {limit // 1048576} MB limit (HIL_KNOWLEDGE_MAX_MB)"
