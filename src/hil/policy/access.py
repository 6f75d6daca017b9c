"""Who may reach a server at all. Without API keys every caller is the local admin, so such a
server may be bound to, and may answer, loopback only. `hil serve` checks the bind address before
it starts; the app checks every request's peer as well, so an app built with ``create_app`` and
served some other way (behind a proxy, on another interface) still refuses remote callers."""

from __future__ import annotations

import ipaddress

from hil.policy.rules import Verdict


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_verdict(host: str, auth: bool) -> Verdict:
    """May a server bind ``host`` with authentication on (or off)?"""
    if auth or is_loopback(host):
        return Verdict(True, "bind-loopback-or-auth", "loopback, or API keys are required")
    return Verdict(False, "no-remote-without-auth",
                   f"refusing to bind {host} without authentication: only loopback may run without API keys")


def peer_verdict(peer: str | None, auth: bool) -> Verdict:
    """May a request from ``peer`` be answered? A network peer always has an IP address; a peer
    without one (a Unix socket, an in-process client) is on this machine."""
    if auth or peer is None:
        return Verdict(True, "peer-local-or-auth", "API keys are required, or the caller is on this machine")
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return Verdict(True, "peer-local-or-auth", "the caller is on this machine")
    if address.is_loopback:
        return Verdict(True, "peer-local-or-auth", "the caller is on this machine")
    return Verdict(False, "no-remote-without-auth",
                   "authentication is off, so this server answers callers on its own machine only")
