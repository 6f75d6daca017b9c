"""Knowledge sources: chunking and full-text retrieval with citations."""

from hil.knowledge.index import KnowledgeIndex, Snippet, index_for

__all__ = ["KnowledgeIndex", "Snippet", "index_for"]
