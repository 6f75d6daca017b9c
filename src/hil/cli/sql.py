"""`hil connections add|list|test|remove` and `hil sql`: named connections and ad-hoc read-only
queries, through exactly the guard and read-only modes the SQL agent uses."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from hil.cli.common import escape, out, plain, store, tenant

connections_app = typer.Typer(no_args_is_help=True, help="Named SQL connections (DuckDB, SQLite, PostgreSQL).")


def _service() -> Any:
    from hil.services.connections import ConnectionService

    db = store()
    return ConnectionService(db, tenant(db))


@connections_app.command("add")
def connections_add(
        name: str,
        engine: Annotated[str, typer.Option(help="duckdb, sqlite or postgres.")],
        path: Annotated[Path | None, typer.Option(help="Database file (duckdb, sqlite).")] = None,
        dsn: Annotated[str | None, typer.Option(help="postgresql://user:password@host:port/db (postgres).")] = None,
        replace: Annotated[bool, typer.Option(help="Replace a connection with the same name.")] = False,
        test: Annotated[bool, typer.Option(help="Connect once before saving.")] = True) -> None:
    """Save a connection; the DSN is stored encrypted and never shown again."""
    service = _service()
    cfg = service.parse({"name": name, "engine": engine, "dsn": dsn,
                         "path": str(path.expanduser().resolve()) if path else None})
    stored = service.add(cfg, replace=replace, test=test)
    plain(out, f"connection {stored.name} ({stored.engine}) saved: {stored.location}")


@connections_app.command("list")
def connections_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List saved connections (passwords redacted)."""
    items = _service().list_all()
    if as_json:
        sys.stdout.write(json.dumps([{"name": c.name, "engine": c.engine, "location": c.location} for c in items],
                                    indent=2) + "\n")
        return
    table = Table(title="Connections")
    for col in ("name", "engine", "location"):
        table.add_column(col)
    for c in items:
        table.add_row(escape(c.name), c.engine, escape(c.location))
    out.print(table)


@connections_app.command("test")
def connections_test(name: str) -> None:
    """Connect, run a trivial query and introspect; errors name their cause."""
    info = _service().validate(name)
    plain(out, f"connection {name} works: {info['engine']}, {info['tables']} tables, {info['columns']} columns "
               f"({info['elapsed_ms']} ms)")


@connections_app.command("remove")
def connections_remove(name: str) -> None:
    """Forget a saved connection (the database itself is untouched)."""
    _service().remove(name)
    plain(out, f"connection {name} removed")


def sql(connection: Annotated[str, typer.Argument(help="A saved connection's name (see `hil connections list`).")],
        query: Annotated[str, typer.Argument(help="One read-only SQL statement.")],
        limit: Annotated[int | None, typer.Option(help="Row limit (default HIL_ROW_LIMIT).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print columns, rows and timing as JSON.")] = False,
        ) -> None:
    """Run one read-only query through the same guard as the SQL agent and print the rows."""
    data = _service().query(connection, query, limit).to_dict()
    if as_json:
        sys.stdout.write(json.dumps(data, default=str) + "\n")
        return
    table = Table()
    for c in data["columns"]:
        table.add_column(escape(str(c)))
    for r in data["rows"]:
        table.add_row(*("" if v is None else escape(str(v)) for v in r))
    out.print(table)
    more: Literal["", " (more rows exist)"] = " (more rows exist)" if data["truncated"] else ""
    out.print(f"[dim]{data['row_count']} rows in {data['elapsed_ms']} ms{more}[/]")
