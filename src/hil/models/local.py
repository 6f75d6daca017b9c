"""The embedded llama.cpp runtime (xllamacpp), one per model file, calls serialised.

llama.cpp with threads = cores is very sensitive to concurrent load, so one lock per model file
makes every call wait its turn instead of slowing all of them down.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hil import settings
from hil.errors import ModelUnavailable
from hil.models import install

_runtimes: dict[str, LocalRuntime] = {}
_runtimes_lock = threading.Lock()


@dataclass(frozen=True)
class CallStats:
    """What one call cost: tokens prefilled (the prompt minus what the prompt cache held), tokens
    taken from the cache, tokens generated, and the milliseconds of each phase."""

    purpose: str
    prompt_tokens: int
    cached_tokens: int
    generated_tokens: int
    prefill_ms: float
    generate_ms: float

    @staticmethod
    def of(purpose: str, timings: Any) -> CallStats | None:
        if not isinstance(timings, dict) or "prompt_n" not in timings:
            return None
        return CallStats(purpose, int(timings.get("prompt_n", 0)), int(timings.get("cache_n", 0)),
                         int(timings.get("predicted_n", 0)), float(timings.get("prompt_ms", 0.0)),
                         float(timings.get("predicted_ms", 0.0)))


class LocalRuntime:
    """llama.cpp keeps the last prompt's KV cache in its slot and, with ``cache_ram_mib``, earlier
    prompts in host memory: a call whose prompt starts like an earlier one prefills only the rest.
    Prompts are therefore built stable part first (schema, notes), question last."""

    def __init__(self, path: Path, n_ctx: int = 8192):
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        # One slot per kind of prompt (the plan, the SQL drafts, the answer): llama.cpp gives a call
        # the slot whose cached prompt shares the most with it, so the SQL agent's calls do not evict
        # the Responder's system prompt. Idle slots keep their cache (cache_idle_slots off); calls are
        # serialised, so nothing runs in parallel. Each slot has its own n_ctx of KV memory (about
        # 28 KB a token for this model). With one KV buffer shared by the slots (kv_unified), a plain
        # question after two unrelated calls got drafts naming tables its prompt does not have;
        # with a buffer per slot, the same drafts as in a fresh process.
        slots = max(1, settings.get_int("HIL_MODEL_SLOTS"))
        params.n_parallel = slots
        params.kv_unified = False
        params.cache_idle_slots = False
        params.n_ctx = n_ctx * slots
        params.cache_prompt = True  # reuse the slot's cached prefix (llama.cpp's default, stated)
        params.cache_ram_mib = settings.get_int("HIL_MODEL_CACHE_MIB")  # earlier prompts, kept in host memory
        threads = settings.get_int("HIL_MODEL_THREADS") or (os.cpu_count() or 2)
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.warmup = False
        params.verbosity = -1
        self.path = path
        self.lock = threading.Lock()
        self.server = xllamacpp.Server(params)
        self.calls: deque[CallStats] = deque(maxlen=1000)  # the latest calls' costs, for benchmarks
        self._recent: dict[str, deque[list[dict[str, Any]]]] = {}  # the latest calls' messages, by purpose
        self._recent_lock = threading.Lock()  # read by a read ahead while a call may be adding to it

    def remember(self, purpose: str, messages: list[dict[str, Any]]) -> None:
        with self._recent_lock:
            self._recent.setdefault(purpose, deque(maxlen=RECENT_PROMPTS)).append(messages)

    def recent(self, purpose: str) -> list[list[dict[str, Any]]]:
        """The messages of the latest calls made for ``purpose``, oldest first."""
        with self._recent_lock:
            return list(self._recent.get(purpose, ()))

    def _record(self, purpose: str, timings: Any) -> None:
        stats = CallStats.of(purpose, timings)
        if stats is not None:
            self.calls.append(stats)

    def chat(self, request: dict[str, Any], on_delta: Callable[[str], None] | None = None,
             purpose: str = "") -> str:
        """Run one chat completion; returns the full text and streams deltas to ``on_delta``."""
        with self.lock:
            if purpose and isinstance(request.get("messages"), list):
                self.remember(purpose, request["messages"])
            if on_delta is None:
                result = self.server.handle_chat_completions({**request, "stream": False})
                if not isinstance(result, dict) or "choices" not in result:
                    raise ModelUnavailable(f"local model error: {result}")
                self._record(purpose, result.get("timings"))
                return str(result["choices"][0]["message"].get("content") or "")
            parts: list[str] = []
            errors: list[Any] = []

            def callback(chunk: Any) -> None:
                if not isinstance(chunk, dict) or "choices" not in chunk:
                    errors.append(chunk)
                    return
                if "timings" in chunk:
                    self._record(purpose, chunk["timings"])
                for choice in chunk["choices"]:
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        parts.append(text)
                        on_delta(text)

            self.server.handle_chat_completions({**request, "stream": True}, callback)
            if errors and not parts:
                raise ModelUnavailable(f"local model error: {errors[0]}")
            return "".join(parts)


RECENT_PROMPTS = 4  # per kind of call: a question asked again finds its last answer's prompt among them


def as_before(recent: Iterable[list[dict[str, Any]]], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest of ``recent`` that continues ``messages`` (the same messages, the last one's text
    followed by more), else ``messages``: what to read ahead when a call is likely to be the one
    made before, as when a question asked again reuses its approved query."""
    for earlier in list(recent)[::-1]:
        if _continues(earlier, messages):
            return earlier
    return messages


def _continues(earlier: list[dict[str, Any]], messages: list[dict[str, Any]]) -> bool:
    if len(earlier) != len(messages) or earlier[:-1] != messages[:-1]:
        return False
    before, now = earlier[-1], messages[-1]
    return before.get("role") == now.get("role") and str(before.get("content", "")).startswith(
        str(now.get("content", "")))


def runtime(name: str) -> LocalRuntime:
    spec = install.spec_for(name)
    path = install.model_path(name)
    with _runtimes_lock:
        if str(path) not in _runtimes:
            if not install.is_installed(name):
                raise ModelUnavailable(f"local model {spec.name!r} is not assembled at {path}",
                                       hint="run `hil models install` (or `make setup`)")
            _runtimes[str(path)] = LocalRuntime(path)
        return _runtimes[str(path)]
