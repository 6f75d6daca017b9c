"""Reasoner: gathers the evidence of the finished steps into one fenced, numbered brief.

Query results and documents are data, never instructions: the brief fences them, and the
Responder is told so."""

from __future__ import annotations

from typing import Any

from hil.agents.base import Agent, StepContext
from hil.events import EventType

MAX_ROWS_IN_BRIEF = 25
MAX_SNIPPET_CHARS = 700
# what a citation carries: enough for a client to open the document at the exact passage
CITATION_FIELDS = ("ref", "collection", "document_id", "chunk_id", "title", "source", "heading", "page", "page_end",
                   "start", "end", "score")


def table_text(columns: list[str], rows: list[list[Any]]) -> str:
    lines = [" | ".join(columns)]
    lines += [" | ".join("" if v is None else str(v) for v in r) for r in rows[:MAX_ROWS_IN_BRIEF]]
    return "\n".join(lines)


class ReasonerAgent(Agent):
    name = "reasoner"
    role = "reasoner"
    description = "Combines the evidence of all steps."

    def execute(self, ctx: StepContext, content: dict[str, Any] | None) -> dict[str, Any]:
        parts: list[str] = []
        sources: list[dict[str, Any]] = []
        sql = ctx.outputs.get("sql")
        if sql:
            more = " (more rows exist)" if sql.get("truncated") else ""
            parts.append(f"<data source=\"SQL\" rows=\"{sql['row_count']}\"{more}>\n"
                         f"{table_text(sql['columns'], sql['rows'])}\n</data>")
            for group in sql.get("evidence") or []:
                if group.get("rows"):
                    label = ", ".join(f"{k} = {v}" for k, v in group["group"].items()) or "all rows"
                    parts.append(f"<data source=\"SQL rows behind {label}\" rows=\"sample\">\n"
                                 f"{table_text(group['columns'], group['rows'])}\n</data>")
        rag = ctx.outputs.get("rag")
        if rag:
            for s in rag["snippets"]:
                text = s["text"][:MAX_SNIPPET_CHARS]
                page = f" page=\"{s['page']}\"" if s.get("page") else ""
                parts.append(f"<data source=\"[{s['ref']}]\" title=\"{s['title']}\" section=\"{s['heading']}\"{page}>\n"
                             f"{text}\n</data>")
                sources.append({**{k: s.get(k) for k in CITATION_FIELDS},
                                "text": text})
        for name, out in ctx.outputs.items():
            if name not in ("sql", "rag", "planner") and out.get("text"):
                parts.append(f"<data source=\"{name}\">\n{out['text']}\n</data>")
        brief = "\n\n".join(parts) if parts else "(no evidence was gathered)"
        ctx.emit(EventType.REASONING, {"evidence_items": len(parts), "sql_rows": sql["row_count"] if sql else 0,
                                       "snippets": len(sources)})
        return {"brief": brief, "sources": sources}
