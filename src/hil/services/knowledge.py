"""Knowledge collections of one tenant: the service the CLI and the server call."""

from hil.knowledge.service import KnowledgeService

__all__ = ["KnowledgeService"]
