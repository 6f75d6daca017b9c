"""Which database servers a PostgreSQL DSN may reach. A DSN comes from a client, so it could point
the server at any host and port of its network (and the error would tell which ports are open).
``HIL_DB_HOSTS`` lists the hosts (names or IP addresses) and networks (CIDR) allowed; empty allows
any TCP host. Unix sockets reach the server's own databases, so with authentication on they are
refused unless the list names ``unix``. Names are compared as written, never resolved: a DNS answer
could change between the check and the connection."""

from __future__ import annotations

import ipaddress

from hil import settings
from hil.errors import ConfigError


def allowed_entries() -> list[str]:
    return [e.strip().lower() for e in settings.get_str("HIL_DB_HOSTS").split(",") if e.strip()]


def host_listed(host: str, entries: list[str]) -> bool:
    """Whether ``host`` (a name, or an IP address in brackets or not) is one of ``entries``: names
    compared as written (case aside), addresses against each entry taken as a network. MCP server
    hosts are checked the same way."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.lower() in {e.lower() for e in entries}
    for entry in entries:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def problem(dsn: str, restricted: bool) -> str | None:
    """Why the DSN may not be used here, or None. A reference (secret://, env://) is checked once
    it is resolved, where the connection is made."""
    from psycopg import conninfo as libpq  # only DSNs need it

    if dsn.startswith(("secret://", "env://")):
        return None

    try:
        params = libpq.conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - libpq's own parse error may quote the password
        return "the DSN cannot be parsed; write it as postgresql://user:password@host:port/database"
    entries = allowed_entries()
    hosts = [h.strip() for h in str(params.get("host") or "").split(",")]
    hosts += [h.strip() for h in str(params.get("hostaddr") or "").split(",") if h.strip()]
    for host in hosts:
        if not host or host.startswith(("/", "@")):
            if restricted and "unix" not in entries:
                return "Unix-socket connections are off on this server; name a TCP host"
            continue
        if entries and not host_listed(host, entries):
            return f"host {host!r} is not among the database hosts this server may reach (HIL_DB_HOSTS)"
    return None


def check(dsns: list[tuple[str, str]], restricted: bool) -> None:
    """Refuse, naming each field (``loc``), the DSNs that may not be used here."""
    bad = [{"loc": loc, "msg": msg} for loc, dsn in dsns if (msg := problem(dsn, restricted))]
    if bad:
        raise ConfigError(f"{bad[0]['loc']}: {bad[0]['msg']}", details={"errors": bad},
                          hint="ask the server's operator which database hosts it may reach")
