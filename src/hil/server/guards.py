"""Checks on every request before any route sees it: the caller's address (without API keys only
this machine is answered), the Host header (so a web page elsewhere
cannot reach a loopback server through DNS rebinding), the size of a request body, and NUL or
control characters, which no name, path or text of this API may hold (PostgreSQL refuses NUL in
text, and a path with one cannot be opened)."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from hil.policy.access import peer_verdict

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
UPLOADS = re.compile(r"^/api/v1/collections/[^/]+/documents$")  # multipart, bounded by HIL_KNOWLEDGE_MAX_MB


def loopback_hosts() -> set[str]:
    return {"localhost", "127.0.0.1", "::1"}


def host_of(header: str) -> str:
    """The host of a Host header, without the port (IPv6 literals keep no brackets)."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0].lower()
    return header.rsplit(":", 1)[0].lower() if header.count(":") == 1 else header.lower()


def allowed_hosts(bind: str, names: list[str]) -> set[str] | None:
    """The Host values a server bound to ``bind`` answers; None means any (every interface, no names given)."""
    hosts = {n.strip().lower() for n in names if n.strip()}
    try:
        address = ipaddress.ip_address(bind)
    except ValueError:
        return hosts | {bind.lower()} | (loopback_hosts() if bind == "localhost" else set())
    if address.is_unspecified:
        return hosts or None
    return hosts | {str(address)} | (loopback_hosts() if address.is_loopback else set())


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_body: int, hosts: set[str] | None, auth: bool):
        self.app, self.max_body, self.hosts, self.auth = app, max_body, hosts, auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        peer = peer_verdict(client[0] if client else None, self.auth)
        if not peer.allowed:  # without API keys every caller is the admin: only this machine may call
            await _refuse(send, 403, "forbidden_peer", peer.reason,
                          "call it from this machine, or serve with API keys (--auth on)")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.hosts is not None and host_of(headers.get("host", "")) not in self.hosts:
            await _refuse(send, 403, "forbidden_host", "this server does not answer to that host name",
                          "call it by the address it is bound to, or add the name to HIL_ALLOWED_HOSTS")
            return
        target = unquote(scope.get("path", "")) + "?" + unquote(scope.get("query_string", b"").decode("latin-1"))
        if _CONTROL.search(target):
            await _refuse(send, 422, "invalid_request", "the URL holds a control character (NUL, newline, ...)",
                          "remove it; no name, id or path contains one")
            return
        if UPLOADS.match(scope.get("path", "")) or scope.get("method") in ("GET", "HEAD", "DELETE"):
            await self.app(scope, receive, send)
            return
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body:
            await _refuse(send, 413, "payload_too_large", f"the request body is over {self.max_body} bytes",
                          "HIL_MAX_BODY_BYTES sets the limit")
            return
        body, more = b"", True
        while more:  # read it all here (it is bounded), then hand the route what was read
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                await _refuse(send, 413, "payload_too_large", f"the request body is over {self.max_body} bytes",
                              "HIL_MAX_BODY_BYTES sets the limit")
                return
        if b"\x00" in body or _JSON_NUL.search(body):
            await _refuse(send, 422, "invalid_request", "the request body holds a NUL character",
                          "no name, path or text of this API may contain one")
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, code: str, message: str, hint: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "details": {"hint": hint}}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
