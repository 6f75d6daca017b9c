"""Knowledge: document ingestion, chunking, embeddings and hybrid retrieval with citations.

The parts: :mod:`~hil.knowledge.collections` (collection and document rows of one tenant),
:mod:`~hil.knowledge.ingest`, :mod:`~hil.knowledge.embedding` (the queue of chunks without
vectors), :mod:`~hil.knowledge.retrieval` (search, and a run's retrieval). The service the CLI and
the server call is :class:`hil.services.knowledge.KnowledgeService`, one layer up.
"""

from hil.knowledge.index import Filters, Snippet
from hil.knowledge.ingest import IngestEvent, IngestReport

__all__ = ["Filters", "IngestEvent", "IngestReport", "Snippet"]
