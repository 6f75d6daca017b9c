"""Where a tenant's files may be. With authentication on, every file a client names (a database
file, a knowledge folder) must resolve — symlinks followed — inside one of that tenant's data
roots: ``HIL_DATA_DIRS`` entries with ``{tenant}`` replaced by the tenant's name, by default
``$HIL_HOME/data/{tenant}``. A root itself is not a file anyone may name, so the shared parent of
all tenants' folders is refused along with everything outside."""

from __future__ import annotations

from pathlib import Path

from hil import settings
from hil.errors import ConfigError

DEFAULT_ROOT = "{home}/data/{tenant}"


def roots(tenant: str) -> list[Path]:
    """The tenant's data roots, resolved."""
    entries = [e.strip() for e in settings.get_str("HIL_DATA_DIRS").split(",") if e.strip()] or [DEFAULT_ROOT]
    home = str(settings.home())
    return [Path(e.replace("{home}", home).replace("{tenant}", tenant)).expanduser().resolve() for e in entries]


def problem(path: str, tenant: str) -> str | None:
    """Why ``path`` may not be used by the tenant, or None when it lies inside one of its roots."""
    if any(ord(c) < 32 for c in path):
        return "the path contains a control character"
    try:
        resolved = Path(path).expanduser().resolve()
    except (OSError, ValueError, RuntimeError):
        return "the path cannot be resolved"
    if any(resolved != root and resolved.is_relative_to(root) for root in roots(tenant)):
        return None
    return f"{path} is outside your data directories"


def check(paths: list[tuple[str, str]], tenant: str) -> None:
    """Refuse, naming each field (``loc``), the paths the tenant may not use."""
    bad = [{"loc": loc, "msg": msg} for loc, p in paths if (msg := problem(p, tenant))]
    if bad:
        raise ConfigError(f"{bad[0]['loc']}: {bad[0]['msg']}", details={"errors": bad},
                          hint="put the file in your tenant's data directory; the server's operator knows where it is")
