"""RAG agent: retrieves cited snippets from the workflow's documents."""

from __future__ import annotations

from typing import Any

from hil.agents.base import Agent, StepContext
from hil.events import EventType
from hil.knowledge import index_for

TOP_K = 4


class RagAgent(Agent):
    name = "rag"
    description = "Searches the documents (manuals, policies, reports) and returns cited passages."

    def execute(self, ctx: StepContext, content: dict[str, Any] | None) -> dict[str, Any]:
        paths = [p for k in ctx.workflow.knowledge for p in k.paths]
        index = index_for(paths)
        query = f"{ctx.question} {ctx.purpose}".strip()
        snippets = [s.to_dict() for s in index.search(query, TOP_K)]
        for i, s in enumerate(snippets, 1):
            s["ref"] = i
        ctx.emit(EventType.RETRIEVAL_RESULTS, {"query": query, "snippets": snippets})
        return {"query": query, "snippets": snippets}
