"""`hil audit verify|export|checkpoint|list`: the tamper-evident audit log."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hil.cli.common import err, escape, out, plain, store, tenant_name

audit_app = typer.Typer(no_args_is_help=True, help="The audit log: who approved, ran and changed what.")
TenantOption = Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant name (default: hil --tenant).")]


def _service(tenant: str | None) -> Any:
    from hil.services.audit import AuditService
    from hil.services.users import UserService

    db = store()
    return AuditService(db, UserService(db).tenant_id(tenant or tenant_name()))


@audit_app.command("verify")
def audit_verify(tenant: TenantOption = None) -> None:
    """Check the chain record by record and against the last signed checkpoint; exit 1 naming the
    first record that does not hold."""
    verdict = _service(tenant).verify()
    if verdict.ok:
        plain(out, f"audit log of {tenant or tenant_name()}: {verdict.message}")
        return
    err.print(f"[red]audit log of {escape(tenant or tenant_name())} does not hold:[/] {escape(verdict.message)}")
    raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(tenant: TenantOption = None) -> None:
    """Sign the chain's current size and head into the checkpoint file."""
    cp = _service(tenant).checkpoint()
    plain(out, f"checkpoint of {tenant or tenant_name()}: {cp.size} records, head {cp.head[:16]}…")


@audit_app.command("export")
def audit_export(tenant: TenantOption = None,
                 out_file: Annotated[Path | None, typer.Option("--out", help="File to write; standard output when "
                                                                            "empty.")] = None) -> None:
    """Every record as JSON Lines."""
    service = _service(tenant)
    n = service.export(out_file if out_file else sys.stdout)
    if out_file:
        plain(err, f"wrote {n} records to {out_file}")


@audit_app.command("list")
def audit_list(tenant: TenantOption = None, limit: int = 50) -> None:
    """The latest records."""
    service = _service(tenant)
    size, _head = service.head()
    table = Table("seq", "time", "actor", "action", "subject")
    for r in service.records(after=max(size - limit, 0)):
        table.add_row(str(r.seq), dt.datetime.fromtimestamp(r.ts).strftime("%Y-%m-%d %H:%M:%S"), escape(r.actor),
                      escape(r.action), escape(r.subject))
    out.print(table)
