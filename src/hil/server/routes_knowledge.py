"""Knowledge collections: create, upload documents, watch their ingestion, search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from hil import settings
from hil.knowledge.index import Mode
from hil.server.deps import Admin, Operator, State, Viewer
from hil.server.schemas import CollectionIn, CollectionOut, DocumentOut, DocumentText, UploadResult, errors
from hil.server.uploads import receive_files, scratch_folder
from hil.server.views import refuse_taken
from hil.services.knowledge import KnowledgeService

router = APIRouter(tags=["knowledge"])
TABULAR = (".csv", ".xlsx")  # their tables are offered to SQL in the collection's own connection

UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "array", "items": {"type": "string", "format": "binary"},
                            "description": "One or more documents: md, txt, html, pdf, docx, csv, xlsx."}}}}}}}


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("tenant_id", "revision")}


def _collection_out(service: KnowledgeService, key: str) -> dict[str, Any]:
    row = service.collection(key)
    return _public(next(c for c in service.collections() if c["id"] == row["id"]))


@router.post("/collections", status_code=201, response_model=CollectionOut, responses=errors(401, 403, 409, 422))
def create_collection(body: CollectionIn, who: Admin, state: State) -> dict[str, Any]:
    service = KnowledgeService(state.store, who.tenant)
    refuse_taken(lambda: service.collection(body.name), f"a collection named {body.name!r} exists")
    service.collection(body.name, create=True, embedder=body.embedder)
    return _collection_out(service, body.name)


@router.get("/collections", response_model=list[CollectionOut], responses=errors(401))
def list_collections(who: Viewer, state: State) -> list[dict[str, Any]]:
    return [_public(c) for c in KnowledgeService(state.store, who.tenant).collections()]


@router.get("/collections/{collection_id}", response_model=CollectionOut, responses=errors(401, 404))
def get_collection(collection_id: str, who: Viewer, state: State) -> dict[str, Any]:
    return _collection_out(KnowledgeService(state.store, who.tenant), collection_id)


@router.delete("/collections/{collection_id}", status_code=204, responses=errors(401, 403, 404))
def delete_collection(collection_id: str, who: Admin, state: State) -> Response:
    KnowledgeService(state.store, who.tenant).remove_collection(collection_id)
    return Response(status_code=204)


@router.post("/collections/{collection_id}/documents", status_code=201, response_model=list[UploadResult],
             responses=errors(401, 403, 404, 409, 413, 422), openapi_extra=UPLOAD_BODY)
async def upload_documents(collection_id: str, request: Request, who: Operator, state: State) -> list[dict[str, Any]]:
    """Upload documents (multipart, field `file`, repeatable). Each is streamed to disk, refused past
    HIL_KNOWLEDGE_MAX_MB, then parsed, chunked and indexed for full text; embedding follows in the
    background. A document that cannot be read is reported `failed` with its reason; the others go in."""
    service = KnowledgeService(state.store, who.tenant)
    row = await run_in_threadpool(service.collection, collection_id)
    limit = settings.get_int("HIL_KNOWLEDGE_MAX_MB") * 1024 * 1024
    uploads = settings.home() / "uploads"
    uploads.mkdir(exist_ok=True)
    with scratch_folder(uploads) as folder:
        files = await receive_files(request.headers.get("content-type", ""), request.stream(), folder, limit)
        if any(f.filename.lower().endswith(TABULAR) for f in files):  # before anything is ingested
            await run_in_threadpool(service.check_tables_connection, row["name"])
        results = []
        for f in files:
            event = await run_in_threadpool(service.ingest_bytes, row["name"], f.filename, f.path.read_bytes())
            results.append({"source": f.filename, "status": event.status, "document_id": event.document_id,
                            "chunks": event.chunks, "reason": event.reason})
    return results


@router.get("/collections/{collection_id}/documents", response_model=list[DocumentOut], responses=errors(401, 404))
def list_documents(collection_id: str, who: Viewer, state: State) -> list[dict[str, Any]]:
    """Each document with its ingestion status (and, when it failed, why)."""
    return KnowledgeService(state.store, who.tenant).documents(collection_id)


@router.get("/collections/{collection_id}/documents/{document_id}/text", response_model=DocumentText,
            responses=errors(401, 404))
def document_text(collection_id: str, document_id: str, who: Viewer, state: State) -> dict[str, Any]:
    """A document's parsed text: a search result's or a citation's start and end are offsets into it."""
    return KnowledgeService(state.store, who.tenant).document(collection_id, document_id)


@router.delete("/collections/{collection_id}/documents/{document_id}", status_code=204,
               responses=errors(401, 403, 404))
def delete_document(collection_id: str, document_id: str, who: Operator, state: State) -> Response:
    KnowledgeService(state.store, who.tenant).remove_document(collection_id, document_id)
    return Response(status_code=204)


@router.get("/collections/{collection_id}/search", response_model=list[dict[str, Any]], responses=errors(401, 404, 422))
def search(collection_id: str, who: Viewer, state: State,
           q: Annotated[str, Query(min_length=1, max_length=2000, description="What to look for.")],
           k: Annotated[int, Query(ge=1, le=50)] = 5,
           mode: Mode = "hybrid") -> list[dict[str, Any]]:
    """Cited passages: collection, document, title, source, heading path, page, character span, score."""
    service = KnowledgeService(state.store, who.tenant)
    return [s.to_dict() for s in service.search([collection_id], q, k, mode)]
