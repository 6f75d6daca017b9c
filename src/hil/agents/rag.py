"""RAG agent: retrieves cited snippets from the workflow's knowledge collections."""

from __future__ import annotations

from typing import Any

from hil import settings
from hil.agents.base import Agent, StepContext
from hil.events import EventType


class RagAgent(Agent):
    name = "rag"
    description = "Searches the documents (manuals, policies, reports) and returns cited passages."
    runs_first = True  # it reads only the question and its purpose

    def execute(self, ctx: StepContext, content: dict[str, Any] | None) -> dict[str, Any]:
        query = f"{ctx.question} {ctx.purpose}".strip()
        snippets = ctx.retrieve(ctx.workflow, query, settings.get_int("HIL_RETRIEVAL_K"))
        for i, s in enumerate(snippets, 1):
            s["ref"] = i
        ctx.emit(EventType.RETRIEVAL_RESULTS, {"query": query, "snippets": snippets})
        return {"query": query, "snippets": snippets}
