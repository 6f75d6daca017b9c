"""`hil workflows list|show|apply`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from hil.cli.common import escape, out, plain, store, tenant

workflows_app = typer.Typer(no_args_is_help=True, help="Workflow definitions.")


def _service() -> Any:
    from hil.services.workflows import WorkflowService

    db = store()
    return WorkflowService(db, tenant(db))


@workflows_app.command("list")
def workflows_list() -> None:
    """Stored workflows."""
    table = Table(title="Workflows")
    for col in ("name", "version", "steps", "description"):
        table.add_column(col)
    for w in _service().list_all():
        table.add_row(escape(w.name), str(w.version), escape(", ".join(w.definition.steps)),
                      escape(w.definition.description))
    out.print(table)


@workflows_app.command("show")
def workflows_show(name: str, version: int | None = None) -> None:
    """A workflow's definition (latest version unless --version)."""
    import yaml

    from hil.services.workflows import public

    w = public(_service().get(name, version))
    plain(out, f"# {w['name']} version {w['version']} ({w['content_hash'][:12]})")
    plain(out, yaml.safe_dump(w["definition"], sort_keys=False))


@workflows_app.command("apply")
def workflows_apply(file: Path) -> None:
    """Validate a workflow file and store it; a changed definition becomes a new version."""
    service = _service()
    stored, changed = service.apply(service.load_file(file))
    plain(out, f"{stored.name}: {'stored as version' if changed else 'unchanged, version'} {stored.version}")
