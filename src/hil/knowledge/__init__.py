"""Knowledge: document ingestion, chunking, embeddings and hybrid retrieval with citations."""

from hil.knowledge.index import Filters, Snippet
from hil.knowledge.service import IngestEvent, IngestReport, KnowledgeService

__all__ = ["Filters", "IngestEvent", "IngestReport", "KnowledgeService", "Snippet"]
