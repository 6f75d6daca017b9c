"""`hil knowledge add|list|status|remove|search|embed`: document collections for the RAG agent."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from hil.cli.common import err, escape, out, plain, store, tenant

knowledge_app = typer.Typer(no_args_is_help=True, help="Document collections: ingest, inspect, search.")

STATUS_STYLE = {"indexed": "green", "embedding": "yellow", "parsing": "yellow", "queued": "dim", "failed": "red",
                "unchanged": "dim"}


def _service() -> Any:
    from hil.services.knowledge import KnowledgeService

    db = store()
    return KnowledgeService(db, tenant(db))


def _progress(quiet: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=err, transient=quiet)


def _embed(service: Any, collection: str, progress: Progress) -> None:
    task = progress.add_task("embedding", total=None)
    service.embed_pending(collection, on_progress=lambda done, total: progress.update(task, completed=done,
                                                                                      total=total))


@knowledge_app.command("add")
def knowledge_add(
        collection: Annotated[str, typer.Argument(help="Collection name; created on first use.")],
        paths: Annotated[list[Path], typer.Argument(help="Files and folders (read recursively).")],
        embedder: Annotated[str | None, typer.Option(help="Embedder of a new collection (default HIL_EMBEDDER); on "
                                                          "an existing one, switching re-embeds it.")] = None,
        embed: Annotated[bool, typer.Option(help="Embed now; --no-embed leaves it to `hil knowledge embed` or the "
                                                 "server (full text answers meanwhile).")] = True,
        as_json: Annotated[bool, typer.Option("--json", help="Print each document's outcome as JSON.")] = False) -> None:
    """Ingest files: unchanged ones are skipped, changed ones replaced, unreadable ones marked failed."""
    from hil.knowledge import IngestEvent
    from hil.knowledge.ingest import collect_files
    from hil.knowledge.tables import connection_name

    service = _service()
    collect_files(paths)  # a mistyped path is an error before anything is created
    service.collection(collection, create=True, embedder=embedder)
    if embedder:
        service.change_embedder(collection, embedder)
    with _progress(as_json) as progress:
        files = progress.add_task("reading", total=None)
        seen: set[str] = set()

        def on_event(e: IngestEvent) -> None:
            if e.status == "queued":
                progress.update(files, total=(progress.tasks[files].total or 0) + 1)
            elif e.source not in seen and e.status in ("embedding", "indexed", "failed", "unchanged"):
                seen.add(e.source)
                progress.update(files, advance=1, description=f"reading {escape(Path(e.source).name)}")
            if e.tables and not as_json:
                plain(progress.console, f"{Path(e.source).name}: offered to SQL as {', '.join(e.tables)} in connection "
                                        f"{connection_name(collection)}", soft_wrap=True)
            if e.status == "failed" and not as_json:
                progress.console.print(f"[red]failed[/] {escape(e.source)}: {escape(e.reason or '')}", highlight=False,
                                       soft_wrap=True)

        report = service.add(collection, [str(p) for p in paths], on_event=on_event, embed=False)
        progress.update(files, description="reading")
        if embed:
            _embed(service, collection, progress)
    final = {e.source: e for e in report.events}
    if embed:  # documents finished embedding after their last reported event
        final.update({d["source"]: IngestEvent(collection, d["source"], d["status"], d["reason"], d["chunks"], d["id"])
                      for d in service.documents(collection) if d["source"] in final and final[d["source"]].status
                      != "unchanged"})
    if as_json:
        sys.stdout.write(json.dumps([vars(e) for e in final.values()], indent=2) + "\n")
    else:
        counts: dict[str, int] = {}
        for e in final.values():
            counts[e.status] = counts.get(e.status, 0) + 1
        plain(out, f"{collection}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if any(e.status == "failed" for e in final.values()):
        raise typer.Exit(2)


@knowledge_app.command("embed")
def knowledge_embed(collection: str) -> None:
    """Embed the chunks that have no vector yet (after `add --no-embed`, or an interrupted add)."""
    service = _service()
    with _progress(False) as progress:
        _embed(service, collection, progress)
    plain(out, f"{collection}: {service.pending(collection)} chunks left to embed")


@knowledge_app.command("list")
def knowledge_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Collections with their embedder and document counts by status."""
    rows = _service().collections()
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2, default=str) + "\n")
        return
    table = Table(title="Knowledge collections")
    for col in ("name", "embedder", "documents", "chunks", "created"):
        table.add_column(col)
    for r in rows:
        docs = ", ".join(f"{n} {s}" for s, n in sorted(r["documents"].items())) or "empty"
        table.add_row(escape(r["name"]), escape(r["embedder"]), docs, str(r["chunks"]),
                      dt.datetime.fromtimestamp(r["created_at"]).strftime("%Y-%m-%d %H:%M"))
    out.print(table)
    if not rows:
        out.print("[dim]no collections yet: `hil knowledge add NAME FILES...`[/]")


