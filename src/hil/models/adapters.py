"""pydantic-ai models for the providers that are not HTTP APIs: the local runtime and scripts.

Both are ``FunctionModel``s, so agents drive every provider through the same pydantic-ai
``Agent`` and structured output goes through the same JSON-schema path (``NativeOutput``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.profiles import ModelProfile

from hil.models import local

PROFILE = ModelProfile(supports_json_schema_output=True, supports_json_object_output=True,
                       default_structured_output_mode="native")


def to_chat_messages(messages: list[ModelMessage], info: AgentInfo) -> list[dict[str, str]]:
    """pydantic-ai messages -> OpenAI-style chat messages."""
    out: list[dict[str, str]] = []
    if info.instructions:
        out.append({"role": "system", "content": info.instructions})
    for m in messages:
        if isinstance(m, ModelRequest):
            for part in m.parts:
                if isinstance(part, SystemPromptPart):
                    out.insert(0, {"role": "system", "content": part.content})
                elif isinstance(part, UserPromptPart):
                    content = part.content if isinstance(part.content, str) else " ".join(
                        c for c in part.content if isinstance(c, str))
                    out.append({"role": "user", "content": content})
                elif isinstance(part, RetryPromptPart):
                    out.append({"role": "user", "content": part.model_response()})
        elif isinstance(m, ModelResponse):
            text = "".join(p.content for p in m.parts if isinstance(p, TextPart))
            if text:
                out.append({"role": "assistant", "content": text})
    return out


def output_schema(info: AgentInfo) -> dict[str, Any] | None:
    params = info.model_request_parameters
    if params.output_mode in ("native", "prompted") and params.output_object is not None:
        return params.output_object.json_schema
    return None


def _request(messages: list[ModelMessage], info: AgentInfo) -> dict[str, Any]:
    settings = info.model_settings or {}
    req: dict[str, Any] = {
        "messages": to_chat_messages(messages, info),
        "max_tokens": settings.get("max_tokens", 600),
        "temperature": settings.get("temperature", 0.0),
    }
    schema = output_schema(info)
    if schema is not None:
        req["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}
    return req


def _put(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None], item: str | None) -> None:
    loop.call_soon_threadsafe(queue.put_nowait, item)


def local_model(name: str, purpose: Callable[[], str] = lambda: "") -> FunctionModel:
    rt = local.runtime(name)

    async def call(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        text = await asyncio.to_thread(rt.chat, _request(messages, info), None, purpose())
        return ModelResponse(parts=[TextPart(text)], model_name=f"local:{name}")

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()

        said = purpose()  # read here: the worker thread does not see the caller's context

        def produce() -> None:
            try:
                rt.chat(_request(messages, info), lambda d: _put(loop, queue, d), said)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        task = asyncio.ensure_future(asyncio.to_thread(produce))
        while (delta := await queue.get()) is not None:
            yield delta
        await task  # re-raises a runtime error

    return FunctionModel(call, stream_function=stream, model_name=f"local:{name}", profile=PROFILE)


def local_reader(name: str) -> Callable[[str, str, str, bool], None]:
    """Prefill a prompt's start into the embedded model's cache: the same chat messages a call sends,
    one token generated and dropped. The runtime gives it the slot whose cached prompt shares the
    most with it, the one the later call of the same kind gets. ``as_before``: the call is likely
    the one made last time (a question asked again reuses its approved query), so the whole prompt
    of that call is read if it starts so, not only its start, which would cut its cache short."""
    rt = local.runtime(name)

    def read(purpose: str, system: str, prompt: str, as_before: bool = False) -> None:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
        if as_before:
            messages = local.as_before(rt.recent(purpose), messages)
        rt.chat({"messages": messages, "max_tokens": 1, "temperature": 0.0}, None, f"{purpose}, ahead")

    return read


# A script answers one request: it gets the purpose of the call ("plan", "sql", "answer", ...),
# the chat messages and the JSON schema of the expected output (None for free text).
Script = Callable[[str, list[dict[str, str]], dict[str, Any] | None], str | dict[str, Any]]


def scripted_model(script: Script, purpose: Callable[[], str]) -> FunctionModel:
    def reply(messages: list[ModelMessage], info: AgentInfo) -> str:
        out = script(purpose(), to_chat_messages(messages, info), output_schema(info))
        return out if isinstance(out, str) else json.dumps(out)

    def call(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart(reply(messages, info))], model_name="scripted")

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        text = reply(messages, info)
        for i in range(0, len(text), 8):
            yield text[i:i + 8]

    return FunctionModel(call, stream_function=stream, model_name="scripted", profile=PROFILE)
