"""`hil users add|list` and `hil keys create|list|revoke`: who may call the server, in which tenant,
with which role."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer
from rich.table import Table

from hil.cli.common import err, escape, out, plain, store, tenant_name

users_app = typer.Typer(no_args_is_help=True, help="Users of the server: their tenant and role.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys: create (shown once), list, revoke.")

ROLE_HELP = "viewer (reads), operator (asks), approver (decides approvals), admin (configures)."
TenantOption = Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant; created when a user is first added "
                                                                        "to it (default: hil --tenant).")]


def _service() -> Any:
    from hil.services.users import UserService

    return UserService(store())


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else ""


def _print_key(key: Any, secret: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"id": key.id, "user": key.user, "tenant": key.tenant, "key": secret}))
        return
    plain(err, f"API key for {key.user} in tenant {key.tenant} (id {key.id}); it is shown only now:")
    print(secret)
    err.print("[dim]send it as `Authorization: Bearer KEY`; revoke it with `hil keys revoke ID`[/]")


@users_app.command("add")
def users_add(name: Annotated[str, typer.Argument(help="User name, e.g. an e-mail address.")],
              role: Annotated[str, typer.Option("--role", "-r", help=ROLE_HELP)] = "operator",
              tenant: TenantOption = None,
              key: Annotated[bool, typer.Option("--key/--no-key", help="Also create an API key for them.")] = True,
              as_json: Annotated[bool, typer.Option("--json", help="Print the key as JSON.")] = False) -> None:
    """Add a user to a tenant and, by default, give them an API key."""
    repo = _service()
    user = repo.add_user(name, role, tenant or tenant_name())
    plain(err, f"added {user.name} ({user.role}) to tenant {user.tenant}")
    if key:
        created, secret = repo.create_key(name, tenant or tenant_name())
        _print_key(created, secret, as_json)


@users_app.command("list")
def users_list(tenant: Annotated[str | None, typer.Option("--tenant", "-t", help="Only this tenant.")] = None,
               as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List users, their roles and how many live keys they hold."""
    rows = _service().users(tenant)
    if as_json:
        print(json.dumps([u.__dict__ for u in rows], indent=2))
        return
    table = Table("tenant", "user", "role", "keys", "added")
    for u in rows:
        table.add_row(escape(u.tenant), escape(u.name), u.role, str(u.keys), _when(u.created_at))
    out.print(table if rows else "no users yet; add one with `hil users add NAME --role operator`")


@keys_app.command("create")
def keys_create(user: Annotated[str, typer.Argument(help="The user the key belongs to.")],
                tenant: TenantOption = None,
                as_json: Annotated[bool, typer.Option("--json", help="Print the key as JSON.")] = False) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    created, secret = _service().create_key(user, tenant or tenant_name())
    _print_key(created, secret, as_json)


@keys_app.command("list")
def keys_list(tenant: Annotated[str | None, typer.Option("--tenant", "-t", help="Only this tenant.")] = None,
              as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List keys by id and prefix (never the key)."""
    rows = _service().keys(tenant)
    if as_json:
        print(json.dumps([k.__dict__ for k in rows], indent=2))
        return
    table = Table("id", "key", "tenant", "user", "created", "revoked")
    for k in rows:
        table.add_row(k.id[:8], escape(k.prefix) + "…", escape(k.tenant), escape(k.user), _when(k.created_at), _when(k.revoked_at))
    out.print(table if rows else "no keys yet; create one with `hil keys create USER`")


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key's id (or its first 8 characters, as listed) or its prefix.")]) -> None:
    """Revoke a key: requests that carry it get 401 from now on."""
    revoked = _service().revoke(key)
    plain(err, f"revoked key {revoked.id} of {revoked.user} (tenant {revoked.tenant})")