@knowledge_app.command("status")
def knowledge_status(collection: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Each document of a collection: status (queued, parsing, embedding, indexed, failed) and why it failed."""
    service = _service()
    docs = service.documents(collection)
    if as_json:
        sys.stdout.write(json.dumps(docs, indent=2, default=str) + "\n")
        return
    table = Table(title=f"{escape(collection)}: {len(docs)} documents, {service.pending(collection)} chunks to embed")
    for col in ("status", "document", "type", "chunks", "note"):
        table.add_column(col, overflow="fold")
    for d in docs:
        style = STATUS_STYLE.get(d["status"], "")
        table.add_row(f"[{style}]{d['status']}[/]", escape(d["source"]), escape(d["kind"]), str(d["chunks"]),
                      escape(d["reason"] or ""))
    out.print(table)


@knowledge_app.command("remove")
def knowledge_remove(
        collection: str,
        documents: Annotated[list[str] | None, typer.Argument(help="Documents (path or id); none removes the "
                                                                   "whole collection.")] = None,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Remove a whole collection without asking.")] = False) -> None:
    """Remove documents (their chunks go with them), or a whole collection."""
    service = _service()
    if documents:
        for d in documents:
            removed = service.remove_document(collection, d)
            plain(out, f"removed {removed['source']}")
        return
    if not yes and not (sys.stdin.isatty() and typer.confirm(f"remove the whole collection {collection!r}?")):
        from hil.errors import ConfigError

        raise ConfigError(f"not removing collection {collection!r} without confirmation",
                          hint="pass --yes, or name the documents to remove")
    n = service.remove_collection(collection)
    plain(out, f"removed collection {collection} ({n} documents)")


@knowledge_app.command("search")
def knowledge_search(
        collection: str, query: str,
        k: Annotated[int, typer.Option("-k", help="Snippets to return.")] = 5,
        mode: Annotated[str, typer.Option(help="hybrid, bm25 or vector.")] = "hybrid",
        source: Annotated[str | None, typer.Option(help="Only documents whose source matches this glob.")] = None,
        as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Search a collection and print cited snippets."""
    from hil.errors import ConfigError
    from hil.knowledge import Filters
    from hil.knowledge.index import MODES

    if mode not in MODES:
        raise ConfigError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    snippets = _service().search([collection], query, k=k, mode=mode, filters=Filters(source=source))  # type: ignore[arg-type]
    if as_json:
        sys.stdout.write(json.dumps([s.to_dict() for s in snippets], indent=2) + "\n")
        return
    if not snippets:
        out.print("[dim]nothing found[/]")
    for i, s in enumerate(snippets, 1):
        out.print(f"[bold]\\[{i}][/] {escape(citation(s.to_dict()))}  [dim]score {s.score:.4f}[/]", highlight=False,
                  soft_wrap=True)
        plain(out, "    " + " ".join(s.text.split())[:400], soft_wrap=True)


def citation(s: dict[str, Any]) -> str:
    """How a snippet is cited: title, section, page, where in the source."""
    parts = [s["title"]]
    if s.get("heading"):
        parts.append(s["heading"])
    if s.get("page"):
        parts.append(f"p. {s['page']}" if s.get("page_end") in (None, s["page"]) else f"pp. {s['page']}-{s['page_end']}")
    parts.append(f"{s['source']} chars {s['start']}-{s['end']}")
    return " · ".join(parts)
