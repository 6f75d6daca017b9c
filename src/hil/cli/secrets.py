"""`hil secrets set|list|remove|rotate`: secrets that definitions name as secret://NAME."""

from __future__ import annotations

import datetime as dt
import os
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from hil.cli.common import err, escape, out, plain, store, tenant_name

secrets_app = typer.Typer(no_args_is_help=True, help="Secrets that definitions name as secret://NAME (env://VAR "
                                                     "names an environment variable instead).")
TenantOption = Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant name (default: hil --tenant).")]


def _service(tenant: str | None) -> Any:
    from hil.services.secrets import SecretService
    from hil.services.users import UserService

    db = store()
    return SecretService(db, UserService(db).tenant_id(tenant or tenant_name()))


@secrets_app.command("set")
def secrets_set(name: str, tenant: TenantOption = None) -> None:
    """Store a secret, read from standard input (or asked for, hidden, in a terminal); never echoed."""
    value = typer.prompt(f"value of {name}", hide_input=True) if sys.stdin.isatty() else sys.stdin.read()
    info = _service(tenant).set(name, value.rstrip("\n"))
    plain(out, f"secret {info.name} stored; name it as secret://{info.name}")


@secrets_app.command("list")
def secrets_list(tenant: TenantOption = None) -> None:
    """Secret names and when they changed (never their values)."""
    table = Table("name", "reference", "updated")
    for s in _service(tenant).list_all():
        table.add_row(escape(s.name), escape(f"secret://{s.name}"),
                      dt.datetime.fromtimestamp(s.updated_at).strftime("%Y-%m-%d %H:%M"))
    out.print(table)


@secrets_app.command("remove")
def secrets_remove(name: str, tenant: TenantOption = None) -> None:
    """Forget a secret; definitions that name it fail with a clear error until it is set again."""
    _service(tenant).remove(name)
    plain(out, f"secret {name} removed")


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Seal every stored secret with a new key. With the key in $HIL_HOME/secret.key a new key is
    made (the old one is kept in secret.key.previous); with HIL_SECRET_KEY, set the new key there
    and the old one in HIL_SECRET_KEY_PREVIOUS first."""
    from hil.services.secrets import rotate_key

    from_env = bool(os.environ.get("HIL_SECRET_KEY"))
    n = rotate_key(store(), new_file_key=not from_env)
    plain(out, f"resealed {n} secrets with the {'HIL_SECRET_KEY' if from_env else 'new'} key")
    if not from_env:
        plain(err, "the old key stays in $HIL_HOME/secret.key.previous until you remove it")
