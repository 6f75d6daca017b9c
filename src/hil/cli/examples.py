"""`hil examples list|show|remove|import`: the SQL agent's few-shot memory."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.syntax import Syntax
from rich.table import Table

from hil.cli.common import escape, out, plain, store, tenant

examples_app = typer.Typer(no_args_is_help=True, help="Approved question/SQL examples the SQL agent learns from.")


def _service() -> Any:
    from hil.services.examples import ExampleService

    db = store()
    return ExampleService(db, tenant(db))


@examples_app.command("list")
def examples_list(connection: Annotated[str | None, typer.Option(help="Only this connection's examples.")] = None,
                  limit: int = 50, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Stored examples, newest first."""
    items = _service().list(connection, limit)
    if as_json:
        sys.stdout.write(json.dumps([e.to_dict() for e in items], indent=2) + "\n")
        return
    table = Table(title="SQL examples")
    for col in ("id", "connection", "source", "added", "question"):
        table.add_column(col)
    for e in items:
        added = dt.datetime.fromtimestamp(e.created_at).strftime("%Y-%m-%d %H:%M")
        table.add_row(e.id[:8], escape(e.connection), e.source + (f" ({e.run_id[:8]})" if e.run_id else ""), added,
                      escape(e.question))
    out.print(table)
    if not items:
        out.print("[dim]no examples yet: approve SQL in a run, mark an answer correct "
                  "(`hil runs feedback RUN --correct`), or `hil examples import`[/]")


@examples_app.command("show")
def examples_show(example_id: str) -> None:
    """One example with its SQL."""
    e = _service().get(example_id)
    plain(out, f"{e.id}  connection {e.connection}  source {e.source}")
    plain(out, f"question: {e.question}")
    out.print(Syntax(e.sql, "sql", word_wrap=True))


@examples_app.command("remove")
def examples_remove(example_id: Annotated[str, typer.Argument(help="The id or a unique prefix of it.")]) -> None:
    """Delete an example; the SQL agent stops using it at once."""
    e = _service().remove(example_id)
    plain(out, f"example {e.id[:8]} removed: {e.question}")


@examples_app.command("import")
def examples_import(connection: Annotated[str, typer.Argument(help="Connection the examples are for.")],
                    file: Annotated[Path, typer.Argument(help="JSON Lines (or a JSON list) of {question, sql}.")],
                    ) -> None:
    """Import curated examples; each SQL must pass the read-only guard."""
    read, stored = _service().import_file(connection, file)
    plain(out, f"imported {read} examples into {connection} ({stored} stored, duplicates merged)")
