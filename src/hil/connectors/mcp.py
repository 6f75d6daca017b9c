"""MCP servers as a connector: list a server's tools (cached briefly), call one, both from a
worker thread. Each call opens its own session (a stdio server is started for it, an HTTP one is
connected to), so a server that died is simply started again next time, and a call that outlives
the server's ``timeout_seconds`` ends with a clear error instead of a hang.

Whether a tool acts or only reads comes from its ``readOnlyHint`` annotation, overridden by the
workflow (``read_only`` / ``acting`` globs). Annotations are hints from the server; the policy's
gates can still make any tool wait for a human."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, TextIO, TypeVar

import anyio

from hil import settings
from hil.errors import ToolFailed
from hil.hashing import content_hash
from hil.lru import LRU
from hil.workflows import McpServer

T = TypeVar("T")
LIST_TTL_SECONDS = 60.0
START_SECONDS = 30.0  # how long a server may take to start and shake hands, besides the call itself
MAX_RESULT_CHARS = 20_000
_cache: LRU[str, tuple[float, list[ToolInfo]]] = LRU(lambda: settings.get_int("HIL_SCHEMA_CACHE"))  # server -> tools


@dataclass(frozen=True)
class ToolInfo:
    server: str
    name: str
    description: str
    input_schema: dict[str, Any]
    read_only: bool
    annotations: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"server": self.server, "name": self.name, "description": self.description,
                "input_schema": self.input_schema, "read_only": self.read_only, "annotations": self.annotations}


@dataclass(frozen=True)
class ToolOutcome:
    text: str
    structured: Any
    is_error: bool
    elapsed_ms: float


def _client(spec: McpServer, errlog: TextIO) -> Any:
    """The SDK's client for one session; a stdio server's own error output goes to ``errlog``."""
    from mcp import Client

    if spec.url:
        if not spec.headers:
            return Client(spec.url, read_timeout_seconds=spec.timeout_seconds)
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        http = httpx2.AsyncClient(headers=spec.headers, timeout=spec.timeout_seconds)
        return Client(streamable_http_client(spec.url, http_client=http), read_timeout_seconds=spec.timeout_seconds)
    from mcp.client.stdio import StdioServerParameters, stdio_client

    assert spec.command
    program = shutil.which(spec.command[0])
    if program is None:
        raise FileNotFoundError(spec.command[0])
    params = StdioServerParameters(command=program, args=spec.command[1:], env=dict(spec.env) or None)
    return Client(stdio_client(params, errlog=errlog), read_timeout_seconds=spec.timeout_seconds)


def _session(spec: McpServer, doing: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """Open a session, do ``work`` with the client within the server's timeout, close it; every
    failure of the foreign server becomes one ToolFailed that says what happened."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog:
        async def run() -> T:
            with anyio.fail_after(spec.timeout_seconds + START_SECONDS):  # a stdio server starts first
                async with _client(spec, errlog) as client:
                    with anyio.fail_after(spec.timeout_seconds):
                        return await work(client)

        try:
            return anyio.run(run)
        except Exception as err:  # noqa: BLE001 (re-raised as one ToolFailed, see the docstring)
            errlog.seek(0)
            raise _failed(spec, doing, err, errlog.read()) from None


def _where(spec: McpServer) -> str:
    return f"MCP server {spec.name!r} ({spec.url or ' '.join(spec.command or [])})"


def _leaves(err: BaseException) -> list[BaseException]:
    if isinstance(err, BaseExceptionGroup):
        return [leaf for e in err.exceptions for leaf in _leaves(e)]
    return [err]


def _failed(spec: McpServer, doing: str, err: BaseException, stderr: str) -> ToolFailed:
    leaves = _leaves(err)
    text = "; ".join(str(e).strip() or type(e).__name__ for e in leaves)
    if any(isinstance(e, FileNotFoundError) for e in leaves):
        why = f"its command was not found: {spec.command[0] if spec.command else ''}"
    elif any(isinstance(e, TimeoutError) for e in leaves) or "timed out" in text.lower():
        why = f"it did not answer within {spec.timeout_seconds:g} s (it may have stopped)"
    elif "connection closed" in text.lower():
        why = "the server closed the connection in the middle of it (it stopped or crashed)"
    elif any(isinstance(e, (ConnectionError, OSError)) for e in leaves) or "connect" in text.lower():
        why = f"it could not be reached or closed the connection ({text})"
    else:
        why = text
    lines = [line.strip(" │╭╮╰╯─\t") for line in stderr.splitlines()]
    last = [line for line in lines if any(c.isalnum() for c in line)][-1:]
    said = f"; its last error output: {last[0][:300]}" if last else ""
    return ToolFailed(f"{_where(spec)} failed while {doing}: {why}{said}",
                      hint="check that the server runs (`hil mcp test WORKFLOW`), or raise its timeout_seconds")


def _offered(spec: McpServer, name: str) -> bool:
    return spec.tools is None or any(fnmatchcase(name, p) for p in spec.tools)


def _read_only(spec: McpServer, name: str, hint: bool | None) -> bool:
    if any(fnmatchcase(name, p) for p in spec.acting):
        return False
    if any(fnmatchcase(name, p) for p in spec.read_only):
        return True
    return bool(hint)  # no hint: the tool may act


def list_tools(spec: McpServer, refresh: bool = False) -> list[ToolInfo]:
    """The tools the server offers this workflow, from a short cache unless ``refresh``."""
    key = content_hash(spec.model_dump(mode="json"))
    hit = _cache.get(key)
    if hit and not refresh and time.monotonic() - hit[0] < LIST_TTL_SECONDS:
        return hit[1]

    async def fetch(client: Any) -> list[Any]:
        return list((await client.list_tools()).tools)

    raw = _session(spec, "listing its tools", fetch)
    tools = []
    for t in raw:
        if not _offered(spec, t.name):
            continue
        notes = t.annotations.model_dump(exclude_none=True) if t.annotations else {}
        tools.append(ToolInfo(spec.name, t.name, t.description or "", dict(t.input_schema or {}),
                              _read_only(spec, t.name, notes.get("read_only_hint")), notes))
    _cache.put(key, (time.monotonic(), tools))
    return tools


def call_tool(spec: McpServer, name: str, arguments: dict[str, Any]) -> ToolOutcome:
    if not _offered(spec, name):
        raise ToolFailed(f"{_where(spec)} does not offer tool {name!r} to this workflow",
                         hint="list the tool under the server's tools, or choose another")
    started = time.perf_counter()

    async def call(client: Any) -> Any:
        return await client.call_tool(name, arguments)

    result = _session(spec, f"calling {name}", call)
    texts = [getattr(c, "text", None) or json.dumps(c.model_dump(exclude_none=True), default=str)
             for c in result.content or []]
    text = "\n".join(texts)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + f"\n… ({len(text) - MAX_RESULT_CHARS} more characters)"
    return ToolOutcome(text, result.structured_content, bool(result.is_error),
                       round((time.perf_counter() - started) * 1000, 1))
