"""`hil policy show|apply|check`: the tenant's approval policy as data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from hil.cli.common import err, out, plain, store, tenant_name
from hil.errors import ConfigError

policy_app = typer.Typer(no_args_is_help=True, help="The tenant's approval policy: which actions wait for a human, "
                                                    "who may decide them, limits (docs/policy.md).")


def _service() -> Any:
    from hil.services.policies import PolicyService
    from hil.services.users import UserService

    db = store()
    return PolicyService(db, UserService(db).tenant_id(tenant_name()), actor="cli")


def _read(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(f"{path}: no such file", hint="give the path of a YAML or JSON policy file")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid YAML or JSON: {error}") from None


@policy_app.command("show")
def policy_show(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The policy in force, as YAML (or JSON)."""
    stored = _service().current()
    if as_json:
        plain(out, json.dumps({"version": stored.version, "document": stored.document}, indent=2))
        return
    who = f" by {stored.created_by}" if stored.created_by else ""
    plain(err, f"policy version {stored.version}{who}" if stored.version else
          "no policy set: the built-in defaults are in force")
    plain(out, yaml.safe_dump(stored.document, sort_keys=False).rstrip() if stored.document else "{}")


@policy_app.command("check")
def policy_check(path: Path) -> None:
    """Validate a policy file without applying it; every invalid field is named."""
    from hil.services.policies import PolicyService

    document = PolicyService.validate(_read(path), str(path))
    plain(out, f"{path}: valid ({len(document.gates)} gates, {len(document.rules)} rules)")


@policy_app.command("apply")
def policy_apply(path: Path) -> None:
    """Validate a policy file and make it the tenant's policy (a new version, audited)."""
    stored, changed = _service().apply(_read(path), str(path))
    plain(out, f"policy version {stored.version} " + ("applied" if changed else "unchanged"))
