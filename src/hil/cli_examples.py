"""`hil examples list|show|remove|import`: the SQL agent's few-shot memory."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

examples_app = typer.Typer(no_args_is_help=True, help="Approved question/SQL examples the SQL agent learns from.")
out = Console()


def _repo() -> Any:
    from hil.store import open_store
    from hil.store.example_repo import ExampleRepo

    return ExampleRepo(open_store())


@examples_app.command("list")
def examples_list(connection: Annotated[str | None, typer.Option(help="Only this connection's examples.")] = None,
                  limit: int = 50, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Stored examples, newest first."""
    from hil.fewshot import example_dict

    items = _repo().entries(connection, limit)
    if as_json:
        sys.stdout.write(json.dumps([example_dict(e) for e in items], indent=2) + "\n")
        return
    table = Table(title="SQL examples")
    for col in ("id", "connection", "source", "added", "question"):
        table.add_column(col)
    for e in items:
        added = dt.datetime.fromtimestamp(e.created_at).strftime("%Y-%m-%d %H:%M")
        table.add_row(e.id[:8], e.connection, e.source + (f" ({e.run_id[:8]})" if e.run_id else ""), added, e.question)
    out.print(table)
    if not items:
        out.print("[dim]no examples yet: approve SQL in a run, mark an answer correct "
                  "(`hil runs feedback RUN --correct`), or `hil examples import`[/]")


@examples_app.command("show")
def examples_show(example_id: str) -> None:
    """One example with its SQL."""
    e = _repo().get(example_id)
    out.print(f"{e.id}  connection {e.connection}  source {e.source}", highlight=False)
    out.print(f"question: {e.question}", highlight=False)
    out.print(Syntax(e.sql, "sql", word_wrap=True))


@examples_app.command("remove")
def examples_remove(example_id: Annotated[str, typer.Argument(help="The id or a unique prefix of it.")]) -> None:
    """Delete an example; the SQL agent stops using it at once."""
    e = _repo().remove(example_id)
    out.print(f"example {e.id[:8]} removed: {e.question}", highlight=False)


@examples_app.command("import")
def examples_import(connection: Annotated[str, typer.Argument(help="Connection the examples are for.")],
                    file: Annotated[Path, typer.Argument(help="JSON Lines (or a JSON list) of {question, sql}.")],
                    ) -> None:
    """Import curated examples; each SQL must pass the read-only guard."""
    from hil.connectors.guard import check_read_only
    from hil.errors import ConfigError, QueryRefused
    from hil.fewshot import read_curated

    pairs = read_curated(file)
    repo = _repo()
    dialect = _dialect(connection)
    for n, (_question, sql) in enumerate(pairs, 1):
        try:
            check_read_only(sql, dialect)
        except QueryRefused as err:
            raise ConfigError(f"{file}: entry {n}: the SQL is refused: {err.message}",
                              hint="only read-only queries can be examples; nothing was imported") from None
    added = {repo.add(connection, q, s, "import").id for q, s in pairs}
    out.print(f"imported {len(pairs)} examples into {connection} ({len(added)} stored, duplicates merged)")


def _dialect(connection: str) -> str:
    """The saved connection's dialect, for the guard; examples of an unsaved connection are
    checked as generic SQL."""
    from hil.errors import NotFound
    from hil.store import open_store
    from hil.store.connection_repo import ConnectionRepo

    try:
        return ConnectionRepo(open_store()).get(connection).engine
    except NotFound:
        return "sqlite"
