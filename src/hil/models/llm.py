"""The one interface agents use to call a model, whatever the provider.

Every call goes through a pydantic-ai ``Agent``; structured output is schema-constrained
(``NativeOutput``) where the provider supports it. Calls are synchronous and meant to run in a
worker thread, never on an event loop.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable
from typing import Any, TypeVar

import pydantic_ai
from pydantic import BaseModel
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.exceptions import ModelHTTPError, UnexpectedModelBehavior, UserError
from pydantic_ai.messages import PartDeltaEvent, PartStartEvent, TextPart, TextPartDelta
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from hil import settings
from hil.errors import ModelOutputError, ModelUnavailable

# hil owns its terminal output; pydantic-ai would otherwise print a first-run banner.
pydantic_ai.BANNER_ENABLED = False

T = TypeVar("T", bound=BaseModel)
# (purpose, system prompt, start of the user prompt, as before): has the model read a prompt ahead of
# its call; as before: the call is likely the one made last time, so its whole prompt is read
Reader = Callable[[str, str, str, bool], None]
_purpose: contextvars.ContextVar[str] = contextvars.ContextVar("hil_model_purpose", default="")


def current_purpose() -> str:
    return _purpose.get()


class LLM:
    def __init__(self, spec: str, model: Model, *, native_output: bool = True,
                 temperature: float = 0.0, max_tokens: int = 600, reader: Reader | None = None):
        self.spec = spec
        self.model = model
        self.reader = reader
        self.native_output = native_output
        self.model_settings: ModelSettings = {"temperature": temperature, "max_tokens": max_tokens}

    def structured(self, purpose: str, system: str, prompt: str, output_type: type[T],
                   max_tokens: int | None = None, temperature: float | None = None) -> T:
        spec: Any = NativeOutput(output_type) if self.native_output else output_type
        agent: Agent[None, Any] = Agent(self.model, output_type=spec, instructions=system, retries=2)
        result = self._run(agent, purpose, prompt, max_tokens, temperature=temperature)
        return result.output  # type: ignore[no-any-return]

    def text(self, purpose: str, system: str, prompt: str, on_delta: Callable[[str], None] | None = None,
             max_tokens: int | None = None, temperature: float | None = None) -> str:
        agent: Agent[None, str] = Agent(self.model, instructions=system)
        handler = None
        if on_delta is not None:
            delta_cb = on_delta

            async def handler(_ctx: Any, events: Any) -> None:
                async for event in events:
                    if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart) and event.part.content:
                        delta_cb(event.part.content)
                    elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
                        delta_cb(event.delta.content_delta)

        result = self._run(agent, purpose, prompt, max_tokens, handler, temperature=temperature)
        return str(result.output)

    def read_ahead(self, purpose: str, system: str, prompt: str, as_before: bool = False) -> bool:
        """Have the model read the start of a prompt now, so the call that later sends the whole of it
        prefills only the rest. ``as_before``: the call will likely be the one made last time with
        this start (the model reads that whole prompt, if it remembers one). Only a model that keeps
        a prompt cache the caller can fill does this (the embedded one); for the others it does
        nothing and says False."""
        if self.reader is None:
            return False
        self.reader(purpose, system.strip(), prompt, as_before)  # as a call sends it: pydantic-ai strips instructions
        return True

    def _run(self, agent: Agent[None, Any], purpose: str, prompt: str, max_tokens: int | None,
             handler: Any = None, temperature: float | None = None) -> Any:
        model_settings = dict(self.model_settings)
        if temperature is not None:
            model_settings["temperature"] = temperature
        if max_tokens:
            model_settings["max_tokens"] = max_tokens
        token = _purpose.set(purpose)
        try:
            return agent.run_sync(prompt, model_settings=model_settings,  # type: ignore[call-overload]
                                  event_stream_handler=handler)
        except UnexpectedModelBehavior as err:
            raise ModelOutputError(f"the model ({self.spec}) gave no valid {purpose} output: {err.message}") from None
        except ModelHTTPError as err:
            raise ModelUnavailable(f"the model ({self.spec}) answered HTTP {err.status_code}: {err.message}") from None
        finally:
            _purpose.reset(token)


def _require_env(var: str, provider: str) -> str:
    value = os.environ.get(var, "")
    if not value:
        raise ModelUnavailable(
            f"{var} is not set, so the {provider} model cannot be used",
            hint=f"export {var}=..., or use the embedded model with HIL_MODEL=local:qwen2.5-coder-1.5b")
    return value


def resolve(spec: str | None = None, *, temperature: float = 0.0, max_tokens: int = 600) -> LLM:
    """``provider:name`` -> LLM. Providers: local, openai, ollama, anthropic, scripted."""
    spec = spec or settings.default_model()
    provider, _, name = spec.partition(":")
    if not name:
        raise ModelUnavailable(f"model {spec!r} is not of the form provider:name",
                               hint="e.g. local:qwen2.5-coder-1.5b or openai:gpt-4o-mini")
    kw: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens}
    try:
        if provider == "local":
            from hil.models.adapters import local_model, local_reader

            return LLM(spec, local_model(name, current_purpose), reader=local_reader(name), **kw)
        if provider == "scripted":
            from hil.models import scripted
            from hil.models.adapters import scripted_model

            return LLM(spec, scripted_model(scripted.get(name), current_purpose),
                       reader=lambda *prompt: scripted.note_read_ahead(name, *prompt), **kw)
        if provider in ("openai", "ollama"):
            from pydantic_ai.models.openai import OpenAIChatModel
            from pydantic_ai.providers.openai import OpenAIProvider

            base_url: str | None
            if provider == "ollama":
                base_url = os.environ.get("OLLAMA_BASE_URL", "http://127.0.0.1:11434/v1")
                api_key = "ollama"
            else:
                base_url = os.environ.get("OPENAI_BASE_URL") or None
                api_key = os.environ.get("OPENAI_API_KEY") or ("none" if base_url else _require_env("OPENAI_API_KEY", "OpenAI"))
            return LLM(spec, OpenAIChatModel(name, provider=OpenAIProvider(base_url=base_url, api_key=api_key)), **kw)
        if provider == "anthropic":
            from pydantic_ai.models.anthropic import AnthropicModel
            from pydantic_ai.providers.anthropic import AnthropicProvider

            key = _require_env("ANTHROPIC_API_KEY", "Anthropic")
            return LLM(spec, AnthropicModel(name, provider=AnthropicProvider(api_key=key)), native_output=False, **kw)
    except UserError as err:
        raise ModelUnavailable(f"cannot use model {spec!r}: {err}") from None
    raise ModelUnavailable(f"unknown model provider {provider!r} in {spec!r}",
                           hint="providers: local, openai, ollama, anthropic, scripted")
